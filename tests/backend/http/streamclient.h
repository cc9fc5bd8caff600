#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpSocket>

#include "apitestclient.h"

// What one client saw of one chat stream.
struct StreamRecord
{
    int status = 0;            // HTTP status; 0 while no head arrived
    QList<QJsonObject> events; // `data:` events in order
    QList<QByteArray> ids;     // their `id:` lines' values
    QList<QByteArray> raw;     // each event's bytes, without its blank line
    QString content;           // the `content` chunks concatenated
    QString sessionId;         // from the first chunk
    QString messageId;         // the stored user message, from the first chunk
    QString replyId;           // from `done`
    QString terminal;          // "done", "error" or empty
    QString error;             // the `error` chunk's text
    QString finishReason;      // the `done` chunk's finish_reason
    int terminals = 0;         // closing chunks seen (must end at exactly one)
    bool chunkAfterTerminal = false;
    bool closed = false;    // the connection closed (by the server, or by the client leaving)
    bool lastChunk = false; // a chunked body ended with its last chunk (a cut one does not)
    bool left = false;      // the client closed it (AsyncStream::setLeaveAfterChunks)
    QByteArray errorBody;   // a non-SSE answer's body

    bool started() const { return !messageId.isEmpty(); }
    bool ended() const { return terminals > 0; }
};

// One HTTP request whose answer is read as it arrives, without blocking: hundreds of these run
// side by side in the test's event loop, each on its own connection.
class AsyncStream : public QObject
{
    Q_OBJECT
public:
    AsyncStream(quint16 port, const QByteArray &rawRequest, QObject *parent = nullptr);

    void start();
    void abort();
    // The client goes away (closes its socket) after this many content chunks.
    void setLeaveAfterChunks(int chunks) { m_leaveAfter = chunks; }
    const StreamRecord &record() const { return m_record; }
    bool isFinished() const { return m_finished; }

Q_SIGNALS:
    void chunk(const QJsonObject &event);
    void finished();

private:
    void onReadyRead();
    void onClosed();
    void parseEvents();

    quint16 m_port;
    QByteArray m_request;
    QTcpSocket m_socket;
    QByteArray m_buffer;
    bool m_headDone = false;
    bool m_sse = false;
    bool m_chunked = false;
    ChunkedDecoder m_chunks;
    qint64 m_contentLength = -1;
    bool m_finished = false;
    int m_leaveAfter = -1;
    int m_contentChunks = 0;
    StreamRecord m_record;
};

// The record's chunks of one type ("tool_call", "progress", ...), in order.
QList<QJsonObject> ofType(const StreamRecord &record, const QString &type);

// The chat request for AsyncStream: POST /api/agents/{agent}/chat/stream.
QByteArray chatStreamRequest(const QString &agentId, const QString &token, const QString &message,
                             const QString &sessionId = {});
