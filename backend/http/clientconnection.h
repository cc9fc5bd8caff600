#pragma once

#include "core/apierror.h"

#include <QByteArray>
#include <QHttpServerResponder>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QPointer>
#include <QTcpSocket>

#include <memory>

class SseStream;
struct RequestContext;

// Where a chat answer goes once its route handler returned: the request's own connection, on the
// loop that read it, or that connection handed to another loop (ChatRoutes::handOff), where no
// QHttpServer knows it. Every answer through it is the last on the connection: it closes it.
class ClientConnection
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    // The request's responder, taken.
    static ClientConnection take(RequestContext &context);
    // For an answer that stays open (a stream): the request's connection moved off QHttpServer onto
    // a socket of `owner`, as a hand-off to this loop. Qt's server socket keeps a 16 KiB read block
    // for its life, most of what an open stream would cost; a connection with an earlier answer
    // still in Qt's buffer keeps its responder instead.
    static ClientConnection takeOver(RequestContext &context, QObject *owner);
    // Detaches `socket`'s connection for another QTcpSocket (ChatRoutes::handOff): a copy of its
    // descriptor, or -1 (out of descriptors, `socket` untouched). The socket is closed; whatever
    // waits in its write buffer is lost, so callers flush it first.
    static int release(QTcpSocket *socket);
    // A connection whose request another loop read: `socket` (made on this thread from the
    // descriptor it handed over) is then owned here and deleted once it disconnects.
    static ClientConnection adopt(QTcpSocket *socket, const Headers &headers, bool http10);

    QTcpSocket *socket() const { return m_socket; }
    bool isConnected() const;

    // The answer: an event stream (owned by the caller, see SseStream), a JSON body, an error in
    // the reference's shape, or 204.
    SseStream *openStream(int keepAliveMs) const;
    void sendJson(const QJsonObject &body, int status = 200) const;
    void sendError(const ApiError &error) const;
    void sendNoContent() const;

private:
    // Closes `socket` while a copy of its descriptor keeps the connection.
    static void detach(QTcpSocket *socket);
    void send(int status, const QByteArray &contentType, const QByteArray &body) const;

    std::shared_ptr<QHttpServerResponder> m_responder; // none on an adopted socket
    QPointer<QTcpSocket> m_socket;
    Headers m_headers; // CORS, on every answer
    bool m_http10 = false;
};
