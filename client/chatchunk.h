#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>

#include <optional>

// One chunk of the chat stream (docs/api.md, POST /api/agents/{id}/chat/stream): every chunk
// carries the same eight fields, null where empty. An agent with tools adds the tool chunks.
struct ChatChunk
{
    enum class Type {
        Content,
        Reasoning,
        Done,
        Error,
        ToolCallDelta,
        ToolCall,
        ToolResult,
        Progress,
        Attachment,
        Unknown
    };

    Type type = Type::Unknown;
    QString typeName;
    QString content;
    QString sessionId;
    QString messageId;
    QString replyId;
    QJsonObject metadata;
    QString finishReason;
    QString error;

    bool isClosing() const { return type == Type::Done || type == Type::Error; }
    int tokensUsed() const;
    QString model() const;

    // Parses one event's data (UTF-8 JSON). nullopt, with *error set, when it is not a chunk.
    static std::optional<ChatChunk> parse(const QByteArray &data, QString *error = nullptr);
};

Q_DECLARE_METATYPE(ChatChunk)
