#pragma once

#include "connectionguard.h"
#include "router.h"

#include <QAbstractHttpServer>
#include <QHostAddress>

class AuthStore;

// The HTTP front: size limits and time-outs per connection (ConnectionGuard), routing with JSON
// 404/405, bearer-token authentication, then the route's handler. Everything else lives in the
// route classes.
class ApiServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    explicit ApiServer(AuthStore &auth, QObject *parent = nullptr);

    Router &router() { return m_router; }
    void setMaxBodyBytes(qint64 bytes) { m_guards->limits.maxBodyBytes = bytes; }
    // For connections accepted from now on.
    void setConnectionLimits(const ConnectionLimits &limits) { m_guards->limits = limits; }
    const ConnectionLimits &connectionLimits() const { return m_guards->limits; }
    // Connections open now, and what the guards refused so far (for tests and diagnostics).
    const ConnectionGuard::Shared &connectionStats() const { return *m_guards; }

    // Listens with a deep accept backlog (thousands of clients may connect at once); 0 on failure.
    quint16 listenOn(const QHostAddress &address, quint16 port);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    static QString bearerToken(const QHttpServerRequest &request, bool allowQuery);

    bool dispatch(const QHttpServerRequest &request, QTcpSocket *socket);

    AuthStore &m_auth;
    Router m_router;
    // Shared with every connection's guard, which may outlive this object's members: sockets are
    // children of the QTcpServer, deleted by ~QObject after these.
    std::shared_ptr<ConnectionGuard::Shared> m_guards = std::make_shared<ConnectionGuard::Shared>();
};
