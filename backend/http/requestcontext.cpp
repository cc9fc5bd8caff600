#include "requestcontext.h"

#include <QJsonDocument>
#include <QJsonParseError>

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
               const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    sendJson(responder, errorBody(code, message), status, extraHeaders);
}

} // namespace HttpReply

void RequestContext::sendJson(const QJsonObject &body, int status)
{
    HttpReply::sendJson(responder, body, status);
}

void RequestContext::sendError(int status, const QString &code, const QString &message)
{
    HttpReply::sendError(responder, status, code, message);
}

void RequestContext::sendNoContent()
{
    responder.write(QHttpServerResponder::StatusCode::NoContent);
}

std::optional<QJsonObject> RequestContext::jsonBody()
{
    const QByteArray body = request.body();
    if (body.trimmed().isEmpty()) {
        sendError(400, u"invalid_json"_s, u"The request needs a JSON object body"_s);
        return std::nullopt;
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        sendError(
            400, u"invalid_json"_s,
            u"The body is not valid JSON: %1 at offset %2"_s.arg(error.errorString()).arg(error.offset));
        return std::nullopt;
    }
    if (!document.isObject()) {
        sendError(400, u"invalid_json"_s, u"The body must be a JSON object"_s);
        return std::nullopt;
    }
    return document.object();
}
