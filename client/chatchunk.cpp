#include "chatchunk.h"

#include <QJsonDocument>
#include <QJsonParseError>

using namespace Qt::StringLiterals;

static QString str(const QJsonObject &o, QLatin1String key)
{
    const QJsonValue v = o.value(key);
    return v.isString() ? v.toString() : QString();
}

int ChatChunk::tokensUsed() const
{
    return metadata.value("tokens_used"_L1).toInt();
}

QString ChatChunk::model() const
{
    return str(metadata, "model"_L1);
}

std::optional<ChatChunk> ChatChunk::parse(const QByteArray &data, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        if (error)
            *error = pe.error != QJsonParseError::NoError ? pe.errorString() : u"not a JSON object"_s;
        return std::nullopt;
    }
    const QJsonObject o = doc.object();
    ChatChunk c;
    c.typeName = str(o, "type"_L1);
    static const std::pair<QLatin1String, Type> types[] = {
        {"content"_L1, Type::Content},
        {"reasoning"_L1, Type::Reasoning},
        {"done"_L1, Type::Done},
        {"error"_L1, Type::Error},
        {"tool_call_delta"_L1, Type::ToolCallDelta},
        {"tool_call"_L1, Type::ToolCall},
        {"tool_result"_L1, Type::ToolResult},
        {"progress"_L1, Type::Progress},
        {"attachment"_L1, Type::Attachment},
    };
    for (const auto &[name, type] : types) {
        if (c.typeName == name) {
            c.type = type;
            break;
        }
    }
    c.content = str(o, "content"_L1);
    c.sessionId = str(o, "session_id"_L1);
    c.messageId = str(o, "message_id"_L1);
    c.replyId = str(o, "reply_id"_L1);
    c.metadata = o.value("metadata"_L1).toObject();
    c.finishReason = str(o, "finish_reason"_L1);
    if (c.finishReason.isEmpty())
        c.finishReason = str(c.metadata, "finish_reason"_L1);
    c.error = str(o, "error"_L1);
    return c;
}
