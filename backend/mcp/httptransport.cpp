#include "httptransport.h"

#include "core/logging.h"
#include "llm/sseparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <memory>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 maxBodyBytes = 32 * 1024 * 1024;
}

HttpTransport::HttpTransport(const QString &serverName, const QUrl &url,
                             const QList<QPair<QByteArray, QByteArray>> &headers,
                             QNetworkAccessManager *network, QObject *parent)
    : McpTransport(parent), m_name(serverName), m_url(url), m_headers(headers), m_network(network)
{
    m_relisten.setSingleShot(true);
    m_relisten.setInterval(1000);
    connect(&m_relisten, &QTimer::timeout, this, &HttpTransport::openListener);
}

HttpTransport::~HttpTransport()
{
    for (const QPointer<QNetworkReply> &reply : std::as_const(m_inFlight)) {
        if (reply) {
            reply->disconnect(this);
            reply->abort();
            reply->deleteLater();
        }
    }
    if (m_listener) {
        m_listener->disconnect(this);
        m_listener->abort();
        m_listener->deleteLater();
    }
}

void HttpTransport::open()
{
    m_closed = false;
    m_sessionId.clear();
    m_protocolVersion.clear();
    if (!m_url.isValid() || (m_url.scheme() != "http"_L1 && m_url.scheme() != "https"_L1) || !m_network) {
        QMetaObject::invokeMethod(
            this,
            [this] {
                Q_EMIT failed(u"The server URL is not an http(s) URL: %1"_s.arg(m_url.toDisplayString()));
            },
            Qt::QueuedConnection);
        return;
    }
    QMetaObject::invokeMethod(this, &HttpTransport::opened, Qt::QueuedConnection);
}

QNetworkRequest HttpTransport::request(bool stream) const
{
    QNetworkRequest request(m_url);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setRawHeader("Accept", stream ? "text/event-stream" : "application/json, text/event-stream");
    if (!stream)
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!m_sessionId.isEmpty())
        request.setRawHeader("Mcp-Session-Id", m_sessionId);
    if (!m_protocolVersion.isEmpty())
        request.setRawHeader("MCP-Protocol-Version", m_protocolVersion);
    for (const auto &[name, value] : m_headers)
        request.setRawHeader(name, value);
    return request;
}

void HttpTransport::send(const QJsonObject &message)
{
    if (m_closed || !m_network)
        return;
    const QJsonValue requestId = message.contains("method"_L1) ? message.value("id"_L1) : QJsonValue();
    QNetworkReply *reply =
        m_network->post(request(false), QJsonDocument(message).toJson(QJsonDocument::Compact));
    m_inFlight.append(reply);
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, reply] {
        const QByteArray session = reply->rawHeader("Mcp-Session-Id");
        if (!session.isEmpty())
            m_sessionId = session;
    });
    connect(reply, &QNetworkReply::readyRead, this, [this, reply] {
        if (reply->header(QNetworkRequest::ContentTypeHeader).toString().contains("event-stream"_L1))
            readEvents(reply);
    });
    connect(reply, &QNetworkReply::finished, this,
            [this, reply, requestId] { onReplyFinished(reply, requestId); });
}

void HttpTransport::readEvents(QNetworkReply *reply)
{
    std::shared_ptr<SseParser> &parser = m_parsers[reply];
    if (!parser) {
        parser = std::make_shared<SseParser>();
        connect(reply, &QObject::destroyed, this, [this, reply] { m_parsers.remove(reply); });
    }
    const QList<SseEvent> events = parser->feed(reply->readAll());
    for (const SseEvent &event : events) {
        if (!event.data.isEmpty())
            deliver(event.data);
    }
}

void HttpTransport::onReplyFinished(QNetworkReply *reply, const QJsonValue &requestId)
{
    m_inFlight.removeAll(reply);
    reply->deleteLater();
    if (m_closed)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QString type = reply->header(QNetworkRequest::ContentTypeHeader).toString();
    if (status >= 200 && status < 300) {
        if (type.contains("event-stream"_L1)) {
            readEvents(reply);
            if (const std::shared_ptr<SseParser> parser = m_parsers.value(reply)) {
                const QList<SseEvent> rest = parser->flush();
                for (const SseEvent &event : rest)
                    deliver(event.data);
            }
        } else {
            const QByteArray body = reply->read(maxBodyBytes);
            if (!body.trimmed().isEmpty())
                deliver(body);
        }
        return;
    }
    if (status == 404 && !m_sessionId.isEmpty()) {
        // The server forgot our session (it restarted): start again.
        qCWarning(lcMcp) << "MCP server" << m_name << "no longer knows the session";
        Q_EMIT failed(u"The server ended the session"_s);
        return;
    }
    const QString why = status > 0
                            ? u"HTTP %1 %2"_s.arg(status).arg(QString::fromUtf8(reply->read(300)).trimmed())
                            : reply->errorString();
    if (!requestId.isUndefined() && !requestId.isNull())
        answerWithError(requestId, why);
    else
        qCWarning(lcMcp).noquote() << "MCP server" << m_name << "refused a notification:" << why;
}

void HttpTransport::deliver(const QByteArray &json)
{
    const QJsonDocument doc = SseParser::json(json); // bytes that are no UTF-8 read as U+FFFD
    if (doc.isObject()) {
        Q_EMIT message(doc.object());
    } else if (doc.isArray()) { // a batch
        const QJsonArray batch = doc.array();
        for (const QJsonValue &v : batch)
            Q_EMIT message(v.toObject());
    } else {
        qCWarning(lcMcp).noquote() << "MCP server" << m_name
                                   << "sent what is not JSON-RPC:" << QString::fromUtf8(json.left(200));
    }
}

void HttpTransport::answerWithError(const QJsonValue &requestId, const QString &message)
{
    Q_EMIT this->message(
        QJsonObject{{u"jsonrpc"_s, u"2.0"_s},
                    {u"id"_s, requestId},
                    {u"error"_s, QJsonObject{{u"code"_s, -32000}, {u"message"_s, message}}}});
}

void HttpTransport::setNegotiated(const QString &protocolVersion)
{
    m_protocolVersion = protocolVersion.toLatin1();
    m_listen = true;
    openListener();
}

void HttpTransport::openListener()
{
    if (m_closed || !m_listen || m_listener || !m_network)
        return;
    QNetworkReply *reply = m_network->get(request(true));
    m_listener = reply;
    connect(reply, &QNetworkReply::readyRead, this, [this, reply] { readEvents(reply); });
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        m_listener = nullptr;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 405 || status == 404 || status == 400) {
            m_listen = false; // the server sends nothing on its own
            return;
        }
        if (!m_closed)
            m_relisten.start();
    });
}

void HttpTransport::close()
{
    if (m_closed)
        return;
    m_closed = true;
    m_relisten.stop();
    const auto inFlight = m_inFlight;
    m_inFlight.clear();
    for (const QPointer<QNetworkReply> &reply : inFlight) {
        if (reply) {
            reply->disconnect(this);
            reply->abort();
            reply->deleteLater();
        }
    }
    if (m_listener) {
        m_listener->disconnect(this);
        m_listener->abort();
        m_listener->deleteLater();
    }
    if (!m_sessionId.isEmpty() && m_network) {
        // The spec's polite end of a session; nobody waits for the answer.
        QNetworkReply *bye = m_network->deleteResource(request(false));
        connect(bye, &QNetworkReply::finished, bye, &QObject::deleteLater);
    }
    QMetaObject::invokeMethod(this, &HttpTransport::closed, Qt::QueuedConnection);
}
