#pragma once

#include "core/outputbatch.h"

#include <QBasicTimer>
#include <QByteArrayView>
#include <QHttpServerResponder>

#include <QObject>
#include <QPointer>
#include <initializer_list>
#include <optional>

class QTcpSocket;
class QTimerEvent;

// A text/event-stream response written event by event on a responder moved out of its route
// handler. Writing to a socket that has gone crashes Qt 6.4, so every write checks the socket and
// `clientGone` fires once when it disconnects. The connection closes when the stream ends, so the
// server never reads a second keep-alive request from a socket that is still streaming.
// The response opens with `retry: 3000` and keep-alives are a single comment line: neither is
// followed by a blank line, which some clients (fetch-event-source) would deliver as an empty
// message. The body is chunked (HTTP/1.1), so a client can tell a connection cut mid-reply from
// the end of the stream and resume; HTTP/1.0 gets the body delimited by the close alone.
// Inside an OutputBatch the events wait and go out together when it closes.
class SseStream : public QObject, private OutputBatch::Sink
{
    Q_OBJECT
public:
    static constexpr int retryMs = 3000;

    // `extraHeaders`: whole header lines ("Name: value\r\n"), e.g. CORS.
    SseStream(QHttpServerResponder &&responder, int keepAliveMs, const QByteArray &extraHeaders = {},
              bool chunked = true, QObject *parent = nullptr);
    // On a connection no QHttpServer knows (handed over from another loop); the socket's owner
    // deletes it.
    SseStream(QTcpSocket *socket, int keepAliveMs, const QByteArray &extraHeaders, bool chunked,
              QObject *parent = nullptr);
    ~SseStream() override;

    bool isOpen() const;
    void send(const QByteArray &event);
    // Flushes and closes the connection; deletes itself afterwards.
    void finish();

Q_SIGNALS:
    void clientGone();

private:
    void open(int keepAliveMs, const QByteArray &extraHeaders);
    void onDisconnected();
    void write(const QByteArray &bytes);    // one chunk of the body
    void writeRaw(const QByteArray &bytes); // bytes on the socket as they are
    // On the socket in this order (at most three parts); held back while an OutputBatch is open.
    void writeParts(std::initializer_list<QByteArrayView> parts);
    // Straight to the kernel when it can.
    void sendNow(std::initializer_list<QByteArrayView> parts);
    void flushBatch() override;
    void timerEvent(QTimerEvent *event) override;

    std::optional<QHttpServerResponder> m_responder; // kept with its socket; none when handed over
    QPointer<QTcpSocket> m_socket;
    QByteArray m_pending;    // written inside the open batch
    QBasicTimer m_keepAlive; // no QObject of its own: one of these per stream
    bool m_chunked;
    bool m_finished = false;
    // The socket's state is ConnectedState. Relies on our stateChanged connection: nothing may
    // disconnect() all of the socket's signals while a stream writes to it (QHttpServer stops
    // reading it before, see ConnectionGuard), or m_fd could be written after Qt closed it.
    bool m_connected = false;
    bool m_queuedInQt = false; // bytes may wait in the socket's own buffer
    int m_fd = -1;
};
