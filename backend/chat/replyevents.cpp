#include "replyevents.h"

#include "storage/entities.h"

#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace {
constexpr QByteArrayView contentHead = R"({"type":"content","content":)";
constexpr QByteArrayView reasoningHead = R"({"type":"reasoning","content":)";
} // namespace

ReplyEvents::ReplyEvents(const QString &sessionId, const QString &messageId, const QString &replyId)
    : m_idPrefix(replyId.toLatin1() + ':')
{
    m_chunk.sessionId = sessionId;
    m_chunk.messageId = messageId;
    // StreamChunk's own JSON for a content chunk, cut after its (null) text.
    const QByteArray json = m_chunk.toJson();
    Q_ASSERT(json.startsWith(contentHead) && json.mid(contentHead.size(), 4) == "null");
    m_contentTail = json.mid(contentHead.size() + 4);
}

QByteArray ReplyEvents::content(int seq, const QString &text) const
{
    return textEvent(contentHead, seq, text);
}

QByteArray ReplyEvents::reasoning(int seq, const QString &text) const
{
    return textEvent(reasoningHead, seq, text);
}

QByteArray ReplyEvents::textEvent(QByteArrayView head, int seq, const QString &text) const
{
    QByteArray event;
    event.reserve(m_idPrefix.size() + m_contentTail.size() + text.size() * 3 + 64);
    event.append("id: ");
    event.append(m_idPrefix);
    StreamChunk::appendNumber(event, seq);
    event.append("\ndata: ");
    event.append(head);
    StreamChunk::appendJsonString(event, text); // the opener's null text is "", as OpenAI's first delta
    event.append(m_contentTail);
    event.append("\n\n");
    return event;
}

QByteArray ReplyEvents::terminal(int seq, const ChatOutcome &outcome) const
{
    StreamChunk chunk = m_chunk;
    if (outcome.ok) {
        chunk.type = StreamChunk::Type::Done;
        chunk.replyId = QString::fromLatin1(m_idPrefix.chopped(1));
        StreamChunk::Metadata metadata;
        metadata.model = outcome.model;
        metadata.tokensUsed = outcome.tokensUsed();
        metadata.finishReason = outcome.finishReason;
        metadata.promptTokens = outcome.promptTokens;
        metadata.completionTokens = outcome.completionTokens;
        metadata.reasoningTokens = outcome.reasoningTokens;
        metadata.tokensEstimated = outcome.tokensEstimated;
        metadata.steps = outcome.steps;
        chunk.metadata = metadata;
        chunk.finishReason = outcome.finishReason;
    } else {
        chunk.type = StreamChunk::Type::Error;
        chunk.error = outcome.error.message.isEmpty() ? outcome.error.code : outcome.error.message;
    }
    return chunk.toSseEvent(m_idPrefix, seq);
}

ChatOutcome ReplyEvents::outcomeOf(const StoredReply &stored)
{
    const Message &reply = stored.reply;
    ChatOutcome outcome;
    outcome.model = reply.model;
    outcome.content = reply.content;
    outcome.promptTokens = reply.promptTokens;
    outcome.completionTokens = reply.completionTokens;
    outcome.reasoningTokens = reply.reasoningTokens;
    outcome.tokensEstimated = reply.tokensEstimated;
    outcome.steps = reply.steps;
    outcome.saved = true;
    if (reply.status == "error"_L1) {
        outcome.finishReason = u"Error"_s;
        outcome.error = {502, u"upstream_error"_s,
                         reply.error.isEmpty() ? u"The reply failed"_s : reply.error};
    } else if (reply.status == "streaming"_L1) {
        // Not running in this process: what a crash left before the restart's sweep.
        outcome.ok = true;
        outcome.finishReason = u"Interrupted"_s;
    } else {
        outcome.ok = true;
        outcome.finishReason = reply.finishReason.isEmpty() ? u"Stop"_s : reply.finishReason;
    }
    return outcome;
}

namespace {
// A reply stored before streams were numbered has no events recorded: one content event after
// the opener carries all of it.
QList<int> storedEvents(const StoredReply &stored)
{
    if (!stored.events.chunks.isEmpty())
        return stored.events.chunks;
    return {0, int(stored.reply.content.size())};
}
} // namespace

int ReplyEvents::terminalSeq(const StoredReply &stored)
{
    return stored.cutByCrash ? crashTerminalSeq : int(storedEvents(stored).size()) + 1;
}

QByteArray ReplyEvents::otherJson(const QString &type, const QString &content,
                                  const QJsonObject &metadata) const
{
    QByteArray json = "{\"type\":";
    StreamChunk::appendJsonString(json, type);
    json.append(",\"content\":");
    if (content.isNull())
        json.append("null");
    else
        StreamChunk::appendJsonString(json, content);
    json.append(",\"session_id\":");
    StreamChunk::appendJsonString(json, m_chunk.sessionId);
    json.append(",\"message_id\":");
    StreamChunk::appendJsonString(json, m_chunk.messageId);
    json.append(",\"reply_id\":null,\"metadata\":");
    json.append(QJsonDocument(metadata).toJson(QJsonDocument::Compact));
    json.append(",\"finish_reason\":null,\"error\":null}");
    return json;
}

QByteArray ReplyEvents::other(int seq, const QByteArray &json) const
{
    QByteArray event;
    event.reserve(m_idPrefix.size() + json.size() + 32);
    event.append("id: ");
    event.append(m_idPrefix);
    StreamChunk::appendNumber(event, seq);
    event.append("\ndata: ");
    event.append(json);
    event.append("\n\n");
    return event;
}

QByteArray ReplyEvents::replay(const StoredReply &stored, int afterSeq)
{
    const Message &reply = stored.reply;
    const ReplyEvents events(reply.sessionId, stored.userMessageId, reply.id);
    const QList<int> chunks = storedEvents(stored);
    QByteArray out;
    qsizetype begin = 0;
    qsizetype reasoningBegin = 0;
    qsizetype extra = 0;
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        const int seq = int(i) + 1;
        const int chunk = chunks.at(i);
        if (ReplyEventLog::isReasoning(chunk)) {
            const qsizetype length = qBound(qsizetype(0), qsizetype(ReplyEventLog::reasoningLength(chunk)),
                                            reply.reasoning.size() - reasoningBegin);
            if (seq > afterSeq)
                out += events.reasoning(seq, reply.reasoning.sliced(reasoningBegin, length));
            reasoningBegin += length;
            continue;
        }
        if (chunk < 0) {
            const QByteArray json = stored.events.extras.value(extra++);
            if (seq > afterSeq && !json.isEmpty())
                out += events.other(seq, json);
            continue;
        }
        const qsizetype length = qBound(qsizetype(0), qsizetype(chunk), reply.content.size() - begin);
        if (seq > afterSeq)
            out += events.content(seq, reply.content.sliced(begin, length));
        begin += length;
    }
    out += events.terminal(terminalSeq(stored), outcomeOf(stored));
    return out;
}
