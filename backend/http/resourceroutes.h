#pragma once

#include "core/apierror.h"
#include "storage/agentstore.h"
#include "storage/providerstore.h"
#include "storage/sessionstore.h"
#include "storage/statsstore.h"

#include <QObject>

class ChatService;
class Database;
class FileStore;
class LlmClient;
class ModelCatalog;
class ProviderResolver;
class Router;
struct RequestContext;

// Agents, sessions, providers, statistics and health: plain JSON resources, all tenant-scoped.
class ResourceRoutes : public QObject
{
    Q_OBJECT
public:
    ResourceRoutes(Database &db, ChatService &chat, ProviderResolver &providers, LlmClient &llm,
                   ModelCatalog &catalog, FileStore *files, QObject *parent = nullptr);

    void registerRoutes(Router &router);

private:
    // Answers 400 and returns false for an id that is not a UUID.
    static bool readId(RequestContext &context, int index, QString *id, const QString &what);

    void listAgents(RequestContext &context);
    void createAgent(RequestContext &context);
    void getAgent(RequestContext &context);
    void updateAgent(RequestContext &context);
    void deleteAgent(RequestContext &context);
    void agentStats(RequestContext &context);

    void listSessions(RequestContext &context);
    void getSession(RequestContext &context);
    // The session in the path, when it is the caller's (404 answered otherwise).
    std::optional<Session> ownSession(RequestContext &context);
    void sendBranch(RequestContext &context, const Session &session, const QString &throughId);
    void sessionMessages(RequestContext &context);
    void switchBranch(RequestContext &context);
    void forkSession(RequestContext &context);
    void renameSession(RequestContext &context);
    void deleteSession(RequestContext &context);
    // 409 when a reply runs in it.
    ApiError removeSession(const Principal &p, const QString &id);

    void listProviders(RequestContext &context);
    void putProvider(RequestContext &context);
    void deleteProvider(RequestContext &context);
    void testProvider(RequestContext &context);
    void providerModels(RequestContext &context);

    void tenantStats(RequestContext &context);

    ChatService &m_chat;
    ProviderResolver &m_providers;
    LlmClient &m_llm;
    ModelCatalog &m_catalog;
    FileStore *m_files;
    AgentStore m_agents;
    SessionStore m_sessions;
    StatsStore m_stats;
    ProviderStore m_providerStore;
};
