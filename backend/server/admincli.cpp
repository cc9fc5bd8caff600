#include "admincli.h"

#include "config/filesecretstore.h"
#include "config/providerresolver.h"
#include "mcp/mcpregistry.h"
#include "storage/authstore.h"
#include "storage/mcpserverstore.h"
#include "storage/providerstore.h"

#include <QCommandLineParser>
#include <QTextStream>
#include <QUrl>

using namespace Qt::StringLiterals;

bool AdminCli::handles(const QString &command)
{
    return command == "token"_L1 || command == "provider"_L1 || command == "mcp"_L1;
}

bool AdminCli::wantsHelp(const QStringList &arguments)
{
    return arguments.contains(u"--help"_s) || arguments.contains(u"-h"_s) ||
           arguments.contains(u"--help-all"_s) || arguments.contains(u"-?"_s);
}

std::optional<int> AdminCli::parse(QCommandLineParser &parser, const QStringList &arguments)
{
    parser.addHelpOption();
    if (!parser.parse(arguments)) {
        m_err << parser.errorText() << Qt::endl;
        return 2;
    }
    if (parser.isSet(u"help"_s)) {
        m_out << parser.helpText();
        return 0;
    }
    return std::nullopt;
}

int AdminCli::run(const QStringList &arguments, const Database::Options &database, const QString &secretsPath)
{
    Database db;
    // Help is printed without opening (and so creating or migrating) any database.
    if (!wantsHelp(arguments) && !db.open(database)) {
        m_err << "Cannot open the database: " << db.lastError() << Qt::endl;
        return 1;
    }
    // The sub-parsers see "<program> <command> <verb> ...", so positional 1 is the verb.
    if (arguments.value(1) == "token"_L1)
        return token(arguments, db);
    if (arguments.value(1) == "mcp"_L1)
        return mcp(arguments, db, secretsPath);
    return provider(arguments, db, secretsPath);
}

int AdminCli::token(const QStringList &arguments, Database &db)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Manage API tokens"_s);
    parser.addPositionalArgument(u"verb"_s, u"create | list | revoke <id-or-prefix>"_s);
    parser.addOption({u"tenant"_s, u"Tenant name (created when missing)."_s, u"name"_s});
    parser.addOption({u"user"_s, u"User name (created when missing)."_s, u"name"_s});
    parser.addOption({u"label"_s, u"A note to recognise the token by."_s, u"text"_s});
    parser.addOption({u"admin"_s, u"The token may also configure the tenant's providers and MCP servers."_s});
    if (const auto done = parse(parser, arguments))
        return *done;
    const QStringList positional = parser.positionalArguments();
    const QString verb = positional.value(1);
    AuthStore auth(db);

    if (verb == "create"_L1) {
        const QString tenant = parser.value(u"tenant"_s).trimmed();
        const QString user = parser.value(u"user"_s).trimmed();
        if (tenant.isEmpty() || user.isEmpty()) {
            m_err << "token create needs --tenant NAME and --user NAME" << Qt::endl;
            return 2;
        }
        const auto created =
            auth.createToken(tenant, user, parser.value(u"label"_s), parser.isSet(u"admin"_s));
        if (!created) {
            m_err << "Could not create the token" << Qt::endl;
            return 1;
        }
        m_out << created->token << Qt::endl;
        m_err << (created->info.admin ? "Admin token " : "Token ") << created->info.id << " for " << user
              << "@" << tenant << ". It is shown only now: store it safely." << Qt::endl;
        return 0;
    }
    if (verb == "list"_L1) {
        const auto tokens = auth.listTokens(parser.value(u"tenant"_s));
        m_out << u"%1  %2  %3  %4  %5"_s.arg(u"ID"_s, -36)
                     .arg(u"PREFIX"_s, -8)
                     .arg(u"TENANT/USER"_s, -24)
                     .arg(u"CREATED"_s, -20)
                     .arg(u"STATE"_s)
              << Qt::endl;
        for (const ApiTokenInfo &info : tokens) {
            m_out << u"%1  %2  %3  %4  %5"_s.arg(info.id, -36)
                         .arg(info.prefix, -8)
                         .arg(info.tenantName + u'/' + info.userName, -24)
                         .arg(info.createdAt.toUTC().toString(Qt::ISODate), -20)
                         .arg((info.revokedAt ? u"revoked"_s : u"active"_s) +
                              (info.admin ? u", admin"_s : QString()))
                  << Qt::endl;
        }
        return 0;
    }
    if (verb == "revoke"_L1) {
        const QString which = positional.value(2);
        if (which.isEmpty()) {
            m_err << "token revoke needs the token's id or prefix" << Qt::endl;
            return 2;
        }
        if (!auth.revokeToken(which)) {
            m_err << "No single active token matches " << which << Qt::endl;
            return 1;
        }
        m_out << "Revoked " << which << Qt::endl;
        return 0;
    }
    m_err << "Usage: agentdesk token create --tenant NAME --user NAME [--label TEXT] [--admin] | list "
             "[--tenant NAME] | "
             "revoke ID|PREFIX"
          << Qt::endl;
    return 2;
}

int AdminCli::provider(const QStringList &arguments, Database &db, const QString &secretsPath)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Manage upstream providers (OpenAI-compatible, Anthropic, Ollama)"_s);
    parser.addPositionalArgument(u"verb"_s, u"set <name> | list | remove <name>"_s);
    parser.addOption({u"tenant"_s, u"Tenant name."_s, u"name"_s});
    parser.addOption(
        {u"kind"_s, u"openai (default), anthropic or ollama: the protocol it speaks."_s, u"kind"_s});
    parser.addOption(
        {u"vision"_s, u"Whether its models take images: auto (default), yes or no."_s, u"when"_s});
    parser.addOption(
        {u"base-url"_s,
         u"e.g. https://api.deepseek.com/v1, https://api.anthropic.com, http://localhost:11434"_s, u"url"_s});
    parser.addOption({u"model"_s, u"Default model."_s, u"model"_s});
    parser.addOption(
        {u"allowed-models"_s,
         u"Comma-separated: the only models agents and chats may use through it (\"\" for any)."_s,
         u"list"_s});
    parser.addOption({u"api-key-env"_s, u"Read the API key from this environment variable."_s, u"var"_s});
    parser.addOption({u"default"_s, u"Make it the tenant's default provider."_s});
    if (const auto done = parse(parser, arguments))
        return *done;
    const QStringList positional = parser.positionalArguments();
    const QString verb = positional.value(1);
    const QString tenantName = parser.value(u"tenant"_s).trimmed();
    if (tenantName.isEmpty() || verb.isEmpty()) {
        m_err << "Usage: agentdesk provider set NAME --tenant T --base-url URL --model M [--kind K] "
                 "[--api-key-env VAR] [--vision auto|yes|no] [--allowed-models A,B] [--default] | list "
                 "--tenant T | remove NAME "
                 "--tenant T"
              << Qt::endl;
        return 2;
    }
    const auto tenant = AuthStore(db).ensureTenant(tenantName);
    if (!tenant) {
        m_err << "Cannot create tenant " << tenantName << Qt::endl;
        return 1;
    }
    ProviderStore store(db);
    FileSecretStore secrets(secretsPath);

    if (verb == "list"_L1) {
        for (const ProviderRow &row : store.list(tenant->id)) {
            const bool hasKey = !secrets.read(ProviderResolver::secretKey(row.id)).isEmpty();
            m_out << row.name << (row.isDefault ? " (default)" : "") << "  " << row.kind << "  "
                  << row.baseUrl << "  " << row.model << (hasKey ? "  key: stored" : "  key: none");
            if (!row.allowedModels.isEmpty())
                m_out << "  only: " << row.allowedModels.join(u", "_s);
            m_out << Qt::endl;
        }
        return 0;
    }
    const QString name = positional.value(2);
    if (name.isEmpty()) {
        m_err << "provider " << verb << " needs a provider name" << Qt::endl;
        return 2;
    }
    if (verb == "remove"_L1) {
        const auto row = store.byName(tenant->id, name);
        if (!row || !store.remove(tenant->id, name)) {
            m_err << "No provider " << name << Qt::endl;
            return 1;
        }
        secrets.remove(ProviderResolver::secretKey(row->id));
        return 0;
    }
    if (verb != "set"_L1) {
        m_err << "Unknown verb " << verb << Qt::endl;
        return 2;
    }
    ProviderRow row = store.byName(tenant->id, name).value_or(ProviderRow{});
    row.tenantId = tenant->id;
    row.name = name;
    if (parser.isSet(u"kind"_s))
        row.kind = parser.value(u"kind"_s);
    else if (row.kind.isEmpty())
        row.kind = u"openai"_s;
    if (!ProviderConfig::isKnownKind(row.kind)) {
        m_err << "--kind must be openai, anthropic or ollama" << Qt::endl;
        return 2;
    }
    if (parser.isSet(u"vision"_s))
        row.vision = parser.value(u"vision"_s);
    if (row.vision != "auto"_L1 && row.vision != "yes"_L1 && row.vision != "no"_L1) {
        m_err << "--vision must be auto, yes or no" << Qt::endl;
        return 2;
    }
    if (parser.isSet(u"allowed-models"_s)) {
        row.allowedModels = parser.value(u"allowed-models"_s).split(u',', Qt::SkipEmptyParts);
        for (QString &model : row.allowedModels)
            model = model.trimmed();
        row.allowedModels.removeAll(QString());
        row.allowedModels.removeDuplicates();
    }
    if (parser.isSet(u"base-url"_s))
        row.baseUrl = parser.value(u"base-url"_s);
    if (parser.isSet(u"model"_s))
        row.model = parser.value(u"model"_s);
    if (parser.isSet(u"default"_s))
        row.isDefault = true;
    const QUrl url(row.baseUrl);
    if (!url.isValid() || url.host().isEmpty() || !url.scheme().startsWith("http"_L1)) {
        m_err << "--base-url must be an http(s) URL" << Qt::endl;
        return 2;
    }
    if (!store.upsert(row)) {
        m_err << "Could not save the provider" << Qt::endl;
        return 1;
    }
    if (parser.isSet(u"api-key-env"_s)) {
        // Keys never go on the command line, where ps and shell history would see them.
        const QString key = qEnvironmentVariable(parser.value(u"api-key-env"_s).toLocal8Bit().constData());
        if (key.isEmpty()) {
            m_err << "Environment variable " << parser.value(u"api-key-env"_s) << " is empty" << Qt::endl;
            return 1;
        }
        if (!secrets.write(ProviderResolver::secretKey(row.id), key)) {
            m_err << "Could not store the API key in " << secretsPath << Qt::endl;
            return 1;
        }
    }
    m_out << "Provider " << name << " saved" << Qt::endl;
    return 0;
}

int AdminCli::mcp(const QStringList &arguments, Database &db, const QString &secretsPath)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Manage the tenant's MCP servers (tools for agents)"_s);
    parser.addPositionalArgument(u"verb"_s, u"add <name> | list | remove <name>"_s);
    parser.addOption({u"tenant"_s, u"Tenant name."_s, u"name"_s});
    parser.addOption({u"command"_s, u"stdio: the program to run."_s, u"program"_s});
    parser.addOption({u"arg"_s, u"stdio: an argument (repeatable)."_s, u"argument"_s});
    parser.addOption({u"url"_s, u"Streamable HTTP: the server's URL."_s, u"url"_s});
    parser.addOption({u"env"_s, u"stdio: KEY=VALUE in its environment (repeatable)."_s, u"pair"_s});
    parser.addOption({u"env-from"_s,
                      u"stdio: KEY=VAR, the value read from this environment variable (secrets)."_s,
                      u"pair"_s});
    parser.addOption({u"header"_s, u"HTTP: NAME=VALUE sent with each request (repeatable)."_s, u"pair"_s});
    parser.addOption({u"header-from"_s,
                      u"HTTP: NAME=VAR, the value from this environment variable (secrets)."_s, u"pair"_s});
    parser.addOption(
        {u"timeout"_s, u"Seconds a tool call may take without progress (default 120)."_s, u"seconds"_s});
    if (const auto done = parse(parser, arguments))
        return *done;
    const QStringList positional = parser.positionalArguments();
    const QString verb = positional.value(1);
    const QString tenantName = parser.value(u"tenant"_s).trimmed();
    if (tenantName.isEmpty() || verb.isEmpty()) {
        m_err << "Usage: agentdesk mcp add NAME --tenant T (--command PROGRAM [--arg A]... [--env K=V]... | "
                 "--url URL "
                 "[--header N=V]...) [--timeout S] | list --tenant T | remove NAME --tenant T"
              << Qt::endl;
        return 2;
    }
    const auto tenant = AuthStore(db).ensureTenant(tenantName);
    if (!tenant) {
        m_err << "Cannot create tenant " << tenantName << Qt::endl;
        return 1;
    }
    McpServerStore store(db);
    FileSecretStore secrets(secretsPath);
    if (verb == "list"_L1) {
        for (const McpServerRow &row : store.list(tenant->id)) {
            m_out << row.name << "  " << row.transport << "  "
                  << (row.transport == "http"_L1 ? row.url : (QStringList{row.command} + row.args).join(u' '))
                  << Qt::endl;
        }
        return 0;
    }
    const QString name = positional.value(2);
    if (name.isEmpty()) {
        m_err << "mcp " << verb << " needs a server name" << Qt::endl;
        return 2;
    }
    if (verb == "remove"_L1) {
        const auto row = store.byName(tenant->id, name);
        if (!row || !store.remove(tenant->id, name)) {
            m_err << "No MCP server " << name << Qt::endl;
            return 1;
        }
        McpRegistry::writeSecrets(&secrets, row->id, {});
        m_out << "MCP server " << name << " removed (a running server drops it at its next start)"
              << Qt::endl;
        return 0;
    }
    if (verb != "add"_L1) {
        m_err << "Unknown verb " << verb << Qt::endl;
        return 2;
    }
    McpServerRow row = store.byName(tenant->id, name).value_or(McpServerRow{});
    row.tenantId = tenant->id;
    row.name = name;
    McpRegistry::Secrets values;
    const auto pairs = [&](const QString &option, bool fromEnvironment, QHash<QString, QString> &into) {
        for (const QString &pair : parser.values(option)) {
            const qsizetype eq = pair.indexOf(u'=');
            if (eq <= 0) {
                m_err << "--" << option << " needs NAME=" << (fromEnvironment ? "VAR" : "VALUE") << Qt::endl;
                return false;
            }
            const QString value = fromEnvironment
                                      ? qEnvironmentVariable(pair.mid(eq + 1).toLocal8Bit().constData())
                                      : pair.mid(eq + 1);
            if (fromEnvironment && value.isEmpty()) {
                m_err << "Environment variable " << pair.mid(eq + 1) << " is empty" << Qt::endl;
                return false;
            }
            into.insert(pair.left(eq), value);
        }
        return true;
    };
    if (parser.isSet(u"url"_s)) {
        const QUrl url(parser.value(u"url"_s));
        if (!url.isValid() || url.host().isEmpty() || !url.scheme().startsWith("http"_L1)) {
            m_err << "--url must be an http(s) URL" << Qt::endl;
            return 2;
        }
        row.transport = u"http"_s;
        row.url = url.toString();
        row.command.clear();
        row.args.clear();
        if (!pairs(u"header"_s, false, values.headers) || !pairs(u"header-from"_s, true, values.headers))
            return 2;
    } else if (parser.isSet(u"command"_s)) {
        row.transport = u"stdio"_s;
        row.command = parser.value(u"command"_s);
        row.args = parser.values(u"arg"_s);
        row.url.clear();
        if (!pairs(u"env"_s, false, values.env) || !pairs(u"env-from"_s, true, values.env))
            return 2;
    } else {
        m_err << "mcp add needs --command PROGRAM (stdio) or --url URL (Streamable HTTP)" << Qt::endl;
        return 2;
    }
    if (parser.isSet(u"timeout"_s)) {
        bool ok = false;
        const int seconds = parser.value(u"timeout"_s).toInt(&ok);
        if (!ok || seconds < 1 || seconds > 3600) {
            m_err << "--timeout needs seconds from 1 to 3600" << Qt::endl;
            return 2;
        }
        row.timeoutMs = seconds * 1000;
    }
    row.envNames = values.env.keys();
    row.headerNames = values.headers.keys();
    if (!store.upsert(row) || !McpRegistry::writeSecrets(&secrets, row.id, values)) {
        m_err << "Could not save the MCP server" << Qt::endl;
        return 1;
    }
    m_out << "MCP server " << name << " saved (a running server starts it at its next start; PUT "
          << "/api/mcp/servers/" << name << " does so at once)" << Qt::endl;
    return 0;
}
