#pragma once

#include "httpexchange.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QMap>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSet>
#include <QTimer>

class QTcpSocket;

// A QNetworkAccessManager whose plain-http requests skip Qt's HTTP backend: Qt 6.4 runs that backend
// on one thread per manager and caps it at six connections per host, so thousands of streams meant
// hundreds of managers and threads, every chunk read on one of them and handed to the main thread
// by a queued signal. Here each request is an HttpExchange: one QTcpSocket on the caller's thread,
// read as it arrives; createRequest() wraps it in a DirectHttpReply, and the upstream streams read
// it directly. https (TLS, HTTP/2) and anything that is not a POST or GET go to the stock backend
// unchanged.
//
// HTTP/1.1 connections are kept alive: after a response that ended by its framing, the socket waits
// in an idle pool per scheme, host and port, and the next request there takes the most recently
// used one and is written at once, without a connect or an event-loop turn. Idle sockets are
// watched (a close or a stray byte from the server drops them), expire after idleTimeout() and are
// capped per host and in total.
class DirectNetworkAccessManager : public QNetworkAccessManager
{
    Q_OBJECT
public:
    explicit DirectNetworkAccessManager(QObject *parent = nullptr);
    ~DirectNetworkAccessManager() override;

    // Whether createRequest() answers `url` itself.
    static bool handles(const QUrl &url);
    // "scheme://host:port": the connections a request to `url` may share (also LlmClient's pool key).
    static QString hostKey(const QUrl &url);

    // How long an idle connection is kept. Below the 5 s keep-alive timeout of uvicorn (vLLM and
    // most Python servers) and llama.cpp, so that we, not they, close it: a server that closes first
    // races our next request on it (handled by one retry, but cheaper avoided).
    int idleTimeout() const { return m_idleTimeoutMs; }
    void setIdleTimeout(int ms);
    int maxIdlePerHost() const { return m_maxIdlePerHost; }
    void setMaxIdlePerHost(int count);
    int maxIdleTotal() const { return m_maxIdleTotal; }
    void setMaxIdleTotal(int count);

    int idleConnectionCount() const { return int(m_idleInfo.size()); }
    int idleConnectionCount(const QUrl &url) const;
    void clearIdleConnections();

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                 QIODevice *outgoingData = nullptr) override;

private:
    friend class HttpExchange;
    struct Idle
    {
        QString key;
        quint64 order; // release order: the oldest idle socket has the lowest
        qint64 sinceMs;
    };

    // The most recently used idle socket for `key`, now unwatched and parented to nobody; or null.
    QTcpSocket *takeIdle(const QString &key);
    // A socket whose exchange ended cleanly; the pool owns (or closes) it from here on.
    void releaseIdle(const QString &key, QTcpSocket *socket);
    void dropIdle(QTcpSocket *socket);
    void expireIdle();
    void armIdleTimer();

    QSet<HttpExchange *> m_running;             // aborted with us: none may end on a dead manager
    QHash<QString, QList<QTcpSocket *>> m_idle; // per key, most recently used last
    QHash<QTcpSocket *, Idle> m_idleInfo;
    QMap<quint64, QTcpSocket *> m_idleOrder; // oldest first, for the total cap and the timer
    quint64 m_releases = 0;
    QElapsedTimer m_clock;
    QTimer m_idleTimer; // one timer for the whole pool, armed for the oldest socket
    int m_idleTimeoutMs = 4000;
    int m_maxIdlePerHost = 256;
    int m_maxIdleTotal = 1024;
    bool m_closing = false;
};

// One HttpExchange as a QNetworkReply, for code that wants one (model lists, MCP over HTTP): status,
// reason and headers are set before metaDataChanged; the body is readable as it arrives; finished
// comes once, after the body, an error or abort(). request() is empty: what it held was written to
// the connection.
class DirectHttpReply : public QNetworkReply, private HttpExchange::Receiver
{
    Q_OBJECT
public:
    // `manager` (may be null) lends and takes back kept-alive connections; it is also the parent.
    DirectHttpReply(QNetworkAccessManager::Operation op, const QNetworkRequest &request,
                    const QByteArray &body, DirectNetworkAccessManager *manager = nullptr);

    void abort() override;
    qint64 bytesAvailable() const override;

protected:
    qint64 readData(char *data, qint64 maxSize) override;

private:
    void exchangeHead(const HttpExchange::Head &head) override;
    void exchangeBody(QByteArrayView bytes) override;
    void exchangeEnd(NetworkError error, const QString &message) override;

    HttpExchange *m_exchange;
    QByteArray m_buffer; // body bytes not yet read
    qsizetype m_readPos = 0;
};
