#include "fakeupstream.h"

#include "fakeconnection.h"
#include "fakeserver.h"

#include <QTcpSocket>

using namespace Qt::StringLiterals;

FakeUpstream::FakeUpstream(QObject *parent) : QObject(parent), m_server(new FakeServer(this))
{
    m_clock.start();
    m_tick.setSingleShot(true);
    m_tick.setTimerType(Qt::PreciseTimer); // benchmarks measure these delays
    connect(&m_tick, &QTimer::timeout, this, &FakeUpstream::onTick);
    m_server->setListenBacklogSize(4096); // benchmarks open thousands of connections at once
    m_server->setMaxPendingConnections(1 << 20);
    connect(m_server, &QTcpServer::newConnection, this, &FakeUpstream::onNewConnection);
}

FakeUpstream::~FakeUpstream()
{
    // Connections cancel their wake-ups when deleted: delete them while the scheduler lives.
    qDeleteAll(findChildren<FakeConnection *>(Qt::FindDirectChildrenOnly));
}

bool FakeUpstream::listen(const QHostAddress &address, quint16 port)
{
    return m_server->listen(address, port);
}

void FakeUpstream::close()
{
    m_server->close();
    const QList<FakeConnection *> connections = findChildren<FakeConnection *>(Qt::FindDirectChildrenOnly);
    for (FakeConnection *connection : connections)
        connection->closeIfIdle();
}

quint16 FakeUpstream::port() const
{
    return m_server->serverPort();
}

QString FakeUpstream::errorString() const
{
    return m_server->errorString();
}

QUrl FakeUpstream::baseUrl() const
{
    QUrl url;
    url.setScheme(u"http"_s);
    const QHostAddress address = m_server->serverAddress();
    url.setHost(address.isNull() || address == QHostAddress::Any || address == QHostAddress::AnyIPv4
                    ? u"127.0.0.1"_s
                    : address.toString());
    url.setPort(port());
    url.setPath(u"/v1"_s);
    return url;
}

void FakeUpstream::resetCounters()
{
    m_connections = 0;
    m_requestCount = 0;
    m_closedOnReuse = 0;
    m_maxActive = m_active;
    m_completed = 0;
    m_clientAborts = 0;
}

bool FakeUpstream::takeCloseOnReuse()
{
    if (m_closeOnReuse <= 0)
        return false;
    --m_closeOnReuse;
    ++m_closedOnReuse;
    return true;
}

void FakeUpstream::schedule(FakeConnection *connection, int delayMs)
{
    const quint64 order = ++m_order;
    m_pending.insert(connection, order);
    m_wakes.push(Wake{m_clock.elapsed() + qMax(0, delayMs), order, connection});
    if (m_wakes.top().order == order) // new earliest
        armTick();
}

void FakeUpstream::armTick()
{
    // Drop cancelled tickets at the top so the timer waits for a live one.
    while (!m_wakes.empty()) {
        const Wake &top = m_wakes.top();
        const auto it = m_pending.constFind(top.connection);
        if (it != m_pending.cend() && it.value() == top.order)
            break;
        m_wakes.pop();
    }
    if (m_wakes.empty()) {
        m_tick.stop();
        return;
    }
    m_tick.start(int(qMax<qint64>(0, m_wakes.top().dueMs - m_clock.elapsed())));
}

void FakeUpstream::onTick()
{
    const qint64 now = m_clock.elapsed();
    const quint64 lastOrder = m_order; // wake-ups scheduled while we run wait for the next pass
    while (!m_wakes.empty() && m_wakes.top().dueMs <= now && m_wakes.top().order <= lastOrder) {
        const Wake wake = m_wakes.top();
        m_wakes.pop();
        const auto it = m_pending.find(wake.connection);
        if (it == m_pending.end() || it.value() != wake.order)
            continue; // cancelled or replaced
        m_pending.erase(it);
        wake.connection->wake();
    }
    armTick();
}

void FakeUpstream::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        ++m_connections;
        ++m_open;
        auto *connection = new FakeConnection(socket, this);
        connection->setParent(this);
        connect(connection, &FakeConnection::closed, this, [this] {
            --m_open;
            Q_EMIT connectionClosed();
        });
        connect(connection, &FakeConnection::requestReceived, this, [this](const FakeRequest &request) {
            ++m_requestCount;
            if (m_record)
                m_requests.append(request);
            Q_EMIT requestReceived(request);
        });
        connect(connection, &FakeConnection::streamStarted, this, [this] {
            m_maxActive = qMax(m_maxActive, ++m_active);
            Q_EMIT activeStreamsChanged(m_active);
        });
        connect(connection, &FakeConnection::streamEnded, this, [this](bool byClient) {
            --m_active;
            if (byClient)
                ++m_clientAborts;
            else
                ++m_completed;
            Q_EMIT activeStreamsChanged(m_active);
            if (byClient)
                Q_EMIT clientAborted();
            else
                Q_EMIT streamCompleted();
        });
        Q_EMIT connectionAccepted();
    }
}
