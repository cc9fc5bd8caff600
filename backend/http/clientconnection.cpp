#include "clientconnection.h"

#include "cors.h"
#include "requestcontext.h"
#include "ssestream.h"

#include "eventloop/epolleventdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QJsonDocument>
#include <QTcpSocket>

#include <fcntl.h>
#include <unistd.h>

namespace {
QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 410:
        return "Gone";
    case 415:
        return "Unsupported Media Type";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}
} // namespace

ClientConnection ClientConnection::take(RequestContext &context)
{
    ClientConnection connection;
    connection.m_responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    connection.m_socket = connection.m_responder->socket();
    connection.m_headers = context.extraHeaders;
    connection.m_http10 = context.http10;
    return connection;
}

ClientConnection ClientConnection::takeOver(RequestContext &context, QObject *owner)
{
    ClientConnection taken = take(context);
    QTcpSocket *socket = taken.m_socket;
    if (!socket)
        return taken;
    socket->flush();
    if (socket->bytesToWrite() > 0)
        return taken;
    const int copy = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return taken;
    auto *own = new QTcpSocket(owner);
    if (!own->setSocketDescriptor(copy)) { // the request's socket, untouched, answers instead
        ::close(copy);
        delete own;
        return taken;
    }
    detach(socket);
    return adopt(own, taken.m_headers, taken.m_http10);
}

int ClientConnection::release(QTcpSocket *socket)
{
    const int copy = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    if (copy >= 0)
        detach(socket);
    return copy;
}

void ClientConnection::detach(QTcpSocket *socket)
{
    // Out of this loop's epoll set while our number still names the connection: closed, it would
    // stay there as long as the copy is open, and wake this loop for a socket that is not its own.
    if (auto *epoll = qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()))
        epoll->forgetSocket(int(socket->socketDescriptor()));
    socket->abort();
}

ClientConnection ClientConnection::adopt(QTcpSocket *socket, const Headers &headers, bool http10)
{
    ClientConnection connection;
    connection.m_socket = socket;
    connection.m_headers = headers;
    connection.m_http10 = http10;
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // The request was read whole; what a client sends after it is dropped, as ConnectionGuard
    // does on the loop that read it (kept, it would grow the read buffer without bound).
    QObject::connect(socket, &QTcpSocket::readyRead, socket,
                     [socket] { socket->skip(socket->bytesAvailable()); });
    return connection;
}

bool ClientConnection::isConnected() const
{
    return m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
}

SseStream *ClientConnection::openStream(int keepAliveMs) const
{
    const QByteArray lines = Cors::lines(m_headers);
    if (m_responder)
        return new SseStream(std::move(*m_responder), keepAliveMs, lines, !m_http10);
    return new SseStream(m_socket.data(), keepAliveMs, lines, !m_http10);
}

void ClientConnection::sendJson(const QJsonObject &body, int status) const
{
    send(status, "application/json; charset=utf-8", QJsonDocument(body).toJson(QJsonDocument::Compact));
}

void ClientConnection::sendError(const ApiError &error) const
{
    sendJson(HttpReply::errorBody(error.code, error.message), error.status);
}

void ClientConnection::sendNoContent() const
{
    send(204, {}, {});
}

void ClientConnection::send(int status, const QByteArray &contentType, const QByteArray &body) const
{
    if (!isConnected())
        return;
    // As HttpReply writes it through a responder, in one write, and the last answer here.
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    if (!contentType.isEmpty()) {
        head += "Content-Type: " + contentType + "\r\nContent-Length: " + QByteArray::number(body.size()) +
                "\r\nCache-Control: no-store\r\n";
    }
    head += "Connection: close\r\n" + Cors::lines(m_headers) + "\r\n";
    m_socket->write(head + body);
    m_socket->disconnectFromHost(); // once the bytes are out
}
