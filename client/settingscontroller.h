#pragma once

#include "mcpserverlistmodel.h"
#include "modellistmodel.h"
#include "providerlistmodel.h"

#include <QObject>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

class ApiClient;
class ChatController;
class KeychainStore;
class QQmlEngine;
class QJSEngine;

// The settings side: providers (OpenAI-compatible, Anthropic, Ollama; add from a preset, test
// the connection, pick the default), MCP servers (the Tools page), agents (create, edit, delete;
// the provider's models to pick from) and where secrets are kept.
class SettingsController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(ProviderListModel *providers READ providers CONSTANT)
    Q_PROPERTY(McpServerListModel *mcpServers READ mcpServers CONSTANT)
    Q_PROPERTY(QVariantList presets READ presets CONSTANT)
    // The models of the provider chosen in the agent dialog.
    Q_PROPERTY(ModelListModel *agentModels READ agentModels CONSTANT)
    Q_PROPERTY(QString secretsStatus READ secretsStatus NOTIFY secretsChanged)
    Q_PROPERTY(bool keychainAvailable READ keychainAvailable NOTIFY secretsChanged)
    Q_PROPERTY(bool remote READ isRemote CONSTANT)
    Q_PROPERTY(QString serverUrl READ serverUrl CONSTANT)
    Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged)

public:
    static SettingsController *create(QQmlEngine *qmlEngine, QJSEngine *jsEngine);
    static SettingsController *instance();
    ~SettingsController() override;

    ProviderListModel *providers() { return &m_providers; }
    McpServerListModel *mcpServers() { return &m_mcpServers; }
    ModelListModel *agentModels() { return &m_agentModels; }
    QVariantList presets() const;
    QString secretsStatus() const;
    bool keychainAvailable() const;
    bool isRemote() const { return m_remote; }
    QString serverUrl() const;
    bool isBusy() const { return m_busy > 0; }

    Q_INVOKABLE void refreshProviders();
    // An empty apiKey keeps the key the server already has.
    // What is wrong with a provider name, as the server would say it (empty when it is fine), so
    // the form says it while typing rather than after Save.
    Q_INVOKABLE QString providerNameProblem(const QString &name) const;
    // kind: openai, anthropic or ollama; vision: auto, yes or no.
    Q_INVOKABLE void saveProvider(const QString &name, const QString &baseUrl, const QString &model,
                                  const QString &apiKey, bool makeDefault,
                                  const QString &kind = QStringLiteral("openai"),
                                  const QString &vision = QStringLiteral("auto"));
    Q_INVOKABLE void deleteProvider(const QString &name);
    Q_INVOKABLE void setDefaultProvider(const QString &name);
    Q_INVOKABLE void testProvider(const QString &name);
    Q_INVOKABLE void refreshMcpServers();
    // `server`: name, transport ("stdio" or "http"), commandLine (program and arguments, quoted
    // like a shell's) or url, secrets (one per line: KEY=value for a command's environment,
    // Name: value for HTTP headers; a value of *** keeps the saved one), timeoutSeconds.
    Q_INVOKABLE void saveMcpServer(const QVariantMap &server);
    Q_INVOKABLE void deleteMcpServer(const QString &name);
    // What a server's secrets field shows when it is edited: its names, values masked.
    Q_INVOKABLE QString maskedSecrets(const QString &name) const;
    // `agent`: id (empty = create), name, description, systemPrompt, greeting, provider, model,
    // temperature (a number, or anything else for unset), maxTokens, tools, toolApproval
    // ("ask" or "auto"), maxSteps, forgetAllowedTools (true: ask again for tools allowed for good),
    // reasoningEffort ("", "off", "low", "medium", "high").
    Q_INVOKABLE void saveAgent(const QVariantMap &agent);
    Q_INVOKABLE void deleteAgent(const QString &id);
    Q_INVOKABLE void saveServerToken(const QString &token);

    static QString tokenKey(const QUrl &server);

Q_SIGNALS:
    void secretsChanged();
    void busyChanged();
    void providerSaved(const QString &name);
    void providerFailed(const QString &name, const QString &message);
    void providerTested(const QString &name, bool ok, const QString &message);
    void mcpServerSaved(const QString &name, const QString &status, const QString &error);
    void mcpServerFailed(const QString &name, const QString &message);
    void agentSaved(const QString &id);
    void agentFailed(const QString &message);
    void tokenSaved();

private:
    friend class DesktopApp;
    SettingsController(ApiClient *api, KeychainStore *secrets, ChatController *chat, bool remote,
                       QObject *parent = nullptr);
    void busy(int delta);

    static SettingsController *s_instance;

    ApiClient *m_api;
    KeychainStore *m_secrets;
    ChatController *m_chat;
    bool m_remote;
    ProviderListModel m_providers;
    McpServerListModel m_mcpServers;
    ModelListModel m_agentModels;
    int m_busy = 0;
};
