#include "server.h"

#include "chat/chatservice.h"
#include "config/filesecretstore.h"
#include "config/providerresolver.h"
#include "core/logging.h"
#include "files/filestore.h"
#include "http/apiserver.h"
#include "http/chatroutes.h"
#include "http/fileroutes.h"
#include "http/mcproutes.h"
#include "http/resourceroutes.h"
#include "http/searchroutes.h"
#include "http/streamtickets.h"
#include "http/transferroutes.h"
#include "llm/llmclient.h"
#include "llm/modelcatalog.h"
#include "loops/serverloop.h"
#include "mcp/mcpregistry.h"
#include "openai/openairoutes.h"
#include "search/searchindex.h"
#include "storage/authstore.h"
#include "storage/providerstore.h"
#include "storage/sessionstore.h"
#include "storage/walcheckpointer.h"

#include <QDir>
#include <QStandardPaths>

#ifdef __GLIBC__
#include <malloc.h>
#endif

using namespace Qt::StringLiterals;

Server::Server(QObject *parent) : QObject(parent) {}

Server::~Server()
{
    stop();
}

bool Server::start(const Options &options)
{
    Logging::keepSecretsOutOfLogs();
    m_options = options;
    QString dataDir = options.dataDir;
    if (dataDir.isEmpty())
        dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (!QDir().mkpath(dataDir)) {
        m_error = u"Cannot create the data directory %1"_s.arg(dataDir);
        return false;
    }

    Database::Options dbOptions = options.database;
    if (dbOptions.driver == "QSQLITE"_L1 && dbOptions.path.isEmpty())
        dbOptions.path = Database::defaultPath(dataDir);
    m_db = std::make_unique<Database>();
    if (!m_db->open(dbOptions)) {
        m_error = m_db->lastError();
        return false;
    }
    if (dbOptions.driver == "QSQLITE"_L1) {
        m_checkpointer = std::make_unique<WalCheckpointer>(*m_db);
        m_checkpointer->start(dbOptions.path);
    }
    if (const int interrupted = SessionStore(*m_db).markInterruptedReplies(); interrupted > 0)
        qCWarning(lcApp) << interrupted << "replies were cut by the last shutdown and are marked interrupted";

    if (!m_externalSecrets) {
        m_fileSecrets = std::make_unique<FileSecretStore>(
            options.secretsPath.isEmpty() ? QDir(dataDir).filePath(u"secrets.json"_s) : options.secretsPath);
    }
    m_auth = std::make_unique<AuthStore>(*m_db);
    m_providerStore = std::make_unique<ProviderStore>(*m_db);
    m_providers = std::make_unique<ProviderResolver>(
        *m_providerStore, m_externalSecrets ? m_externalSecrets : m_fileSecrets.get(),
        options.environmentProvider);
    m_llm = std::make_unique<LlmClient>();
    m_catalog = std::make_unique<ModelCatalog>(*m_llm);
    m_files = std::make_unique<FileStore>(*m_db, QDir(dataDir).filePath(u"files"_s));
    if (const int removed = m_files->collectGarbage(); removed > 0)
        qCInfo(lcApp) << removed << "stored files of deleted sessions removed";
    if (!m_filesTimer) {
        m_filesTimer = new QTimer(this);
        m_filesTimer->setInterval(3600 * 1000);
        connect(m_filesTimer, &QTimer::timeout, this, [this] {
            if (m_files)
                m_files->collectGarbage();
        });
        m_filesTimer->start();
    }
    m_mcp = std::make_unique<McpRegistry>(*m_db, m_externalSecrets ? m_externalSecrets : m_fileSecrets.get(),
                                          *m_llm);
    m_directory = std::make_unique<TurnDirectory>();
    m_chat = std::make_unique<ChatService>(*m_db, *m_llm, *m_providers, *m_catalog);
    m_chat->setDirectory(m_directory.get());
    m_chat->setProgressInterval(options.progressIntervalMs);
    m_chat->setToolHost(m_mcp.get());
    m_chat->setFileStore(m_files.get());
    m_chat->setMaxDocumentChars(options.maxDocumentChars);

    m_tickets = std::make_unique<StreamTickets>();
    m_http = std::make_unique<ApiServer>(*m_auth);
    m_http->setStreamTickets(m_tickets.get());
    m_http->setCors(Cors(options.corsOrigins));
    ConnectionLimits limits;
    limits.maxBodyBytes = options.maxBodyBytes;
    limits.maxImportBodyBytes = options.maxImportBodyBytes;
    limits.maxUploadBodyBytes = options.maxUploadBytes + 64 * 1024; // the form around the file
    limits.maxHeaderBytes = options.maxHeaderBytes;
    limits.requestTimeoutMs = options.requestTimeoutMs;
    limits.idleTimeoutMs = options.idleTimeoutMs;
    m_http->setConnectionLimits(limits);
    m_chatRoutes = std::make_unique<ChatRoutes>(*m_chat, *m_tickets);
    m_chatRoutes->setKeepAliveInterval(options.keepAliveMs);
    m_chatRoutes->setResumeGrace(options.resumeGraceMs);
    m_chatRoutes->registerRoutes(m_http->router());
    m_openAiRoutes = std::make_unique<OpenAiRoutes>(*m_db, *m_chat);
    m_openAiRoutes->setKeepAliveInterval(options.keepAliveMs);
    m_openAiRoutes->setMaxConcurrentPerUser(options.maxApiCompletionsPerUser);
    m_openAiRoutes->registerRoutes(m_http->router());
    for (const QString &prefix : OpenAiRoutes::prefixes())
        m_http->setErrorBody(prefix.toLatin1(), &OpenAiRoutes::errorBody);
    m_resourceRoutes =
        std::make_unique<ResourceRoutes>(*m_db, *m_chat, *m_providers, *m_llm, *m_catalog, m_files.get());
    m_resourceRoutes->registerRoutes(m_http->router());
    m_mcpRoutes = std::make_unique<McpRoutes>(*m_mcp);
    m_mcpRoutes->registerRoutes(m_http->router());
    m_fileRoutes = std::make_unique<FileRoutes>(*m_files);
    FileIntake::Limits intake;
    intake.maxBytes = options.maxUploadBytes;
    m_fileRoutes->setLimits(intake);
    m_fileRoutes->setUnsentQuota(options.maxUnsentUploadBytes > 0 ? options.maxUnsentUploadBytes
                                                                  : 10 * options.maxUploadBytes);
    m_fileRoutes->registerRoutes(m_http->router());
    m_searchRoutes = std::make_unique<SearchRoutes>(*m_db);
    m_searchRoutes->registerRoutes(m_http->router());
    m_transferRoutes = std::make_unique<TransferRoutes>(*m_db);
    m_transferRoutes->registerRoutes(m_http->router());
    m_mcp->startAll();

    // The other loops. The keychain the window hands in is used from its own thread only.
    // One for an in-memory SQLite database too: each connection would have its own.
    const bool memory = dbOptions.driver == "QSQLITE"_L1 && dbOptions.path == ":memory:"_L1;
    const int loops = m_externalSecrets || memory ? 1 : qBound(1, options.threads, 256);
    QList<ChatRoutes *> peers{m_chatRoutes.get()};
    for (int i = 1; i < loops; ++i) {
        ServerLoop::Setup setup;
        setup.database = dbOptions;
        setup.filesDir = QDir(dataDir).filePath(u"files"_s);
        setup.secrets = m_fileSecrets.get();
        setup.environmentProvider = options.environmentProvider;
        setup.tools = m_mcp.get();
        setup.toolsContext = m_mcp.get();
        setup.directory = m_directory.get();
        setup.tickets = m_tickets.get();
        setup.catalog = m_catalog.get();
        setup.keepAliveMs = options.keepAliveMs;
        setup.resumeGraceMs = options.resumeGraceMs;
        setup.progressIntervalMs = options.progressIntervalMs;
        setup.maxDocumentChars = options.maxDocumentChars;
        setup.epoll = qgetenv("AGENTDESK_EVENT_LOOP") != "qt";
        auto loop = std::make_unique<ServerLoop>(i);
        if (!loop->start(setup, &m_error))
            return false;
        peers.append(loop->routes());
        m_loops.push_back(std::move(loop));
    }
    m_chatRoutes->setPeers(peers);

    // Finished messages go into the search index while nothing streams (a search catches up on
    // what is left); ending a reply costs nothing for it.
    if (!m_indexTimer) {
        m_indexTimer = new QTimer(this);
        m_indexTimer->setInterval(2000);
        connect(m_indexTimer, &QTimer::timeout, this, [this] {
            if (m_db && m_directory && m_directory->running() == 0)
                SearchIndex(*m_db).catchUp(500);
        });
        m_indexTimer->start();
    }

#ifdef __GLIBC__
    // A few thousand streams leave tens of MiB of freed heap behind that glibc would keep for good.
    // Once no reply has been running for a couple of seconds, hand it back.
    if (!m_trimTimer) {
        m_trimTimer = new QTimer(this);
        m_trimTimer->setInterval(2000);
        connect(m_trimTimer, &QTimer::timeout, this, [this] {
            if (m_directory && m_directory->running() > 0) {
                m_heapDirty = true;
            } else if (m_heapDirty) {
                m_heapDirty = false;
                malloc_trim(0);
            }
        });
        m_trimTimer->start();
    }
#endif
    m_port = m_http->listenOn(options.listenAddress, options.port);
    if (m_port == 0) {
        m_error =
            u"Cannot listen on %1:%2 (in use?)"_s.arg(options.listenAddress.toString()).arg(options.port);
        return false;
    }
    qCInfo(lcApp).noquote() << "AgentDesk API on" << url().toString() << "data in" << dataDir;
    return true;
}

void Server::stop()
{
    if (m_chat)
        m_chat->interruptAll();
    m_loops.clear(); // each saves its own replies as interrupted first
    m_http.reset();
    m_transferRoutes.reset();
    m_searchRoutes.reset();
    m_fileRoutes.reset();
    m_mcpRoutes.reset();
    m_resourceRoutes.reset();
    m_chatRoutes.reset();
    m_openAiRoutes.reset();
    m_chat.reset();
    m_mcp.reset(); // stops the MCP servers' processes
    m_files.reset();
    m_tickets.reset();
    m_catalog.reset();
    m_llm.reset();
    m_checkpointer.reset();
    m_port = 0;
}

int Server::defaultThreads()
{
    bool ok = false;
    const int threads = qEnvironmentVariableIntValue("AGENTDESK_THREADS", &ok);
    return ok && threads > 0 ? threads : 1;
}

QList<ChatService *> Server::loopServices() const
{
    QList<ChatService *> services{m_chat.get()};
    for (const auto &loop : m_loops)
        services.append(loop->chat());
    return services;
}

QUrl Server::url() const
{
    QUrl url;
    url.setScheme(u"http"_s);
    const QHostAddress &address = m_options.listenAddress;
    const bool any =
        address == QHostAddress::Any || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6;
    url.setHost(any ? u"127.0.0.1"_s : address.toString());
    url.setPort(m_port);
    return url;
}

std::optional<QString> Server::createToken(const QString &tenant, const QString &user, const QString &label,
                                           bool admin)
{
    if (!m_auth)
        return std::nullopt;
    const auto token = m_auth->createToken(tenant, user, label, admin);
    if (!token)
        return std::nullopt;
    return token->token;
}

bool Server::revokeToken(const QString &token)
{
    return m_auth && m_auth->revokeToken(token);
}
