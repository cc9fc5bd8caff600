#include "statsstore.h"

#include "database.h"
#include "statement.h"

using namespace Qt::StringLiterals;

namespace {

void readCounters(const Statement &q, AgentStats &stats)
{
    stats.sessions = q.value(0).toLongLong();
    stats.messages = q.value(1).toLongLong();
    stats.promptTokens = q.value(2).toLongLong();
    stats.completionTokens = q.value(3).toLongLong();
}

} // namespace

AgentStats StatsStore::agentStats(const QString &tenantId, const QString &agentId)
{
    AgentStats stats;
    stats.agentId = agentId;
    Statement q(m_db, u"SELECT sessions, messages, prompt_tokens, completion_tokens FROM agent_stats"
                      u" WHERE tenant_id = ? AND agent_id = ?"_s);
    q.bind(tenantId).bind(agentId);
    if (q.exec() && q.next())
        readCounters(q, stats);
    return stats;
}

AgentStats StatsStore::tenantStats(const QString &tenantId)
{
    AgentStats stats;
    // CAST: PostgreSQL's SUM(BIGINT) is NUMERIC; BIGINT reads back the same on both drivers.
    Statement q(
        m_db,
        u"SELECT CAST(COALESCE(SUM(sessions), 0) AS BIGINT), CAST(COALESCE(SUM(messages), 0) AS BIGINT),"
        u" CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT),"
        u" CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT)"
        u" FROM agent_stats WHERE tenant_id = ?"_s);
    q.bind(tenantId);
    if (q.exec() && q.next())
        readCounters(q, stats);
    return stats;
}
