#pragma once

#include "llm/llmtypes.h"
#include "storage/database.h"

#include <QHostAddress>
#include <QObject>
#include <QStringList>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <optional>
#include <vector>

class ApiServer;
class AuthStore;
class ChatRoutes;
class ChatService;
class FileRoutes;
class FileStore;
class McpRegistry;
class McpRoutes;
class LlmClient;
class ModelCatalog;
class ProviderResolver;
class ProviderStore;
class ResourceRoutes;
class SearchRoutes;
class TransferRoutes;
class SecretStore;
class OpenAiRoutes;
class ServerLoop;
class StreamTickets;
class TurnDirectory;
class WalCheckpointer;

// The backend assembled: database, upstream client, chat service and HTTP API on one thread.
// The headless server, the desktop app (in-process) and the integration tests all start this.
class Server : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QHostAddress listenAddress = QHostAddress::LocalHost;
        quint16 port = 8080;        // 0 = any free port
        QString dataDir;            // empty = the user's data directory
        Database::Options database; // an empty SQLite path means <dataDir>/agentdesk.db
        QString secretsPath;        // empty = <dataDir>/secrets.json (0600)
        std::optional<ProviderConfig> environmentProvider = std::nullopt;
        int keepAliveMs = 15000;
        int resumeGraceMs = 30000; // a reply runs on this long after its last client left (0: stops)
        QStringList corsOrigins;   // pages from these origins may call the API ("*": any)
        int progressIntervalMs = 1000;
        qint64 maxBodyBytes = 1024 * 1024;
        qint64 maxImportBodyBytes = 64 * 1024 * 1024; // POST /api/import: whole exports
        qint64 maxUploadBytes = 20 * 1024 * 1024;     // POST /api/files: one file
        qint64 maxUnsentUploadBytes = 0;              // a user's uploads not sent yet (0: ten files' worth)
        int maxDocumentChars = 100000;                // of a document's text, sent with a message
        qint64 maxHeaderBytes = 64 * 1024;            // request line + headers; more answers 431
        int requestTimeoutMs = 30000;                 // a request must arrive whole this soon (else 408)
        int idleTimeoutMs = 60000;                    // keep-alive connections idle this long are closed
        int maxApiCompletionsPerUser = 16;            // /v1/chat/completions running at once per user
        // Event loops, each on a thread of its own (--threads); replies are spread over them. Tests
        // run the suite with AGENTDESK_THREADS=4. One where a SecretStore is handed in (the keychain).
        int threads = defaultThreads();
    };
    // AGENTDESK_THREADS, else 1.
    static int defaultThreads();

    explicit Server(QObject *parent = nullptr);
    ~Server() override;

    // Opens the database (marking replies a crash left "streaming" as interrupted) and listens.
    bool start(const Options &options);
    // Saves running replies as interrupted and stops listening.
    void stop();
    QString errorString() const { return m_error; }

    quint16 port() const { return m_port; }
    QUrl url() const;

    std::optional<QString> createToken(const QString &tenant, const QString &user, const QString &label = {},
                                       bool admin = false);
    // By id, prefix or the token itself.
    bool revokeToken(const QString &token);

    // The desktop app hands in its keychain-backed store; otherwise the 0600 file is used.
    void setSecretStore(SecretStore *store) { m_externalSecrets = store; }

    Database &database() { return *m_db; }
    ApiServer *http() { return m_http.get(); }
    ChatService &chat() { return *m_chat; }
    // Every loop's chat service, the first loop's first; the others live on their own threads.
    QList<ChatService *> loopServices() const;
    int loops() const { return int(m_loops.size()) + 1; }
    McpRegistry &mcp() { return *m_mcp; }

private:
    Options m_options;
    QString m_error;
    quint16 m_port = 0;
    SecretStore *m_externalSecrets = nullptr;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<WalCheckpointer> m_checkpointer; // SQLite: WAL checkpoints off the serving thread
    std::unique_ptr<SecretStore> m_fileSecrets;
    std::unique_ptr<AuthStore> m_auth;
    std::unique_ptr<ProviderStore> m_providerStore;
    std::unique_ptr<ProviderResolver> m_providers;
    std::unique_ptr<LlmClient> m_llm;
    std::unique_ptr<ModelCatalog> m_catalog;
    std::unique_ptr<FileStore> m_files;
    std::unique_ptr<McpRegistry> m_mcp;
    std::unique_ptr<TurnDirectory> m_directory;
    std::unique_ptr<ChatService> m_chat;
    std::vector<std::unique_ptr<ServerLoop>> m_loops; // the second and later loops
    std::unique_ptr<StreamTickets> m_tickets;
    std::unique_ptr<ApiServer> m_http;
    std::unique_ptr<ChatRoutes> m_chatRoutes;
    std::unique_ptr<OpenAiRoutes> m_openAiRoutes;
    std::unique_ptr<ResourceRoutes> m_resourceRoutes;
    std::unique_ptr<SearchRoutes> m_searchRoutes;
    std::unique_ptr<TransferRoutes> m_transferRoutes;
    std::unique_ptr<McpRoutes> m_mcpRoutes;
    std::unique_ptr<FileRoutes> m_fileRoutes;
    // Gives freed heap back to the system once the streams are gone (glibc keeps it otherwise).
    QTimer *m_trimTimer = nullptr;
    QTimer *m_indexTimer = nullptr;
    QTimer *m_filesTimer = nullptr; // uploads nobody used, files of sessions a cascade deleted
    bool m_heapDirty = false;
};
