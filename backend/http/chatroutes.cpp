#include "chatroutes.h"

#include "chat/chatservice.h"
#include "chat/chatturn.h"
#include "chat/replyevents.h"
#include "core/outputbatch.h"
#include "core/uuidutil.h"
#include "cors.h"
#include "replychannel.h"
#include "requestcontext.h"
#include "router.h"
#include "ssestream.h"
#include "streamtickets.h"

#include <QTcpSocket>
#include <QUrlQuery>

#include <unistd.h>

#include <utility>

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

// A descriptor on its way to another loop: closed unless that loop took it (a closure dropped
// at shutdown must not leak the connection).
struct Descriptor
{
    explicit Descriptor(int fd) : fd(fd) {}
    ~Descriptor()
    {
        if (fd >= 0)
            ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
    int fd;
};

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

void ChatRoutes::launch(RequestContext &context, const Starter &start, Answer answer,
                        const QString &idempotencyKey)
{
    const Principal principal = context.principal;
    // Requests with the same key go to the same loop, in order: the second finds the first's reply
    // there, committed, even when it came before that commit (the first loop looked too early).
    ChatRoutes *loop = idempotencyKey.isEmpty() ? nextLoop() : loopFor(principal, idempotencyKey);
    if (loop != this) {
        return handOff(
            context, loop,
            [start, answer, principal, idempotencyKey](ChatRoutes &there, ClientConnection client) {
                const QString started = idempotencyKey.isEmpty()
                                            ? QString()
                                            : there.m_chat.replyForIdempotencyKey(principal, idempotencyKey);
                if (!started.isEmpty())
                    return there.attachHere(std::move(client), principal, started, 0);
                there.proceed(std::move(client), start, answer, start(there.m_chat), false);
            });
    }
    const ChatService::Started started = start(m_chat);
    if (!started.askModel && started.error.isError())
        return context.sendError(started.error); // the connection stays open for the next request
    proceed(ClientConnection::takeOver(context, this), start, answer, started, false);
}

void ChatRoutes::proceed(ClientConnection client, const Starter &start, Answer answer,
                         const ChatService::Started &started, bool asked)
{
    if (started.askModel && !asked) {
        // What the model can do is asked of its provider first (Ollama); the answer waits.
        m_chat.learnModel(*started.askModel, this, [this, client, start, answer] {
            if (client.isConnected()) // else the client left while we asked
                proceed(client, start, answer, start(m_chat), true);
        });
        return;
    }
    if (started.askModel) {
        const ProviderConfig &provider = *started.askModel;
        const QString why = m_chat.learnError(provider);
        return client.sendError(
            {502, u"upstream_error"_s,
             u"Could not ask the model provider \u201c%1\u201d whether \u201c%2\u201d takes images%3"_s.arg(
                 provider.name, provider.model, why.isEmpty() ? QString() : u": "_s + why)});
    }
    if (started.error.isError())
        return client.sendError(started.error);
    open(started.turn, std::move(client), answer);
}

void ChatRoutes::open(ChatTurn *turn, ClientConnection client, Answer answer)
{
    if (!turn->isStored()) {
        // Its start is committed at the end of this pass; the client sees nothing before that.
        return turn->whenStored(this, [this, turn, client, answer](bool stored) {
            stored ? open(turn, client, answer) : client.sendError(ApiError::storage());
        });
    }
    if (answer == Answer::Stream) {
        const OutputBatch batch; // the head and the opening event in one send
        return ReplyChannel::of(turn, m_resumeGraceMs)->attach(client.openStream(m_keepAliveMs), 0);
    }
    if (!client.isConnected()) // left while the start was stored
        return turn->abandon();
    answerWhole(turn, client);
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
        [principal, input, key](ChatService &chat) {
            return chat.start(principal, input.agentId, input.message, input.sessionId,
                              optionsOf(input, key));
        },
        Answer::Stream, key);
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
        [principal, messageId, edit, text, options](ChatService &chat) {
            return edit ? chat.edit(principal, messageId, text, options)
                        : chat.regenerate(principal, messageId, options);
        },
        Answer::Stream, key);
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
    if (reply.elsewhere) {
        const Principal principal = context.principal;
        return handOff(context, routesOf(reply.elsewhere),
                       [principal, replyId, afterSeq](ChatRoutes &there, ClientConnection client) {
                           there.attachHere(std::move(client), principal, replyId, afterSeq);
                       });
    }
    if (const ApiError plain = plainAnswer(reply, replyId, afterSeq); plain.status == 204)
        return context.sendNoContent();
    else if (plain.isError())
        return context.sendError(plain);
    follow(ClientConnection::takeOver(context, this), reply, afterSeq);
}

void ChatRoutes::attachHere(ClientConnection client, const Principal &principal, const QString &replyId,
                            int afterSeq)
{
    const ChatService::Reply reply = m_chat.reply(principal, replyId);
    if (const ApiError plain = plainAnswer(reply, replyId, afterSeq); plain.status == 204)
        return client.sendNoContent();
    else if (plain.isError())
        return client.sendError(plain);
    follow(std::move(client), reply, afterSeq);
}

ApiError ChatRoutes::plainAnswer(const ChatService::Reply &reply, const QString &replyId, int afterSeq)
{
    if (!reply.running && !reply.stored)
        return ApiError::notFound(u"reply_not_found"_s, u"No reply %1 for this user"_s.arg(replyId));
    // Ended: from what is stored. A client that saw the end gets 204, which is also what stops a
    // browser EventSource from reconnecting.
    if (reply.stored && afterSeq >= ReplyEvents::terminalSeq(*reply.stored))
        return {204, {}, {}};
    return {};
}

void ChatRoutes::follow(ClientConnection client, const ChatService::Reply &reply, int afterSeq)
{
    const OutputBatch batch; // the head and the replay in one send
    SseStream *sse = client.openStream(m_keepAliveMs);
    if (reply.running) {
        // A turn of the whole-reply route has no channel yet; that route keeps it alive.
        ReplyChannel::of(reply.running, m_resumeGraceMs, false)->attach(sse, afterSeq);
        return;
    }
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
        [principal, input](ChatService &chat) {
            return chat.start(principal, input.agentId, input.message, input.sessionId, optionsOf(input, {}));
        },
        Answer::Whole);
}

void ChatRoutes::answerWhole(ChatTurn *turn, const ClientConnection &client)
{
    if (QTcpSocket *socket = client.socket()) {
        connect(socket, &QTcpSocket::disconnected, turn, [turn] {
            // Nothing to resume here; but a window that attached to the reply keeps it going.
            if (ReplyChannel *channel = ReplyChannel::existing(turn))
                channel->keepAliveWithoutOwner();
            else
                turn->abandon();
        });
    }
    const QString sessionId = turn->session().id;
    const QString messageId = turn->userMessageId();
    const QString replyId = turn->reply().id;
    connect(turn, &ChatTurn::ended, this,
            [client, sessionId, messageId, replyId, turn](const ChatOutcome &outcome) mutable {
                if (!client.isConnected())
                    return;
                if (!outcome.ok) {
                    QJsonObject body = HttpReply::errorBody(outcome.error.code, outcome.error.message);
                    body.insert(u"session_id"_s, sessionId);
                    body.insert(u"message_id"_s, messageId);
                    return client.sendJson(body, outcome.error.status);
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
                client.sendJson(body);
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
    const Principal principal = context.principal;
    const auto work = [principal, id, cancelIt](ChatService &chat) {
        ChatService::OwnerAnswer answer;
        answer.error = (chat.*cancelIt)(principal, id, &answer.running);
        return answer;
    };
    const TurnDirectory &directory = m_chat.directory();
    ChatService *owner = what == "session"_L1 ? directory.sessionOwner(id) : directory.replyOwner(id);
    if (!owner || owner == &m_chat) {
        const ChatService::OwnerAnswer a = work(m_chat);
        return a.error.isError() ? context.sendError(a.error)
                                 : context.sendJson({{u"cancelled"_s, a.running}});
    }
    m_chat.onOwner(
        owner, this, work, [client = ClientConnection::take(context)](const ChatService::OwnerAnswer &a) {
            a.error.isError() ? client.sendError(a.error) : client.sendJson({{u"cancelled"_s, a.running}});
        });
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
    const Principal principal = context.principal;
    const auto work = [principal, replyId, toolCallId, decision](ChatService &chat) {
        return ChatService::OwnerAnswer{chat.decideToolCall(principal, replyId, toolCallId, decision)};
    };
    const QJsonObject decided{{u"tool_call_id"_s, toolCallId}, {u"decision"_s, decision}};
    ChatService *owner = m_chat.directory().replyOwner(replyId);
    if (!owner || owner == &m_chat) {
        if (const ApiError error = work(m_chat).error; error.isError())
            return context.sendError(error);
        return context.sendJson(decided);
    }
    m_chat.onOwner(
        owner, this, work,
        [client = ClientConnection::take(context), decided](const ChatService::OwnerAnswer &a) mutable {
            a.error.isError() ? client.sendError(a.error) : client.sendJson(decided);
        });
}

ChatRoutes *ChatRoutes::nextLoop()
{
    if (m_peers.size() < 2)
        return this;
    m_nextLoop = (m_nextLoop + 1) % m_peers.size();
    return m_peers.at(m_nextLoop);
}

ChatRoutes *ChatRoutes::loopFor(const Principal &principal, const QString &idempotencyKey)
{
    if (m_peers.size() < 2)
        return this;
    const size_t hash = qHash(principal.tenantId) ^ qHash(principal.userId) ^ qHash(idempotencyKey);
    return m_peers.at(qsizetype(hash % size_t(m_peers.size())));
}

ChatRoutes *ChatRoutes::routesOf(ChatService *service)
{
    for (ChatRoutes *peer : std::as_const(m_peers)) {
        if (&peer->m_chat == service)
            return peer;
    }
    return this;
}

void ChatRoutes::handOff(RequestContext &context, ChatRoutes *peer, Continuation then)
{
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    QTcpSocket *socket = responder->socket();
    if (!socket)
        return;
    const ClientConnection::Headers headers = context.extraHeaders;
    const bool http10 = context.http10;
    const auto move = [socket, responder, peer, headers, http10, then] {
        auto copy = std::make_shared<Descriptor>(ClientConnection::release(socket));
        if (copy->fd < 0) {
            return HttpReply::sendJsonAndClose(
                *responder,
                HttpReply::errorBody(u"unavailable"_s, u"The server is out of file descriptors"_s), 503,
                headers);
        }
        QMetaObject::invokeMethod(
            peer,
            [peer, copy, headers, http10, then] {
                auto *adopted = new QTcpSocket(peer); // gone with the loop at the latest
                if (!adopted->setSocketDescriptor(copy->fd)) {
                    delete adopted;
                    return; // the copy closes it
                }
                copy->release();
                then(*peer, ClientConnection::adopt(adopted, headers, http10));
            },
            Qt::QueuedConnection);
    };
    // An answer to a request pipelined before this one may still wait in Qt's buffer: it goes
    // first, from here (abort() would drop it).
    socket->flush();
    if (socket->bytesToWrite() == 0)
        return move();
    auto waiting = std::make_shared<QMetaObject::Connection>();
    *waiting = connect(socket, &QTcpSocket::bytesWritten, this, [socket, waiting, move] {
        if (socket->bytesToWrite() > 0)
            return;
        disconnect(*waiting);
        move();
    });
}

void ChatRoutes::issueTicket(RequestContext &context)
{
    context.sendJson({{u"ticket"_s, m_tickets.issue(context.principal)},
                      {u"expires_in"_s, StreamTickets::lifetimeSeconds}},
                     201);
}
