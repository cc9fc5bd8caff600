#include "openaistream.h"

#include "core/logging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype MaxErrorBody = 64 * 1024;
constexpr qsizetype MaxJsonBody = 16 * 1024 * 1024;
constexpr int MaxSkipWarnings = 5; // a misbehaving server must not flood the log

bool isSuccess(int status)
{
    return status >= 200 && status < 300;
}

QString truncated(const QString &text, qsizetype max = 500)
{
    const QString t = text.trimmed();
    return t.size() <= max ? t : t.left(max) + u"…"_s;
}

// OpenAI: {"error":{"message":...}}; some servers: {"error":"..."}, {"message":...} or
// FastAPI's {"detail":...}.
QString upstreamErrorMessage(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QJsonValue error = o.value("error"_L1);
    if (error.isObject()) {
        const QString m = error.toObject().value("message"_L1).toString();
        if (!m.isEmpty())
            return m;
    }
    if (error.isString() && !error.toString().isEmpty())
        return error.toString();
    if (o.value("message"_L1).isString())
        return o.value("message"_L1).toString();
    const QJsonValue detail = o.value("detail"_L1);
    if (detail.isString())
        return detail.toString();
    if (!detail.isUndefined())
        return QString::fromUtf8(
            QJsonDocument(QJsonObject{{u"detail"_s, detail}}).toJson(QJsonDocument::Compact));
    return truncated(QString::fromUtf8(body));
}
} // namespace

OpenAiStream::OpenAiStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent)
    : LlmStream(parent), m_url(completionsUrl(provider.baseUrl)),
      m_requestBody(requestBody(provider, request)),
      m_requestModel(request.model.isEmpty() ? provider.model : request.model),
      m_connectTimeoutMs(provider.connectTimeoutMs), m_stallTimeoutMs(provider.stallTimeoutMs),
      m_promptEstimate(estimatePromptTokens(request.messages))
{
    if (!provider.apiKey.isEmpty()) {
        m_authorization = "Bearer " + provider.apiKey.toUtf8();
        m_apiKey = provider.apiKey;
    }
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &OpenAiStream::onTimer);
}

OpenAiStream::~OpenAiStream()
{
    // Deleting a running stream must stop the upstream (and its billing) too.
    if (m_reply) {
        m_reply->disconnect(this);
        if (m_reply->isRunning())
            m_reply->abort();
    }
}

QUrl OpenAiStream::completionsUrl(const QUrl &baseUrl)
{
    QUrl url = baseUrl;
    QString path = url.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    url.setPath(path + "/chat/completions"_L1);
    return url;
}

QByteArray OpenAiStream::requestBody(const ProviderConfig &provider, const ChatRequest &request)
{
    QJsonArray messages;
    for (const ChatMessage &m : request.messages) {
        QJsonObject message{{u"role"_s, m.role}, {u"content"_s, m.content}};
        if (!m.toolCalls.isEmpty()) {
            message.insert(u"tool_calls"_s, m.toolCalls);
            if (m.content.isEmpty())
                message.insert(u"content"_s, QJsonValue::Null);
        }
        if (!m.toolCallId.isEmpty())
            message.insert(u"tool_call_id"_s, m.toolCallId);
        messages.append(message);
    }
    QJsonObject body{
        {u"messages"_s, messages},
        {u"stream"_s, true},
        // Without this OpenAI sends no usage at all in streaming mode.
        {u"stream_options"_s, QJsonObject{{u"include_usage"_s, true}}},
    };
    if (!request.tools.isEmpty())
        body.insert(u"tools"_s, request.tools);
    const QString model = request.model.isEmpty() ? provider.model : request.model;
    if (!model.isEmpty()) // llama.cpp's server needs none; everyone else gets one
        body.insert(u"model"_s, model);
    if (request.temperature)
        body.insert(u"temperature"_s, *request.temperature);
    if (request.maxTokens)
        body.insert(u"max_tokens"_s, *request.maxTokens);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QNetworkReply *OpenAiStream::start(QNetworkAccessManager *manager)
{
    Q_ASSERT(!m_reply && !isFinished());
    if (!m_url.isValid() || m_url.host().isEmpty() ||
        (m_url.scheme() != "http"_L1 && m_url.scheme() != "https"_L1)) {
        failLater(LlmError::Network, u"upstream_invalid_url"_s,
                  u"The provider's base URL is not a valid http(s) URL: %1"_s.arg(m_url.toDisplayString()));
        return nullptr;
    }
    QNetworkRequest request(m_url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    if (!m_authorization.isEmpty())
        request.setRawHeader("Authorization", m_authorization);
    qCDebug(lcLlm) << "POST" << m_url.toDisplayString() << "model" << m_requestModel;

    m_reply = manager->post(request, m_requestBody);
    m_reply->setParent(this);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &OpenAiStream::onMetaDataChanged);
    connect(m_reply, &QNetworkReply::readyRead, this, &OpenAiStream::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &OpenAiStream::onReplyFinished);
    if (m_connectTimeoutMs > 0)
        m_timer.start(m_connectTimeoutMs);
    return m_reply;
}

void OpenAiStream::abort()
{
    if (isFinished()) {
        releaseReply();
        return;
    }
    fail(LlmError::Aborted, u"aborted"_s, u"The request was cancelled."_s);
}

void OpenAiStream::onMetaDataChanged()
{
    m_httpStatus = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (m_httpStatus == 0)
        return;
    const QByteArray type = m_reply->header(QNetworkRequest::ContentTypeHeader).toByteArray().toLower();
    // A server that ignores `stream: true` answers one JSON object; take that too.
    m_jsonMode = isSuccess(m_httpStatus) && type.contains("json") && !type.contains("event-stream");
    if (!m_headersSeen) {
        m_headersSeen = true;
        m_lastByte.start();
        if (!isFinished()) {
            if (m_stallTimeoutMs > 0)
                m_timer.start(m_stallTimeoutMs);
            else
                m_timer.stop();
        }
    }
}

void OpenAiStream::onReadyRead()
{
    if (!m_headersSeen)
        onMetaDataChanged();
    m_lastByte.start(); // the stall timer checks this instead of being restarted per read
    consume(m_reply->readAll());
}

void OpenAiStream::consume(const QByteArray &bytes)
{
    if (bytes.isEmpty() || isFinished())
        return;
    if (!isSuccess(m_httpStatus) || m_jsonMode) {
        const qsizetype max = m_jsonMode ? MaxJsonBody : MaxErrorBody;
        if (m_body.size() < max)
            m_body.append(bytes.left(max - m_body.size()));
        return;
    }
    const QList<SseEvent> events = m_parser.feed(bytes);
    for (const SseEvent &event : events) {
        handleEvent(event);
        if (isFinished()) // [DONE], an in-band error, or abort() from a delta handler
            return;
    }
}

void OpenAiStream::handleEvent(const SseEvent &event)
{
    if (!event.event.isEmpty() && event.event != "message"_L1 && event.event != "error"_L1) {
        skip("event of unknown type", event.event);
        return;
    }
    if (event.data == "[DONE]"_L1) {
        finish();
        return;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(event.data.toUtf8());
    if (!doc.isObject()) {
        skip("data that is not a JSON object", event.data);
        return;
    }
    const QJsonObject chunk = doc.object();
    const QJsonValue error = chunk.value("error"_L1);
    if ((error.isObject() || error.isString()) && !chunk.contains("choices"_L1)) {
        // Some providers report failures in-band after a 200 (overload, moderation).
        fail(LlmError::Protocol, u"upstream_error"_s, redacted(upstreamErrorMessage(event.data.toUtf8())));
        return;
    }
    handleChunk(chunk);
}

void OpenAiStream::readUsage(const QJsonObject &object)
{
    // Usage may come in its own chunk (OpenAI, `choices: []`) or with the last choice (Ollama,
    // llama.cpp); `"usage": null` on every other chunk means nothing.
    const QJsonValue usage = object.value("usage"_L1);
    if (!usage.isObject())
        return;
    const QJsonObject u = usage.toObject();
    m_promptTokens = u.value("prompt_tokens"_L1).toInt();
    m_completionTokens = u.value("completion_tokens"_L1).toInt();
    m_hasUsage = true;
}

void OpenAiStream::handleChunk(const QJsonObject &chunk)
{
    const QString model = chunk.value("model"_L1).toString();
    if (!model.isEmpty())
        m_model = model;
    readUsage(chunk);
    const QJsonValue choices = chunk.value("choices"_L1);
    if (!choices.isArray()) {
        if (chunk.value("usage"_L1).isObject())
            m_sawChunk = true;
        else
            skip("chunk without choices",
                 QString::fromUtf8(QJsonDocument(chunk).toJson(QJsonDocument::Compact)));
        return;
    }
    m_sawChunk = true;
    const QJsonArray list = choices.toArray();
    for (const QJsonValue &value : list) {
        const QJsonObject choice = value.toObject();
        if (choice.value("index"_L1).toInt() != 0) // we ask for one choice; ignore extras
            continue;
        // Some servers send "" instead of null until the end.
        const QString reason = choice.value("finish_reason"_L1).toString();
        if (!reason.isEmpty())
            m_finishReason = reason;
        const QJsonObject delta = choice.value("delta"_L1).toObject();
        const QJsonValue content = delta.value("content"_L1);
        if (content.isString())
            emitDelta(content.toString());
        if (isFinished())
            return;
        const QJsonArray toolCalls = delta.value("tool_calls"_L1).toArray();
        for (const QJsonValue &v : toolCalls) {
            const QJsonObject call = v.toObject();
            const QJsonObject function = call.value("function"_L1).toObject();
            emitToolCallDelta(call.value("index"_L1).toInt(), call.value("id"_L1).toString(),
                              function.value("name"_L1).toString(), function.value("arguments"_L1).toString());
            if (isFinished())
                return;
        }
    }
}

void OpenAiStream::handleJsonBody()
{
    const QJsonObject o = QJsonDocument::fromJson(m_body).object();
    m_body.clear();
    if ((o.value("error"_L1).isObject() || o.value("error"_L1).isString()) && !o.contains("choices"_L1)) {
        fail(LlmError::Protocol, u"upstream_error"_s,
             redacted(upstreamErrorMessage(QJsonDocument(o).toJson())));
        return;
    }
    const QJsonArray choices = o.value("choices"_L1).toArray();
    if (choices.isEmpty()) {
        fail(LlmError::Protocol, u"upstream_protocol"_s, u"The upstream answered without any choices."_s);
        return;
    }
    m_sawChunk = true;
    const QString model = o.value("model"_L1).toString();
    if (!model.isEmpty())
        m_model = model;
    readUsage(o);
    const QJsonObject choice = choices.first().toObject();
    m_finishReason = choice.value("finish_reason"_L1).toString();
    const QJsonObject message = choice.value("message"_L1).toObject();
    emitDelta(message.value("content"_L1).toString());
    const QJsonArray toolCalls = message.value("tool_calls"_L1).toArray();
    for (qsizetype i = 0; i < toolCalls.size() && !isFinished(); ++i) {
        const QJsonObject call = toolCalls.at(i).toObject();
        const QJsonObject function = call.value("function"_L1).toObject();
        emitToolCallDelta(int(i), call.value("id"_L1).toString(), function.value("name"_L1).toString(),
                          function.value("arguments"_L1).toString());
    }
    finish();
}

void OpenAiStream::onReplyFinished()
{
    if (isFinished()) {
        releaseReply();
        return;
    }
    m_timer.stop();
    onMetaDataChanged(); // the final status, after any redirect
    consume(m_reply->readAll());
    if (isFinished())
        return;
    const QNetworkReply::NetworkError error = m_reply->error();
    const QString errorText = m_reply->errorString();

    if (m_httpStatus != 0 && !isSuccess(m_httpStatus)) {
        QString message = redacted(upstreamErrorMessage(m_body)); // some echo the key they got
        if (message.isEmpty())
            message = m_reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
        if (message.isEmpty())
            message = u"HTTP %1"_s.arg(m_httpStatus);
        qCWarning(lcLlm) << "upstream answered HTTP" << m_httpStatus << message;
        fail(LlmError::Http, u"upstream_http_%1"_s.arg(m_httpStatus), message, m_httpStatus);
        return;
    }
    if (m_httpStatus == 0) {
        qCWarning(lcLlm) << "upstream request failed:" << error << errorText;
        if (error == QNetworkReply::TimeoutError)
            fail(LlmError::Timeout, u"upstream_timeout"_s, errorText);
        else if (error == QNetworkReply::RemoteHostClosedError)
            fail(LlmError::Network, u"upstream_disconnected"_s,
                 u"The upstream closed the connection without answering."_s);
        else
            fail(LlmError::Network, u"upstream_unreachable"_s, errorText);
        return;
    }
    if (m_jsonMode) {
        handleJsonBody();
        return;
    }
    const QList<SseEvent> events = m_parser.flush();
    for (const SseEvent &event : events) {
        handleEvent(event);
        if (isFinished())
            return;
    }
    if (!m_finishReason.isEmpty()) { // complete, only [DONE] missing
        finish();
    } else if (m_sawChunk || error != QNetworkReply::NoError) {
        qCWarning(lcLlm) << "upstream stream ended before it was complete:" << error;
        fail(LlmError::Network, u"upstream_disconnected"_s,
             u"The upstream connection closed before the reply was complete."_s);
    } else {
        const QString type = m_reply->header(QNetworkRequest::ContentTypeHeader).toString();
        qCWarning(lcLlm) << "upstream sent no chat completion chunks, content type" << type;
        fail(LlmError::Protocol, u"upstream_protocol"_s,
             u"The upstream did not answer with a chat completion stream (content type \"%1\")."_s.arg(type));
    }
}

void OpenAiStream::onTimer()
{
    if (isFinished()) { // finished at [DONE] but the server keeps the response open
        releaseReply();
        return;
    }
    if (!m_headersSeen) {
        fail(LlmError::Timeout, u"upstream_timeout"_s,
             u"The upstream did not answer within %1 s."_s.arg(m_connectTimeoutMs / 1000.0));
        return;
    }
    const qint64 idle = m_lastByte.elapsed();
    if (idle < m_stallTimeoutMs) {
        m_timer.start(int(m_stallTimeoutMs - idle));
        return;
    }
    if (!m_finishReason.isEmpty()) { // only usage or [DONE] missing: the reply is complete
        finish();
        return;
    }
    qCWarning(lcLlm) << "upstream stalled for" << idle << "ms";
    fail(LlmError::Timeout, u"upstream_timeout"_s,
         u"The upstream sent nothing for %1 s."_s.arg(m_stallTimeoutMs / 1000.0));
}

void OpenAiStream::finish()
{
    if (m_skipped > MaxSkipWarnings)
        qCWarning(lcLlm) << "skipped" << m_skipped << "malformed stream lines in total";
    LlmCompletion completion;
    completion.finishReason = m_finishReason;
    completion.model = m_model.isEmpty() ? m_requestModel : m_model;
    if (m_hasUsage) {
        completion.promptTokens = m_promptTokens;
        completion.completionTokens = m_completionTokens;
    } else {
        completion.promptTokens = m_promptEstimate;
        completion.completionTokens = estimatedCompletionTokens();
        completion.usageEstimated = true;
    }
    // Keep a reply that is still open (answer complete at [DONE]) until it ends by itself, so
    // a keep-alive connection stays reusable; the stall timer reaps one that never ends.
    if (m_reply && m_reply->isRunning() && m_stallTimeoutMs > 0) {
        m_timer.start(m_stallTimeoutMs);
    } else {
        m_timer.stop();
        releaseReply();
    }
    emitFinished(completion);
}

void OpenAiStream::fail(LlmError::Kind kind, const QString &code, const QString &message, int httpStatus)
{
    m_timer.stop();
    releaseReply(); // aborts a running reply: the upstream sees the connection close and stops
    emitFailed(LlmError{kind, httpStatus, code, message});
}

void OpenAiStream::failLater(LlmError::Kind kind, const QString &code, const QString &message)
{
    // startChat() returns before anyone could connect to our signals.
    QMetaObject::invokeMethod(
        this, [this, kind, code, message] { fail(kind, code, message); }, Qt::QueuedConnection);
}

void OpenAiStream::releaseReply()
{
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    reply->disconnect(this);
    if (reply->isRunning())
        reply->abort(); // closes the TCP connection, so the upstream stops generating
    reply->deleteLater();
}

void OpenAiStream::skip(const char *what, const QString &data)
{
    if (++m_skipped <= MaxSkipWarnings)
        qCWarning(lcLlm) << "skipping" << what << redacted(truncated(data, 200));
}

QString OpenAiStream::redacted(QString text) const
{
    if (!m_apiKey.isEmpty())
        text.replace(m_apiKey, u"***"_s);
    return text;
}
