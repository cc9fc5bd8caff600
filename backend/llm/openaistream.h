#pragma once

#include "llmstream.h"
#include "sseparser.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

class QJsonObject;
class QNetworkAccessManager;
class QNetworkReply;

// One streamed chat completion against an OpenAI-compatible `/chat/completions` endpoint,
// wrapping one QNetworkReply. Parses the SSE body as it arrives; tolerates what real servers
// do (comments as keep-alives, `data:` without a space, usage in the last choice chunk or in
// its own chunk, no [DONE]); times out on silence, never on total duration.
class OpenAiStream : public LlmStream
{
    Q_OBJECT
public:
    OpenAiStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent = nullptr);
    ~OpenAiStream() override;

    // Sends the request through `manager`. The reply belongs to this stream; null when the
    // request could not be made (the failure is then emitted from the event loop).
    QNetworkReply *start(QNetworkAccessManager *manager);
    void abort() override;

    static QUrl completionsUrl(const QUrl &baseUrl);
    static QByteArray requestBody(const ProviderConfig &provider, const ChatRequest &request);

private:
    void onMetaDataChanged();
    void onReadyRead();
    void onReplyFinished();
    void onTimer();
    void consume(const QByteArray &bytes);
    void handleEvent(const SseEvent &event);
    void handleChunk(const QJsonObject &chunk);
    void handleJsonBody();
    void readUsage(const QJsonObject &object);
    void finish();
    void fail(LlmError::Kind kind, const QString &code, const QString &message, int httpStatus = 0);
    void failLater(LlmError::Kind kind, const QString &code, const QString &message);
    void releaseReply();
    void skip(const char *what, const QString &data);
    QString redacted(QString text) const;

    QPointer<QNetworkReply> m_reply;
    SseParser m_parser;
    QTimer m_timer;
    QElapsedTimer m_lastByte;
    QByteArray m_body; // error bodies and non-streamed JSON answers
    QUrl m_url;
    QByteArray m_authorization;
    QString m_apiKey; // only to scrub it from upstream text we log or pass on
    QByteArray m_requestBody;
    QString m_requestModel;
    QString m_model;
    QString m_finishReason;
    int m_connectTimeoutMs;
    int m_stallTimeoutMs;
    int m_promptEstimate;
    int m_httpStatus = 0;
    int m_promptTokens = 0;
    int m_completionTokens = 0;
    int m_skipped = 0;
    bool m_headersSeen = false;
    bool m_jsonMode = false;
    bool m_hasUsage = false;
    bool m_sawChunk = false;
};
