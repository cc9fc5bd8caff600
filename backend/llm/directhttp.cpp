#include "directhttp.h"

#include "core/logging.h"

#include <QNetworkProxy>
#include <QNetworkProxyFactory>
#include <QTcpSocket>

#include <cstring>

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
} // namespace

DirectNetworkAccessManager::DirectNetworkAccessManager(QObject *parent) : QNetworkAccessManager(parent)
{
    m_clock.start();
    m_idleTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, &DirectNetworkAccessManager::expireIdle);
}

DirectNetworkAccessManager::~DirectNetworkAccessManager()
{
    m_closing = true;
    // Our children die silently in ~QNetworkAccessManager. Replies owned elsewhere (LlmClient's
    // streams own theirs) end now: QNetworkAccessManager handles every reply's finished() on
    // itself, so one finishing after us would crash.
    const QSet<DirectHttpReply *> running = m_running;
    for (DirectHttpReply *reply : running) {
        if (reply->parent() != this)
            reply->abort();
    }
    // Finished or not, our own replies die in ~QObject, when this is only a QNetworkAccessManager
    // any more: they must not look at us as a DirectNetworkAccessManager then.
    for (DirectHttpReply *reply : findChildren<DirectHttpReply *>(Qt::FindDirectChildrenOnly))
        reply->m_manager = nullptr;
    clearIdleConnections();
}

bool DirectNetworkAccessManager::handles(const QUrl &url)
{
    if (url.scheme() != "http"_L1 || url.host().isEmpty())
        return false;
    // A proxy (configured, or http_proxy in the environment) must still be honoured: leave those
    // requests to the stock backend. The answer is what QNetworkAccessManager itself would use.
    const QList<QNetworkProxy> proxies = QNetworkProxyFactory::proxyForQuery(QNetworkProxyQuery(url));
    return proxies.isEmpty() || proxies.first().type() == QNetworkProxy::NoProxy ||
           proxies.first().type() == QNetworkProxy::DefaultProxy;
}

void DirectNetworkAccessManager::setIdleTimeout(int ms)
{
    m_idleTimeoutMs = qMax(0, ms);
    expireIdle();
}

void DirectNetworkAccessManager::setMaxIdlePerHost(int count)
{
    m_maxIdlePerHost = qMax(0, count);
    QList<QTcpSocket *> surplus;
    for (const QList<QTcpSocket *> &sockets : std::as_const(m_idle))
        surplus += sockets.mid(0, qMax(0, sockets.size() - m_maxIdlePerHost)); // the oldest
    for (QTcpSocket *socket : std::as_const(surplus))
        dropIdle(socket);
}

void DirectNetworkAccessManager::setMaxIdleTotal(int count)
{
    m_maxIdleTotal = qMax(0, count);
    while (m_idleInfo.size() > m_maxIdleTotal)
        dropIdle(m_idleOrder.first());
}

int DirectNetworkAccessManager::idleConnectionCount(const QUrl &url) const
{
    return int(m_idle.value(hostKey(url)).size());
}

void DirectNetworkAccessManager::clearIdleConnections()
{
    while (!m_idleOrder.isEmpty())
        dropIdle(m_idleOrder.first());
}

QNetworkReply *DirectNetworkAccessManager::createRequest(Operation op, const QNetworkRequest &request,
                                                         QIODevice *outgoingData)
{
    if ((op == PostOperation || op == GetOperation) && handles(request.url()) &&
        (!outgoingData || !outgoingData->isSequential())) {
        const QByteArray body = outgoingData ? outgoingData->readAll() : QByteArray();
        return new DirectHttpReply(op, request, body, this);
    }
    return QNetworkAccessManager::createRequest(op, request, outgoingData);
}

QNetworkReply *DirectNetworkAccessManager::post(QNetworkAccessManager *manager,
                                                const QNetworkRequest &request, const QByteArray &body)
{
    auto *direct = qobject_cast<DirectNetworkAccessManager *>(manager);
    if (direct && handles(request.url()))
        return new DirectHttpReply(PostOperation, request, body, direct);
    return manager->post(request, body);
}

QString DirectNetworkAccessManager::hostKey(const QUrl &url)
{
    const int defaultPort = url.scheme() == "https"_L1 ? 443 : 80;
    return url.scheme() + "://"_L1 + url.host().toLower() + u':' + QString::number(url.port(defaultPort));
}

QTcpSocket *DirectNetworkAccessManager::takeIdle(const QString &key)
{
    for (;;) {
        const auto it = m_idle.find(key);
        if (it == m_idle.end())
            return nullptr;
        QTcpSocket *socket = it->constLast();
        if (socket->state() != QAbstractSocket::ConnectedState) {
            dropIdle(socket);
            continue;
        }
        it->removeLast();
        if (it->isEmpty())
            m_idle.erase(it);
        m_idleOrder.remove(m_idleInfo.take(socket).order);
        socket->disconnect(this);
        return socket;
    }
}

void DirectNetworkAccessManager::releaseIdle(const QString &key, QTcpSocket *socket)
{
    if (m_closing || m_idleTimeoutMs <= 0 || m_maxIdlePerHost <= 0 || m_maxIdleTotal <= 0) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    // Full: the oldest goes, the freshest (least likely to be timed out by the server) stay.
    for (auto it = m_idle.constFind(key); it != m_idle.cend() && it->size() >= m_maxIdlePerHost;
         it = m_idle.constFind(key))
        dropIdle(it->constFirst());
    while (m_idleInfo.size() >= m_maxIdleTotal)
        dropIdle(m_idleOrder.first());

    socket->setParent(this);
    const quint64 order = ++m_releases;
    m_idle[key].append(socket);
    m_idleInfo.insert(socket, Idle{key, order, m_clock.elapsed()});
    m_idleOrder.insert(order, socket);
    // Nothing may come from the server between two exchanges: a close, a reset or a stray byte
    // (an unbuffered socket reports any of them as readyRead) makes the connection unusable.
    const auto drop = [this, socket] {
        dropIdle(socket);
    };
    connect(socket, &QTcpSocket::readyRead, this, drop);
    connect(socket, &QTcpSocket::disconnected, this, drop);
    connect(socket, &QTcpSocket::errorOccurred, this, drop);
    if (!m_idleTimer.isActive())
        armIdleTimer();
}

void DirectNetworkAccessManager::dropIdle(QTcpSocket *socket)
{
    const auto info = m_idleInfo.constFind(socket);
    if (info == m_idleInfo.cend())
        return;
    const Idle idle = info.value();
    m_idleInfo.erase(info);
    m_idleOrder.remove(idle.order);
    const auto list = m_idle.find(idle.key);
    if (list != m_idle.end()) {
        list->removeOne(socket);
        if (list->isEmpty())
            m_idle.erase(list);
    }
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater(); // we may be inside one of its signals
}

void DirectNetworkAccessManager::expireIdle()
{
    const qint64 now = m_clock.elapsed();
    while (!m_idleOrder.isEmpty()) {
        QTcpSocket *oldest = m_idleOrder.first();
        if (m_idleInfo.value(oldest).sinceMs + m_idleTimeoutMs > now)
            break;
        dropIdle(oldest);
    }
    armIdleTimer();
}

void DirectNetworkAccessManager::armIdleTimer()
{
    if (m_idleOrder.isEmpty()) {
        m_idleTimer.stop();
        return;
    }
    const qint64 due = m_idleInfo.value(m_idleOrder.first()).sinceMs + m_idleTimeoutMs;
    m_idleTimer.start(int(qBound<qint64>(0, due - m_clock.elapsed(), qint64(m_idleTimeoutMs))));
}

DirectHttpReply::DirectHttpReply(QNetworkAccessManager::Operation op, const QNetworkRequest &request,
                                 QByteArray body, DirectNetworkAccessManager *manager)
    : QNetworkReply(manager), m_manager(manager)
{
    setUrl(request.url());
    setOperation(op);
    QNetworkReply::open(QIODevice::ReadOnly | QIODevice::Unbuffered);

    const QUrl url = request.url();
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (url.port() > 0 && url.port() != 80)
        host += ':' + QByteArray::number(url.port());

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

    m_key = DirectNetworkAccessManager::hostKey(url);
    if (manager)
        manager->m_running.insert(this);
    if (QTcpSocket *socket = manager ? manager->takeIdle(m_key) : nullptr) {
        m_reused = true;
        attach(socket);
        // Written here, not on the next event-loop turn: the upstream starts on it at once.
        if (socket->write(m_request) < 0)
            retryOnFreshConnection();
        return;
    }
    connectFresh();
}

DirectHttpReply::~DirectHttpReply()
{
    if (m_manager && !m_done) // a finished reply is no longer listed (and may die after the list)
        m_manager->m_running.remove(this);
    closeSocket();
}

void DirectHttpReply::attach(QTcpSocket *socket)
{
    m_socket = socket;
    socket->setParent(this);
    connect(socket, &QTcpSocket::connected, this, &DirectHttpReply::onConnected);
    connect(socket, &QTcpSocket::readyRead, this, &DirectHttpReply::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, &DirectHttpReply::onDisconnected);
    connect(socket, &QTcpSocket::errorOccurred, this, &DirectHttpReply::onSocketError);
}

void DirectHttpReply::connectFresh()
{
    auto *socket = new QTcpSocket(this);
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    attach(socket);
    // Unbuffered: each read is one recv() into our buffer, without Qt's FIONREAD ioctl and copy.
    socket->connectToHost(url().host(), quint16(url().port(80)),
                          QIODevice::ReadWrite | QIODevice::Unbuffered);
}

bool DirectHttpReply::retryOnFreshConnection()
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
    connectFresh();
    return true;
}

void DirectHttpReply::abort()
{
    if (m_done)
        return;
    closeSocket(); // the upstream sees the connection close and stops generating
    fail(OperationCanceledError, u"Operation canceled"_s);
}

qint64 DirectHttpReply::bytesAvailable() const
{
    return m_buffer.size() - m_readPos + QNetworkReply::bytesAvailable();
}

qint64 DirectHttpReply::readData(char *data, qint64 maxSize)
{
    const qint64 n = qMin<qint64>(maxSize, m_buffer.size() - m_readPos);
    if (n <= 0)
        return 0;
    std::memcpy(data, m_buffer.constData() + m_readPos, size_t(n));
    m_readPos += n;
    if (m_readPos == m_buffer.size()) {
        m_buffer.truncate(0); // keeps the capacity
        m_readPos = 0;
    }
    return n;
}

void DirectHttpReply::onConnected()
{
    m_socket->write(m_request);
    m_request = QByteArray(); // a fresh connection is never retried
}

void DirectHttpReply::onReadyRead()
{
    if (m_done || !m_socket)
        return;
    char chunk[16384];
    bool closed = false;
    for (;;) {
        const qint64 n = m_socket->read(chunk, sizeof chunk);
        if (n > 0)
            m_in.append(chunk, qsizetype(n));
        // An unbuffered socket reports the peer's close as a failed read, without disconnected().
        closed = n < 0;
        if (n < qint64(sizeof chunk))
            break;
    }
    if (!m_received && !m_in.isEmpty()) {
        m_received = true;
        m_request = QByteArray();
    }
    m_peerClosed |= closed; // set before decodeBody(): a closed connection is never pooled
    if (!m_in.isEmpty() && (m_body != Body::Head || parseHead()))
        decodeBody();
    if (closed && !m_done) {
        if (m_socket && m_socket->error() != QAbstractSocket::RemoteHostClosedError)
            onSocketError();
        else
            onDisconnected();
    }
}

bool DirectHttpReply::parseHead()
{
    for (;;) {
        const qsizetype end = m_in.indexOf("\r\n\r\n");
        if (end < 0) {
            if (m_in.size() > MaxHead)
                fail(ProtocolFailure, u"The response headers are too large"_s);
            return false;
        }
        const QList<QByteArray> lines = m_in.left(end).split('\n');
        m_in.remove(0, end + 4);
        const QByteArray statusLine = lines.first().trimmed();
        const qsizetype space = statusLine.indexOf(' ');
        bool ok = false;
        const int status = space > 0 ? statusLine.mid(space + 1, 3).toInt(&ok) : 0;
        if (!statusLine.startsWith("HTTP/1.") || !ok || status < 100) {
            fail(ProtocolFailure, u"The server did not answer with HTTP/1.x"_s);
            return false;
        }
        if (status < 200)
            continue; // 100 Continue and friends: the real answer follows
        setAttribute(QNetworkRequest::HttpStatusCodeAttribute, status);
        setAttribute(QNetworkRequest::HttpReasonPhraseAttribute,
                     QString::fromLatin1(statusLine.mid(space + 5).trimmed()));
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
            const QByteArray previous = rawHeader(name);
            setRawHeader(name, previous.isEmpty() ? value : previous + ", " + value);
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
        Q_EMIT metaDataChanged();
        if (m_done)
            return false;
        if (m_body == Body::Done) {
            complete();
            return false;
        }
        return true;
    }
}

void DirectHttpReply::decodeBody()
{
    const qint64 before = bytesAvailable();
    qsizetype pos = 0;
    bool ended = false;
    switch (m_body) {
    case Body::UntilClose:
        deliver(m_in.constData(), m_in.size());
        pos = m_in.size();
        break;
    case Body::Length: {
        const qsizetype n = qsizetype(qMin<qint64>(m_remaining, m_in.size()));
        deliver(m_in.constData(), n);
        pos = n;
        m_remaining -= n;
        ended = m_remaining == 0;
        break;
    }
    case Body::Chunked:
    case Body::Trailers:
        while (pos < m_in.size() && !ended) {
            if (m_body == Body::Trailers) {
                // Read up to the empty line that ends them, so the connection is at the next
                // response; their content is not needed.
                const qsizetype eol = m_in.indexOf("\r\n", pos);
                if (eol < 0) {
                    if (m_in.size() - pos > MaxHead) {
                        fail(ProtocolFailure, u"The response trailers are too large"_s);
                        return;
                    }
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
                deliver(m_in.constData() + pos, n);
                pos += n;
                m_remaining -= n;
                m_chunkDataEnd = m_remaining == 0;
            } else {
                const qsizetype eol = m_in.indexOf("\r\n", pos);
                if (eol < 0) {
                    if (m_in.size() - pos > 1024) {
                        fail(ProtocolFailure, u"Bad chunk size line"_s);
                        return;
                    }
                    break;
                }
                QByteArray sizeText = m_in.mid(pos, eol - pos);
                const qsizetype semicolon = sizeText.indexOf(';');
                if (semicolon >= 0)
                    sizeText.truncate(semicolon);
                bool ok = false;
                const qint64 size = sizeText.trimmed().toLongLong(&ok, 16);
                if (!ok || size < 0) {
                    fail(ProtocolFailure, u"Bad chunk size"_s);
                    return;
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
    if (pos >= m_in.size())
        m_in.truncate(0);
    else if (pos > 0)
        m_in.remove(0, pos);
    if (bytesAvailable() > before)
        Q_EMIT readyRead();
    if (ended && !m_done)
        complete();
}

void DirectHttpReply::deliver(const char *data, qsizetype size)
{
    if (size <= 0)
        return;
    if (m_readPos > 0 && m_readPos == m_buffer.size()) {
        m_buffer.truncate(0);
        m_readPos = 0;
    }
    m_buffer.append(data, size);
}

void DirectHttpReply::onDisconnected()
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
        fail(RemoteHostClosedError, u"Connection closed"_s);
}

void DirectHttpReply::onSocketError()
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
        fail(ConnectionRefusedError, u"Connection refused"_s);
        return;
    case QAbstractSocket::HostNotFoundError:
        fail(HostNotFoundError, u"Host %1 not found"_s.arg(url().host()));
        return;
    case QAbstractSocket::SocketTimeoutError:
        fail(TimeoutError, socket->errorString());
        return;
    default:
        fail(UnknownNetworkError, socket->errorString());
    }
}

void DirectHttpReply::fail(NetworkError code, const QString &message)
{
    if (m_done)
        return;
    m_done = true;
    if (m_manager)
        m_manager->m_running.remove(this);
    closeSocket();
    setError(code, message);
    setFinished(true);
    Q_EMIT errorOccurred(code);
    Q_EMIT finished();
}

void DirectHttpReply::complete()
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
    if (reusable) {
        // Back to the pool before finished(), so a request made from a finished() handler
        // already finds it.
        QTcpSocket *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        m_manager->releaseIdle(m_key, socket);
    }
    // Otherwise the socket goes with this reply; a server that said Connection: close closes
    // first, so the TIME_WAIT stays on its side.
    setFinished(true);
    Q_EMIT finished();
}

void DirectHttpReply::closeSocket()
{
    if (!m_socket)
        return;
    QTcpSocket *socket = m_socket;
    m_socket = nullptr;
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}
