#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QTcpSocket>

#include <functional>

class QProcess;

// A raw HTTP/1.1 client over QTcpSocket for the API tests: exact bytes on the wire, SSE parsed
// as it arrives, and the freedom to drop the connection at any moment.
struct HttpResult
{
    int status = 0;
    QMap<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
    QJsonObject json() const;
    QByteArray errorCode() const;
};

struct SseEventRecord
{
    QByteArray raw;   // the whole event as received, without the terminating blank line
    QByteArray data;  // joined data lines
    QByteArray id;    // the id line's value
    int retry = -1;   // the retry line's value, when there was one
    QJsonObject json; // data parsed
    bool comment = false;
};

// Undoes `Transfer-Encoding: chunked` as bytes arrive, and says whether the body ended with its
// last chunk (a cut connection does not).
class ChunkedDecoder
{
public:
    QByteArray feed(const QByteArray &bytes);
    bool complete() const { return m_complete; }
    bool malformed() const { return m_malformed; }

private:
    QByteArray m_pending;
    qint64 m_left = -1; // of the current chunk's data; -1 while reading a size line
    bool m_complete = false;
    bool m_malformed = false;
};

class ApiTestClient
{
public:
    explicit ApiTestClient(quint16 port) : m_port(port) {}

    void setToken(const QString &token) { m_token = token.toUtf8(); }

    // Blocking helpers for tests (they spin an event loop, so the in-process server keeps running).
    HttpResult request(const QByteArray &method, const QString &path, const QByteArray &body = {},
                       const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {}, int timeoutMs = 10000);
    HttpResult get(const QString &path) { return request("GET", path); }
    HttpResult post(const QString &path, const QJsonObject &body);

    // Opens a stream; `onEvent` sees each event as it arrives and may return false to drop the
    // connection right there. Returns when the server closes, the callback stops, or time runs out.
    struct StreamResult
    {
        HttpResult head;
        QList<SseEventRecord> events; // data events, in order
        int comments = 0;             // ": ..." lines, keep-alives included
        int emptyBlocks = 0;          // blank-line-ended blocks without data (clients see empty messages)
        bool closedByServer = false;
        bool chunked = false;   // Transfer-Encoding: chunked
        bool lastChunk = false; // ... and it ended with its last chunk
        QByteArray raw;         // as received (chunk framing included)
    };
    StreamResult stream(const QByteArray &method, const QString &path, const QByteArray &body,
                        const std::function<bool(const SseEventRecord &)> &onEvent = {},
                        int timeoutMs = 20000, bool sendToken = true,
                        const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});

    // Polls GET /api/health until it answers 200: a server process started by a test is up. Gives up
    // when `process` (if given) is no longer running or after timeoutMs, which is generous: under
    // a loaded CI machine (sanitizers, the other ctest job) a start can take seconds.
    static bool waitForHealth(quint16 port, const QProcess *process = nullptr, int timeoutMs = 60000);

    static QByteArray rawRequest(const QByteArray &method, const QString &path, const QByteArray &body,
                                 const QByteArray &token, const QList<QPair<QByteArray, QByteArray>> &extra);

private:
    quint16 m_port;
    QByteArray m_token;
};
