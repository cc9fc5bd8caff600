#pragma once

#include "entities.h"

#include <QList>
#include <optional>

class Database;

// Agents, always scoped to a tenant: another tenant's agent is simply not found.
class AgentStore
{
public:
    explicit AgentStore(Database &db) : m_db(db) {}

    QList<Agent> list(const QString &tenantId);
    std::optional<Agent> get(const QString &tenantId, const QString &id);
    // Fills id and timestamps when empty.
    bool create(Agent &agent);
    bool update(Agent &agent); // false when not found in agent.tenantId
    bool remove(const QString &tenantId, const QString &id);
    // "Always" for a tool ("server/tool"): it runs without asking from then on.
    bool allowTool(const QString &tenantId, const QString &id, const QString &tool);

private:
    Database &m_db;
};
