#pragma once

#include "entities.h"

class Database;

// Usage counters per agent: sessions started, messages written, tokens used. They count
// usage, so deleting a session does not lower them.
class StatsStore
{
public:
    explicit StatsStore(Database &db) : m_db(db) {}

    AgentStats agentStats(const QString &tenantId, const QString &agentId);
    AgentStats tenantStats(const QString &tenantId);

private:
    Database &m_db;
};
