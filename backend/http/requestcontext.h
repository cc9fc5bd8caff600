#pragma once

#include "storage/entities.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonObject>
#include <QStringList>

#include <optional>

class QTcpSocket;

// Everything a route handler gets: the request (valid only during the call), the captured path
// segments, the authenticated principal, and the responder (move it out to answer later).
struct RequestContext
{
    const QHttpServerRequest &request;
    QHttpServerResponder responder;
    QStringList params;
    Principal principal;

    void sendJson(const QJsonObject &body, int status = 200);
    void sendError(int status, const QString &code, const QString &message);
    void sendNoContent();

    // Parses the body as a JSON object; on failure answers 400 and returns nothing.
    std::optional<QJsonObject> jsonBody();
};

namespace HttpReply {
void sendJson(QHttpServerResponder &responder, const QJsonObject &body, int status = 200,
              const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
void sendError(QHttpServerResponder &responder, int status, const QString &code, const QString &message,
               const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
QJsonObject errorBody(const QString &code, const QString &message);
} // namespace HttpReply
