#include "agentstore.h"

#include "database.h"
#include "mcpserverstore.h"
#include "statement.h"
#include "storageutil.h"

using namespace Qt::StringLiterals;
using namespace StorageUtil;

namespace {

const QString columns = u"id, tenant_id, name, description, system_prompt, greeting, provider, model,"
                        u" temperature, max_tokens, created_at, updated_at, tools, tool_approval, max_steps,"
                        u" allowed_tools, reasoning_effort"_s;

Agent readAgent(const Statement &q)
{
    Agent agent;
    agent.id = q.value(0).toString();
    agent.tenantId = q.value(1).toString();
    agent.name = q.value(2).toString();
    agent.description = q.value(3).toString();
    agent.systemPrompt = q.value(4).toString();
    agent.greeting = q.value(5).toString();
    agent.provider = q.value(6).toString();
    agent.model = q.value(7).toString();
    if (!q.value(8).isNull())
        agent.temperature = q.value(8).toDouble();
    if (!q.value(9).isNull())
        agent.maxTokens = q.value(9).toInt();
    agent.createdAt = fromMs(q.value(10));
    agent.updatedAt = fromMs(q.value(11));
    agent.tools = McpServerStore::decodeList(q.value(12).toString());
    agent.toolApproval = q.value(13).toString();
    agent.maxSteps = q.value(14).toInt();
    agent.allowedTools = McpServerStore::decodeList(q.value(15).toString());
    agent.reasoningEffort = q.value(16).toString();
    return agent;
}

QVariant temperatureValue(const Agent &agent)
{
    return agent.temperature ? QVariant(*agent.temperature) : nullOf<double>();
}

QVariant maxTokensValue(const Agent &agent)
{
    return agent.maxTokens ? QVariant(*agent.maxTokens) : nullOf<int>();
}

} // namespace

QList<Agent> AgentStore::list(const QString &tenantId)
{
    Statement q(m_db, u"SELECT "_s + columns +
                          u" FROM agents WHERE tenant_id = ? ORDER BY LOWER(name), created_at, id"_s);
    q.bind(tenantId);
    QList<Agent> agents;
    if (!q.exec())
        return agents;
    while (q.next())
        agents.append(readAgent(q));
    return agents;
}

std::optional<Agent> AgentStore::get(const QString &tenantId, const QString &id)
{
    Statement q(m_db, u"SELECT "_s + columns + u" FROM agents WHERE id = ? AND tenant_id = ?"_s);
    q.bind(id).bind(tenantId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return readAgent(q);
}

bool AgentStore::create(Agent &agent)
{
    if (agent.tenantId.isEmpty() || agent.name.trimmed().isEmpty())
        return false;
    Agent row = agent;
    const qint64 now = nowMs();
    if (row.id.isEmpty())
        row.id = newId();
    row.createdAt = fromMs(toMs(row.createdAt, now));
    row.updatedAt = fromMs(toMs(row.updatedAt, row.createdAt.toMSecsSinceEpoch()));
    Statement q(m_db, u"INSERT INTO agents ("_s + columns +
                          u") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
    q.bind(row.id)
        .bind(row.tenantId)
        .bind(row.name)
        .bind(row.description)
        .bind(row.systemPrompt)
        .bind(row.greeting)
        .bind(row.provider)
        .bind(row.model)
        .bind(temperatureValue(row))
        .bind(maxTokensValue(row))
        .bind(row.createdAt.toMSecsSinceEpoch())
        .bind(row.updatedAt.toMSecsSinceEpoch())
        .bind(McpServerStore::encodeList(row.tools))
        .bind(row.toolApproval)
        .bind(row.maxSteps)
        .bind(McpServerStore::encodeList(row.allowedTools))
        .bind(row.reasoningEffort);
    if (!q.exec())
        return false;
    agent = row;
    return true;
}

bool AgentStore::update(Agent &agent)
{
    if (agent.id.isEmpty() || agent.tenantId.isEmpty() || agent.name.trimmed().isEmpty())
        return false;
    const qint64 now = nowMs();
    Statement q(m_db,
                u"UPDATE agents SET name = ?, description = ?, system_prompt = ?, greeting = ?,"
                u" provider = ?, model = ?, temperature = ?, max_tokens = ?, tools = ?, tool_approval = ?,"
                u" max_steps = ?, allowed_tools = ?, reasoning_effort = ?, updated_at = ?"
                u" WHERE id = ? AND tenant_id = ?"_s);
    q.bind(agent.name)
        .bind(agent.description)
        .bind(agent.systemPrompt)
        .bind(agent.greeting)
        .bind(agent.provider)
        .bind(agent.model)
        .bind(temperatureValue(agent))
        .bind(maxTokensValue(agent))
        .bind(McpServerStore::encodeList(agent.tools))
        .bind(agent.toolApproval)
        .bind(agent.maxSteps)
        .bind(McpServerStore::encodeList(agent.allowedTools))
        .bind(agent.reasoningEffort)
        .bind(now)
        .bind(agent.id)
        .bind(agent.tenantId);
    if (!q.exec() || q.rowsAffected() != 1)
        return false;
    agent.updatedAt = fromMs(now);
    return true;
}

bool AgentStore::allowTool(const QString &tenantId, const QString &id, const QString &tool)
{
    auto agent = get(tenantId, id);
    if (!agent)
        return false;
    if (agent->allowedTools.contains(tool))
        return true;
    agent->allowedTools.append(tool);
    Statement q(m_db, u"UPDATE agents SET allowed_tools = ? WHERE id = ? AND tenant_id = ?"_s);
    q.bind(McpServerStore::encodeList(agent->allowedTools)).bind(id).bind(tenantId);
    return q.exec() && q.rowsAffected() == 1;
}

bool AgentStore::remove(const QString &tenantId, const QString &id)
{
    // Sessions and their messages go with the agent (ON DELETE CASCADE); its usage
    // statistics stay, they count what was used.
    Statement q(m_db, u"DELETE FROM agents WHERE id = ? AND tenant_id = ?"_s);
    q.bind(id).bind(tenantId);
    return q.exec() && q.rowsAffected() == 1;
}
