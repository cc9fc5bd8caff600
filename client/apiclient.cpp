#include "apiclient.h"

#include "chatstream.h"
#include "filenetworkfactory.h"
#include "logging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>

using namespace Qt::StringLiterals;

ApiClient::ApiClient(QObject *parent) : QObject(parent)
{
    m_healthTimer.setSingleShot(true);
    connect(&m_healthTimer, &QTimer::timeout, this, &ApiClient::checkHealthNow);
}

ApiClient::~ApiClient() = default;

void ApiClient::setServer(const QUrl &baseUrl, const QString &token)
{
    m_baseUrl = baseUrl;
    // The base may carry a path prefix (a reverse proxy); the API paths go after it.
    QString path = m_baseUrl.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    m_baseUrl.setPath(path);
    m_token = token;
    if (m_files)
        m_files->setServer(m_baseUrl, m_token);
}

void ApiClient::setFileNetworkFactory(FileNetworkFactory *factory)
{
    m_files = factory;
    if (m_files)
        m_files->setServer(m_baseUrl, m_token);
}

void ApiClient::setHealthIntervals(int onlineMs, int offlineMs)
{
    m_healthOnlineMs = onlineMs;
    m_healthOfflineMs = offlineMs;
    if (m_healthRunning)
        scheduleHealth();
}

void ApiClient::startHealthChecks()
{
    m_healthRunning = true;
    scheduleHealth();
}

void ApiClient::scheduleHealth()
{
    if (!m_healthRunning)
        return;
    m_healthTimer.start(m_online ? m_healthOnlineMs : m_healthOfflineMs);
}

void ApiClient::checkHealthNow()
{
    if (m_healthInFlight)
        return;
    m_healthInFlight = true;
    QNetworkRequest req = request(u"/api/health"_s);
    req.setTransferTimeout(qMin(m_requestTimeoutMs, 5000));
    QNetworkReply *reply = m_healthNam.get(req);
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        m_healthInFlight = false;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
        if (status == 200 && body.value("status"_L1).toString() == "ok"_L1) {
            const bool wasOffline = !m_online;
            setOnline(true);
            if (wasOffline) {
                qCInfo(lcClient) << "server reachable again";
                Q_EMIT reconnected();
            }
        } else if (status == 0) {
            setOnline(false, reply->errorString());
        } else {
            setOnline(false, tr("The server answered HTTP %1 to a health check.").arg(status));
        }
        scheduleHealth();
    });
}

void ApiClient::markOffline(const QString &reason)
{
    setOnline(false, reason);
    scheduleHealth();
}

void ApiClient::setOnline(bool online, const QString &reason)
{
    if (online == m_online && (online || reason == m_offlineReason))
        return;
    const bool changed = online != m_online;
    m_online = online;
    m_offlineReason = online ? QString() : reason;
    if (changed)
        qCInfo(lcClient).noquote() << (online ? u"server online"_s
                                              : u"server unreachable: "_s + m_offlineReason);
    Q_EMIT onlineChanged();
    if (changed && m_healthRunning)
        scheduleHealth();
}

bool ApiClient::isUnreachableError(int networkError)
{
    switch (networkError) {
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::HostNotFoundError:
    case QNetworkReply::TimeoutError:
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::UnknownNetworkError:
        return true;
    default:
        return false;
    }
}

QNetworkRequest ApiClient::request(const QString &path, const QUrlQuery &query) const
{
    QUrl url = m_baseUrl;
    url.setPath(m_baseUrl.path() + path);
    if (!query.isEmpty())
        url.setQuery(query);
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::UserAgentHeader, u"AgentDesk-Desktop/0.1"_s);
    req.setRawHeader("Accept", "application/json");
    if (!m_token.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    return req;
}

void ApiClient::send(const QByteArray &verb, const QString &path, const QUrlQuery &query,
                     const QByteArray &body, QObject *context, Handler handler, int timeoutMs)
{
    QNetworkRequest req = request(path, query);
    req.setTransferTimeout(timeoutMs > 0 ? timeoutMs : m_requestTimeoutMs);
    if (!body.isNull())
        req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    sendRequest(m_nam.sendCustomRequest(req, verb, body), verb, path, context, std::move(handler));
}

void ApiClient::sendRequest(QNetworkReply *reply, const QByteArray &verb, const QString &path,
                            QObject *context, Handler handler)
{
    QPointer<QObject> ctx(context);
    const bool hadContext = context != nullptr;
    connect(reply, &QNetworkReply::finished, this, [this, reply, ctx, hadContext, handler, verb, path] {
        reply->deleteLater();
        ApiResult r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray data = reply->readAll();
        r.body = data;
        if (r.status == 0) {
            r.code =
                reply->error() == QNetworkReply::OperationCanceledError ? u"timeout"_s : u"network_error"_s;
            r.message = reply->errorString();
            r.offline =
                isUnreachableError(reply->error()) || reply->error() == QNetworkReply::OperationCanceledError;
            if (r.offline)
                markOffline(r.message);
        } else {
            if (!m_online)
                setOnline(true); // it answered: reachable again (health polling confirms)
            QJsonParseError pe;
            const QJsonDocument doc = QJsonDocument::fromJson(data, &pe);
            if (doc.isObject())
                r.json = doc.object();
            if (r.status < 200 || r.status >= 300) {
                const QJsonObject err = r.json.value("error"_L1).toObject();
                r.code = err.value("code"_L1).toString();
                r.message = err.value("message"_L1).toString();
                if (r.code.isEmpty())
                    r.code = u"http_%1"_s.arg(r.status);
                if (r.message.isEmpty())
                    r.message = tr("The server answered HTTP %1.").arg(r.status);
                if (r.status == 401)
                    Q_EMIT unauthorized();
            } else if (!data.isEmpty() && pe.error != QJsonParseError::NoError &&
                       reply->header(QNetworkRequest::ContentTypeHeader)
                           .toString()
                           .startsWith("application/json"_L1)) {
                r.code = u"invalid_response"_s;
                r.message = tr("The server's answer is not valid JSON.");
            }
        }
        if (!r.ok())
            qCInfo(lcClient).noquote() << verb << path << "->" << r.status << r.code;
        if (handler && (!hadContext || ctx))
            handler(r);
    });
}

static QByteArray jsonBytes(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

void ApiClient::get(const QString &path, const QUrlQuery &query, QObject *context, Handler handler)
{
    send("GET", path, query, QByteArray(), context, std::move(handler));
}

void ApiClient::postBytes(const QString &path, const QUrlQuery &query, const QByteArray &body,
                          QObject *context, Handler handler, int timeoutMs)
{
    send("POST", path, query, body, context, std::move(handler), timeoutMs);
}

void ApiClient::post(const QString &path, const QJsonObject &body, QObject *context, Handler handler)
{
    send("POST", path, {}, jsonBytes(body), context, std::move(handler));
}

void ApiClient::put(const QString &path, const QJsonObject &body, QObject *context, Handler handler)
{
    send("PUT", path, {}, jsonBytes(body), context, std::move(handler));
}

void ApiClient::patch(const QString &path, const QJsonObject &body, QObject *context, Handler handler)
{
    send("PATCH", path, {}, jsonBytes(body), context, std::move(handler));
}

void ApiClient::del(const QString &path, QObject *context, Handler handler)
{
    send("DELETE", path, {}, QByteArray(), context, std::move(handler));
}

static QString enc(const QString &segment)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(segment));
}

void ApiClient::listAgents(QObject *context, Handler handler)
{
    get(u"/api/agents"_s, {}, context, std::move(handler));
}

void ApiClient::createAgent(const QJsonObject &agent, QObject *context, Handler handler)
{
    post(u"/api/agents"_s, agent, context, std::move(handler));
}

void ApiClient::updateAgent(const QString &id, const QJsonObject &agent, QObject *context, Handler handler)
{
    put(u"/api/agents/"_s + enc(id), agent, context, std::move(handler));
}

void ApiClient::deleteAgent(const QString &id, QObject *context, Handler handler)
{
    del(u"/api/agents/"_s + enc(id), context, std::move(handler));
}

void ApiClient::listSessions(const QString &agentId, const QString &query, const QString &origin,
                             QObject *context, Handler handler)
{
    QUrlQuery q;
    if (!origin.isEmpty())
        q.addQueryItem(u"origin"_s, origin);
    if (!agentId.isEmpty())
        q.addQueryItem(u"agent_id"_s, agentId);
    if (!query.isEmpty())
        q.addQueryItem(u"q"_s, enc(query));
    get(u"/api/sessions"_s, q, context, std::move(handler));
}

void ApiClient::renameSession(const QString &id, const QString &title, QObject *context, Handler handler)
{
    patch(u"/api/sessions/"_s + enc(id), QJsonObject{{u"title"_s, title}}, context, std::move(handler));
}

void ApiClient::pinSession(const QString &id, bool pinned, QObject *context, Handler handler)
{
    patch(u"/api/sessions/"_s + enc(id), QJsonObject{{u"pinned"_s, pinned}}, context, std::move(handler));
}

void ApiClient::deleteSession(const QString &id, QObject *context, Handler handler)
{
    del(u"/api/sessions/"_s + enc(id), context, std::move(handler));
}

void ApiClient::switchBranch(const QString &sessionId, const QString &messageId, QObject *context,
                             Handler handler)
{
    post(u"/api/sessions/"_s + enc(sessionId) + u"/branch"_s, QJsonObject{{u"message_id"_s, messageId}},
         context, std::move(handler));
}

void ApiClient::forkSession(const QString &sessionId, const QString &messageId, const QString &title,
                            QObject *context, Handler handler)
{
    post(u"/api/sessions/"_s + enc(sessionId) + u"/fork"_s,
         QJsonObject{{u"message_id"_s, messageId}, {u"title"_s, title}}, context, std::move(handler));
}

void ApiClient::listMessages(const QString &sessionId, QObject *context, Handler handler)
{
    get(u"/api/sessions/"_s + enc(sessionId) + u"/messages"_s, {}, context, std::move(handler));
}

void ApiClient::cancel(const QString &sessionId, QObject *context, Handler handler)
{
    post(u"/api/sessions/"_s + enc(sessionId) + u"/cancel"_s, {}, context, std::move(handler));
}

void ApiClient::cancelReply(const QString &replyId, QObject *context, Handler handler)
{
    post(u"/api/replies/"_s + enc(replyId) + u"/cancel"_s, {}, context, std::move(handler));
}

void ApiClient::listProviders(QObject *context, Handler handler)
{
    get(u"/api/providers"_s, {}, context, std::move(handler));
}

void ApiClient::putProvider(const QString &name, const QJsonObject &provider, QObject *context,
                            Handler handler)
{
    put(u"/api/providers/"_s + enc(name), provider, context, std::move(handler));
}

void ApiClient::deleteProvider(const QString &name, QObject *context, Handler handler)
{
    del(u"/api/providers/"_s + enc(name), context, std::move(handler));
}

void ApiClient::testProvider(const QString &name, QObject *context, Handler handler)
{
    // A real model round trip can take a while: wait longer than for bookkeeping calls.
    send("POST", u"/api/providers/"_s + enc(name) + u"/test"_s, {}, jsonBytes({}), context,
         std::move(handler), qMax(m_requestTimeoutMs, 60000));
}

void ApiClient::listMcpServers(QObject *context, Handler handler)
{
    get(u"/api/mcp/servers"_s, {}, context, std::move(handler));
}

void ApiClient::putMcpServer(const QString &name, const QJsonObject &server, QObject *context,
                             Handler handler)
{
    // The server answers once the MCP server connected or failed, after up to 15 s.
    send("PUT", u"/api/mcp/servers/"_s + enc(name), {}, jsonBytes(server), context, std::move(handler),
         qMax(m_requestTimeoutMs, 30000));
}

void ApiClient::deleteMcpServer(const QString &name, QObject *context, Handler handler)
{
    del(u"/api/mcp/servers/"_s + enc(name), context, std::move(handler));
}

void ApiClient::decideToolCall(const QString &replyId, const QString &toolCallId, const QString &decision,
                               QObject *context, Handler handler)
{
    post(u"/api/replies/"_s + enc(replyId) + u"/tool-calls/"_s + enc(toolCallId),
         QJsonObject{{u"decision"_s, decision}}, context, std::move(handler));
}

QUrl ApiClient::fileUrl(const QString &path) const
{
    if (!path.startsWith(u"/api/"_s))
        return {};
    QUrl url = m_baseUrl;
    url.setPath(m_baseUrl.path() + path);
    return url;
}

void ApiClient::health(QObject *context, Handler handler)
{
    send("GET", u"/api/health"_s, {}, QByteArray(), context, std::move(handler), 5000);
}

ChatStream *ApiClient::chatStream(const QString &agentId, const QString &message, const QString &sessionId,
                                  const QString &idempotencyKey, QObject *parent, const TurnOptions &options)
{
    QNetworkRequest req = request(u"/api/agents/"_s + enc(agentId) + u"/chat/stream"_s);
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    req.setRawHeader("Accept", "text/event-stream");
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    if (!idempotencyKey.isEmpty())
        req.setRawHeader("Idempotency-Key", idempotencyKey.toLatin1());
    // No transfer timeout: a long reply is fine; ChatStream times out on silence instead.
    QJsonObject body{{u"message"_s, message}, {u"stream"_s, true}};
    if (!sessionId.isEmpty())
        body.insert(u"session_id"_s, sessionId);
    if (!options.attachments.isEmpty())
        body.insert(u"attachments"_s, QJsonArray::fromStringList(options.attachments));
    if (options.model)
        body.insert(u"model"_s,
                    options.model->isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(*options.model));
    return watch(m_nam.post(req, jsonBytes(body)), parent);
}

void ApiClient::uploadFile(const QByteArray &bytes, const QString &name, const QString &mediaType,
                           QObject *context, Handler handler)
{
    QNetworkRequest req = request(u"/api/files"_s);
    req.setTransferTimeout(120000); // a large file on a slow link
    req.setHeader(QNetworkRequest::ContentTypeHeader,
                  mediaType.isEmpty() ? u"application/octet-stream"_s : mediaType);
    req.setRawHeader("X-File-Name", QUrl::toPercentEncoding(name));
    sendRequest(m_nam.post(req, bytes), "POST", u"/api/files"_s, context, std::move(handler));
}

void ApiClient::providerModels(const QString &provider, QObject *context, Handler handler)
{
    get(u"/api/providers/"_s + enc(provider) + u"/models"_s, {}, context, std::move(handler));
}

void ApiClient::setSessionModel(const QString &sessionId, const QString &model, QObject *context,
                                Handler handler)
{
    patch(u"/api/sessions/"_s + enc(sessionId),
          {{u"model"_s, model.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(model)}}, context,
          std::move(handler));
}

ChatStream *ApiClient::versionStream(const QString &messageId, const QString &text,
                                     const QString &idempotencyKey, QObject *parent)
{
    QNetworkRequest req =
        request(u"/api/messages/"_s + enc(messageId) + (text.isEmpty() ? u"/regenerate"_s : u"/edit"_s));
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    req.setRawHeader("Accept", "text/event-stream");
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    if (!idempotencyKey.isEmpty())
        req.setRawHeader("Idempotency-Key", idempotencyKey.toLatin1());
    const QJsonObject body = text.isEmpty() ? QJsonObject{} : QJsonObject{{u"message"_s, text}};
    return watch(m_nam.post(req, jsonBytes(body)), parent);
}

ChatStream *ApiClient::replyStream(const QString &replyId, const QByteArray &lastEventId, QObject *parent)
{
    QNetworkRequest req = request(u"/api/replies/"_s + enc(replyId) + u"/stream"_s);
    req.setRawHeader("Accept", "text/event-stream");
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    if (!lastEventId.isEmpty())
        req.setRawHeader("Last-Event-ID", lastEventId);
    return watch(m_nam.get(req), parent);
}

ChatStream *ApiClient::watch(QNetworkReply *reply, QObject *parent)
{
    auto *stream = new ChatStream(reply, m_stallTimeoutMs, parent);
    connect(stream, &ChatStream::failed, this, [this](const QString &, const QString &msg, bool offline) {
        if (offline)
            markOffline(msg);
    });
    connect(stream, &ChatStream::chunkReceived, this, [this] {
        if (!m_online)
            setOnline(true);
    });
    return stream;
}
