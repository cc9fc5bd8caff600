#include "mcpregistry.h"

#include "config/secretstore.h"
#include "core/logging.h"
#include "llm/llmclient.h"
#include "stdiotransport.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>

using namespace Qt::StringLiterals;

namespace {

// A call to a server that is not there: an error result, from the event loop as a real one.
class UnavailableCall : public ToolCallJob
{
public:
    UnavailableCall(const QString &text, QObject *parent) : ToolCallJob(parent)
    {
        QMetaObject::invokeMethod(
            this,
            [this, text] {
                if (m_cancelled)
                    return;
                ToolOutcome outcome;
                outcome.isError = true;
                outcome.content = {QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text}}};
                Q_EMIT finished(outcome);
            },
            Qt::QueuedConnection);
    }
    void cancel() override { m_cancelled = true; }

private:
    bool m_cancelled = false;
};

QJsonObject toJson(const QHash<QString, QString> &map)
{
    QJsonObject object;
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        object.insert(it.key(), it.value());
    return object;
}

QHash<QString, QString> fromJson(const QJsonObject &object)
{
    QHash<QString, QString> map;
    for (auto it = object.begin(); it != object.end(); ++it)
        map.insert(it.key(), it.value().toString());
    return map;
}

} // namespace

McpRegistry::McpRegistry(Database &db, SecretStore *secrets, LlmClient &llm, QObject *parent)
    : QObject(parent), m_store(db), m_secrets(secrets), m_llm(llm)
{}

McpRegistry::~McpRegistry()
{
    // No event loop to wait in any more: the same three steps, waited for here, all servers at once.
    QList<QProcess *> processes;
    for (const auto &byName : std::as_const(m_clients)) {
        for (McpClient *client : byName) {
            if (QProcess *process = client->process(); process && process->state() != QProcess::NotRunning) {
                process->disconnect();
                process->closeWriteChannel();
                processes.append(process);
            }
        }
    }
    const auto waitAll = [&processes](int ms) {
        const QDeadlineTimer deadline(ms);
        for (QProcess *process : std::as_const(processes))
            process->waitForFinished(int(qMax<qint64>(0, deadline.remainingTime())));
    };
    if (!processes.isEmpty()) {
        waitAll(StdioTransport::terminateAfterMs);
        for (QProcess *process : std::as_const(processes)) {
            if (process->state() != QProcess::NotRunning)
                process->terminate();
        }
        waitAll(StdioTransport::killAfterMs);
        for (QProcess *process : std::as_const(processes)) {
            if (process->state() != QProcess::NotRunning)
                process->kill();
        }
    }
    for (const auto &byName : std::as_const(m_clients))
        qDeleteAll(byName);
}

McpClient::Config McpRegistry::configOf(const McpServerRow &row) const
{
    McpClient::Config config;
    config.name = row.name;
    config.transport = row.transport;
    config.command = row.command;
    config.args = row.args;
    config.url = QUrl(row.url);
    config.timeoutMs = row.timeoutMs;
    const Secrets kept = secrets(row.id);
    config.env = kept.env;
    for (auto it = kept.headers.cbegin(); it != kept.headers.cend(); ++it)
        config.headers.append({it.key().toUtf8(), it.value().toUtf8()});
    return config;
}

McpRegistry::Secrets McpRegistry::readSecrets(SecretStore *store, const QString &serverId)
{
    Secrets kept;
    if (!store)
        return kept;
    const QJsonObject json = QJsonDocument::fromJson(store->read(secretKey(serverId)).toUtf8()).object();
    kept.env = fromJson(json.value("env"_L1).toObject());
    kept.headers = fromJson(json.value("headers"_L1).toObject());
    return kept;
}

bool McpRegistry::writeSecrets(SecretStore *store, const QString &serverId, const Secrets &secrets)
{
    if (!store)
        return secrets.env.isEmpty() && secrets.headers.isEmpty();
    if (secrets.env.isEmpty() && secrets.headers.isEmpty()) {
        store->remove(secretKey(serverId));
        return true;
    }
    const QJsonObject json{{u"env"_s, toJson(secrets.env)}, {u"headers"_s, toJson(secrets.headers)}};
    return store->write(secretKey(serverId),
                        QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Compact)));
}

void McpRegistry::startAll()
{
    const QList<McpServerRow> rows = m_store.all();
    for (const McpServerRow &row : rows)
        startClient(row);
    if (!rows.isEmpty())
        qCInfo(lcMcp) << "starting" << rows.size() << "MCP servers";
}

void McpRegistry::startClient(const McpServerRow &row)
{
    const McpClient::Config config = configOf(row);
    auto *client = new McpClient(config, m_llm.managerFor(config.url), this);
    const QString tenantId = row.tenantId;
    const QString name = row.name;
    const auto changed = [this, tenantId, name] {
        publish(tenantId, name);
        Q_EMIT serverChanged(tenantId, name);
    };
    connect(client, &McpClient::statusChanged, this, changed);
    connect(client, &McpClient::toolsChanged, this, changed);
    m_clients[tenantId].insert(name, client);
    client->start();
}

void McpRegistry::retire(McpClient *client)
{
    if (!client)
        return;
    client->disconnect(this);
    connect(client, &McpClient::stopped, client, &QObject::deleteLater);
    client->stop();
}

ApiError McpRegistry::put(McpServerRow &row, const Secrets &secrets, bool keepSecrets)
{
    if (!m_store.upsert(row))
        return ApiError::storage();
    if (!keepSecrets && !writeSecrets(m_secrets, row.id, secrets))
        return {500, u"storage_error"_s, u"The server's secrets could not be stored"_s};
    retire(m_clients[row.tenantId].take(row.name));
    startClient(row);
    publish(row.tenantId, row.name);
    return {};
}

bool McpRegistry::remove(const QString &tenantId, const QString &name)
{
    const auto row = m_store.byName(tenantId, name);
    if (!row || !m_store.remove(tenantId, name))
        return false;
    if (m_secrets)
        m_secrets->remove(secretKey(row->id));
    retire(m_clients[tenantId].take(name));
    publish(tenantId, name);
    return true;
}

McpClient *McpRegistry::client(const QString &tenantId, const QString &name) const
{
    return m_clients.value(tenantId).value(name);
}

bool McpRegistry::matches(const QStringList &patterns, const QString &server, const QString &tool)
{
    for (const QString &pattern : patterns) {
        const qsizetype slash = pattern.indexOf(u'/');
        if (slash <= 0 || pattern.left(slash) != server)
            continue;
        const QString name = pattern.mid(slash + 1);
        if (name == "*"_L1 || name == tool)
            return true;
    }
    return false;
}

void McpRegistry::publish(const QString &tenantId, const QString &name)
{
    const McpClient *client = this->client(tenantId, name);
    const QMutexLocker locker(&m_publishedLock);
    if (client && client->status() == McpClient::Status::Connected)
        m_published[tenantId].insert(name, client->tools());
    else
        m_published[tenantId].remove(name);
}

QList<ToolInfo> McpRegistry::tools(const QString &tenantId, const QStringList &patterns) const
{
    QList<ToolInfo> tools;
    QSet<QString> functions;
    const QMutexLocker locker(&m_publishedLock);
    for (const QList<ToolInfo> &published : m_published.value(tenantId)) {
        for (ToolInfo tool : published) {
            if (!matches(patterns, tool.server, tool.name))
                continue;
            // Two names can meet once made safe for functions: keep them apart.
            for (int n = 2; functions.contains(tool.function); ++n)
                tool.function = tool.function.left(60) + u"_"_s + QString::number(n);
            functions.insert(tool.function);
            tools.append(tool);
        }
    }
    return tools;
}

ToolCallJob *McpRegistry::call(const QString &tenantId, const QString &server, const QString &tool,
                               const QJsonObject &arguments, QObject *parent)
{
    McpClient *client = this->client(tenantId, server);
    if (!client)
        return new UnavailableCall(u"There is no MCP server named %1 any more."_s.arg(server), parent);
    return client->callTool(tool, arguments, parent);
}
