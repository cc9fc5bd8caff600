#include "mcpclient.h"

#include "core/logging.h"
#include "httptransport.h"
#include "stdiotransport.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>

using namespace Qt::StringLiterals;

namespace {

QString functionName(const QString &server, const QString &tool)
{
    // OpenAI's function names: [a-zA-Z0-9_-]{1,64}.
    QString name = server + u"__"_s + tool;
    for (QChar &c : name) {
        if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != u'_' && c != u'-')
            c = u'_';
    }
    return name.left(64);
}

QJsonArray errorContent(const QString &text)
{
    return {QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text}}};
}

} // namespace

// A tools/call in flight, with its progress token and its time-out (pushed back by progress, up
// to ten times the configured one in all).
class McpClient::Call : public ToolCallJob
{
public:
    Call(McpClient *client, QObject *parent) : ToolCallJob(parent), m_client(client)
    {
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const int seconds = m_client ? m_client->m_config.timeoutMs / 1000 : 0;
            end(true, u"The tool did not answer within %1 s (and said no progress)."_s.arg(seconds),
                u"timed out"_s);
        });
    }

    void begin(const QString &token, qint64 id, int timeoutMs)
    {
        m_token = token;
        m_id = id;
        m_timeoutMs = timeoutMs;
        m_clock.start();
        if (timeoutMs > 0)
            m_timer.start(timeoutMs);
    }

    void cancel() override
    {
        if (m_done)
            return;
        m_done = true;
        m_timer.stop();
        tellServer(u"cancelled by the user"_s);
    }

    void onProgress(const QJsonObject &params)
    {
        if (m_done)
            return;
        if (m_timeoutMs > 0 && m_clock.elapsed() < qint64(m_timeoutMs) * 10)
            m_timer.start(m_timeoutMs);
        Q_EMIT progress(params.value("progress"_L1).toDouble(), params.value("total"_L1).toDouble(),
                        params.value("message"_L1).toString());
    }

    void onResponse(const QJsonObject &response)
    {
        if (m_done)
            return;
        m_done = true;
        m_timer.stop();
        forget();
        ToolOutcome outcome;
        if (response.contains("error"_L1)) {
            const QJsonObject error = response.value("error"_L1).toObject();
            outcome.isError = true;
            outcome.content = errorContent(
                u"MCP error %1: %2"_s.arg(error.value("code"_L1).toInt()).arg(error.value("message"_L1).toString()));
        } else {
            const QJsonObject result = response.value("result"_L1).toObject();
            outcome.isError = result.value("isError"_L1).toBool();
            outcome.content = result.value("content"_L1).toArray();
            if (outcome.content.isEmpty() && result.contains("structuredContent"_L1))
                outcome.content = errorContent(QString::fromUtf8(
                    QJsonDocument(result.value("structuredContent"_L1).toObject()).toJson(QJsonDocument::Compact)));
        }
        Q_EMIT finished(outcome);
    }

    // The connection went away, a time-out: an error result the model sees.
    void end(bool tell, const QString &text, const QString &reason = {})
    {
        if (m_done)
            return;
        m_done = true;
        m_timer.stop();
        if (tell)
            tellServer(reason);
        else
            forget();
        ToolOutcome outcome;
        outcome.isError = true;
        outcome.content = errorContent(text);
        Q_EMIT finished(outcome);
    }

private:
    void tellServer(const QString &reason)
    {
        if (!m_client)
            return;
        m_client->notify(u"notifications/cancelled"_s, {{u"requestId"_s, m_id}, {u"reason"_s, reason}});
        forget();
    }
    void forget()
    {
        if (!m_client)
            return;
        m_client->m_pending.remove(m_id);
        m_client->m_calls.remove(m_token);
    }

    QPointer<McpClient> m_client;
    QString m_token;
    qint64 m_id = 0;
    int m_timeoutMs = 0;
    QElapsedTimer m_clock;
    QTimer m_timer;
    bool m_done = false;
};

const QStringList &McpClient::supportedProtocolVersions()
{
    static const QStringList versions{u"2025-06-18"_s, u"2025-03-26"_s};
    return versions;
}

McpClient::McpClient(const Config &config, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_config(config), m_network(network)
{
    m_restart.setSingleShot(true);
    connect(&m_restart, &QTimer::timeout, this, &McpClient::openTransport);
}

McpClient::~McpClient()
{
    m_wanted = false;
    failAll(u"AgentDesk is shutting down"_s);
}

QString McpClient::statusName() const
{
    switch (m_status) {
    case Status::Stopped:
        return u"stopped"_s;
    case Status::Connecting:
        return u"connecting"_s;
    case Status::Connected:
        return u"connected"_s;
    case Status::Error:
        return u"error"_s;
    }
    return u"error"_s;
}

void McpClient::start()
{
    m_wanted = true;
    m_failures = 0;
    openTransport();
}

void McpClient::stop()
{
    m_wanted = false;
    m_restart.stop();
    failAll(u"The server was stopped"_s);
    setStatus(Status::Stopped);
    if (!m_transport) {
        QMetaObject::invokeMethod(this, &McpClient::stopped, Qt::QueuedConnection);
        return;
    }
    m_transport->disconnect(this);
    connect(m_transport, &McpTransport::closed, this, &McpClient::stopped);
    m_transport->close();
}

QProcess *McpClient::process() const
{
    auto *stdio = qobject_cast<StdioTransport *>(m_transport);
    return stdio ? stdio->process() : nullptr;
}

void McpClient::setStatus(Status status, const QString &error)
{
    if (status == m_status && error == m_error)
        return;
    m_status = status;
    m_error = error;
    Q_EMIT statusChanged();
}

void McpClient::openTransport()
{
    if (!m_wanted)
        return;
    if (m_transport) {
        m_transport->disconnect(this);
        m_transport->deleteLater();
        m_transport = nullptr;
    }
    if (m_config.transport == "http"_L1) {
        m_transport = new HttpTransport(m_config.name, m_config.url, m_config.headers, m_network, this);
    } else {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (auto it = m_config.env.cbegin(); it != m_config.env.cend(); ++it)
            environment.insert(it.key(), it.value());
        m_transport = new StdioTransport(m_config.name, m_config.command, m_config.args, environment, this);
    }
    connect(m_transport, &McpTransport::opened, this, &McpClient::onOpened);
    connect(m_transport, &McpTransport::message, this, &McpClient::onMessage);
    connect(m_transport, &McpTransport::failed, this, &McpClient::onFailed);
    setStatus(Status::Connecting, m_error);
    m_transport->open();
}

void McpClient::onOpened()
{
    const QJsonObject params{
        {u"protocolVersion"_s, supportedProtocolVersions().first()},
        {u"capabilities"_s, QJsonObject{}},
        {u"clientInfo"_s,
         QJsonObject{{u"name"_s, u"AgentDesk"_s}, {u"version"_s, QCoreApplication::applicationVersion()}}},
    };
    request(
        u"initialize"_s, params,
        [this](const QJsonObject &response) {
            if (response.contains("error"_L1)) {
                onFailed(u"initialize failed: %1"_s.arg(
                    response.value("error"_L1).toObject().value("message"_L1).toString()));
                return;
            }
            const QJsonObject result = response.value("result"_L1).toObject();
            const QString version = result.value("protocolVersion"_L1).toString();
            if (!supportedProtocolVersions().contains(version)) {
                onFailed(u"The server speaks MCP %1; AgentDesk speaks %2"_s.arg(
                    version, supportedProtocolVersions().join(u", "_s)));
                return;
            }
            m_protocolVersion = version;
            m_serverInfoName = result.value("serverInfo"_L1).toObject().value("name"_L1).toString();
            notify(u"notifications/initialized"_s, {});
            m_transport->setNegotiated(version);
            listTools({}, {});
        },
        handshakeTimeoutMs);
}

void McpClient::listTools(const QString &cursor, QList<ToolInfo> collected)
{
    QJsonObject params;
    if (!cursor.isEmpty())
        params.insert(u"cursor"_s, cursor);
    m_listAgain = false;
    request(
        u"tools/list"_s, params,
        [this, collected](const QJsonObject &response) mutable {
            if (response.contains("error"_L1)) {
                onFailed(u"tools/list failed: %1"_s.arg(
                    response.value("error"_L1).toObject().value("message"_L1).toString()));
                return;
            }
            const QJsonObject result = response.value("result"_L1).toObject();
            const QJsonArray tools = result.value("tools"_L1).toArray();
            for (const QJsonValue &v : tools) {
                const QJsonObject t = v.toObject();
                ToolInfo info;
                info.server = m_config.name;
                info.name = t.value("name"_L1).toString();
                info.description = t.value("description"_L1).toString();
                if (info.description.isEmpty())
                    info.description = t.value("title"_L1).toString();
                info.inputSchema = t.value("inputSchema"_L1).toObject();
                info.function = functionName(info.server, info.name);
                if (!info.name.isEmpty())
                    collected.append(info);
            }
            const QString next = result.value("nextCursor"_L1).toString();
            if (!next.isEmpty() && collected.size() < 10000) {
                listTools(next, collected);
                return;
            }
            m_tools = collected;
            m_failures = 0;
            qCInfo(lcMcp).noquote() << "MCP server" << m_config.name << "connected (MCP" << m_protocolVersion
                                    << ") with" << m_tools.size() << "tools";
            setStatus(Status::Connected);
            Q_EMIT toolsChanged();
            if (m_listAgain)
                listTools({}, {});
        },
        handshakeTimeoutMs);
}

void McpClient::request(const QString &method, const QJsonObject &params, Handler handler, int timeoutMs,
                        qint64 *idOut)
{
    const qint64 id = m_nextId++;
    if (idOut)
        *idOut = id;
    Pending pending{method, std::move(handler), nullptr};
    if (timeoutMs > 0) {
        pending.timer = new QTimer(this);
        pending.timer->setSingleShot(true);
        connect(pending.timer, &QTimer::timeout, this, [this, id] { onRequestTimeout(id); });
        pending.timer->start(timeoutMs);
    }
    m_pending.insert(id, pending);
    QJsonObject message{{u"jsonrpc"_s, u"2.0"_s}, {u"id"_s, id}, {u"method"_s, method}};
    if (!params.isEmpty() || method != "tools/list"_L1)
        message.insert(u"params"_s, params);
    m_transport->send(message);
}

void McpClient::notify(const QString &method, const QJsonObject &params)
{
    if (!m_transport)
        return;
    QJsonObject message{{u"jsonrpc"_s, u"2.0"_s}, {u"method"_s, method}};
    if (!params.isEmpty())
        message.insert(u"params"_s, params);
    m_transport->send(message);
}

void McpClient::onRequestTimeout(qint64 id)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    const QString method = it->method;
    onFailed(u"%1 got no answer within %2 s"_s.arg(method).arg(handshakeTimeoutMs / 1000));
}

void McpClient::onMessage(const QJsonObject &message)
{
    const QString method = message.value("method"_L1).toString();
    const QJsonValue id = message.value("id"_L1);
    if (!method.isEmpty() && (id.isDouble() || id.isString())) {
        // A request of the server's: we offer no sampling, roots or elicitation; ping is answered.
        QJsonObject answer{{u"jsonrpc"_s, u"2.0"_s}, {u"id"_s, id}};
        if (method == "ping"_L1)
            answer.insert(u"result"_s, QJsonObject{});
        else
            answer.insert(u"error"_s, QJsonObject{{u"code"_s, -32601}, {u"message"_s, u"Method not found"_s}});
        m_transport->send(answer);
        return;
    }
    if (!method.isEmpty()) {
        const QJsonObject params = message.value("params"_L1).toObject();
        if (method == "notifications/progress"_L1) {
            const QJsonValue token = params.value("progressToken"_L1);
            const QString key = token.isString() ? token.toString() : QString::number(token.toInteger());
            if (Call *call = m_calls.value(key))
                call->onProgress(params);
        } else if (method == "notifications/tools/list_changed"_L1) {
            if (m_status == Status::Connected)
                listTools({}, {});
            else
                m_listAgain = true;
        } else if (method == "notifications/message"_L1) {
            qCInfo(lcMcp).noquote() << m_config.name + u":"_s << params.value("data"_L1).toVariant().toString();
        }
        return;
    }
    const auto it = m_pending.find(id.toInteger());
    if (it == m_pending.end())
        return; // a call that was cancelled or timed out
    Pending pending = *it;
    m_pending.erase(it);
    if (pending.timer)
        pending.timer->deleteLater();
    if (pending.handler)
        pending.handler(message);
}

void McpClient::onFailed(const QString &error)
{
    qCWarning(lcMcp).noquote() << "MCP server" << m_config.name << ":" << error;
    failAll(error);
    if (m_transport) {
        m_transport->disconnect(this);
        m_transport->close();
        m_transport->deleteLater();
        m_transport = nullptr;
    }
    setStatus(Status::Error, error);
    if (!m_wanted)
        return;
    const int delay = qMin(maxBackoffMs, 1000 << qMin(m_failures, 6));
    ++m_failures;
    m_restart.start(delay);
}

void McpClient::failAll(const QString &error)
{
    const auto calls = m_calls.values();
    m_calls.clear();
    for (const QPointer<Call> &call : calls) {
        if (call)
            call->end(false, u"The tool's server stopped: %1"_s.arg(error));
    }
    const auto pending = m_pending.values();
    m_pending.clear();
    for (const Pending &p : pending) {
        if (p.timer)
            p.timer->deleteLater();
    }
}

ToolCallJob *McpClient::callTool(const QString &tool, const QJsonObject &arguments, QObject *parent)
{
    auto *call = new Call(this, parent);
    if (m_status != Status::Connected || !m_transport) {
        const QString why = m_error.isEmpty() ? u"it is not connected"_s : m_error;
        QMetaObject::invokeMethod(
            call, [call, why, name = m_config.name] { call->end(false, u"The server %1 is unavailable: %2"_s.arg(name, why)); },
            Qt::QueuedConnection);
        return call;
    }
    const QString token = u"agentdesk-%1"_s.arg(m_nextId);
    qint64 id = 0;
    request(
        u"tools/call"_s,
        {{u"name"_s, tool}, {u"arguments"_s, arguments}, {u"_meta"_s, QJsonObject{{u"progressToken"_s, token}}}},
        [call = QPointer<Call>(call)](const QJsonObject &response) {
            if (call)
                call->onResponse(response);
        },
        0, &id);
    m_calls.insert(token, call);
    call->begin(token, id, m_config.timeoutMs);
    return call;
}
