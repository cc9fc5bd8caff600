#include "chatroutes.h"

#include "chat/chatservice.h"
#include "chat/chatturn.h"
#include "chat/streamchunk.h"
#include "core/uuidutil.h"
#include "requestcontext.h"
#include "router.h"
#include "ssestream.h"

#include <QPointer>
#include <QTcpSocket>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
QJsonObject metadataJson(const ChatOutcome &outcome)
{
    return {{u"model"_s, outcome.model},
            {u"tokens_used"_s, outcome.tokensUsed()},
            {u"finish_reason"_s, outcome.finishReason}};
}
} // namespace

ChatRoutes::ChatRoutes(ChatService &chat, QObject *parent) : QObject(parent), m_chat(chat) {}

void ChatRoutes::registerRoutes(Router &router)
{
    using Method = Router::Method;
    router.add(Method::Post, u"/api/agents/{}/chat/stream"_s,
               [this](RequestContext &c) { stream(c, false); });
    router.add(
        Method::Get, u"/api/agents/{}/chat/stream"_s, [this](RequestContext &c) { stream(c, true); },
        Router::QueryToken);
    router.add(Method::Post, u"/api/agents/{}/chat"_s, [this](RequestContext &c) { complete(c); });
    router.add(Method::Post, u"/api/sessions/{}/cancel"_s, [this](RequestContext &c) { cancel(c); });
}

bool ChatRoutes::readInput(RequestContext &context, bool fromQuery, ChatInput *input)
{
    const QString agentId = context.params.value(0);
    const ChatRequestDecoder::Result decoded =
        fromQuery ? ChatRequestDecoder::fromQuery(agentId, context.request.query())
                  : ChatRequestDecoder::fromBody(agentId, context.request.body());
    if (!decoded.ok()) {
        context.sendError(decoded.error.status, decoded.error.code, decoded.error.message);
        return false;
    }
    *input = decoded.input;
    return true;
}

void ChatRoutes::stream(RequestContext &context, bool fromQuery)
{
    ChatInput input;
    if (!readInput(context, fromQuery, &input))
        return;
    const ChatService::Started started =
        m_chat.start(context.principal, input.agentId, input.message, input.sessionId);
    if (started.error.isError()) {
        context.sendError(started.error.status, started.error.code, started.error.message);
        return;
    }
    ChatTurn *turn = started.turn;
    auto *sse = new SseStream(context.takeResponder(), m_keepAliveMs, turn);
    // SseStream outlives neither the turn nor the connection; the chunk template carries the ids.
    StreamChunk chunk;
    chunk.sessionId = turn->session().id;
    chunk.messageId = turn->userMessage().id;
    const QString replyId = turn->reply().id;

    connect(turn, &ChatTurn::content, sse, [sse, chunk](const QString &text) mutable {
        chunk.content = text;
        sse->send(chunk.toSseEvent());
    });
    connect(turn, &ChatTurn::ended, sse, [sse, chunk, replyId](const ChatOutcome &outcome) mutable {
        chunk.content = QString();
        if (outcome.ok) {
            chunk.type = StreamChunk::Type::Done;
            chunk.replyId = replyId;
            chunk.metadata = StreamChunk::Metadata{outcome.model, outcome.tokensUsed(), outcome.finishReason};
            chunk.finishReason = outcome.finishReason;
        } else {
            chunk.type = StreamChunk::Type::Error;
            chunk.error = outcome.error.message.isEmpty() ? outcome.error.code : outcome.error.message;
        }
        sse->send(chunk.toSseEvent());
        sse->setParent(nullptr); // the turn is deleted next; the stream closes on its own
        sse->finish();
    });
    connect(sse, &SseStream::clientGone, turn, &ChatTurn::abandon);
}

void ChatRoutes::complete(RequestContext &context)
{
    ChatInput input;
    if (!readInput(context, false, &input))
        return;
    const ChatService::Started started =
        m_chat.start(context.principal, input.agentId, input.message, input.sessionId);
    if (started.error.isError()) {
        context.sendError(started.error.status, started.error.code, started.error.message);
        return;
    }
    ChatTurn *turn = started.turn;
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    QPointer<QTcpSocket> socket = responder->socket();
    if (socket)
        connect(socket, &QTcpSocket::disconnected, turn, &ChatTurn::abandon);
    const QString sessionId = turn->session().id;
    const QString messageId = turn->userMessage().id;
    const QString replyId = turn->reply().id;
    connect(turn, &ChatTurn::ended, this,
            [responder, socket, sessionId, messageId, replyId](const ChatOutcome &outcome) {
                if (!socket || socket->state() != QAbstractSocket::ConnectedState)
                    return;
                if (!outcome.ok) {
                    QJsonObject body = HttpReply::errorBody(outcome.error.code, outcome.error.message);
                    body.insert(u"session_id"_s, sessionId);
                    body.insert(u"message_id"_s, messageId);
                    HttpReply::sendJsonAndClose(*responder, body, outcome.error.status);
                    return;
                }
                HttpReply::sendJsonAndClose(*responder, {{u"session_id"_s, sessionId},
                                                         {u"message_id"_s, messageId},
                                                         {u"reply_id"_s, replyId},
                                                         {u"content"_s, outcome.content},
                                                         {u"finish_reason"_s, outcome.finishReason},
                                                         {u"metadata"_s, metadataJson(outcome)}});
            });
}

void ChatRoutes::cancel(RequestContext &context)
{
    const QString sessionId = context.params.value(0).toLower();
    if (!Uuid::isValid(sessionId)) {
        context.sendError(400, u"invalid_uuid"_s, u"The session id is not a UUID"_s);
        return;
    }
    bool running = false;
    const ApiError error = m_chat.cancel(context.principal, sessionId, &running);
    if (error.isError()) {
        context.sendError(error.status, error.code, error.message);
        return;
    }
    context.sendJson({{u"cancelled"_s, running}});
}
