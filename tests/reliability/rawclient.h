#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QMap>
#include <QTcpSocket>

#include <optional>

// A raw connection for hostile-input tests: sends exactly the bytes it is given, as slowly or as
// fast as told, and reads what comes back (any number of responses) until the server closes.
// Its waits spin the event loop, so an in-process server keeps running.
class RawClient
{
public:
    struct Response
    {
        int status = 0;
        QMap<QByteArray, QByteArray> headers; // lower-case names
        QByteArray body;
        QJsonObject json() const;
        QByteArray code() const; // error.code
    };

    explicit RawClient(quint16 port);
    ~RawClient();

    bool connectToServer(int timeoutMs = 5000);
    void send(const QByteArray &bytes);
    // Keeps writing `bytes` in `piece`-sized writes while the server reads, until all is written,
    // a response arrives or the connection closes; returns the bytes written.
    qint64 sendWhileReading(const QByteArray &bytes, qint64 piece, int timeoutMs = 10000);

    // The next complete response (Content-Length framed), or status 0 on time-out / close.
    Response readResponse(int timeoutMs = 5000);
    // True once the server has closed the connection (false on time-out).
    bool waitClosed(int timeoutMs = 5000);
    bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    QByteArray received() const { return m_all; }
    QTcpSocket &socket() { return m_socket; }

private:
    void pump();
    std::optional<Response> takeResponse();

    quint16 m_port;
    QTcpSocket m_socket;
    QByteArray m_buffer; // not yet parsed
    QByteArray m_all;    // everything received
};

// One request as raw bytes (HTTP/1.1, keep-alive unless `close`).
QByteArray rawHttp(const QByteArray &method, const QByteArray &target, const QByteArray &body = {},
                   const QByteArray &token = {}, bool close = true,
                   const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
