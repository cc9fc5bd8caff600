#include "ssestream.h"

#include <QTcpSocket>
#include <QTimerEvent>

#include <charconv>

#include <sys/socket.h>
#include <sys/uio.h>

SseStream::SseStream(QHttpServerResponder &&responder, int keepAliveMs, const QByteArray &extraHeaders,
                     bool chunked, QObject *parent)
    : QObject(parent), m_responder(std::move(responder)), m_socket(m_responder->socket()), m_chunked(chunked)
{
    open(keepAliveMs, extraHeaders);
}

SseStream::SseStream(QTcpSocket *socket, int keepAliveMs, const QByteArray &extraHeaders, bool chunked,
                     QObject *parent)
    : QObject(parent), m_socket(socket), m_chunked(chunked)
{
    open(keepAliveMs, extraHeaders);
}

void SseStream::open(int keepAliveMs, const QByteArray &extraHeaders)
{
    if (!m_socket) {
        m_finished = true;
        return;
    }
    connect(m_socket, &QTcpSocket::disconnected, this, &SseStream::onDisconnected);
    connect(m_socket, &QObject::destroyed, this, &SseStream::onDisconnected);
    // Kept here, so that an event touches none of the socket's objects (cold, one stream in many):
    // Qt tells every change of state, and closes the descriptor only on the way out of Connected.
    m_connected = m_socket->state() == QAbstractSocket::ConnectedState;
    m_fd = int(m_socket->socketDescriptor());
    m_queuedInQt = m_socket->bytesToWrite() > 0; // the end of an earlier answer goes first
    connect(m_socket, &QAbstractSocket::stateChanged, this, [this](QAbstractSocket::SocketState state) {
        m_connected = state == QAbstractSocket::ConnectedState;
    });
    // Every token is its own small write: without this, Nagle holds one back until the client
    // acknowledged the previous one.
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);

    // The same bytes QHttpServerResponder's writeStatusLine/writeHeader/writeBody produce, in one
    // write: through Qt the status line would leave a 32 KiB write-buffer block allocated on the
    // socket for the life of the stream (most of the memory a stream costs). Headers go out now, so
    // a client sees the stream open before the first token.
    const QByteArray retry = "retry: " + QByteArray::number(retryMs) + '\n';
    QByteArray head = QByteArrayLiteral("HTTP/1.1 200 OK\r\n"
                                        "Content-Type: text/event-stream; charset=utf-8\r\n"
                                        "Cache-Control: no-cache\r\n"
                                        "X-Accel-Buffering: no\r\n"
                                        "Connection: close\r\n");
    if (m_chunked)
        head += "Transfer-Encoding: chunked\r\n";
    head += extraHeaders + "\r\n";
    if (m_chunked)
        head += QByteArray::number(retry.size(), 16) + "\r\n" + retry + "\r\n";
    else
        head += retry;
    writeRaw(head);

    if (keepAliveMs > 0)
        m_keepAlive.start(keepAliveMs, this);
}

SseStream::~SseStream() = default;

bool SseStream::isOpen() const
{
    return !m_finished && m_connected;
}

void SseStream::send(const QByteArray &event)
{
    if (isOpen())
        write(event);
}

void SseStream::write(const QByteArray &bytes)
{
    if (!m_chunked || bytes.isEmpty())
        return writeParts({bytes});
    // The chunk's size line and end around the event, without copying the event.
    char size[20];
    const auto [end, error] = std::to_chars(size, size + sizeof size - 2, bytes.size(), 16);
    Q_UNUSED(error);
    end[0] = '\r';
    end[1] = '\n';
    writeParts({QByteArrayView(size, end + 2 - size), bytes, QByteArrayView("\r\n", 2)});
}

void SseStream::writeRaw(const QByteArray &bytes)
{
    writeParts({bytes});
}

void SseStream::writeParts(std::initializer_list<QByteArrayView> parts)
{
    if (OutputBatch::isOpen()) {
        for (const QByteArrayView part : parts)
            m_pending.append(part);
        OutputBatch::enlist(this);
        return;
    }
    sendNow(parts);
}

void SseStream::flushBatch()
{
    if (m_pending.isEmpty())
        return;
    // Taken out first: sending may end the stream, and what that writes queues anew.
    QByteArray bytes;
    bytes.swap(m_pending);
    if (m_connected)
        sendNow({bytes});
    // The buffer is kept for the next batch unless a burst made it large.
    if (m_pending.isEmpty() && bytes.capacity() <= 16 * 1024) {
        bytes.resize(0);
        m_pending.swap(bytes);
    }
}

void SseStream::sendNow(std::initializer_list<QByteArrayView> parts)
{
    // Nothing queued in Qt's buffer: hand the bytes straight to the kernel, in one system call.
    // Through QAbstractSocket every event would register a write notifier and unregister it again
    // on flush, each a search through all the sockets in the glib event dispatcher: most of the CPU
    // per chunk at a thousand streams. What the kernel does not take now (a full send buffer) goes
    // through Qt as before.
    qsizetype sent = 0;
    if (m_queuedInQt)
        m_queuedInQt = m_socket->bytesToWrite() > 0;
    if (!m_queuedInQt) {
        iovec iov[3];
        size_t count = 0;
        qsizetype total = 0;
        for (const QByteArrayView part : parts) {
            iov[count].iov_base = const_cast<char *>(part.data());
            iov[count++].iov_len = size_t(part.size());
            total += part.size();
        }
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = count;
        const ssize_t n = ::sendmsg(m_fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == total)
            return;
        sent = n > 0 ? n : 0; // an error other than EAGAIN shows again, and is handled, in Qt's write
    }
    for (const QByteArrayView part : parts) {
        const qsizetype skip = qMin(sent, part.size());
        sent -= skip;
        if (skip < part.size())
            m_socket->write(part.data() + skip, part.size() - skip);
    }
    m_queuedInQt = true;
    m_socket->flush();
}

void SseStream::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_keepAlive.timerId())
        return QObject::timerEvent(event);
    send(QByteArrayLiteral(": keep-alive\n"));
}

void SseStream::finish()
{
    m_keepAlive.stop();
    if (!m_finished) {
        if (isOpen() && m_chunked)
            writeRaw(QByteArrayLiteral("0\r\n\r\n"));
        // Everything written goes to the socket before it is told to close.
        OutputBatch::withdraw(this);
        flushBatch();
        m_finished = true;
        if (m_socket)
            m_socket->disconnectFromHost(); // after the pending bytes are written
    }
    deleteLater();
}

void SseStream::onDisconnected()
{
    m_connected = false; // also when the socket is destroyed without a word
    if (m_finished)
        return;
    m_finished = true;
    OutputBatch::withdraw(this);
    m_pending = QByteArray();
    m_keepAlive.stop();
    Q_EMIT clientGone();
}
