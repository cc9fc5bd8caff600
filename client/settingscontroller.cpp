#include "settingscontroller.h"

#include "apiclient.h"
#include "chatcontroller.h"
#include "keychainstore.h"
#include "logging.h"

#include <QJSEngine>
#include <QJsonArray>
#include <QProcess>
#include <QQmlEngine>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

SettingsController *SettingsController::s_instance = nullptr;

SettingsController::SettingsController(ApiClient *api, KeychainStore *secrets, ChatController *chat,
                                       bool remote, QObject *parent)
    : QObject(parent), m_api(api), m_secrets(secrets), m_chat(chat), m_remote(remote), m_agentModels(api)
{
    s_instance = this;
    connect(m_secrets, &KeychainStore::backendChanged, this, &SettingsController::secretsChanged);
    connect(m_api, &ApiClient::reconnected, this, &SettingsController::refreshProviders);
    connect(m_api, &ApiClient::reconnected, this, &SettingsController::refreshMcpServers);
}

SettingsController::~SettingsController()
{
    if (s_instance == this)
        s_instance = nullptr;
}

SettingsController *SettingsController::create(QQmlEngine *, QJSEngine *)
{
    Q_ASSERT_X(s_instance, "SettingsController::create",
               "DesktopApp creates the controller before loading QML");
    QJSEngine::setObjectOwnership(s_instance, QJSEngine::CppOwnership);
    return s_instance;
}

SettingsController *SettingsController::instance()
{
    return s_instance;
}

QVariantList SettingsController::presets() const
{
    auto preset = [](const QString &name, const QString &kind, const QString &url, const QString &model,
                     bool needsKey) {
        return QVariantMap{{u"name"_s, name},
                           {u"kind"_s, kind},
                           {u"baseUrl"_s, url},
                           {u"model"_s, model},
                           {u"needsKey"_s, needsKey}};
    };
    const QString openai = u"openai"_s;
    return {
        preset(u"OpenAI"_s, openai, u"https://api.openai.com/v1"_s, u"gpt-4o-mini"_s, true),
        preset(u"Anthropic"_s, u"anthropic"_s, u"https://api.anthropic.com"_s, u"claude-sonnet-4-5"_s, true),
        preset(u"DeepSeek"_s, openai, u"https://api.deepseek.com/v1"_s, u"deepseek-chat"_s, true),
        preset(u"Qwen"_s, openai, u"https://dashscope.aliyuncs.com/compatible-mode/v1"_s, u"qwen-plus"_s,
               true),
        preset(u"OpenRouter"_s, openai, u"https://openrouter.ai/api/v1"_s, u"openai/gpt-4o-mini"_s, true),
        preset(u"Ollama"_s, u"ollama"_s, u"http://localhost:11434"_s, u"llama3.2"_s, false),
        preset(u"llama.cpp"_s, openai, u"http://localhost:8080/v1"_s, u"local"_s, false),
    };
}

QString SettingsController::secretsStatus() const
{
    return m_secrets->statusText();
}

bool SettingsController::keychainAvailable() const
{
    return m_secrets->backend() != KeychainStore::Backend::File;
}

QString SettingsController::serverUrl() const
{
    return m_api->baseUrl().toString();
}

QString SettingsController::tokenKey(const QUrl &server)
{
    return u"server-token/"_s + server.adjusted(QUrl::StripTrailingSlash).toString();
}

void SettingsController::busy(int delta)
{
    m_busy += delta;
    Q_EMIT busyChanged();
}

void SettingsController::refreshProviders()
{
    m_api->listProviders(this, [this](const ApiResult &r) {
        if (!r.ok())
            return;
        QList<ProviderItem> list;
        const QJsonArray arr = r.json.value("providers"_L1).toArray();
        for (const QJsonValue &v : arr)
            list.append(ProviderItem::fromJson(v.toObject()));
        m_providers.setProviders(list);
    });
}

QString SettingsController::providerNameProblem(const QString &name) const
{
    static const QRegularExpression pattern(u"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"_s);
    const QString n = name.trimmed();
    if (n.isEmpty())
        return tr("A provider needs a name.");
    if (n == "demo"_L1 || n == "env"_L1 || n == "default"_L1)
        return tr("“%1” is reserved: choose another name.").arg(n);
    if (!pattern.match(n).hasMatch())
        return tr("A name is 1 to 64 letters, digits, “.”, “_” or “-”, without spaces.");
    return {};
}

void SettingsController::saveProvider(const QString &name, const QString &baseUrl, const QString &model,
                                      const QString &apiKey, bool makeDefault, const QString &kind,
                                      const QString &vision)
{
    const QString n = name.trimmed();
    const QUrl url = QUrl::fromUserInput(baseUrl.trimmed());
    if (const QString problem = providerNameProblem(n); !problem.isEmpty()) {
        Q_EMIT providerFailed(n, problem);
        return;
    }
    if (!url.isValid() || (url.scheme() != "http"_L1 && url.scheme() != "https"_L1)) {
        Q_EMIT providerFailed(n, tr("The base URL must start with http:// or https://."));
        return;
    }
    QJsonObject body{{u"name"_s, n},
                     {u"kind"_s, kind.isEmpty() ? u"openai"_s : kind},
                     {u"base_url"_s, url.toString()},
                     {u"model"_s, model.trimmed()},
                     {u"vision"_s, vision.isEmpty() ? u"auto"_s : vision}};
    if (makeDefault)
        body.insert(u"is_default"_s, true);
    const QString key = apiKey.trimmed();
    if (!key.isEmpty())
        body.insert(u"api_key"_s, key);
    busy(+1);
    // The key goes to the backend only: it keeps it (in this keychain when it runs in-process) and
    // never hands it back, so a second copy here would only be one more place to leak from.
    m_api->putProvider(n, body, this, [this, n](const ApiResult &r) {
        busy(-1);
        if (!r.ok()) {
            Q_EMIT providerFailed(n, r.message);
            return;
        }
        refreshProviders();
        Q_EMIT providerSaved(n);
    });
}

void SettingsController::deleteProvider(const QString &name)
{
    busy(+1);
    m_api->deleteProvider(name, this, [this, name](const ApiResult &r) {
        busy(-1);
        if (!r.ok() && r.status != 404) {
            Q_EMIT providerFailed(name, r.message);
            return;
        }
        refreshProviders();
    });
}

void SettingsController::setDefaultProvider(const QString &name)
{
    const int row = m_providers.indexOf(name);
    if (row < 0)
        return;
    const ProviderItem p = m_providers.providers().at(row);
    busy(+1);
    m_api->putProvider(name,
                       QJsonObject{{u"name"_s, p.name},
                                   {u"kind"_s, p.kind.isEmpty() ? u"openai"_s : p.kind},
                                   {u"base_url"_s, p.baseUrl},
                                   {u"model"_s, p.model},
                                   {u"is_default"_s, true}},
                       this, [this, name](const ApiResult &r) {
                           busy(-1);
                           if (!r.ok())
                               Q_EMIT providerFailed(name, r.message);
                           refreshProviders();
                       });
}

void SettingsController::testProvider(const QString &name)
{
    busy(+1);
    m_api->testProvider(name, this, [this, name](const ApiResult &r) {
        busy(-1);
        if (!r.ok()) {
            Q_EMIT providerTested(name, false, r.message);
            return;
        }
        if (r.json.value("ok"_L1).toBool()) {
            const QString model = r.json.value("model"_L1).toString();
            const int ms = r.json.value("latency_ms"_L1).toInt();
            Q_EMIT providerTested(name, true, tr("Connected: %1 answered in %2 ms.").arg(model).arg(ms));
        } else {
            const QJsonObject err = r.json.value("error"_L1).toObject();
            QString msg = err.value("message"_L1).toString();
            if (msg.isEmpty())
                msg = err.value("code"_L1).toString();
            Q_EMIT providerTested(name, false, msg.isEmpty() ? tr("The provider did not answer.") : msg);
        }
    });
}

void SettingsController::refreshMcpServers()
{
    m_api->listMcpServers(this, [this](const ApiResult &r) {
        if (!r.ok())
            return;
        QList<McpServerItem> list;
        const QJsonArray arr = r.json.value("servers"_L1).toArray();
        for (const QJsonValue &v : arr)
            list.append(McpServerItem::fromJson(v.toObject()));
        m_mcpServers.setServers(list);
    });
}

void SettingsController::saveMcpServer(const QVariantMap &server)
{
    const QString name = server.value(u"name"_s).toString().trimmed();
    static const QRegularExpression namePattern(u"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"_s);
    if (!namePattern.match(name).hasMatch()) {
        Q_EMIT mcpServerFailed(
            name, tr("A server name is 1 to 32 letters, digits, _ or -, starting with a letter or digit."));
        return;
    }
    const bool http = server.value(u"transport"_s).toString() == "http"_L1;
    QJsonObject body{{u"transport"_s, http ? u"http"_s : u"stdio"_s}};
    if (http) {
        const QUrl url = QUrl::fromUserInput(server.value(u"url"_s).toString().trimmed());
        if (!url.isValid() || (url.scheme() != "http"_L1 && url.scheme() != "https"_L1)) {
            Q_EMIT mcpServerFailed(name, tr("The URL must start with http:// or https://."));
            return;
        }
        body.insert(u"url"_s, url.toString());
    } else {
        QStringList words = QProcess::splitCommand(server.value(u"commandLine"_s).toString());
        if (words.isEmpty()) {
            Q_EMIT mcpServerFailed(name, tr("Type the command that starts the server, e.g. npx -y "
                                            "@modelcontextprotocol/server-everything"));
            return;
        }
        body.insert(u"command"_s, words.takeFirst());
        body.insert(u"args"_s, QJsonArray::fromStringList(words));
    }
    // KEY=value (environment) or Name: value (headers), one per line.
    QJsonObject secrets;
    const QStringList lines = server.value(u"secrets"_s).toString().split(u'\n', Qt::SkipEmptyParts);
    for (const QString &line : lines) {
        const qsizetype eq = line.indexOf(u'=');
        const qsizetype colon = line.indexOf(u':');
        qsizetype cut = http ? colon : eq;
        if (cut < 0)
            cut = http ? eq : colon;
        const QString key = line.left(cut).trimmed();
        if (cut <= 0 || key.isEmpty()) {
            Q_EMIT mcpServerFailed(name, http ? tr("Write each header as Name: value.")
                                              : tr("Write each variable as NAME=value."));
            return;
        }
        secrets.insert(key, line.mid(cut + 1).trimmed());
    }
    body.insert(http ? u"headers"_s : u"env"_s, secrets);
    const int timeout = server.value(u"timeoutSeconds"_s).toInt();
    if (timeout > 0)
        body.insert(u"timeout_ms"_s, timeout * 1000);
    busy(+1);
    m_api->putMcpServer(name, body, this, [this, name](const ApiResult &r) {
        busy(-1);
        if (!r.ok()) {
            Q_EMIT mcpServerFailed(name, r.message);
            return;
        }
        const McpServerItem saved = McpServerItem::fromJson(r.json);
        m_mcpServers.upsert(saved);
        Q_EMIT mcpServerSaved(saved.name, saved.status, saved.error);
    });
}

void SettingsController::deleteMcpServer(const QString &name)
{
    busy(+1);
    m_api->deleteMcpServer(name, this, [this, name](const ApiResult &r) {
        busy(-1);
        if (!r.ok() && r.status != 404) {
            Q_EMIT mcpServerFailed(name, r.message);
            return;
        }
        m_mcpServers.remove(name);
    });
}

QString SettingsController::maskedSecrets(const QString &name) const
{
    const int row = m_mcpServers.indexOf(name);
    if (row < 0)
        return {};
    const McpServerItem &s = m_mcpServers.servers().at(row);
    QStringList lines;
    for (const QString &key : s.envNames)
        lines.append(key + u"=***"_s);
    for (const QString &key : s.headerNames)
        lines.append(key + u": ***"_s);
    return lines.join(u'\n');
}

void SettingsController::saveAgent(const QVariantMap &agent)
{
    AgentItem a;
    a.id = agent.value(u"id"_s).toString();
    a.name = agent.value(u"name"_s).toString().trimmed();
    a.description = agent.value(u"description"_s).toString();
    a.systemPrompt = agent.value(u"systemPrompt"_s).toString();
    a.greeting = agent.value(u"greeting"_s).toString();
    a.provider = agent.value(u"provider"_s).toString();
    a.model = agent.value(u"model"_s).toString().trimmed();
    bool ok = false;
    const double t = agent.value(u"temperature"_s).toDouble(&ok);
    if (ok && agent.value(u"temperature"_s).isValid() && !agent.value(u"temperature"_s).isNull() && t >= 0)
        a.temperature = t;
    const int mt = agent.value(u"maxTokens"_s).toInt(&ok);
    if (ok && mt > 0)
        a.maxTokens = mt;
    a.tools = agent.value(u"tools"_s).toStringList();
    if (agent.value(u"toolApproval"_s).toString() == "auto"_L1)
        a.toolApproval = u"auto"_s;
    a.maxSteps = qBound(1, agent.value(u"maxSteps"_s, 8).toInt(), 50);
    a.reasoningEffort = agent.value(u"reasoningEffort"_s).toString();
    // Tools allowed for good change from the chat too ("always"): only "Ask again" sends them.
    const bool forgetAllowed = agent.value(u"forgetAllowedTools"_s).toBool();
    if (a.name.isEmpty()) {
        Q_EMIT agentFailed(tr("An agent needs a name."));
        return;
    }
    QJsonObject body = a.toJson();
    body.remove(u"id"_s);
    if (!forgetAllowed)
        body.remove(u"allowed_tools"_s);
    busy(+1);
    auto handler = [this](const ApiResult &r) {
        busy(-1);
        if (!r.ok()) {
            Q_EMIT agentFailed(r.message);
            return;
        }
        const AgentItem saved = AgentItem::fromJson(r.json);
        if (m_chat)
            m_chat->agentSaved(saved);
        Q_EMIT agentSaved(saved.id);
    };
    if (a.id.isEmpty())
        m_api->createAgent(body, this, handler);
    else
        m_api->updateAgent(a.id, body, this, handler);
}

void SettingsController::deleteAgent(const QString &id)
{
    busy(+1);
    m_api->deleteAgent(id, this, [this, id](const ApiResult &r) {
        busy(-1);
        if (!r.ok() && r.status != 404) {
            Q_EMIT agentFailed(r.message);
            return;
        }
        if (m_chat)
            m_chat->agentRemoved(id);
    });
}

void SettingsController::saveServerToken(const QString &token)
{
    const QString t = token.trimmed();
    if (t.isEmpty())
        return;
    m_secrets->write(tokenKey(m_api->baseUrl()), t, this, [this, t](bool, const QString &) {
        m_api->setServer(m_api->baseUrl(), t);
        if (m_chat)
            m_chat->refresh();
        refreshProviders();
        Q_EMIT tokenSaved();
    });
}
