#pragma once

#include "connectionguard.h"
#include "cors.h"
#include "requestcontext.h"
#include "router.h"
#include "storage/entities.h"

#include <QAbstractHttpServer>
#include <QHostAddress>

#include <optional>

class AuthStore;
class StreamTickets;

// The HTTP front: size limits and time-outs per connection (ConnectionGuard), CORS, routing with
// JSON 404/405, bearer-token (or stream-ticket) authentication, then the route's handler.
// Everything else lives in the route classes.
class ApiServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    explicit ApiServer(AuthStore &auth, QObject *parent = nullptr);

    Router &router() { return m_router; }
    // Which other origins' pages may call the API (none by default).
    void setCors(const Cors &cors);
    const Cors &cors() const { return m_cors; }
    // Where `?ticket=` is redeemed on routes that take a query token.
    void setStreamTickets(StreamTickets *tickets) { m_tickets = tickets; }
    void setMaxBodyBytes(qint64 bytes) { m_guards->limits.maxBodyBytes = bytes; }
    // For connections accepted from now on.
    void setConnectionLimits(const ConnectionLimits &limits) { m_guards->limits = limits; }
    const ConnectionLimits &connectionLimits() const { return m_guards->limits; }
    // Connections open now, and what the guards refused so far (for tests and diagnostics).
    const ConnectionGuard::Shared &connectionStats() const { return *m_guards; }

    // Errors on paths under `prefix` ("/v1/") in another API's words: the router's 404 and 405,
    // 401, 413, and the routes' own (RequestContext::sendError).
    void setErrorBody(const QByteArray &prefix, HttpReply::ErrorBody body)
    {
        m_guards->errorBodies.append({prefix, body});
    }

    // Listens with a deep accept backlog (thousands of clients may connect at once); 0 on failure.
    quint16 listenOn(const QHostAddress &address, quint16 port);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    static QString bearerOf(const QByteArray &authorization); // "Bearer <token>" -> the token
    static QString bearerToken(const QHttpServerRequest &request, bool allowQuery);
    std::optional<Principal> authenticate(const QHttpServerRequest &request, bool allowQuery,
                                          bool *gaveCredentials);

    bool dispatch(const QHttpServerRequest &request, QTcpSocket *socket);
    void answerOptions(QHttpServerResponder &responder, const QHttpServerRequest &request,
                       const QList<Router::Method> &allowed, const Cors::Headers &corsHeaders);

    HttpReply::ErrorBody errorBodyFor(const QHttpServerRequest &request) const
    {
        return m_guards->errorBodyFor(request.url().path(QUrl::FullyEncoded).toUtf8());
    }

    AuthStore &m_auth;
    StreamTickets *m_tickets = nullptr;
    Cors m_cors;
    Router m_router;
    // Shared with every connection's guard, which may outlive this object's members: sockets are
    // children of the QTcpServer, deleted by ~QObject after these.
    std::shared_ptr<ConnectionGuard::Shared> m_guards = std::make_shared<ConnectionGuard::Shared>();
};
