#pragma once

#include "chat/toolhost.h"
#include "core/apierror.h"
#include "mcpclient.h"
#include "storage/mcpserverstore.h"

#include <QHash>
#include <QMap>
#include <QMutex>
#include <QObject>

class Database;
class LlmClient;
class SecretStore;

// Every tenant's MCP servers, running: loaded and started with the server, added, replaced and
// removed through the API, their secrets (env values, header values) in the SecretStore. It is
// the chat service's ToolHost: the tools an agent may use, and calls to them.
class McpRegistry : public QObject, public ToolHost
{
    Q_OBJECT
public:
    McpRegistry(Database &db, SecretStore *secrets, LlmClient &llm, QObject *parent = nullptr);
    // Stops every server: stdin closed, then SIGTERM, then SIGKILL, a couple of seconds each.
    ~McpRegistry() override;

    void startAll();

    struct Secrets
    {
        QHash<QString, QString> env;
        QHash<QString, QString> headers;
    };
    // Saves the server and its secrets, and (re)starts it. `secrets` replaces what was kept
    // unless `keepSecrets` (a change that does not touch them).
    ApiError put(McpServerRow &row, const Secrets &secrets, bool keepSecrets);
    bool remove(const QString &tenantId, const QString &name);
    QList<McpServerRow> servers(const QString &tenantId) { return m_store.list(tenantId); }
    std::optional<McpServerRow> server(const QString &tenantId, const QString &name)
    {
        return m_store.byName(tenantId, name);
    }
    McpClient *client(const QString &tenantId, const QString &name) const;
    Secrets secrets(const QString &serverId) const { return readSecrets(m_secrets, serverId); }

    // The secrets of server `serverId` in `store` (none: removed); the admin CLI uses these too.
    static bool writeSecrets(SecretStore *store, const QString &serverId, const Secrets &secrets);
    static Secrets readSecrets(SecretStore *store, const QString &serverId);

    // Safe from any thread (the server's other loops ask too): read from what each server last
    // published.
    QList<ToolInfo> tools(const QString &tenantId, const QStringList &patterns) const override;
    ToolCallJob *call(const QString &tenantId, const QString &server, const QString &tool,
                      const QJsonObject &arguments, QObject *parent) override;

    static QString secretKey(const QString &serverId) { return QStringLiteral("mcp/") + serverId; }
    // Whether "server/tool" is named by one of the patterns ("server/tool", "server/*").
    static bool matches(const QStringList &patterns, const QString &server, const QString &tool);

Q_SIGNALS:
    // A server connected, failed or changed its tools (the window's Tools page follows this).
    void serverChanged(const QString &tenantId, const QString &name);

private:
    McpClient::Config configOf(const McpServerRow &row) const;
    void startClient(const McpServerRow &row);
    void retire(McpClient *client);
    // The tools of a connected server, as tools() reads them; none for a server down or gone.
    void publish(const QString &tenantId, const QString &name);

    McpServerStore m_store;
    SecretStore *m_secrets;
    LlmClient &m_llm;
    QHash<QString, QHash<QString, McpClient *>> m_clients; // tenant -> name -> client
    mutable QMutex m_publishedLock;
    QHash<QString, QMap<QString, QList<ToolInfo>>> m_published; // tenant -> name -> tools
};
