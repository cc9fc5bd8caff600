#include "requestcontext.h"

#include "chatrequest.h"

#include <QJsonDocument>
#include <QTcpSocket>

using namespace Qt::StringLiterals;

namespace HttpReply {

QJsonObject errorBody(const QString &code, const QString &message)
{
    return {{u"error"_s, QJsonObject{{u"code"_s, code}, {u"message"_s, message}}}};
}

void sendJson(QHttpServerResponder &responder, const QJsonObject &body, int status,
              const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    // Written piece by piece: 6.4's HeaderList is an initializer_list and cannot take extra headers.
    const QByteArray json = QJsonDocument(body).toJson(QJsonDocument::Compact);
    responder.writeStatusLine(static_cast<QHttpServerResponder::StatusCode>(status));
    responder.writeHeader("Content-Type", "application/json; charset=utf-8");
    responder.writeHeader("Content-Length", QByteArray::number(json.size()));
    responder.writeHeader("Cache-Control", "no-store");
    for (const auto &header : extraHeaders)
        responder.writeHeader(header.first, header.second);
    responder.writeBody(json);
}

void sendError(QHttpServerResponder &responder, int status, const QString &code, const QString &message,
               const QList<QPair<QByteArray, QByteArray>> &extraHeaders, ErrorBody shape)
{
    sendJson(responder, shape ? shape(status, code, message) : errorBody(code, message), status,
             extraHeaders);
}

void sendNoContent(QHttpServerResponder &responder, const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    responder.writeStatusLine(QHttpServerResponder::StatusCode::NoContent);
    for (const auto &header : extraHeaders)
        responder.writeHeader(header.first, header.second);
    responder.writeBody(QByteArray());
}

void sendJsonAndClose(QHttpServerResponder &responder, const QJsonObject &body, int status,
                      const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    QList<QPair<QByteArray, QByteArray>> headers = extraHeaders;
    headers.append(qMakePair(QByteArray("Connection"), QByteArray("close")));
    sendJson(responder, body, status, headers);
    if (QTcpSocket *socket = responder.socket())
        socket->disconnectFromHost(); // after the pending bytes are written
}

} // namespace HttpReply

void RequestContext::sendJson(const QJsonObject &body, int status)
{
    HttpReply::sendJson(responder, body, status, extraHeaders);
}

void RequestContext::sendError(int status, const QString &code, const QString &message)
{
    HttpReply::sendError(responder, status, code, message, extraHeaders);
}

void RequestContext::sendBytes(const QByteArray &contentType, const QByteArray &body,
                               const QList<QPair<QByteArray, QByteArray>> &headers)
{
    responder.writeStatusLine(QHttpServerResponder::StatusCode::Ok);
    responder.writeHeader("Content-Type", contentType);
    responder.writeHeader("Content-Length", QByteArray::number(body.size()));
    for (const auto &header : headers + extraHeaders)
        responder.writeHeader(header.first, header.second);
    responder.writeBody(body);
}

void RequestContext::sendNoContent()
{
    HttpReply::sendNoContent(responder, extraHeaders);
}

std::optional<QJsonObject> RequestContext::jsonBody()
{
    QJsonObject object;
    if (const ApiError error = ChatRequestDecoder::parseObject(request.body(), &object); error.isError()) {
        sendError(error.status, error.code, error.message);
        return std::nullopt;
    }
    return object;
}

QHttpServerResponder RequestContext::takeResponder()
{
    deferred = true;
    return std::move(responder);
}
