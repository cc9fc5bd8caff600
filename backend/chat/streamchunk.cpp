#include "streamchunk.h"

namespace {

void appendNullableString(QByteArray &out, const QString &value)
{
    if (value.isNull())
        out.append("null");
    else
        StreamChunk::appendJsonString(out, value);
}

const char *typeName(StreamChunk::Type type)
{
    switch (type) {
    case StreamChunk::Type::Content:
        return "content";
    case StreamChunk::Type::Done:
        return "done";
    case StreamChunk::Type::Error:
        return "error";
    }
    return "error";
}

} // namespace

void StreamChunk::appendJsonString(QByteArray &out, QStringView value)
{
    static const char hex[] = "0123456789abcdef";
    const QByteArray utf8 = value.toUtf8();
    out.reserve(out.size() + utf8.size() + 2);
    out.append('"');
    for (const char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        default:
            if (u < 0x20) {
                out.append("\\u00");
                out.append(hex[u >> 4]);
                out.append(hex[u & 0xf]);
            } else {
                out.append(c); // UTF-8 passes through whole: the text was complete characters
            }
        }
    }
    out.append('"');
}

QByteArray StreamChunk::toJson() const
{
    QByteArray out;
    out.reserve(160 + content.size() * 3);
    out.append("{\"type\":\"");
    out.append(typeName(type));
    out.append("\",\"content\":");
    appendNullableString(out, content);
    out.append(",\"session_id\":");
    appendNullableString(out, sessionId);
    out.append(",\"message_id\":");
    appendNullableString(out, messageId);
    out.append(",\"reply_id\":");
    appendNullableString(out, replyId);
    out.append(",\"metadata\":");
    if (metadata) {
        out.append("{\"model\":");
        appendNullableString(out, metadata->model);
        out.append(",\"tokens_used\":");
        out.append(QByteArray::number(metadata->tokensUsed));
        out.append(",\"finish_reason\":");
        appendNullableString(out, metadata->finishReason);
        out.append(",\"usage\":{\"prompt_tokens\":");
        out.append(QByteArray::number(metadata->promptTokens));
        out.append(",\"completion_tokens\":");
        out.append(QByteArray::number(metadata->completionTokens));
        out.append("},\"tokens_estimated\":");
        out.append(metadata->tokensEstimated ? "true" : "false");
        out.append(",\"steps\":");
        out.append(QByteArray::number(metadata->steps));
        out.append('}');
    } else {
        out.append("null");
    }
    out.append(",\"finish_reason\":");
    appendNullableString(out, finishReason);
    out.append(",\"error\":");
    appendNullableString(out, error);
    out.append('}');
    return out;
}

QByteArray StreamChunk::toSseEvent(const QByteArray &idPrefix, int seq) const
{
    QByteArray event;
    event.reserve(200 + content.size() * 3);
    event.append("id: ");
    event.append(idPrefix);
    event.append(QByteArray::number(seq));
    event.append("\ndata: ");
    event.append(toJson());
    event.append("\n\n");
    return event;
}
