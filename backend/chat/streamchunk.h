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

    // `done`'s metadata: the reference's three fields, then protocol v2's usage breakdown.
    struct Metadata
    {
        QString model;
        qint64 tokensUsed = 0;
        QString finishReason;
        int promptTokens = 0;
        int completionTokens = 0;
        int reasoningTokens = -1; // written only when known
        bool tokensEstimated = false;
        int steps = 1;
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
    // "id: <idPrefix><seq>\ndata: <json>\n\n", one whole event
    QByteArray toSseEvent(const QByteArray &idPrefix, int seq) const;

    static void appendJsonString(QByteArray &out, QStringView value);
    static void appendNumber(QByteArray &out, qint64 value);
};
