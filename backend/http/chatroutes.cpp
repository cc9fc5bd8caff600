#include "chatroutes.h"

#include "chat/chatservice.h"
#include "chat/chatturn.h"
#include "chat/replyevents.h"
#include "core/uuidutil.h"
#include "cors.h"
#include "replychannel.h"
#include "requestcontext.h"
#include "router.h"
#include "ssestream.h"
#include "streamtickets.h"

#include <QPointer>
#include <QTcpSocket>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype maxIdempotencyKeyLength = 255;

QJsonObject metadataJson(const ChatOutcome &outcome)
{
    QJsonObject usage{{u"prompt_tokens"_s, outcome.promptTokens},
                      {u"completion_tokens"_s, outcome.completionTokens}};
    if (outcome.reasoningTokens >= 0)
        usage.insert(u"reasoning_tokens"_s, outcome.reasoningTokens);
    return {{u"model"_s, outcome.model},
            {u"tokens_used"_s, outcome.tokensUsed()},
            {u"finish_reason"_s, outcome.finishReason},
            {u"usage"_s, usage},
            {u"tokens_estimated"_s, outcome.tokensEstimated},
            {u"steps"_s, outcome.steps}};
}

ChatService::Options optionsOf(const ChatInput &input, const QString &idempotencyKey)
{
    ChatService::Options options;
    options.attachments = input.attachments;
    options.keepAttachments = !input.hasAttachments;
    options.model = input.model;
    options.idempotencyKey = idempotencyKey;
    return options;
}

bool isValidIdempotencyKey(const QByteArray &key)
{
    return key.size() <= maxIdempotencyKeyLength &&
           std::all_of(key.cbegin(), key.cend(), [](char c) { return c > 0x20 && c < 0x7f; });
}
} // namespace

ChatRoutes::ChatRoutes(ChatService &chat, StreamTickets &tickets, QObject *parent)
    : QObject(parent), m_chat(chat), m_tickets(tickets)
{}

void ChatRoutes::registerRoutes(Router &router)
{
    using Method = Router::Method;
    router.add(Method::Post, u"/api/agents/{}/chat/stream"_s,
               [this](RequestContext &c) { stream(c, false); });
    router.add(
        Method::Get, u"/api/agents/{}/chat/stream"_s, [this](RequestContext &c) { stream(c, true); },
        Router::QueryToken);
    router.add(Method::Post, u"/api/agents/{}/chat"_s, [this](RequestContext &c) { complete(c); });
    router.add(Method::Post, u"/api/messages/{}/regenerate"_s,
               [this](RequestContext &c) { newVersion(c, false); });
    router.add(Method::Post, u"/api/messages/{}/edit"_s, [this](RequestContext &c) { newVersion(c, true); });
    router.add(Method::Post, u"/api/sessions/{}/cancel"_s,
               [this](RequestContext &c) { cancel(c, u"session"_s, &ChatService::cancel); });
    router.add(
        Method::Get, u"/api/replies/{}/stream"_s, [this](RequestContext &c) { attachRoute(c); },
        Router::QueryToken);
    router.add(Method::Post, u"/api/replies/{}/cancel"_s,
               [this](RequestContext &c) { cancel(c, u"reply"_s, &ChatService::cancelReply); });
    router.add(Method::Post, u"/api/stream-tickets"_s, [this](RequestContext &c) { issueTicket(c); });
    router.add(Method::Post, u"/api/replies/{}/tool-calls/{}"_s, [this](RequestContext &c) { decide(c); });
}

bool ChatRoutes::readInput(RequestContext &context, bool fromQuery, ChatInput *input)
{
    const QString agentId = context.params.value(0);
    const ChatRequestDecoder::Result decoded =
        fromQuery ? ChatRequestDecoder::fromQuery(agentId, context.request.query())
                  : ChatRequestDecoder::fromBody(agentId, context.request.body());
    if (!decoded.ok()) {
        context.sendError(decoded.error);
        return false;
    }
    *input = decoded.input;
    return true;
}

bool ChatRoutes::lastEventId(RequestContext &context, bool fromQuery, std::optional<LastEventId> *id)
{
    QString text = QString::fromLatin1(context.request.value("last-event-id").trimmed());
    if (text.isEmpty() && fromQuery)
        text = context.request.query().queryItemValue(u"last_event_id"_s, QUrl::FullyDecoded).trimmed();
    if (text.isEmpty())
        return true;
    const qsizetype colon = text.lastIndexOf(u':');
    bool ok = false;
    LastEventId parsed{text.left(colon).toLower(), colon > 0 ? text.mid(colon + 1).toInt(&ok) : 0};
    if (!ok || parsed.seq < 0 || !Uuid::isValid(parsed.replyId)) {
        context.sendError(400, u"invalid_last_event_id"_s,
                          u"Last-Event-ID must be an event id this server sent: <reply_id>:<seq>"_s);
        return false;
    }
    *id = parsed;
    return true;
}

SseStream *ChatRoutes::openStream(RequestContext &context)
{
    const bool chunked = !context.http10;
    return new SseStream(context.takeResponder(), m_keepAliveMs, Cors::lines(context.extraHeaders), chunked);
}

bool ChatRoutes::needsNewTurn(RequestContext &context, bool fromQuery, QString *idempotencyKey)
{
    // A client that saw events of a reply is resuming it, never asking again (an EventSource
    // reconnects with the same URL, fetch-event-source retries the same POST).
    std::optional<LastEventId> resume;
    if (!lastEventId(context, fromQuery, &resume))
        return false;
    if (resume) {
        attach(context, resume->replyId, resume->seq);
        return false;
    }
    const QByteArray key = fromQuery ? QByteArray() : context.request.value("idempotency-key").trimmed();
    if (!isValidIdempotencyKey(key)) {
        context.sendError(
            400, u"invalid_idempotency_key"_s,
            u"Idempotency-Key must be at most %1 visible ASCII characters"_s.arg(maxIdempotencyKeyLength));
        return false;
    }
    *idempotencyKey = QString::fromLatin1(key);
    if (!key.isEmpty()) {
        const QString started = m_chat.replyForIdempotencyKey(context.principal, *idempotencyKey);
        if (!started.isEmpty()) {
            attach(context, started, 0);
            return false;
        }
    }
    return true;
}

void ChatRoutes::launch(RequestContext &context, const Starter &start, Answer answer)
{
    const ChatService::Started started = start();
    if (!started.askModel) {
        if (started.error.isError())
            return context.sendError(started.error);
        if (answer == Answer::Stream)
            return attachNew(started.turn, openStream(context));
        auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
        return answerWhole(started.turn, responder, context.extraHeaders);
    }
    // What the model can do is asked of its provider first (Ollama); the answer waits.
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    const QPointer<QTcpSocket> socket = responder->socket();
    const auto headers = context.extraHeaders;
    const bool chunked = !context.http10;
    const ProviderConfig provider = *started.askModel;
    m_chat.learnModel(provider, this, [this, start, answer, responder, socket, headers, chunked, provider] {
        if (!socket || socket->state() != QAbstractSocket::ConnectedState)
            return; // the client left while we asked
        ChatService::Started again = start();
        if (again.askModel) {
            const QString why = m_chat.learnError(provider);
            again.error = {
                502, u"upstream_error"_s,
                u"Could not ask the model provider \u201c%1\u201d whether \u201c%2\u201d takes images%3"_s
                    .arg(provider.name, provider.model, why.isEmpty() ? QString() : u": "_s + why)};
        }
        if (again.error.isError())
            return HttpReply::sendJsonAndClose(*responder,
                                               HttpReply::errorBody(again.error.code, again.error.message),
                                               again.error.status, headers);
        if (answer == Answer::Stream)
            return attachNew(again.turn, new SseStream(std::move(*responder), m_keepAliveMs,
                                                       Cors::lines(headers), chunked));
        answerWhole(again.turn, responder, headers);
    });
}

void ChatRoutes::attachNew(ChatTurn *turn, SseStream *stream)
{
    ReplyChannel::of(turn, m_resumeGraceMs)->attach(stream, 0);
}

void ChatRoutes::stream(RequestContext &context, bool fromQuery)
{
    QString key;
    if (!needsNewTurn(context, fromQuery, &key))
        return;
    ChatInput input;
    if (!readInput(context, fromQuery, &input))
        return;
    const Principal principal = context.principal;
    launch(
        context,
        [this, principal, input, key] {
            return m_chat.start(principal, input.agentId, input.message, input.sessionId,
                                optionsOf(input, key));
        },
        Answer::Stream);
}

void ChatRoutes::newVersion(RequestContext &context, bool edit)
{
    const QString messageId = context.params.value(0).toLower();
    if (!Uuid::isValid(messageId))
        return context.sendError(400, u"invalid_uuid"_s, u"The message id is not a UUID"_s);
    QString key;
    if (!needsNewTurn(context, false, &key))
        return;
    const ChatRequestDecoder::Result decoded = edit ? ChatRequestDecoder::messageOnly(context.request.body())
                                                    : ChatRequestDecoder::optionsOnly(context.request.body());
    if (!decoded.ok())
        return context.sendError(decoded.error);
    const Principal principal = context.principal;
    const ChatService::Options options = optionsOf(decoded.input, key);
    const QString text = decoded.input.message;
    launch(
        context,
        [this, principal, messageId, edit, text, options] {
            return edit ? m_chat.edit(principal, messageId, text, options)
                        : m_chat.regenerate(principal, messageId, options);
        },
        Answer::Stream);
}

void ChatRoutes::attachRoute(RequestContext &context)
{
    const QString replyId = context.params.value(0).toLower();
    if (!Uuid::isValid(replyId)) {
        context.sendError(400, u"invalid_uuid"_s, u"The reply id is not a UUID"_s);
        return;
    }
    std::optional<LastEventId> resume;
    if (!lastEventId(context, true, &resume))
        return;
    if (resume && resume->replyId != replyId) {
        context.sendError(400, u"invalid_last_event_id"_s, u"Last-Event-ID names another reply"_s);
        return;
    }
    attach(context, replyId, resume ? resume->seq : 0);
}

void ChatRoutes::attach(RequestContext &context, const QString &replyId, int afterSeq)
{
    const ChatService::Reply reply = m_chat.reply(context.principal, replyId);
    if (!reply.found()) {
        context.sendError(404, u"reply_not_found"_s, u"No reply %1 for this user"_s.arg(replyId));
        return;
    }
    if (reply.running) {
        // A turn of the whole-reply route has no channel yet; that route keeps it alive.
        ReplyChannel::of(reply.running, m_resumeGraceMs, false)->attach(openStream(context), afterSeq);
        return;
    }
    // Ended: from what is stored. A client that saw the end gets 204, which is also what stops a
    // browser EventSource from reconnecting.
    if (afterSeq >= ReplyEvents::terminalSeq(*reply.stored)) {
        context.sendNoContent();
        return;
    }
    SseStream *sse = openStream(context);
    sse->send(ReplyEvents::replay(*reply.stored, afterSeq));
    sse->finish();
}

void ChatRoutes::complete(RequestContext &context)
{
    ChatInput input;
    if (!readInput(context, false, &input))
        return;
    const Principal principal = context.principal;
    launch(
        context,
        [this, principal, input] {
            return m_chat.start(principal, input.agentId, input.message, input.sessionId,
                                optionsOf(input, {}));
        },
        Answer::Whole);
}

void ChatRoutes::answerWhole(ChatTurn *turn, const std::shared_ptr<QHttpServerResponder> &responder,
                             const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QPointer<QTcpSocket> socket = responder->socket();
    if (socket) {
        connect(socket, &QTcpSocket::disconnected, turn, [turn] {
            // Nothing to resume here; but a window that attached to the reply keeps it going.
            if (ReplyChannel *channel = ReplyChannel::existing(turn))
                channel->keepAliveWithoutOwner();
            else
                turn->abandon();
        });
    }
    const QString sessionId = turn->session().id;
    const QString messageId = turn->userMessage().id;
    const QString replyId = turn->reply().id;
    connect(turn, &ChatTurn::ended, this,
            [responder, socket, headers, sessionId, messageId, replyId, turn](const ChatOutcome &outcome) {
                if (!socket || socket->state() != QAbstractSocket::ConnectedState)
                    return;
                if (!outcome.ok) {
                    QJsonObject body = HttpReply::errorBody(outcome.error.code, outcome.error.message);
                    body.insert(u"session_id"_s, sessionId);
                    body.insert(u"message_id"_s, messageId);
                    HttpReply::sendJsonAndClose(*responder, body, outcome.error.status, headers);
                    return;
                }
                QJsonObject body{{u"session_id"_s, sessionId},
                                 {u"message_id"_s, messageId},
                                 {u"reply_id"_s, replyId},
                                 {u"content"_s, outcome.content},
                                 {u"finish_reason"_s, outcome.finishReason},
                                 {u"metadata"_s, metadataJson(outcome)}};
                const QString reasoning = turn->reasoningText();
                body.insert(u"reasoning"_s,
                            reasoning.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(reasoning));
                HttpReply::sendJsonAndClose(*responder, body, 200, headers);
            });
}

void ChatRoutes::cancel(RequestContext &context, const QString &what,
                        ApiError (ChatService::*cancelIt)(const Principal &, const QString &, bool *))
{
    const QString id = context.params.value(0).toLower();
    if (!Uuid::isValid(id)) {
        context.sendError(400, u"invalid_uuid"_s, u"The %1 id is not a UUID"_s.arg(what));
        return;
    }
    bool running = false;
    const ApiError error = (m_chat.*cancelIt)(context.principal, id, &running);
    if (error.isError()) {
        context.sendError(error.status, error.code, error.message);
        return;
    }
    context.sendJson({{u"cancelled"_s, running}});
}

void ChatRoutes::decide(RequestContext &context)
{
    const QString replyId = context.params.value(0).toLower();
    if (!Uuid::isValid(replyId))
        return context.sendError(400, u"invalid_uuid"_s, u"The reply id is not a UUID"_s);
    const auto body = context.jsonBody();
    if (!body)
        return;
    const QString decision = body->value(u"decision"_s).toString();
    const QString toolCallId = context.params.value(1);
    if (const ApiError error = m_chat.decideToolCall(context.principal, replyId, toolCallId, decision);
        error.isError())
        return context.sendError(error.status, error.code, error.message);
    context.sendJson({{u"tool_call_id"_s, toolCallId}, {u"decision"_s, decision}});
}

void ChatRoutes::issueTicket(RequestContext &context)
{
    context.sendJson({{u"ticket"_s, m_tickets.issue(context.principal)},
                      {u"expires_in"_s, StreamTickets::lifetimeSeconds}},
                     201);
}
