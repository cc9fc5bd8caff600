#include "apiserver.h"

#include "core/logging.h"
#include "requestcontext.h"
#include "storage/authstore.h"
#include "streamtickets.h"

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

ApiServer::ApiServer(AuthStore &auth, QObject *parent) : QAbstractHttpServer(parent), m_auth(auth)
{
    m_guards->credentialsValid = [&auth](const QByteArray &header) {
        const QString token = bearerOf(header);
        return !token.isEmpty() && auth.authenticate(token).has_value();
    };
}

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

void ApiServer::setCors(const Cors &cors)
{
    m_cors = cors;
    m_guards->cors = cors;
}

QString ApiServer::bearerOf(const QByteArray &authorization)
{
    const QByteArray header = authorization.trimmed();
    if (header.size() > 7 && header.left(7).compare("bearer ", Qt::CaseInsensitive) == 0)
        return QString::fromLatin1(header.mid(7).trimmed());
    return {};
}

QString ApiServer::bearerToken(const QHttpServerRequest &request, bool allowQuery)
{
    const QString token = bearerOf(request.value("authorization"));
    if (!token.isEmpty())
        return token;
    if (allowQuery)
        return request.query().queryItemValue(u"access_token"_s, QUrl::FullyDecoded);
    return {};
}

std::optional<Principal> ApiServer::authenticate(const QHttpServerRequest &request, bool allowQuery,
                                                 bool *gaveCredentials)
{
    const QString token = bearerToken(request, allowQuery);
    if (!token.isEmpty()) {
        *gaveCredentials = true;
        return m_auth.authenticate(token);
    }
    if (allowQuery && m_tickets) {
        const QString ticket = request.query().queryItemValue(u"ticket"_s, QUrl::FullyDecoded);
        if (!ticket.isEmpty()) {
            *gaveCredentials = true;
            return m_tickets->redeem(ticket);
        }
    }
    *gaveCredentials = false;
    return std::nullopt;
}

void ApiServer::answerOptions(QHttpServerResponder &responder, const QHttpServerRequest &request,
                              const QList<Router::Method> &allowed, const Cors::Headers &corsHeaders)
{
    QByteArrayList names;
    for (const auto method : allowed)
        names.append(Router::methodName(method));
    names.append("OPTIONS");
    Cors::Headers headers{{"Allow", names.join(", ")}};
    const QByteArray origin = request.value("origin");
    if (!origin.isEmpty() && !request.value("access-control-request-method").isEmpty()) {
        if (!m_cors.allows(origin)) {
            HttpReply::sendError(
                responder, 403, u"cors_origin_not_allowed"_s,
                u"Pages from %1 may not call this API (see --cors-origin)"_s.arg(QString::fromUtf8(origin)),
                headers);
            return;
        }
        headers += m_cors.preflightHeaders(origin, request.value("access-control-request-headers"));
    } else {
        headers += corsHeaders;
    }
    HttpReply::sendNoContent(responder, headers);
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
    // Only an error needs to know its dialect: no path work for the requests that go through.
    const auto shape = [this, &request] {
        return errorBodyFor(request);
    };
    const Cors::Headers cors = m_cors.headers(request.value("origin"));
    // The guard refuses oversized bodies before they are read; this catches any other way in.
    const ConnectionLimits &limits = m_guards->limits;
    const qint64 maxBodyBytes = RequestFramer::bodyLimitFor(
        request.url().path(QUrl::FullyEncoded).toUtf8(),
        {limits.maxHeaderBytes, limits.maxBodyBytes, limits.maxImportBodyBytes, limits.maxUploadBodyBytes});
    if (request.body().size() > maxBodyBytes) {
        HttpReply::sendError(responder, 413, u"payload_too_large"_s,
                             u"The request body is over the limit of %1 bytes"_s.arg(maxBodyBytes), cors,
                             shape());
        return false;
    }
    const Router::Match match = m_router.match(request.method(), request.url().path(QUrl::FullyEncoded));
    if (!match.route) {
        if (match.allowed.isEmpty()) {
            HttpReply::sendError(responder, 404, u"not_found"_s,
                                 u"No route for %1"_s.arg(request.url().path()), cors, shape());
        } else if (request.method() == Router::Method::Options) {
            answerOptions(responder, request, match.allowed, cors);
        } else {
            QByteArrayList names;
            for (const auto method : match.allowed)
                names.append(Router::methodName(method));
            HttpReply::sendError(responder, 405, u"method_not_allowed"_s,
                                 u"%1 is not allowed here; use %2"_s.arg(
                                     QString::fromLatin1(Router::methodName(request.method())),
                                     QString::fromLatin1(names.join(", "))),
                                 Cors::Headers{{"Allow", names.join(", ")}} + cors, shape());
        }
        return false;
    }

    RequestContext context{request, std::move(responder), match.params, {}, cors};
    if (const ConnectionGuard *guard = ConnectionGuard::of(socket))
        context.http10 = guard->answeringHttp10();
    if (!(match.route->flags & Router::Public)) {
        bool gaveCredentials = false;
        const auto principal =
            authenticate(request, match.route->flags & Router::QueryToken, &gaveCredentials);
        if (!principal) {
            HttpReply::sendError(context.responder, 401, u"unauthorized"_s,
                                 gaveCredentials
                                     ? u"The token is unknown or revoked, or the ticket used or expired"_s
                                     : u"Send Authorization: Bearer <token>"_s,
                                 Cors::Headers{{"WWW-Authenticate", "Bearer"}} + cors, shape());
            return false;
        }
        context.principal = *principal;
        if ((match.route->flags & Router::AdminOnly) && !principal->admin) {
            HttpReply::sendError(context.responder, 403, u"forbidden"_s,
                                 u"Configuring providers and MCP servers needs an admin token"
                                 " (agentdesk token create ... --admin)"_s,
                                 cors, shape());
            return false;
        }
    }
    match.route->handler(context);
    return context.deferred;
}

void ApiServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    HttpReply::sendError(responder, 404, u"not_found"_s, u"No route for %1"_s.arg(request.url().path()),
                         m_cors.headers(request.value("origin")), errorBodyFor(request));
}
