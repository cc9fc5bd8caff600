#pragma once

#include "chat/chatservice.h"
#include "chatrequest.h"
#include "clientconnection.h"
#include "storage/entities.h"

#include <QHttpServerResponder>
#include <QObject>

#include <functional>
#include <memory>
#include <optional>

class ChatTurn;
class Router;
class SseStream;
class StreamTickets;
struct RequestContext;

// The chat endpoints: the SSE stream (POST, and GET for EventSource), new versions of a turn, resuming and
// attaching to a reply's stream, the whole-reply variant, cancel, and stream tickets.
class ChatRoutes : public QObject
{
    Q_OBJECT
public:
    ChatRoutes(ChatService &chat, StreamTickets &tickets, QObject *parent = nullptr);

    void registerRoutes(Router &router);
    void setKeepAliveInterval(int ms) { m_keepAliveMs = ms; }
    // How long a reply runs on after its last follower left (0: it stops at once).
    void setResumeGrace(int ms) { m_resumeGraceMs = ms; }
    // The chat routes of every loop of the server (--threads), this one first. New replies are
    // spread over them, each with its connection, and a client that follows, cancels or decides on
    // a reply is served by the loop that runs it. The others live on their own threads.
    void setPeers(const QList<ChatRoutes *> &peers) { m_peers = peers; }

private:
    bool readInput(RequestContext &context, bool fromQuery, ChatInput *input);
    void stream(RequestContext &context, bool fromQuery);
    // Regenerate (a reply, or the answer to a user message) or edit a user message; streams.
    void newVersion(RequestContext &context, bool edit);
    // False when the request was answered already: a resume (Last-Event-ID), a repeated
    // Idempotency-Key, or a malformed one of those.
    bool needsNewTurn(RequestContext &context, bool fromQuery, QString *idempotencyKey);
    // Starts a turn on the next loop and answers with its stream or its whole reply; when the
    // service must first ask the provider about its model (images), the answer waits for that and
    // `start` runs again.
    enum class Answer { Stream, Whole };
    using Starter = std::function<ChatService::Started(ChatService &)>;
    void launch(RequestContext &context, const Starter &start, Answer answer,
                const QString &idempotencyKey = {});
    void proceed(ClientConnection client, const Starter &start, Answer answer,
                 const ChatService::Started &started, bool asked);
    // Answers with the turn once its start is stored: its stream, or its whole reply.
    void open(ChatTurn *turn, ClientConnection client, Answer answer);
    void answerWhole(ChatTurn *turn, const ClientConnection &client);
    void attachRoute(RequestContext &context);
    // Replays a reply of the caller's own after `afterSeq` and follows it while it runs, on the
    // loop that runs it.
    void attach(RequestContext &context, const QString &replyId, int afterSeq);
    void attachHere(ClientConnection client, const Principal &principal, const QString &replyId,
                    int afterSeq);
    void follow(ClientConnection client, const ChatService::Reply &reply, int afterSeq);
    // What following a reply gets without a stream: 404 (none of the caller's), 204 (it ended and
    // the client saw the end), else nothing (status 0).
    static ApiError plainAnswer(const ChatService::Reply &reply, const QString &replyId, int afterSeq);
    void complete(RequestContext &context);
    // Cancels a session's or a reply's running reply: `{"cancelled": true|false}`.
    void cancel(RequestContext &context, const QString &what,
                ApiError (ChatService::*cancelIt)(const Principal &, const QString &, bool *));
    void issueTicket(RequestContext &context);
    void decide(RequestContext &context);

    // The request's connection leaves this loop for `peer`'s, where `then` answers on it.
    using Continuation = std::function<void(ChatRoutes &, ClientConnection)>;
    void handOff(RequestContext &context, ChatRoutes *peer, Continuation then);
    ChatRoutes *nextLoop();
    ChatRoutes *loopFor(const Principal &principal, const QString &idempotencyKey);
    ChatRoutes *routesOf(ChatService *service);

    // `Last-Event-ID` (header; on routes that take a query, also `last_event_id`): the reply and
    // the last seq the client saw. Answers 400 and returns false when it is malformed.
    struct LastEventId
    {
        QString replyId;
        int seq = 0;
    };
    bool lastEventId(RequestContext &context, bool fromQuery, std::optional<LastEventId> *id);

    ChatService &m_chat;
    StreamTickets &m_tickets;
    int m_keepAliveMs = 15000;
    int m_resumeGraceMs = 30000;
    QList<ChatRoutes *> m_peers;
    qsizetype m_nextLoop = 0;
};
