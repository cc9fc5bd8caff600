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

// A model provider for tests and benchmarks, on a plain QTcpServer so that every byte is under
// control. It speaks three dialects, by the request's path: OpenAI's (`chat.completion.chunk`s
// like api.openai.com), Anthropic's Messages API (its named SSE events, thinking blocks with
// signatures, tool_use input as `input_json_delta`) and Ollama's native NDJSON (`/api/chat`,
// `/api/tags`, `/api/show`), and misbehaves in each like real servers do (see FakeScenario).
// Records requests and counts streams.
// Keeps HTTP/1.1 connections alive between requests, as real servers do, and counts connections
// apart from requests, so tests can tell a reused connection from a new one.
// Holds thousands of connections: one unbuffered socket each, one timer for all, no threads.
class FakeUpstream : public QObject
{
    Q_OBJECT
public:
    explicit FakeUpstream(QObject *parent = nullptr);
    ~FakeUpstream() override;

    bool listen(const QHostAddress &address = QHostAddress(QHostAddress::LocalHost), quint16 port = 0);
    // Stops listening and closes the connections that wait for a request, as a server that shuts
    // down does; responses under way go on to their end.
    void close();
    quint16 port() const;
    QString errorString() const;
    QUrl baseUrl() const; // http://127.0.0.1:<port>/v1

    void setDefaultScenario(const FakeScenario &scenario) { m_scenario = scenario; }
    const FakeScenario &defaultScenario() const { return m_scenario; }
    // When set, requests without `Authorization: Bearer <key>` (Anthropic: `x-api-key: <key>`)
    // get a 401.
    void setRequiredApiKey(const QString &key) { m_requiredKey = key; }
    // The models every dialect lists ("fake" by default). Ollama's /api/show says a model whose
    // name has "vision" or "vl" in it sees images, and one with "think" or "reason" thinks.
    void setModels(const QStringList &models) { m_models = models; }
    const QStringList &models() const { return m_models; }
    const QString &requiredApiKey() const { return m_requiredKey; }
    // Off for long benchmarks, so memory stays flat.
    void setRecordRequests(bool record) { m_record = record; }

    QList<FakeRequest> requests() const { return m_requests; }
    void clearRequests() { m_requests.clear(); }

    int connectionsAccepted() const { return m_connections; }
    int openConnections() const { return m_open; } // not reset by resetCounters()
    int requestsReceived() const { return m_requestCount; }
    int activeStreams() const { return m_active; }
    int maxConcurrentStreams() const { return m_maxActive; }
    int completedStreams() const { return m_completed; }
    int clientAborts() const { return m_clientAborts; }
    void resetCounters();

    // The keep-alive race: the next `count` requests that come on an already used connection find
    // it closed, unread and unanswered, as when a server's idle timeout fires just as a client
    // sends on the connection. They are not counted as requests.
    void closeOnNextReuse(int count = 1) { m_closeOnReuse = count; }
    int closedOnReuse() const { return m_closedOnReuse; }

Q_SIGNALS:
    void connectionAccepted();
    void connectionClosed();
    void requestReceived(const FakeRequest &request);
    void activeStreamsChanged(int active);
    void streamCompleted();
    void clientAborted(); // the peer closed before the response was complete

public:
    // For FakeConnection: call `connection->wake()` after `delayMs`; replaces an earlier wake.
    void schedule(FakeConnection *connection, int delayMs);
    void cancel(FakeConnection *connection) { m_pending.remove(connection); }
    // For FakeConnection: whether a request arriving on a used connection is to meet a close.
    bool takeCloseOnReuse();

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
    QStringList m_models{QStringLiteral("fake")};
    QList<FakeRequest> m_requests;
    bool m_record = true;
    int m_connections = 0;
    int m_open = 0;
    int m_requestCount = 0;
    int m_closeOnReuse = 0;
    int m_closedOnReuse = 0;
    int m_active = 0;
    int m_maxActive = 0;
    int m_completed = 0;
    int m_clientAborts = 0;
};
