#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

// The reference design's AgentChatStreamChunk. Serialised by hand: all eight fields always
// present (null where empty) in the reference's order, and no QJsonDocument round trip on the
// streaming hot path.
struct StreamChunk
{
    enum class Type { Content, Done, Error };

    struct Metadata
    {
        QString model;
        qint64 tokensUsed = 0;
        QString finishReason;
    };

    Type type = Type::Content;
    QString content;
    QString sessionId;
    QString messageId;
    QString replyId;
    std::optional<Metadata> metadata;
    QString finishReason;
    QString error;

    QByteArray toJson() const;
    // "data: <json>\n\n"
    QByteArray toSseEvent() const;

    static void appendJsonString(QByteArray &out, const QString &value);
};
