#include "directhttp.h"

#include <QNetworkProxy>
#include <QNetworkProxyFactory>
#include <QTcpSocket>

#include <cstring>

using namespace Qt::StringLiterals;

DirectNetworkAccessManager::DirectNetworkAccessManager(QObject *parent) : QNetworkAccessManager(parent)
{
    m_clock.start();
    m_idleTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, &DirectNetworkAccessManager::expireIdle);
}

DirectNetworkAccessManager::~DirectNetworkAccessManager()
{
    m_closing = true;
    // Our replies die silently in ~QNetworkAccessManager. Exchanges owned elsewhere (the upstream
    // streams own theirs) end now: QNetworkAccessManager handles every reply's finished() on
    // itself, so one of ours finishing after us would crash.
    const QSet<HttpExchange *> running = m_running;
    for (HttpExchange *exchange : running) {
        const auto *reply = qobject_cast<DirectHttpReply *>(exchange->parent());
        if (!reply || reply->parent() != this)
            exchange->abort();
    }
    // Finished or not, our replies' exchanges die in ~QNetworkAccessManager, when this is only a
    // QNetworkAccessManager any more: they must not look at us as a DirectNetworkAccessManager then.
    for (HttpExchange *exchange : findChildren<HttpExchange *>())
        exchange->m_manager = nullptr;
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
                                 const QByteArray &body, DirectNetworkAccessManager *manager)
    : QNetworkReply(manager)
{
    setUrl(request.url());
    setOperation(op);
    QNetworkReply::open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    m_exchange = new HttpExchange(op, request, body, manager, this, this);
}

void DirectHttpReply::abort()
{
    m_exchange->abort();
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

void DirectHttpReply::exchangeHead(const HttpExchange::Head &head)
{
    setAttribute(QNetworkRequest::HttpStatusCodeAttribute, head.status);
    setAttribute(QNetworkRequest::HttpReasonPhraseAttribute, QString::fromLatin1(head.reason));
    for (const auto &header : head.headers)
        setRawHeader(header.first, head.value(header.first.constData())); // repeated ones joined
    Q_EMIT metaDataChanged();
}

void DirectHttpReply::exchangeBody(QByteArrayView bytes)
{
    if (m_readPos > 0 && m_readPos == m_buffer.size()) {
        m_buffer.truncate(0);
        m_readPos = 0;
    }
    m_buffer.append(bytes.data(), bytes.size());
    Q_EMIT readyRead();
}

void DirectHttpReply::exchangeEnd(NetworkError error, const QString &message)
{
    if (error != NoError)
        setError(error, message);
    setFinished(true);
    if (error != NoError)
        Q_EMIT errorOccurred(error);
    Q_EMIT finished();
}
