#pragma once

#include "fakerequest.h"
#include "fakescenario.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <queue>
#include <vector>

class FakeConnection;
class FakeServer;

// An OpenAI-compatible upstream for tests and benchmarks, on a plain QTcpServer so that every
// byte is under control: it streams `chat.completion.chunk`s like api.openai.com and can
// misbehave like real servers do (see FakeScenario). Records requests and counts streams.
// Holds thousands of connections: one unbuffered socket each, one timer for all, no threads.
class FakeUpstream : public QObject
{
    Q_OBJECT
public:
    explicit FakeUpstream(QObject *parent = nullptr);
    ~FakeUpstream() override;

    bool listen(const QHostAddress &address = QHostAddress(QHostAddress::LocalHost), quint16 port = 0);
    void close();
    quint16 port() const;
    QString errorString() const;
    QUrl baseUrl() const; // http://127.0.0.1:<port>/v1

    void setDefaultScenario(const FakeScenario &scenario) { m_scenario = scenario; }
    const FakeScenario &defaultScenario() const { return m_scenario; }
    // When set, requests without `Authorization: Bearer <key>` get a 401.
    void setRequiredApiKey(const QString &key) { m_requiredKey = key; }
    const QString &requiredApiKey() const { return m_requiredKey; }
    // Off for long benchmarks, so memory stays flat.
    void setRecordRequests(bool record) { m_record = record; }

    QList<FakeRequest> requests() const { return m_requests; }
    void clearRequests() { m_requests.clear(); }

    int connectionsAccepted() const { return m_connections; }
    int activeStreams() const { return m_active; }
    int maxConcurrentStreams() const { return m_maxActive; }
    int completedStreams() const { return m_completed; }
    int clientAborts() const { return m_clientAborts; }
    void resetCounters();

Q_SIGNALS:
    void connectionAccepted();
    void requestReceived(const FakeRequest &request);
    void activeStreamsChanged(int active);
    void streamCompleted();
    void clientAborted(); // the peer closed before the response was complete

public:
    // For FakeConnection: call `connection->wake()` after `delayMs`; replaces an earlier wake.
    void schedule(FakeConnection *connection, int delayMs);
    void cancel(FakeConnection *connection) { m_pending.remove(connection); }

private:
    // One timer and a heap instead of a QTimer per connection: Qt keeps timers in a sorted
    // list, so thousands of restarting timers cost O(n) each.
    struct Wake
    {
        qint64 dueMs;
        quint64 order; // FIFO among equal times; also the ticket that cancel() invalidates
        FakeConnection *connection;
        bool operator>(const Wake &other) const
        {
            return dueMs != other.dueMs ? dueMs > other.dueMs : order > other.order;
        }
    };

    void onNewConnection();
    void onTick();
    void armTick();

    FakeServer *m_server;
    QTimer m_tick;
    QElapsedTimer m_clock;
    std::priority_queue<Wake, std::vector<Wake>, std::greater<Wake>> m_wakes;
    QHash<FakeConnection *, quint64> m_pending; // the live ticket of each connection
    quint64 m_order = 0;
    FakeScenario m_scenario;
    QString m_requiredKey;
    QList<FakeRequest> m_requests;
    bool m_record = true;
    int m_connections = 0;
    int m_active = 0;
    int m_maxActive = 0;
    int m_completed = 0;
    int m_clientAborts = 0;
};
