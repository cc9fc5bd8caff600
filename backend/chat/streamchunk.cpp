#include "streamchunk.h"

#include <charconv>

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
    // Runs of bytes that need no escape go in whole; UTF-8 passes through (the text was complete
    // characters).
    const char *run = utf8.constData();
    const char *const end = run + utf8.size();
    for (const char *p = run; p < end; ++p) {
        const auto u = static_cast<unsigned char>(*p);
        if (u >= 0x20 && u != '"' && u != '\\')
            continue;
        out.append(run, p - run);
        run = p + 1;
        switch (u) {
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
            out.append("\\u00");
            out.append(hex[u >> 4]);
            out.append(hex[u & 0xf]);
        }
    }
    out.append(run, end - run);
    out.append('"');
}

void StreamChunk::appendNumber(QByteArray &out, qint64 value)
{
    char digits[24];
    const auto [end, error] = std::to_chars(digits, digits + sizeof digits, value);
    Q_UNUSED(error);
    out.append(digits, end - digits);
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
        if (metadata->reasoningTokens >= 0) {
            out.append(",\"reasoning_tokens\":");
            out.append(QByteArray::number(metadata->reasoningTokens));
        }
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
    appendNumber(event, seq);
    event.append("\ndata: ");
    event.append(toJson());
    event.append("\n\n");
    return event;
}
