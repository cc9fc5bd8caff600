#pragma once

#include "router.h"

#include <QAbstractHttpServer>
#include <QHostAddress>

class AuthStore;

// The HTTP front: size limits, routing with JSON 404/405, bearer-token authentication, then the
// route's handler. Everything else lives in the route classes.
class ApiServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    explicit ApiServer(AuthStore &auth, QObject *parent = nullptr);

    Router &router() { return m_router; }
    void setMaxBodyBytes(qint64 bytes) { m_maxBodyBytes = bytes; }

    // Listens with a deep accept backlog (thousands of clients may connect at once); 0 on failure.
    quint16 listenOn(const QHostAddress &address, quint16 port);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    static QString bearerToken(const QHttpServerRequest &request, bool allowQuery);

    AuthStore &m_auth;
    Router m_router;
    qint64 m_maxBodyBytes = 1024 * 1024;
};
