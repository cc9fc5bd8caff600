#include "apiserver.h"

#include "core/logging.h"
#include "requestcontext.h"
#include "storage/authstore.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

ApiServer::ApiServer(AuthStore &auth, QObject *parent) : QAbstractHttpServer(parent), m_auth(auth) {}

quint16 ApiServer::listenOn(const QHostAddress &address, quint16 port)
{
    auto *server = new QTcpServer(this);
    server->setListenBacklogSize(4096);
    if (!server->listen(address, port)) {
        qCCritical(lcHttp) << "Cannot listen on" << address.toString() << port << server->errorString();
        delete server;
        return 0;
    }
    bind(server);
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
    QHttpServerResponder responder = makeResponder(request, socket);
    if (request.body().size() > m_maxBodyBytes) {
        HttpReply::sendError(responder, 413, u"payload_too_large"_s,
                             u"The request body is over the limit of %1 bytes"_s.arg(m_maxBodyBytes));
        return true;
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
        return true;
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
            return true;
        }
        context.principal = *principal;
    }
    match.route->handler(context);
    return true;
}

void ApiServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    HttpReply::sendError(responder, 404, u"not_found"_s, u"No route for %1"_s.arg(request.url().path()));
}
