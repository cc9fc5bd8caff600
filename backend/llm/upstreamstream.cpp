#include "upstreamstream.h"

#include "core/logging.h"
#include "core/outputbatch.h"
#include "directhttp.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimerEvent>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype MaxErrorBody = 64 * 1024;
constexpr qsizetype MaxJsonBody = 16 * 1024 * 1024;
constexpr qsizetype MaxLine = 16 * 1024 * 1024;
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
} // namespace

UpstreamStream::UpstreamStream(const ProviderConfig &provider, const ChatRequest &request, Framing framing,
                               QObject *parent)
    : LlmStream(parent), m_requestModel(request.model.isEmpty() ? provider.model : request.model),
      m_framing(framing), m_apiKey(provider.apiKey), m_connectTimeoutMs(provider.connectTimeoutMs),
      m_stallTimeoutMs(provider.stallTimeoutMs), m_promptEstimate(estimatePromptTokens(request.messages))
{}

UpstreamStream::~UpstreamStream()
{
    // Deleting a running stream must stop the upstream (and its billing) too.
    releaseReply();
}

QString UpstreamStream::basePath(const QUrl &baseUrl)
{
    QString path = baseUrl.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    return path;
}

void UpstreamStream::setRequest(const QUrl &url, const QByteArray &body,
                                const QList<QPair<QByteArray, QByteArray>> &headers)
{
    m_url = url;
    m_requestBody = body;
    m_headers = headers;
}

QString UpstreamStream::errorMessage(const QByteArray &body)
{
    const QJsonObject o = SseParser::json(body).object();
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

QNetworkReply *UpstreamStream::start(QNetworkAccessManager *manager)
{
    Q_ASSERT(!m_reply && !m_exchange && !isFinished());
    if (!m_url.isValid() || m_url.host().isEmpty() ||
        (m_url.scheme() != "http"_L1 && m_url.scheme() != "https"_L1)) {
        failLater(LlmError::Network, u"upstream_invalid_url"_s,
                  u"The provider's base URL is not a valid http(s) URL: %1"_s.arg(m_url.toDisplayString()));
        return nullptr;
    }
    QNetworkRequest request(m_url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader("Accept", m_framing == Framing::Sse ? QByteArrayLiteral("text/event-stream")
                                                             : QByteArrayLiteral("application/x-ndjson"));
    request.setRawHeader("Cache-Control", "no-cache");
    for (const auto &header : std::as_const(m_headers))
        request.setRawHeader(header.first, header.second);
    qCDebug(lcLlm) << "POST" << m_url.toDisplayString() << "model" << m_requestModel;

    if (m_connectTimeoutMs > 0)
        armTimer(m_connectTimeoutMs);
    auto *direct = qobject_cast<DirectNetworkAccessManager *>(manager);
    if (direct && DirectNetworkAccessManager::handles(m_url)) {
        m_exchange = new HttpExchange(QNetworkAccessManager::PostOperation, request, m_requestBody, direct,
                                      this, this);
        return nullptr;
    }
    m_reply = manager->post(request, m_requestBody);
    m_reply->setParent(this);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &UpstreamStream::onReplyMetaData);
    connect(m_reply, &QNetworkReply::readyRead, this, &UpstreamStream::onReplyReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &UpstreamStream::onReplyFinished);
    return m_reply;
}

void UpstreamStream::abort()
{
    if (isFinished()) {
        releaseReply();
        return;
    }
    fail(LlmError::Aborted, u"aborted"_s, u"The request was cancelled."_s);
}

void UpstreamStream::onReplyMetaData()
{
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 0)
        m_httpStatus = 0;
    else
        onHead(status, m_reply->rawHeader("Content-Type"),
               m_reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString());
}

void UpstreamStream::exchangeHead(const HttpExchange::Head &head)
{
    onHead(head.status, head.value("content-type"), QString::fromLatin1(head.reason));
}

void UpstreamStream::onHead(int status, const QByteArray &contentType, const QString &reason)
{
    m_httpStatus = status;
    m_contentType = contentType;
    m_reason = isSuccess(status) ? QString() : reason;
    // A server that ignores `stream: true` answers one JSON object; take that too.
    const QByteArray type = contentType.toLower();
    m_jsonMode = isSuccess(status) && type.contains("json") && !type.contains("ndjson") &&
                 !type.contains("event-stream");
    if (!m_headersSeen) {
        m_headersSeen = true;
        m_lastByte.start();
        if (!isFinished()) {
            if (m_stallTimeoutMs > 0)
                armTimer(m_stallTimeoutMs);
            else
                m_timer.stop();
        }
    }
}

void UpstreamStream::onReplyReadyRead()
{
    if (!m_headersSeen)
        onReplyMetaData();
    exchangeBody(m_reply->readAll());
}

void UpstreamStream::exchangeBody(QByteArrayView bytes)
{
    m_lastByte.start();      // the stall timer checks this instead of being restarted per read
    const OutputBatch batch; // the events of this read leave together
    consume(bytes);
}

void UpstreamStream::consume(QByteArrayView bytes)
{
    if (bytes.isEmpty() || isFinished())
        return;
    if (!isSuccess(m_httpStatus) || m_jsonMode) {
        const qsizetype max = m_jsonMode ? MaxJsonBody : MaxErrorBody;
        if (m_body.size() < max)
            m_body.append(bytes.first(qMin(bytes.size(), max - m_body.size())));
        return;
    }
    if (m_framing == Framing::Sse) {
        const QList<SseEvent> events = m_parser.feed(bytes);
        for (const SseEvent &event : events) {
            handleEvent(event);
            if (isFinished()) // the end, an in-band error, or abort() from a delta handler
                return;
        }
        return;
    }
    // Lines: only whole lines are decoded, so a character split between two reads stays whole.
    qsizetype from = 0;
    for (;;) {
        const qsizetype eol = bytes.indexOf('\n', from);
        if (eol < 0)
            break;
        QByteArrayView line(bytes.data() + from, eol - from);
        if (!m_line.isEmpty()) {
            m_line.append(line);
            line = m_line;
        }
        if (!line.trimmed().isEmpty())
            handleLine(line);
        m_line.clear();
        from = eol + 1;
        if (isFinished())
            return;
    }
    if (from < bytes.size()) {
        if (m_line.size() + bytes.size() - from > MaxLine) {
            fail(LlmError::Protocol, u"upstream_protocol"_s, u"The upstream sent a line over 16 MiB."_s);
            return;
        }
        m_line.append(bytes.data() + from, bytes.size() - from);
    }
}

void UpstreamStream::handleEvent(const SseEvent &event)
{
    Q_UNUSED(event)
}

void UpstreamStream::handleLine(QByteArrayView line)
{
    Q_UNUSED(line)
}

void UpstreamStream::onReplyFinished()
{
    if (isFinished()) {
        releaseReply();
        return;
    }
    onReplyMetaData(); // the final status, after any redirect
    const OutputBatch batch;
    consume(m_reply->readAll());
    if (!isFinished())
        onEnd(m_reply->error(), m_reply->errorString());
}

void UpstreamStream::exchangeEnd(QNetworkReply::NetworkError error, const QString &message)
{
    if (isFinished()) {
        releaseReply();
        return;
    }
    const OutputBatch batch;
    onEnd(error, message);
}

void UpstreamStream::onEnd(QNetworkReply::NetworkError error, const QString &errorText)
{
    m_timer.stop();
    if (m_httpStatus != 0 && !isSuccess(m_httpStatus)) {
        QString message = redacted(errorMessage(m_body)); // some echo the key they got
        if (message.isEmpty())
            message = m_reason;
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
        const QByteArray body = m_body;
        m_body.clear();
        handleJsonBody(body);
        return;
    }
    endOfBody(error != QNetworkReply::NoError);
}

void UpstreamStream::endOfBody(bool error)
{
    if (m_framing == Framing::Sse) {
        const QList<SseEvent> events = m_parser.flush();
        for (const SseEvent &event : events) {
            handleEvent(event);
            if (isFinished())
                return;
        }
    } else if (!m_line.trimmed().isEmpty()) {
        const QByteArray line = std::exchange(m_line, {});
        handleLine(line);
        if (isFinished())
            return;
    }
    if (!m_finishReason.isEmpty()) { // complete, only the protocol's end marker missing
        finish();
    } else if (m_sawChunk || error) {
        qCWarning(lcLlm) << "upstream stream ended before it was complete";
        fail(LlmError::Network, u"upstream_disconnected"_s,
             u"The upstream connection closed before the reply was complete."_s);
    } else {
        const QString type = QString::fromLatin1(m_contentType);
        qCWarning(lcLlm) << "upstream sent no completion events, content type" << type;
        fail(LlmError::Protocol, u"upstream_protocol"_s,
             u"The upstream did not answer with a chat completion stream (content type \"%1\")."_s.arg(type));
    }
}

void UpstreamStream::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId())
        return LlmStream::timerEvent(event);
    m_timer.stop();
    onTimer();
}

void UpstreamStream::onTimer()
{
    if (isFinished()) { // finished at the end marker but the server keeps the response open
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
        armTimer(int(m_stallTimeoutMs - idle));
        return;
    }
    if (!m_finishReason.isEmpty()) { // only usage or the end marker missing: the reply is complete
        finish();
        return;
    }
    qCWarning(lcLlm) << "upstream stalled for" << idle << "ms";
    fail(LlmError::Timeout, u"upstream_timeout"_s,
         u"The upstream sent nothing for %1 s."_s.arg(m_stallTimeoutMs / 1000.0));
}

void UpstreamStream::setUsage(int promptTokens, int completionTokens, int reasoningTokens)
{
    m_promptTokens = promptTokens;
    m_completionTokens = completionTokens;
    if (reasoningTokens >= 0)
        m_reasoningTokens = reasoningTokens;
    m_hasUsage = true;
}

void UpstreamStream::finish()
{
    if (isFinished())
        return;
    if (m_skipped > MaxSkipWarnings)
        qCWarning(lcLlm) << "skipped" << m_skipped << "malformed stream lines in total";
    LlmCompletion completion;
    completion.finishReason = m_finishReason;
    completion.model = m_model.isEmpty() ? m_requestModel : m_model;
    if (m_hasUsage) {
        completion.promptTokens = m_promptTokens;
        completion.completionTokens = m_completionTokens;
        completion.reasoningTokens = m_reasoningTokens;
    } else {
        completion.promptTokens = m_promptEstimate;
        completion.completionTokens = estimatedCompletionTokens();
        completion.usageEstimated = true;
    }
    completeCompletion(completion);
    // Keep a reply that is still open (answer complete at its end marker) until it ends by itself,
    // so a keep-alive connection stays reusable; the stall timer reaps one that never ends.
    if (requestRunning() && m_stallTimeoutMs > 0) {
        armTimer(m_stallTimeoutMs);
    } else {
        m_timer.stop();
        releaseReply();
    }
    emitFinished(completion);
}

void UpstreamStream::fail(LlmError::Kind kind, const QString &code, const QString &message, int httpStatus)
{
    m_timer.stop();
    releaseReply(); // aborts a running reply: the upstream sees the connection close and stops
    emitFailed(LlmError{kind, httpStatus, code, message});
}

void UpstreamStream::failInBand(const QString &message)
{
    // Some providers report failures in-band after a 200 (overload, moderation).
    fail(LlmError::Protocol, u"upstream_error"_s, redacted(message));
}

void UpstreamStream::failLater(LlmError::Kind kind, const QString &code, const QString &message)
{
    // startChat() returns before anyone could connect to our signals.
    QMetaObject::invokeMethod(
        this, [this, kind, code, message] { fail(kind, code, message); }, Qt::QueuedConnection);
}

bool UpstreamStream::requestRunning() const
{
    return (m_reply && m_reply->isRunning()) || (m_exchange && m_exchange->isRunning());
}

void UpstreamStream::releaseReply()
{
    if (HttpExchange *exchange = std::exchange(m_exchange, nullptr)) {
        exchange->cancel(); // closes a running exchange's connection, so the upstream stops generating
        exchange->deleteLater();
    }
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    reply->disconnect(this);
    if (reply->isRunning())
        reply->abort(); // closes the TCP connection, so the upstream stops generating
    reply->deleteLater();
}

void UpstreamStream::skip(const char *what, const QString &data)
{
    if (++m_skipped <= MaxSkipWarnings)
        qCWarning(lcLlm) << "skipping" << what << redacted(truncated(data, 200));
}

QString UpstreamStream::redacted(QString text) const
{
    if (!m_apiKey.isEmpty())
        text.replace(m_apiKey, u"***"_s);
    return text;
}
