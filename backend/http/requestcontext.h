#pragma once

#include "core/apierror.h"
#include "storage/entities.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonObject>
#include <QStringList>

#include <optional>

class QTcpSocket;

namespace HttpReply {
// How an error is worded: {"error": {"code", "message"}} by default; a surface that speaks
// another API's dialect (the OpenAI-compatible /v1) has its own (ApiServer::setErrorBody).
using ErrorBody = QJsonObject (*)(int status, const QString &code, const QString &message);
} // namespace HttpReply

// Everything a route handler gets: the request (valid only during the call), the captured path
// segments, the authenticated principal, and the responder (move it out to answer later).
struct RequestContext
{
    const QHttpServerRequest &request;
    QHttpServerResponder responder;
    QStringList params;
    Principal principal;
    QList<QPair<QByteArray, QByteArray>> extraHeaders; // on every answer (CORS)
    bool deferred = false; // the responder was taken to answer later (see takeResponder)
    bool http10 = false;   // an HTTP/1.0 request: a streamed answer cannot be chunked

    void sendJson(const QJsonObject &body, int status = 200);
    void sendError(int status, const QString &code, const QString &message);
    void sendError(const ApiError &error) { sendError(error.status, error.code, error.message); }
    void sendNoContent();
    // 200 with a body that is not JSON (a file, an export) and the headers that go with it.
    void sendBytes(const QByteArray &contentType, const QByteArray &body,
                   const QList<QPair<QByteArray, QByteArray>> &headers = {});

    // Parses the body as a JSON object; on failure answers 400 and returns nothing.
    std::optional<QJsonObject> jsonBody();

    // For an answer given after the handler returns (a stream, a reply that waits for the
    // upstream). The connection is then left to that answer: no idle time-out, no further
    // requests read from it, and the answer must close it when done (ApiServer relies on that).
    QHttpServerResponder takeResponder();
};

namespace HttpReply {
void sendJson(QHttpServerResponder &responder, const QJsonObject &body, int status = 200,
              const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
void sendError(QHttpServerResponder &responder, int status, const QString &code, const QString &message,
               const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {}, ErrorBody shape = nullptr);
void sendNoContent(QHttpServerResponder &responder,
                   const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
// The last answer on a connection whose responder was taken (RequestContext::takeResponder):
// says `Connection: close` and closes once the bytes are out.
void sendJsonAndClose(QHttpServerResponder &responder, const QJsonObject &body, int status = 200,
                      const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
QJsonObject errorBody(const QString &code, const QString &message);
} // namespace HttpReply
