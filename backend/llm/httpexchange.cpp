#include "httpexchange.h"

#include "core/logging.h"
#include "directhttp.h"

#include <QNetworkRequest>
#include <QTcpSocket>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <unistd.h>

#ifdef Q_OS_LINUX
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype MaxHead = 64 * 1024;

// Whether a comma-separated header value lists `token`, case-insensitively.
bool hasToken(const QByteArray &value, const char *token)
{
    const QList<QByteArray> parts = value.split(',');
    for (const QByteArray &part : parts) {
        if (qstricmp(part.trimmed().constData(), token) == 0)
            return true;
    }
    return false;
}

// Linux acknowledges a small segment at once when it is read, unless the connection is in
// delayed-ACK ("pingpong") mode. A token stream is nothing but small segments, so without this each
// token costs a pure ACK through the whole TCP/IP stack: 13 % of the relay's CPU at 500 paced
// streams. Delayed ACKs are what RFC 1122 asks of a receiver, and a second small segment is still
// acknowledged at once. The mode ends when the delayed-ACK timer (40 ms) fires.
void delayAcks(qintptr descriptor)
{
#if defined(Q_OS_LINUX) && defined(TCP_QUICKACK)
    const int off = 0;
    ::setsockopt(int(descriptor), IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off);
#else
    Q_UNUSED(descriptor);
#endif
}

// A sender with Nagle's algorithm on holds its next small segment until the last one is
// acknowledged: with delayed ACKs its tokens would come in batches when the timer fires (40 ms).
// Several body pieces in one read after that long a pause are its mark; twice, as a sender without
// Nagle's algorithm may write two events at once after it thought (the role and the first token).
constexpr qint64 NagleHoldMs = 30;
constexpr int NagleSigns = 2;

qint64 monotonicMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

QByteArray HttpExchange::Head::value(const char *name) const
{
    QByteArray joined;
    for (const auto &header : headers) {
        if (qstricmp(header.first.constData(), name) != 0)
            continue;
        if (!joined.isEmpty())
            joined += ", ";
        joined += header.second;
    }
    return joined;
}

HttpExchange::HttpExchange(QNetworkAccessManager::Operation op, const QNetworkRequest &request,
                           const QByteArray &body, DirectNetworkAccessManager *manager, Receiver *receiver,
                           QObject *parent)
    : QObject(parent), m_manager(manager), m_receiver(receiver), m_url(request.url())
{
    QByteArray target = m_url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (m_url.hasQuery())
        target += '?' + m_url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray host = m_url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (m_url.port() > 0 && m_url.port() != 80)
        host += ':' + QByteArray::number(m_url.port());

    const bool post = op == QNetworkAccessManager::PostOperation;
    m_request.reserve(512 + body.size());
    m_request += (post ? "POST " : "GET ") + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    bool userAgent = false;
    const QList<QByteArray> names = request.rawHeaderList();
    for (const QByteArray &name : names) {
        const QByteArray lower = name.toLower();
        if (lower == "host" || lower == "content-length" || lower == "connection" ||
            lower == "transfer-encoding")
            continue;
        userAgent |= lower == "user-agent";
        m_request += name + ": " + request.rawHeader(name) + "\r\n";
    }
    if (!userAgent)
        m_request += "User-Agent: Mozilla/5.0\r\n"; // what QNetworkAccessManager sends
    if (post)
        m_request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    m_request += "\r\n"; // no Connection header: HTTP/1.1 keeps the connection by default
    m_request += body;

    m_key = DirectNetworkAccessManager::hostKey(m_url);
    if (manager)
        manager->m_running.insert(this);
    if (QTcpSocket *socket = manager ? manager->takeIdle(m_key) : nullptr) {
        m_reused = true;
        attach(socket);
        // Written here, not on the next event-loop turn: the upstream starts on it at once.
        if (socket->write(m_request) < 0)
            retryOnFreshConnection();
        else
            readDirectly(true);
        return;
    }
    connectFresh();
}

HttpExchange::~HttpExchange()
{
    if (m_manager && !m_done) // a finished exchange is no longer listed (and may die after the list)
        m_manager->m_running.remove(this);
    closeSocket();
}

void HttpExchange::attach(QTcpSocket *socket)
{
    m_socket = socket;
    socket->setParent(this);
    connect(socket, &QTcpSocket::connected, this, &HttpExchange::onConnected);
    connect(socket, &QTcpSocket::readyRead, this, &HttpExchange::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, &HttpExchange::onDisconnected);
    connect(socket, &QTcpSocket::errorOccurred, this, &HttpExchange::onSocketError);
}

void HttpExchange::connectFresh()
{
    auto *socket = new QTcpSocket(this);
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    attach(socket);
    // Unbuffered: each read is one recv() into our buffer, without Qt's FIONREAD ioctl and copy.
    socket->connectToHost(m_url.host(), quint16(m_url.port(80)),
                          QIODevice::ReadWrite | QIODevice::Unbuffered);
}

bool HttpExchange::retryOnFreshConnection()
{
    // A kept-alive connection that closed (or failed) before a byte of the answer: the server's
    // idle timeout fired as our request went out, so it never saw it. Once, on a new connection,
    // as browsers and Go's net/http do. Never after an answer began: that request did reach it.
    if (!m_reused || m_received || m_done)
        return false;
    qCDebug(lcLlm) << "kept-alive connection to" << m_key
                   << "closed before an answer; sending again on a new one";
    m_reused = false;
    closeSocket();
    m_in.clear();
    m_peerClosed = false;
    m_lastReadMs = 0;
    connectFresh();
    return true;
}

void HttpExchange::abort()
{
    if (m_done)
        return;
    closeSocket(); // the upstream sees the connection close and stops generating
    fail(QNetworkReply::OperationCanceledError, u"Operation canceled"_s);
}

void HttpExchange::cancel()
{
    m_receiver = nullptr;
    abort();
}

void HttpExchange::onConnected()
{
    m_socket->write(m_request);
    m_request = QByteArray(); // a fresh connection is never retried
    readDirectly(true);
}

void HttpExchange::onReadyRead()
{
    if (!m_done && m_socket)
        readSocket(-1);
}

void HttpExchange::socketReadable()
{
    if (!m_done && m_socket)
        readSocket(m_directFd);
    else
        readDirectly(false);
}

void HttpExchange::readDirectly(bool on)
{
    if (!on) {
        if (m_direct)
            m_direct->unsetReader(m_directFd, this);
        m_direct = nullptr;
        m_directFd = -1;
        return;
    }
    EpollEventDispatcher *dispatcher = EpollEventDispatcher::current();
    const int fd = m_socket ? int(m_socket->socketDescriptor()) : -1;
    if (!m_direct && dispatcher && fd >= 0 && dispatcher->setReader(fd, this)) {
        m_direct = dispatcher;
        m_directFd = fd;
    }
}

void HttpExchange::readSocket(int directFd)
{
    char chunk[16384];
    bool closed = false;
    int error = 0; // of a direct read that failed other than by the peer's close
    const qint64 now = monotonicMs();
    const bool firstRead = m_lastReadMs == 0;
    const bool afterPause = !firstRead && now - m_lastReadMs >= NagleHoldMs;
    m_lastReadMs = now;
    // Only a pause as long as the delayed-ACK timer can have ended the mode.
    if (m_delayAcks && (firstRead || afterPause))
        delayAcks(m_socket->socketDescriptor());
    for (;;) {
        qint64 n;
        if (directFd >= 0) {
            n = ::read(directFd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            closed = n <= 0;
            if (n < 0 && errno != ECONNRESET)
                error = errno;
        } else {
            n = m_socket->read(chunk, sizeof chunk);
            // An unbuffered socket reports the peer's close as a failed read, without disconnected().
            closed = n < 0;
            if (closed && m_socket->error() != QAbstractSocket::RemoteHostClosedError)
                error = -1;
        }
        if (n > 0)
            m_in.append(chunk, qsizetype(n));
        if (n < qint64(sizeof chunk))
            break;
    }
    if (!m_received && !m_in.isEmpty()) {
        m_received = true;
        m_request = QByteArray();
    }
    m_peerClosed |= closed; // set before decodeBody(): a closed connection is never pooled
    if (!m_in.isEmpty() && (m_body != Body::Head || parseHead())) {
        // The timer that let a Nagle sender's batch go also ended the delayed-ACK mode; on its
        // second sign it is not set again, and every segment is acknowledged as it is read.
        if (decodeBody() && afterPause && ++m_nagleSigns == NagleSigns)
            m_delayAcks = false;
    }
    if (!closed || m_done)
        return;
    if (error > 0) {
        if (!retryOnFreshConnection())
            fail(QNetworkReply::UnknownNetworkError, QString::fromLocal8Bit(strerror(error)));
    } else if (error < 0) {
        onSocketError();
    } else {
        onDisconnected();
    }
}

bool HttpExchange::parseHead()
{
    for (;;) {
        const qsizetype end = m_in.indexOf("\r\n\r\n");
        if (end < 0) {
            if (m_in.size() > MaxHead)
                fail(QNetworkReply::ProtocolFailure, u"The response headers are too large"_s);
            return false;
        }
        const QList<QByteArray> lines = m_in.left(end).split('\n');
        m_in.remove(0, end + 4);
        const QByteArray statusLine = lines.first().trimmed();
        const qsizetype space = statusLine.indexOf(' ');
        bool ok = false;
        const int status = space > 0 ? statusLine.mid(space + 1, 3).toInt(&ok) : 0;
        if (!statusLine.startsWith("HTTP/1.") || !ok || status < 100) {
            fail(QNetworkReply::ProtocolFailure, u"The server did not answer with HTTP/1.x"_s);
            return false;
        }
        if (status < 200)
            continue; // 100 Continue and friends: the real answer follows
        Head head;
        head.status = status;
        head.reason = statusLine.mid(space + 5).trimmed();
        // HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 is not worth reusing.
        m_keepAlive = statusLine.startsWith("HTTP/1.1");
        bool chunked = false;
        qint64 length = -1;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray &line = lines.at(i);
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = line.left(colon).trimmed();
            const QByteArray value = line.mid(colon + 1).trimmed();
            head.headers.append({name, value});
            if (qstricmp(name.constData(), "transfer-encoding") == 0)
                chunked = value.toLower().contains("chunked");
            else if (qstricmp(name.constData(), "content-length") == 0)
                length = value.toLongLong();
            else if (qstricmp(name.constData(), "connection") == 0 && hasToken(value, "close"))
                m_keepAlive = false;
        }
        if (status == 204 || status == 304) {
            m_body = Body::Done;
        } else if (chunked) {
            m_body = Body::Chunked;
        } else if (length >= 0) {
            m_body = length == 0 ? Body::Done : Body::Length;
            m_remaining = length;
        } else {
            m_body = Body::UntilClose;
        }
        if (m_receiver)
            m_receiver->exchangeHead(head);
        if (m_done)
            return false;
        if (m_body == Body::Done) {
            complete();
            return false;
        }
        return true;
    }
}

bool HttpExchange::decodeBody()
{
    // One read's body goes to the receiver in one call: as a view of m_in when it is one piece (a
    // paced stream's chunk), gathered when it held several.
    QByteArrayView body;
    bool gathered = false;
    const auto take = [&](qsizetype at, qsizetype size) {
        if (size <= 0)
            return;
        if (body.isNull()) {
            body = QByteArrayView(m_in.constData() + at, size);
            return;
        }
        if (!gathered) {
            m_gather.append(body.data(), body.size());
            gathered = true;
        }
        m_gather.append(m_in.constData() + at, size);
    };
    qsizetype pos = 0;
    bool ended = false;
    QString bad; // a framing error, reported after the body before it
    switch (m_body) {
    case Body::UntilClose:
        take(0, m_in.size());
        pos = m_in.size();
        break;
    case Body::Length: {
        const qsizetype n = qsizetype(qMin<qint64>(m_remaining, m_in.size()));
        take(0, n);
        pos = n;
        m_remaining -= n;
        ended = m_remaining == 0;
        break;
    }
    case Body::Chunked:
    case Body::Trailers:
        while (pos < m_in.size() && !ended && bad.isEmpty()) {
            if (m_body == Body::Trailers) {
                // Read up to the empty line that ends them, so the connection is at the next
                // response; their content is not needed.
                const qsizetype eol = m_in.indexOf("\r\n", pos);
                if (eol < 0) {
                    if (m_in.size() - pos > MaxHead)
                        bad = u"The response trailers are too large"_s;
                    break;
                }
                ended = eol == pos;
                pos = eol + 2;
            } else if (m_chunkDataEnd) {
                if (m_in.size() - pos < 2)
                    break;
                pos += 2;
                m_chunkDataEnd = false;
            } else if (m_remaining > 0) {
                const qsizetype n = qsizetype(qMin<qint64>(m_remaining, m_in.size() - pos));
                take(pos, n);
                pos += n;
                m_remaining -= n;
                m_chunkDataEnd = m_remaining == 0;
            } else {
                const qsizetype eol = m_in.indexOf("\r\n", pos);
                if (eol < 0) {
                    if (m_in.size() - pos > 1024)
                        bad = u"Bad chunk size line"_s;
                    break;
                }
                QByteArrayView sizeText(m_in.constData() + pos, eol - pos);
                const qsizetype semicolon = sizeText.indexOf(';');
                if (semicolon >= 0)
                    sizeText.truncate(semicolon);
                bool ok = false;
                const qint64 size = sizeText.trimmed().toLongLong(&ok, 16);
                if (!ok || size < 0) {
                    bad = u"Bad chunk size"_s;
                    break;
                }
                pos = eol + 2;
                if (size == 0)
                    m_body = Body::Trailers;
                else
                    m_remaining = size;
            }
        }
        break;
    case Body::Head:
    case Body::Done:
        break;
    }
    if (!body.isEmpty() && m_receiver)
        m_receiver->exchangeBody(gathered ? QByteArrayView(m_gather) : body);
    m_gather.truncate(0); // keeps the capacity
    if (m_done)
        return gathered;
    if (!bad.isEmpty()) {
        fail(QNetworkReply::ProtocolFailure, bad);
        return gathered;
    }
    if (pos >= m_in.size())
        m_in.truncate(0);
    else if (pos > 0)
        m_in.remove(0, pos);
    if (ended)
        complete();
    return gathered;
}

void HttpExchange::onDisconnected()
{
    if (m_done)
        return;
    m_peerClosed = true;
    if (retryOnFreshConnection())
        return;
    // Trailers: the body itself was complete, only the (unused) trailers were cut.
    if (m_body == Body::UntilClose || m_body == Body::Trailers)
        complete();
    else
        fail(QNetworkReply::RemoteHostClosedError, u"Connection closed"_s);
}

void HttpExchange::onSocketError()
{
    if (m_done || !m_socket)
        return;
    QTcpSocket *socket = m_socket;
    if (socket->error() == QAbstractSocket::RemoteHostClosedError) {
        onReadyRead();                     // what the kernel still holds, then the close
        if (!m_done && m_socket == socket) // not retried meanwhile
            onDisconnected();
        return;
    }
    if (retryOnFreshConnection())
        return;
    switch (socket->error()) {
    case QAbstractSocket::ConnectionRefusedError:
        fail(QNetworkReply::ConnectionRefusedError, u"Connection refused"_s);
        return;
    case QAbstractSocket::HostNotFoundError:
        fail(QNetworkReply::HostNotFoundError, u"Host %1 not found"_s.arg(m_url.host()));
        return;
    case QAbstractSocket::SocketTimeoutError:
        fail(QNetworkReply::TimeoutError, socket->errorString());
        return;
    default:
        fail(QNetworkReply::UnknownNetworkError, socket->errorString());
    }
}

void HttpExchange::fail(QNetworkReply::NetworkError code, const QString &message)
{
    if (m_done)
        return;
    m_done = true;
    if (m_manager)
        m_manager->m_running.remove(this);
    closeSocket();
    if (m_receiver)
        m_receiver->exchangeEnd(code, message);
}

void HttpExchange::complete()
{
    if (m_done)
        return;
    m_done = true;
    if (m_manager)
        m_manager->m_running.remove(this);
    // Reusable only when the framing ended the body and nothing else came: an HTTP/1.1 answer
    // without Connection: close, no byte past it, the connection open and our request all sent.
    const bool reusable = m_body != Body::UntilClose && m_keepAlive && !m_peerClosed && m_in.isEmpty() &&
                          m_socket && m_socket->state() == QAbstractSocket::ConnectedState &&
                          m_socket->bytesToWrite() == 0 && m_manager;
    m_body = Body::Done;
    // Qt's notifier watches it again, in the pool or until it goes with this exchange: a reader
    // that no longer reads would have the level-triggered loop report the socket on every pass.
    readDirectly(false);
    if (reusable) {
        // Back to the pool before the receiver hears of the end, so a request it makes then
        // already finds it.
        QTcpSocket *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        m_manager->releaseIdle(m_key, socket);
    }
    // Otherwise the socket goes with this exchange; a server that said Connection: close closes
    // first, so the TIME_WAIT stays on its side.
    if (m_receiver)
        m_receiver->exchangeEnd(QNetworkReply::NoError, QString());
}

void HttpExchange::closeSocket()
{
    if (!m_socket)
        return;
    readDirectly(false);
    QTcpSocket *socket = m_socket;
    m_socket = nullptr;
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}
