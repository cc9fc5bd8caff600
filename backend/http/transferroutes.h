#pragma once

#include "storage/agentstore.h"
#include "storage/sessionstore.h"

#include <QObject>

class Database;
class Router;
struct RequestContext;

// Export and import of conversations: one session or all of the caller's as JSON (every version
// of every turn, for import elsewhere) or Markdown (the branch followed, for people); import of
// that JSON or of ChatGPT's conversations.json, all or nothing, and idempotent.
class TransferRoutes : public QObject
{
    Q_OBJECT
public:
    explicit TransferRoutes(Database &db, QObject *parent = nullptr);
    void registerRoutes(Router &router);

private:
    void exportOne(RequestContext &context);
    void exportAll(RequestContext &context);
    void importFile(RequestContext &context);
    // Answers with the sessions in `format` ("json" or "markdown"), as a download named `name`.
    void sendExport(RequestContext &context, const QList<Session> &sessions, const QString &format,
                    const QString &name);
    // The agent an imported session goes to; creates "Imported" when nothing else fits.
    QString agentFor(const QString &tenantId, const QString &fixedAgentId, const QString &agentId,
                     const QString &agentName);

    Database &m_db;
    AgentStore m_agents;
    SessionStore m_sessions;
};
