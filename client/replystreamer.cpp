#include "replystreamer.h"

#include "apiclient.h"
#include "chatchunk.h"
#include "chatstream.h"
#include "logging.h"
#include "sessionlistcontroller.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace {
// How long Stop waits for the server's closing `done` chunk before dropping the connection
// (which makes the server abort the upstream request too).
constexpr int StopFallbackMs = 5000;
constexpr int ResumeGiveUpMs = 180000; // the server keeps an unwatched reply running 30 s by default
// Waits between resume attempts: quick at first (a blip), then every few seconds.
int resumeDelayMs(int attempt)
{
    return qMin(5000, 250 << qMin(attempt, 5));
}
} // namespace

ReplyStreamer::ReplyStreamer(ApiClient *api, Conversation *conversation, SessionListController *sessions,
                             bool remote, QObject *parent)
    : QObject(parent), m_api(api), m_conversation(conversation), m_messages(conversation->messages()),
      m_sessions(sessions), m_remote(remote)
{
    m_stopFallback.setSingleShot(true);
    connect(&m_stopFallback, &QTimer::timeout, this, [this] {
        if (m_pending && m_pending->stream) {
            qCInfo(lcClient) << "no closing chunk after cancel; dropping the stream";
            m_pending->stream->abort();
        }
    });
    m_resumeTimer.setSingleShot(true);
    connect(&m_resumeTimer, &QTimer::timeout, this, &ReplyStreamer::resumeNow);
    m_partsTimer.setSingleShot(true);
    m_partsTimer.setInterval(50);
    connect(&m_partsTimer, &QTimer::timeout, this, &ReplyStreamer::showPendingParts);
}

ReplyStreamer::~ReplyStreamer()
{
    if (m_pending && m_pending->stream)
        m_pending->stream->disconnect(this);
}

void ReplyStreamer::clearRetry()
{
    m_retry = {};
    Q_EMIT canRetryChanged();
}

std::optional<Conversation::LiveTurn> ReplyStreamer::attachLiveTurn()
{
    if (!m_pending || m_pending->sessionId.isEmpty() || m_pending->sessionId != m_conversation->sessionId())
        return std::nullopt;
    m_pending->view = m_conversation->view();
    Conversation::LiveTurn live;
    live.userMessageId = m_pending->userMessageId;
    live.replyId = m_pending->replyId();
    live.user.id = m_pending->userRowId;
    live.user.role = u"user"_s;
    live.user.content = m_pending->text;
    live.user.attachments = m_pending->attachments;
    live.user.status = u"complete"_s;
    live.reply.id = m_pending->replyRowId;
    live.reply.role = u"assistant"_s;
    live.reply.content = m_pending->content;
    live.reply.reasoning = m_pending->reasoning;
    live.reply.thoughtMs = m_pending->thoughtMs;
    live.reply.parts = m_pending->parts;
    live.reply.thinking = m_pending->thinking;
    live.reply.status = m_pending->reconnecting                                          ? u"reconnecting"_s
                        : m_pending->content.isEmpty() && m_pending->reasoning.isEmpty() ? u"typing"_s
                                                                                         : u"streaming"_s;
    if (m_pending->reconnecting)
        live.reply.error = tr("Connection lost — reconnecting…");
    return live;
}

ReplyStreamer::Pending ReplyStreamer::newPending(const QString &agentId, const QString &text,
                                                 const QList<AttachmentItem> &attachments)
{
    Pending p;
    p.agentId = agentId;
    p.sessionId = m_conversation->sessionId();
    p.text = text;
    p.attachments = attachments;
    p.view = m_conversation->view();
    p.userRowId = u"local-%1"_s.arg(++m_localIds);
    p.replyRowId = u"local-%1"_s.arg(++m_localIds);
    p.idempotencyKey = QUuid::createUuid().toString(QUuid::WithoutBraces);
    p.clock.start();
    return p;
}

void ReplyStreamer::send(const QString &agentId, const QString &text,
                         const QList<AttachmentItem> &attachments, const std::optional<QString> &model)
{
    Pending p = newPending(agentId, text, attachments);
    p.model = model;
    begin(p, m_messages->rowCount(), false);
}

void ReplyStreamer::regenerate(const QString &agentId, int userRow, const QString &messageId,
                               const QString &text)
{
    // The stored message keeps its files: shown again with the new answer.
    Pending p = newPending(agentId, text, m_messages->at(userRow).attachments);
    p.versionOf = messageId;
    p.userMessageId = messageId;
    begin(p, userRow, true);
}

void ReplyStreamer::edit(const QString &agentId, int userRow, const QString &text)
{
    // An edit changes the words; the files stay with them (the server keeps them too).
    Pending p = newPending(agentId, text, m_messages->at(userRow).attachments);
    p.versionOf = m_messages->at(userRow).id;
    p.edit = true;
    begin(p, userRow, false);
}

void ReplyStreamer::begin(const Pending &pending, int keepRows, bool userStored)
{
    m_retry = {};
    m_messages->setRetryRow(-1);
    // A new version replaces the turn shown from its row on; what followed it belongs to the
    // old branch.
    if (keepRows < m_messages->rowCount())
        m_conversation->dropUnsent();
    while (m_messages->rowCount() > keepRows)
        m_messages->removeRow(m_messages->rowCount() - 1);

    MessageItem user;
    user.id = pending.userRowId;
    user.sessionId = m_conversation->sessionId();
    user.role = u"user"_s;
    user.content = pending.text;
    user.attachments = pending.attachments;
    user.status = userStored ? u"complete"_s : u"sending"_s;
    user.createdAt = QDateTime::currentDateTimeUtc();
    m_messages->append(user);
    MessageItem reply;
    reply.id = pending.replyRowId;
    reply.sessionId = user.sessionId;
    reply.role = u"assistant"_s;
    reply.status = u"typing"_s;
    reply.createdAt = user.createdAt;
    m_messages->append(reply);

    m_pending = pending;
    watchStream(openPendingStream());
    qCDebug(lcClient) << "sending a message of" << pending.text.size() << "characters"
                      << (pending.versionOf.isEmpty() ? "" : "as a new version");
    Q_EMIT streamingChanged();
    Q_EMIT canRetryChanged();
    Q_EMIT replyStarted();
}

ChatStream *ReplyStreamer::openPendingStream()
{
    const Pending &p = *m_pending;
    if (!p.versionOf.isEmpty())
        return m_api->versionStream(p.versionOf, p.edit ? p.text : QString(), p.idempotencyKey, this);
    ApiClient::TurnOptions options;
    for (const AttachmentItem &a : p.attachments)
        options.attachments.append(a.id);
    options.model = p.model;
    return m_api->chatStream(p.agentId, p.text, p.sessionId, p.idempotencyKey, this, options);
}

void ReplyStreamer::watchStream(ChatStream *stream)
{
    m_pending->stream = stream;
    connect(stream, &ChatStream::chunkReceived, this, &ReplyStreamer::onChunk);
    connect(stream, &ChatStream::contentReceived, this, &ReplyStreamer::onContent);
    connect(stream, &ChatStream::closed, this, &ReplyStreamer::onClosed);
    connect(stream, &ChatStream::failed, this, &ReplyStreamer::onFailed);
    connect(stream, &ChatStream::aborted, this, &ReplyStreamer::onAborted);
}

bool ReplyStreamer::resumeLater(const QString &code, bool offline)
{
    // Only a remote server's connection drops; the in-process backend's cannot.
    if (!m_remote || m_pending->stopRequested)
        return false;
    const bool started = !m_pending->lastEventId.isEmpty();
    const bool broken = code == "network_error"_L1 || code == "stream_interrupted"_L1 ||
                        code == "stream_stalled"_L1 || code == "http_502"_L1 || code == "http_503"_L1 ||
                        code == "http_504"_L1;
    // A first POST that could not connect at all never reached the server: the usual "not sent".
    if (!broken || (!started && offline && !m_pending->reconnecting))
        return false;
    if (!m_pending->reconnecting) {
        m_pending->reconnecting = true;
        m_pending->resumeAttempts = 0;
        m_pending->lostClock.start();
        qCInfo(lcClient) << "reply stream lost (" << code << "); resuming after" << m_pending->lastEventId;
        const int row = pendingRow(m_pending->replyRowId);
        if (row >= 0)
            m_messages->setStatus(row, u"reconnecting"_s, tr("Connection lost — reconnecting…"));
    } else if (m_pending->lostClock.elapsed() > ResumeGiveUpMs) {
        return false;
    }
    if (m_pending->stream)
        m_pending->stream->disconnect(this);
    m_pending->stream = nullptr;
    m_resumeTimer.start(resumeDelayMs(m_pending->resumeAttempts++));
    return true;
}

void ReplyStreamer::resumeNow()
{
    m_resumeTimer.stop();
    if (!m_pending || !m_pending->reconnecting || m_pending->stream)
        return;
    // After an event: the events that follow it. Before any: the same POST, whose
    // Idempotency-Key attaches to the turn if the first one started it.
    watchStream(m_pending->lastEventId.isEmpty()
                    ? openPendingStream()
                    : m_api->replyStream(m_pending->replyId(), m_pending->lastEventId, this));
}

void ReplyStreamer::resumeIfWaiting()
{
    if (m_pending && m_pending->reconnecting && !m_pending->stream)
        resumeNow();
}

bool ReplyStreamer::viewShowsPending() const
{
    return m_pending && m_pending->view == m_conversation->view();
}

int ReplyStreamer::pendingRow(const QString &localId) const
{
    return viewShowsPending() ? m_messages->rowOf(localId) : -1;
}

void ReplyStreamer::onChunk(const ChatChunk &chunk)
{
    if (!m_pending)
        return;
    if (m_pending->stream)
        m_pending->lastEventId = m_pending->stream->lastEventId();
    if (m_pending->reconnecting) {
        m_pending->reconnecting = false;
        qCInfo(lcClient) << "reply stream resumed at" << m_pending->lastEventId;
        const int row = pendingRow(m_pending->replyRowId);
        if (row >= 0)
            m_messages->setStatus(row, m_pending->content.isEmpty() ? u"typing"_s : u"streaming"_s);
    }
    if (m_pending->userMessageId.isEmpty() && !chunk.messageId.isEmpty()) {
        m_pending->userMessageId = chunk.messageId;
        const int row = pendingRow(m_pending->userRowId);
        if (row >= 0)
            m_messages->setStatus(row, u"complete"_s);
    }
    if (m_pending->sessionId.isEmpty() && !chunk.sessionId.isEmpty()) {
        m_pending->sessionId = chunk.sessionId;
        m_sessions->addStarted(chunk.sessionId, m_pending->agentId, m_pending->text);
        if (viewShowsPending() && m_conversation->sessionId().isEmpty()) {
            m_conversation->adoptSession(chunk.sessionId);
            Q_EMIT sessionAdopted(chunk.sessionId);
        }
        if (m_pending->stopRequested)
            m_api->cancel(m_pending->sessionId, this, {});
    }
    switch (chunk.type) {
    case ChatChunk::Type::Reasoning:
        onReasoning(chunk.content);
        break;
    case ChatChunk::Type::ToolCallDelta:
    case ChatChunk::Type::ToolCall:
    case ChatChunk::Type::ToolResult:
    case ChatChunk::Type::Progress:
        onToolChunk(chunk);
        break;
    default:
        break;
    }
}

void ReplyStreamer::onToolChunk(const ChatChunk &chunk)
{
    QList<ReplyPart> &parts = m_pending->parts;
    const QJsonObject &meta = chunk.metadata;
    const QString id = meta.value("tool_call_id"_L1).toString();
    // Deltas and calls name their round; results and progress belong to the latest call of that id.
    const int step = meta.value("step"_L1).toInt(-1);
    auto call = [&]() -> ToolCallItem * {
        if (id.isEmpty())
            return nullptr;
        if (ToolCallItem *c = ReplyPart::findCall(parts, id, step))
            return c;
        if (parts.isEmpty()) { // what the model thought and said before its first call
            if (!m_pending->reasoning.isEmpty())
                ReplyPart::appendReasoning(parts, m_pending->reasoning);
            if (!m_pending->content.isEmpty())
                ReplyPart::appendText(parts, m_pending->content);
        }
        ReplyPart part;
        part.isTool = true;
        part.call.id = id;
        part.call.status = u"streaming"_s;
        part.call.step = qMax(step, 0);
        parts.append(part);
        return &parts.last().call;
    };
    const bool wasThinking = m_pending->thinking;
    m_pending->thinking = false;
    if (chunk.type == ChatChunk::Type::ToolCallDelta) {
        ToolCallItem *c = call();
        if (!c)
            return;
        if (const QString function = meta.value("name"_L1).toString();
            !function.isEmpty() && c->function.isEmpty()) {
            // "<server>__<tool>": shown as the tool and its server until the call is complete.
            c->function = function;
            const qsizetype cut = function.indexOf(u"__"_s);
            c->server = cut > 0 ? function.left(cut) : QString();
            c->name = cut > 0 ? function.mid(cut + 2) : function;
        }
        c->arguments += chunk.content;
        if (wasThinking || c->arguments.size() == chunk.content.size())
            showPendingParts(); // a new card at once; its fragments a few times a second
        else if (!m_partsTimer.isActive())
            m_partsTimer.start();
        return;
    }
    if (chunk.type == ChatChunk::Type::ToolCall) {
        ToolCallItem *c = call();
        if (!c)
            return;
        c->name = meta.value("name"_L1).toString(c->name);
        c->server = meta.value("server"_L1).toString(); // null: no such tool
        if (c->function.isEmpty())
            c->function = c->server.isEmpty() ? c->name : c->server + u"__"_s + c->name;
        const QJsonValue args = meta.value("arguments"_L1);
        if (args.isObject())
            c->arguments = QString::fromUtf8(QJsonDocument(args.toObject()).toJson(QJsonDocument::Compact));
        else if (args.isString())
            c->arguments = args.toString();
        c->status = meta.value("status"_L1).toString();
        c->deciding = false;
        if (c->status == "denied"_L1)
            c->decision = u"deny"_s;
    } else if (chunk.type == ChatChunk::Type::ToolResult) {
        ToolCallItem *c = call();
        if (!c)
            return;
        c->hasResult = true;
        c->isError = meta.value("is_error"_L1).toBool();
        c->durationMs = meta.value("duration_ms"_L1).toInteger();
        c->resultText = chunk.content;
        c->resultParts = meta.value("parts"_L1).toArray();
        c->progress = c->total = -1;
        c->progressMessage.clear();
        if (c->status != "denied"_L1)
            c->status = u"done"_s;
    } else { // progress
        const QString phase = meta.value("phase"_L1).toString();
        if (phase == "thinking"_L1) {
            m_pending->thinking = true;
        } else if (phase == "tool"_L1) {
            ToolCallItem *c = call();
            if (!c)
                return;
            c->progress = meta.value("progress"_L1).toDouble(-1);
            c->total = meta.value("total"_L1).toDouble(-1);
            c->progressMessage = meta.value("message"_L1).toString();
        } else if (phase == "awaiting_approval"_L1) {
            if (ToolCallItem *c = call())
                c->status = u"awaiting_approval"_s;
        }
    }
    showPendingParts();
}

void ReplyStreamer::showPendingParts()
{
    m_partsTimer.stop();
    const int row = m_pending ? pendingRow(m_pending->replyRowId) : -1;
    if (row >= 0)
        m_messages->setParts(row, m_pending->parts, m_pending->thinking);
}

void ReplyStreamer::decideToolCall(int row, const QString &callId, const QString &decision)
{
    if (row < 0 || row >= m_messages->rowCount())
        return;
    const QString rowId = m_messages->at(row).id;
    const bool pendingReply = m_pending && pendingRow(m_pending->replyRowId) == row;
    const QString replyId = pendingReply ? m_pending->replyId() : rowId;
    if (replyId.isEmpty() || replyId.startsWith(u"local-"_s))
        return;
    // By the row's id, not its index: the answer may come after the rows changed.
    auto mark = [this, rowId, callId](bool deciding, const QString &decided) {
        auto apply = [&](QList<ReplyPart> &parts) {
            if (ToolCallItem *c = ReplyPart::findCall(parts, callId)) {
                c->deciding = deciding;
                if (!decided.isEmpty())
                    c->decision = decided;
            }
        };
        if (m_pending && m_pending->replyRowId == rowId) {
            apply(m_pending->parts);
            showPendingParts();
        } else if (const int at = m_messages->rowOf(rowId); at >= 0) {
            QList<ReplyPart> parts = m_messages->at(at).parts;
            apply(parts);
            m_messages->setParts(at, parts, m_messages->at(at).thinking);
        }
    };
    mark(true, {});
    qCInfo(lcClient) << "tool call" << callId << "decided:" << decision;
    // The stream brings the call's new state; only a refusal needs handling here.
    m_api->decideToolCall(replyId, callId, decision, this, [this, mark, decision](const ApiResult &r) {
        if (r.ok()) {
            mark(true, decision); // still deciding until the stream says running or denied
            if (decision == "always"_L1)
                Q_EMIT agentChanged(); // its allowed_tools changed
            return;
        }
        mark(false, {});
        const bool gone = r.code == "reply_ended"_L1 || r.code == "tool_call_decided"_L1 ||
                          r.code == "tool_call_not_found"_L1 || r.code == "reply_not_found"_L1;
        Q_EMIT failed(gone ? tr("That tool call no longer waits for an answer.")
                           : tr("Could not send your answer: %1").arg(r.message));
    });
}

void ReplyStreamer::onReasoning(const QString &text)
{
    if (!m_pending || text.isEmpty())
        return;
    if (m_pending->reasoningStartMs < 0)
        m_pending->reasoningStartMs = m_pending->clock.elapsed();
    m_pending->reasoning += text;
    m_pending->thinking = false;
    if (!m_pending->parts.isEmpty())
        ReplyPart::appendReasoning(m_pending->parts, text);
    const int row = pendingRow(m_pending->replyRowId);
    if (row >= 0)
        m_messages->appendReasoning(row, text);
}

void ReplyStreamer::onContent(const QString &text)
{
    if (!m_pending)
        return;
    const qint64 now = m_pending->clock.elapsed();
    if (m_pending->reasoningStartMs >= 0 && m_pending->thoughtMs < 0 && !text.trimmed().isEmpty()) {
        // The answer began: the model thought from its first reasoning until now.
        m_pending->thoughtMs = now - m_pending->reasoningStartMs;
        if (const int row = pendingRow(m_pending->replyRowId); row >= 0)
            m_messages->setThought(row, m_pending->thoughtMs);
    }
    if (m_pending->firstTokenMs < 0)
        m_pending->firstTokenMs = now;
    m_pending->lastTokenMs = now;
    ++m_pending->chunks;
    m_pending->content += text;
    m_pending->thinking = false;
    if (!m_pending->parts.isEmpty())
        ReplyPart::appendText(m_pending->parts, text);
    const int row = pendingRow(m_pending->replyRowId);
    if (row >= 0)
        m_messages->appendContent(row, text);
    Q_EMIT contentStreamed(int(m_pending->content.size()));
}

double ReplyStreamer::measuredRate(int tokens) const
{
    if (!m_pending || m_pending->firstTokenMs < 0 || tokens <= 1)
        return 0;
    const qint64 ms = m_pending->lastTokenMs - m_pending->firstTokenMs;
    // A reply that came all at once has no speed worth showing ("4,000 tok/s").
    if (ms < 250)
        return 0;
    // The first token opens the clock; the others arrive within it.
    return (tokens - 1) * 1000.0 / double(ms);
}

void ReplyStreamer::onClosed(const ChatChunk &closing)
{
    if (!m_pending)
        return;
    showPendingParts(); // the last argument fragments, if they wait for the timer
    const int row = pendingRow(m_pending->replyRowId);
    if (closing.type == ChatChunk::Type::Done) {
        // As the server stores them: a reply stopped by the user or because nobody followed it is
        // cancelled, one cut by a restart interrupted.
        const bool cancelled =
            closing.finishReason == "Cancelled"_L1 || closing.finishReason == "Disconnected"_L1;
        const bool interrupted = closing.finishReason == "Interrupted"_L1;
        const QString status = cancelled ? u"cancelled"_s : interrupted ? u"interrupted"_s : u"complete"_s;
        // Time spent on tools (and waiting for approval) is not the model's speed.
        const double rate = m_pending->parts.isEmpty() ? measuredRate(m_pending->chunks) : 0;
        // A reply that reasoned and never answered thought until its end.
        const qint64 thought = m_pending->thoughtMs >= 0 || m_pending->reasoningStartMs < 0
                                   ? m_pending->thoughtMs
                                   : m_pending->clock.elapsed() - m_pending->reasoningStartMs;
        if (!closing.replyId.isEmpty() && (rate > 0 || thought >= 0))
            m_conversation->setMeasured(closing.replyId, rate, thought);
        if (row >= 0) {
            MessageItem m = m_messages->at(row);
            m.status = status;
            m.finishReason = closing.finishReason;
            m.model = closing.model();
            m.tokensUsed = closing.tokensUsed();
            m.tokensPerSecond = rate;
            m.thinking = false;
            m.reasoningTokens =
                closing.metadata.value("usage"_L1).toObject().value("reasoning_tokens"_L1).toInt(-1);
            m.thoughtMs = thought;
            m.steps = closing.metadata.value("steps"_L1).toInt(m.steps);
            if (!closing.replyId.isEmpty())
                m.id = closing.replyId;
            m_messages->update(row, m);
        }
        finishPending(status);
    } else {
        const QString error = closing.error.isEmpty() ? tr("The reply failed.") : closing.error;
        if (row >= 0)
            m_messages->setStatus(row, u"error"_s, error);
        // The server kept the message and the partial reply.
        m_retry = {m_pending->text,
                   m_pending->attachments,
                   m_pending->userMessageId,
                   m_pending->userRowId,
                   row >= 0 ? m_messages->at(row).id : QString(),
                   false};
        if (row >= 0)
            m_messages->setRetryRow(row);
        finishPending(u"error"_s);
    }
}

void ReplyStreamer::onFailed(const QString &code, const QString &message, bool offline)
{
    if (!m_pending)
        return;
    if (resumeLater(code, offline))
        return;
    if (code == "reply_ended"_L1) {
        // 204: the server counts the end as seen. The stored copy, loaded next, says how it ended.
        if (const int row = pendingRow(m_pending->replyRowId); row >= 0)
            m_messages->setStatus(row, u"interrupted"_s);
        finishPending(u"interrupted"_s);
        return;
    }
    if (m_pending->reconnecting && code == "reply_not_found"_L1) {
        const int row = pendingRow(m_pending->replyRowId);
        if (row >= 0)
            m_messages->setStatus(row, u"error"_s, tr("The reply is no longer on the server."));
        finishPending(u"error"_s);
        return;
    }
    QString text;
    if (offline)
        text = m_remote ? tr("Cannot reach the server: the message was not sent.")
                        : tr("Cannot reach the local service: the message was not sent.");
    else if (code == "session_busy"_L1)
        text = tr("Another reply is still being written in this chat. Try again in a moment.");
    else if (code == "stream_stalled"_L1)
        text = tr("The server stopped sending the reply.");
    else if (m_pending->reconnecting)
        text = tr("The connection was lost and the reply could not be resumed.");
    else
        text = message;
    const bool stored = !m_pending->userMessageId.isEmpty();
    const int userRow = pendingRow(m_pending->userRowId);
    const int row = pendingRow(m_pending->replyRowId);
    if (userRow >= 0 && !stored)
        m_messages->setStatus(userRow, u"failed"_s);
    if (row >= 0) {
        m_messages->setStatus(row, u"error"_s, text);
        m_messages->setRetryRow(row);
    }
    // The message stays in the chat with Retry; the input stays the user's, for what they type next.
    m_retry = {m_pending->text,      m_pending->attachments, stored ? m_pending->userMessageId : QString(),
               m_pending->userRowId, m_pending->replyRowId,  !stored};
    if (!stored && userRow >= 0 && row >= 0)
        m_conversation->keepUnsent({m_messages->at(userRow), m_messages->at(row)});
    finishPending(u"error"_s);
}

void ReplyStreamer::onAborted()
{
    if (!m_pending)
        return;
    const int row = pendingRow(m_pending->replyRowId);
    if (row >= 0)
        m_messages->setStatus(row, u"cancelled"_s);
    finishPending(u"cancelled"_s);
}

void ReplyStreamer::finishPending(const QString &status)
{
    m_stopFallback.stop();
    m_partsTimer.stop();
    m_resumeTimer.stop();
    const QString sessionId = m_pending->sessionId;
    if (viewShowsPending() && !sessionId.isEmpty()) {
        // In case the app quits before the server's copy comes.
        m_conversation->cacheShown();
        m_sessions->cacheSettled(sessionId);
    }
    if (m_pending->stream)
        m_pending->stream->disconnect(this);
    m_pending.reset();
    Q_EMIT streamingChanged();
    Q_EMIT canRetryChanged();
    Q_EMIT replyFinished(status, sessionId);
}

void ReplyStreamer::stop()
{
    if (!m_pending || m_pending->stopRequested)
        return;
    m_pending->stopRequested = true;
    if (m_pending->reconnecting) {
        // No connection to see the end on: stop the server's reply by id (when it can be reached;
        // otherwise it stops by itself once nobody followed it for its grace period).
        if (!m_pending->lastEventId.isEmpty())
            m_api->cancelReply(m_pending->replyId(), this, {});
        else if (!m_pending->sessionId.isEmpty())
            m_api->cancel(m_pending->sessionId, this, {});
        if (m_pending->stream)
            m_pending->stream->abort();
        else
            onAborted();
        return;
    }
    if (m_pending->sessionId.isEmpty()) {
        // No session yet: nothing to cancel by id. onChunk cancels as soon as the id comes;
        // the fallback drops the connection if it never does.
        m_stopFallback.start(1500);
        return;
    }
    m_api->cancel(m_pending->sessionId, this, [this](const ApiResult &r) {
        if (!r.ok() && m_pending && m_pending->stream)
            m_pending->stream->abort();
    });
    m_stopFallback.start(StopFallbackMs);
}
