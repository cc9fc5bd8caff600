#include "chatturn.h"

#include "core/logging.h"
#include "llm/llmstream.h"
#include "storage/sessionstore.h"

using namespace Qt::StringLiterals;

ChatTurn::ChatTurn(SessionStore &store, const Session &session, const Message &userMessage,
                   const Message &reply, QObject *parent)
    : QObject(parent), m_store(store), m_session(session), m_userMessage(userMessage), m_reply(reply)
{}

ChatTurn::~ChatTurn()
{
    // Never leave a reply "streaming" behind, whoever deletes us.
    if (!m_ended)
        interrupt();
}

void ChatTurn::start(LlmStream *stream)
{
    m_stream = stream;
    stream->setParent(this);
    connect(stream, &LlmStream::delta, this, &ChatTurn::onDelta);
    connect(stream, &LlmStream::finished, this, &ChatTurn::onFinished);
    connect(stream, &LlmStream::failed, this, &ChatTurn::onFailed);
}

const QString &ChatTurn::text() const
{
    static const QString none;
    return m_stream ? m_stream->text() : none;
}

void ChatTurn::onDelta(const QString &delta)
{
    m_eventEnds.append(int(text().size()));
    Q_EMIT content(eventCount(), delta);
}

QStringView ChatTurn::eventText(int seq) const
{
    if (seq < 1 || seq > eventCount())
        return {};
    const int begin = seq == 1 ? 0 : m_eventEnds.at(seq - 2);
    return QStringView(text()).sliced(begin, m_eventEnds.at(seq - 1) - begin);
}

QList<int> ChatTurn::chunkLengths() const
{
    QList<int> lengths;
    lengths.reserve(m_eventEnds.size());
    int begin = 0;
    for (const int end : m_eventEnds) {
        lengths.append(end - begin);
        begin = end;
    }
    return lengths;
}

void ChatTurn::cancel()
{
    stopUpstream(u"Cancelled"_s, u"cancelled"_s);
}

void ChatTurn::abandon()
{
    stopUpstream(u"Disconnected"_s, u"cancelled"_s);
}

void ChatTurn::interrupt()
{
    stopUpstream(u"Interrupted"_s, u"interrupted"_s);
}

void ChatTurn::stopUpstream(const QString &finishReason, const QString &status)
{
    if (m_ended)
        return;
    if (m_stream) {
        // Our own abort must not come back as an upstream failure.
        m_stream->disconnect(this);
        m_stream->abort();
    }
    ChatOutcome outcome;
    outcome.ok = true;
    outcome.finishReason = finishReason;
    outcome.model = m_reply.model;
    end(outcome, status, {});
}

QString ChatTurn::finishReasonName(const QString &upstreamReason)
{
    if (upstreamReason.isEmpty() || upstreamReason == "stop"_L1)
        return u"Stop"_s;
    if (upstreamReason == "function_call"_L1)
        return u"ToolCalls"_s;
    // snake_case -> CamelCase, as the reference's enum spells them ("tool_calls" -> "ToolCalls").
    QString name;
    bool upper = true;
    for (const QChar c : upstreamReason) {
        if (c == u'_' || c == u'-') {
            upper = true;
            continue;
        }
        name.append(upper ? c.toUpper() : c);
        upper = false;
    }
    return name;
}

void ChatTurn::onFinished(const LlmCompletion &completion)
{
    ChatOutcome outcome;
    outcome.ok = true;
    outcome.finishReason = finishReasonName(completion.finishReason);
    outcome.model = completion.model.isEmpty() ? m_reply.model : completion.model;
    outcome.promptTokens = completion.promptTokens;
    outcome.completionTokens = completion.completionTokens;
    outcome.tokensEstimated = completion.usageEstimated;
    end(outcome, u"complete"_s, {});
}

void ChatTurn::onFailed(const LlmError &error)
{
    ChatOutcome outcome;
    outcome.ok = false;
    outcome.finishReason = u"Error"_s;
    outcome.model = m_reply.model;
    const int status = error.kind == LlmError::Timeout ? 504 : 502;
    // Say who failed and how: the upstream's own message alone ("Rate limit reached") hides the status.
    const QString message =
        error.httpStatus > 0
            ? u"The model provider answered HTTP %1: %2"_s.arg(error.httpStatus).arg(error.message)
            : error.message;
    outcome.error = {status, error.code.isEmpty() ? u"upstream_error"_s : error.code, message};
    end(outcome, u"error"_s, message);
}

void ChatTurn::end(ChatOutcome outcome, const QString &status, const QString &errorText)
{
    if (m_ended)
        return;
    m_ended = true;

    outcome.content = text();
    m_reply.content = outcome.content;
    m_reply.status = status;
    m_reply.finishReason = outcome.finishReason;
    m_reply.model = outcome.model;
    m_reply.error = errorText;
    m_reply.promptTokens = outcome.promptTokens;
    m_reply.completionTokens = outcome.completionTokens;
    m_reply.tokensEstimated = outcome.tokensEstimated;
    outcome.saved = m_store.finishReply(m_reply, chunkLengths());
    if (!outcome.saved) {
        qCCritical(lcChat) << "Could not save reply" << m_reply.id << "of session" << m_session.id;
        if (outcome.ok) {
            // A `done` would promise a stored reply_id that does not exist.
            outcome.ok = false;
            outcome.error = ApiError::storage();
        }
    }
    m_outcome = outcome;
    Q_EMIT ended(outcome);
}

void ChatTurn::checkpoint()
{
    const QString &current = text();
    if (m_ended || current.size() == m_savedLength)
        return;
    if (m_store.saveReplyProgress(m_reply.id, current, chunkLengths()))
        m_savedLength = current.size();
}
