#pragma once

#include "httpexchange.h"
#include "llmstream.h"
#include "sseparser.h"

#include <QBasicTimer>
#include <QElapsedTimer>
#include <QPointer>

class QNetworkAccessManager;

// One streamed completion over HTTP, whatever the provider's protocol: sends the request, reads
// the body as it arrives, times out on silence (never on total duration), turns HTTP and network
// failures into LlmErrors that name the upstream's own message, and finishes with usage counted
// or estimated. The subclasses (OpenAiStream, AnthropicStream, OllamaStream) build their request
// and read their events; everything a real server can do wrong on the way is handled here once.
class UpstreamStream : public LlmStream, private HttpExchange::Receiver
{
    Q_OBJECT
public:
    ~UpstreamStream() override;

    // Sends the request through `manager`: read directly as an HttpExchange where `manager` is a
    // DirectNetworkAccessManager that handles the URL, else as a QNetworkReply. Returns that reply
    // (it belongs to this stream), for the caller's per-manager accounting; null for an exchange,
    // and when the request could not be made (the failure is then emitted from the event loop).
    QNetworkReply *start(QNetworkAccessManager *manager);
    void abort() override;
    const QUrl &url() const { return m_url; }

    // The message of an error body: {"error":{"message"}} (OpenAI, Anthropic), {"error":"..."}
    // (Ollama), {"message"} or FastAPI's {"detail"}; else the body's text, shortened.
    static QString errorMessage(const QByteArray &body);
    // A base URL's path without its trailing slashes, for the endpoints to go after.
    static QString basePath(const QUrl &baseUrl);

protected:
    enum class Framing {
        Sse,   // text/event-stream: handleEvent() per event
        Lines, // NDJSON: handleLine() per line
    };
    UpstreamStream(const ProviderConfig &provider, const ChatRequest &request, Framing framing,
                   QObject *parent);

    // The subclass's constructor says what to send.
    void setRequest(const QUrl &url, const QByteArray &body,
                    const QList<QPair<QByteArray, QByteArray>> &headers);

    virtual void handleEvent(const SseEvent &event);
    virtual void handleLine(QByteArrayView line);
    // A 2xx answer that is one JSON document (a server that ignored `stream: true`).
    virtual void handleJsonBody(const QByteArray &body) = 0;
    // Last touches on the completion finish() hands on (what the next round must send back).
    virtual void completeCompletion(LlmCompletion &completion) { Q_UNUSED(completion) }

    void finish();
    void fail(LlmError::Kind kind, const QString &code, const QString &message, int httpStatus = 0);
    // An error the upstream reported in the stream after its 200, in the body's own words.
    void failInBand(const QString &message);
    void skip(const char *what, const QString &data);
    QString redacted(QString text) const;
    // The upstream's usage; reasoning -1 when it did not say.
    void setUsage(int promptTokens, int completionTokens, int reasoningTokens = -1);

    QString m_model;        // as the upstream names it
    QString m_finishReason; // OpenAI's spelling: stop, length, tool_calls, content_filter
    QString m_requestModel;
    bool m_sawChunk = false; // a well-formed event arrived (so a cut is a cut, not a wrong protocol)

private:
    // A QNetworkReply's signals (https, proxies) ...
    void onReplyMetaData();
    void onReplyReadyRead();
    void onReplyFinished();
    // ... and an HttpExchange's calls (plain http) come to the same three: onHead(), exchangeBody()
    // (the body of one read) and onEnd().
    void exchangeHead(const HttpExchange::Head &head) override;
    void exchangeBody(QByteArrayView bytes) override;
    void exchangeEnd(QNetworkReply::NetworkError error, const QString &message) override;
    void onHead(int status, const QByteArray &contentType, const QString &reason);
    void onEnd(QNetworkReply::NetworkError error, const QString &errorText);

    void timerEvent(QTimerEvent *event) override;
    void onTimer();
    void armTimer(int ms) { m_timer.start(ms, this); }
    bool requestRunning() const;
    void consume(QByteArrayView bytes);
    void endOfBody(bool error);
    void failLater(LlmError::Kind kind, const QString &code, const QString &message);
    void releaseReply();

    Framing m_framing;
    QPointer<QNetworkReply> m_reply;
    HttpExchange *m_exchange = nullptr; // a child
    SseParser m_parser;
    QByteArray m_line;   // Lines: the unfinished last line
    QBasicTimer m_timer; // single shot; no QObject of its own, as there is one per stream
    QElapsedTimer m_lastByte;
    QByteArray m_body; // error bodies and non-streamed JSON answers
    QByteArray m_contentType;
    QString m_reason; // an error status's reason phrase
    QUrl m_url;
    QByteArray m_requestBody;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QString m_apiKey; // only to scrub it from upstream text we log or pass on
    int m_connectTimeoutMs;
    int m_stallTimeoutMs;
    int m_promptEstimate;
    int m_httpStatus = 0;
    int m_promptTokens = 0;
    int m_completionTokens = 0;
    int m_reasoningTokens = -1;
    int m_skipped = 0;
    bool m_hasUsage = false;
    bool m_headersSeen = false;
    bool m_jsonMode = false;
};
