#pragma once

#include "chatchunk.h"
#include "ssereader.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QNetworkReply;

// One streamed chat reply: wraps the QNetworkReply of POST /api/agents/{id}/chat/stream, reads
// it incrementally on readyRead, parses the SSE events and emits one signal per chunk. It never
// blocks; it ends with exactly one of closed() (a `done` or `error` chunk arrived), failed()
// (HTTP error, network error, the stream ending without a closing chunk, or silence) or
// aborted() (abort() was called). It deletes itself later once ended.
class ChatStream : public QObject
{
    Q_OBJECT

public:
    explicit ChatStream(QNetworkReply *reply, int stallTimeoutMs, QObject *parent = nullptr);
    ~ChatStream() override;

    void abort();
    bool isRunning() const { return !m_ended; }
    QString sessionId() const { return m_sessionId; }
    int contentChunks() const { return m_contentChunks; }
    // The id of the last event of the last network read (<reply_id>:<seq>), what a resume sends
    // back. Every event of a read is handled before the next read, so while a chunk signal runs
    // it is at worst a later event of the same read, which the signals for it follow at once.
    QByteArray lastEventId() const { return m_parser.lastEventId(); }

Q_SIGNALS:
    void chunkReceived(const ChatChunk &chunk); // every chunk, in order
    void contentReceived(const QString &text);  // the text of each `content` chunk
    void closed(const ChatChunk &closing);      // `done` or `error`
    // code: an API error code (docs/api.md), "network_error", "stream_interrupted",
    // "stream_stalled", "invalid_chunk" or "reply_ended" (204 to a resume: nothing more to send);
    // offline: the server could not be reached at all.
    void failed(const QString &code, const QString &message, bool offline);
    void aborted();

private:
    void onReadyRead();
    void onFinished();
    void handleEvent(const QByteArray &data);
    void end();

    QPointer<QNetworkReply> m_reply;
    SseReader m_parser;
    QTimer m_stallTimer;
    QString m_sessionId;
    int m_contentChunks = 0;
    bool m_ended = false;
    bool m_httpOk = false;
    bool m_statusChecked = false;
    QByteArray m_errorBody;
};
