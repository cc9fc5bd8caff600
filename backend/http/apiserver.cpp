#include "apiserver.h"

#include "core/logging.h"
#include "requestcontext.h"
#include "storage/authstore.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {

// Creates each connection's socket itself, so that a ConnectionGuard is watching it before
// QAbstractHttpServer connects its own handler.
class GuardedTcpServer : public QTcpServer
{
public:
    GuardedTcpServer(std::shared_ptr<ConnectionGuard::Shared> guards, QObject *parent)
        : QTcpServer(parent), m_guards(std::move(guards))
    {}

    // Once QAbstractHttpServer has taken the sockets (and connected its readyRead handler), the
    // guards connect the handler that must run after it.
    void hookTakenSockets()
    {
        if (hasPendingConnections())
            return;
        for (const QPointer<ConnectionGuard> &guard : std::as_const(m_unhooked)) {
            if (guard)
                guard->hookAfterServer();
        }
        m_unhooked.clear();
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            qCWarning(lcHttp) << "Cannot take a new connection:" << socket->errorString();
            delete socket;
            return;
        }
        m_unhooked.append(new ConnectionGuard(socket, m_guards));
        addPendingConnection(socket);
        hookTakenSockets(); // when addPendingConnection handed it over at once
    }

private:
    std::shared_ptr<ConnectionGuard::Shared> m_guards;
    QList<QPointer<ConnectionGuard>> m_unhooked;
};

} // namespace

ApiServer::ApiServer(AuthStore &auth, QObject *parent) : QAbstractHttpServer(parent), m_auth(auth) {}

quint16 ApiServer::listenOn(const QHostAddress &address, quint16 port)
{
    auto *server = new GuardedTcpServer(m_guards, this);
    server->setListenBacklogSize(4096);
    if (!server->listen(address, port)) {
        qCCritical(lcHttp) << "Cannot listen on" << address.toString() << port << server->errorString();
        delete server;
        return 0;
    }
    bind(server);
    // After bind(): these run after QAbstractHttpServer's own handler has taken the sockets.
    connect(server, &QTcpServer::pendingConnectionAvailable, server, &GuardedTcpServer::hookTakenSockets);
    connect(server, &QTcpServer::newConnection, server, &GuardedTcpServer::hookTakenSockets);
    return server->serverPort();
}

QString ApiServer::bearerToken(const QHttpServerRequest &request, bool allowQuery)
{
    const QByteArray header = request.value("authorization").trimmed();
    if (header.size() > 7 && header.left(7).compare("bearer ", Qt::CaseInsensitive) == 0)
        return QString::fromLatin1(header.mid(7).trimmed());
    if (allowQuery)
        return request.query().queryItemValue(u"access_token"_s, QUrl::FullyDecoded);
    return {};
}

bool ApiServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QPointer<ConnectionGuard> guard = ConnectionGuard::of(socket);
    const bool deferred = dispatch(request, socket);
    if (guard)
        guard->requestAnswered(deferred);
    return true;
}

// Answers the request, or takes its responder to answer later (returns true then).
bool ApiServer::dispatch(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    // The guard refuses oversized bodies before they are read; this catches any other way in.
    const qint64 maxBodyBytes = m_guards->limits.maxBodyBytes;
    if (request.body().size() > maxBodyBytes) {
        HttpReply::sendError(responder, 413, u"payload_too_large"_s,
                             u"The request body is over the limit of %1 bytes"_s.arg(maxBodyBytes));
        return false;
    }
    const Router::Match match = m_router.match(request.method(), request.url().path(QUrl::FullyEncoded));
    if (!match.route) {
        if (match.allowed.isEmpty()) {
            HttpReply::sendError(responder, 404, u"not_found"_s,
                                 u"No route for %1"_s.arg(request.url().path()));
        } else {
            QByteArrayList names;
            for (const auto method : match.allowed)
                names.append(Router::methodName(method));
            HttpReply::sendError(responder, 405, u"method_not_allowed"_s,
                                 u"%1 is not allowed here; use %2"_s.arg(
                                     QString::fromLatin1(Router::methodName(request.method())),
                                     QString::fromLatin1(names.join(", "))),
                                 {{"Allow", names.join(", ")}});
        }
        return false;
    }

    RequestContext context{request, std::move(responder), match.params, {}};
    if (!(match.route->flags & Router::Public)) {
        const QString token = bearerToken(request, match.route->flags & Router::QueryToken);
        const auto principal = token.isEmpty() ? std::nullopt : m_auth.authenticate(token);
        if (!principal) {
            HttpReply::sendError(context.responder, 401, u"unauthorized"_s,
                                 token.isEmpty() ? u"Send Authorization: Bearer <token>"_s
                                                 : u"The token is unknown or revoked"_s,
                                 {{"WWW-Authenticate", "Bearer"}});
            return false;
        }
        context.principal = *principal;
    }
    match.route->handler(context);
    return context.deferred;
}

void ApiServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    HttpReply::sendError(responder, 404, u"not_found"_s, u"No route for %1"_s.arg(request.url().path()));
}
