#include "jsonview.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace JsonView {

QString timestamp(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODateWithMs) : QString();
}

static QJsonValue nullable(const QString &value)
{
    return value.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(value);
}

QJsonObject agent(const Agent &agent)
{
    return {
        {u"id"_s, agent.id},
        {u"name"_s, agent.name},
        {u"description"_s, agent.description},
        {u"system_prompt"_s, agent.systemPrompt},
        {u"greeting"_s, agent.greeting},
        {u"provider"_s, nullable(agent.provider)},
        {u"model"_s, nullable(agent.model)},
        {u"temperature"_s, agent.temperature ? QJsonValue(*agent.temperature) : QJsonValue(QJsonValue::Null)},
        {u"max_tokens"_s, agent.maxTokens ? QJsonValue(*agent.maxTokens) : QJsonValue(QJsonValue::Null)},
        {u"tools"_s, QJsonArray::fromStringList(agent.tools)},
        {u"tool_approval"_s, agent.toolApproval},
        {u"max_steps"_s, agent.maxSteps},
        {u"allowed_tools"_s, QJsonArray::fromStringList(agent.allowedTools)},
        {u"reasoning_effort"_s, nullable(agent.reasoningEffort)},
        {u"created_at"_s, timestamp(agent.createdAt)},
        {u"updated_at"_s, timestamp(agent.updatedAt)},
    };
}

QJsonObject session(const Session &session, bool streaming)
{
    return {
        {u"id"_s, session.id},
        {u"agent_id"_s, session.agentId},
        {u"title"_s, session.title},
        {u"message_count"_s, session.messageCount},
        {u"pinned"_s, session.pinned},
        {u"model"_s, nullable(session.model)},
        {u"origin"_s, session.origin},
        {u"created_at"_s, timestamp(session.createdAt)},
        {u"updated_at"_s, timestamp(session.updatedAt)},
        {u"streaming"_s, streaming},
    };
}

QJsonArray attachments(const Message &message)
{
    QJsonArray list;
    if (message.attachments.isEmpty())
        return list;
    for (const QJsonValue &value : QJsonDocument::fromJson(message.attachments.toUtf8()).array()) {
        QJsonObject file = value.toObject();
        file.insert(u"url"_s, u"/api/files/"_s + file.value("id"_L1).toString());
        list.append(file);
    }
    return list;
}

QJsonObject message(const Message &message)
{
    QJsonObject json{
        {u"id"_s, message.id},
        {u"session_id"_s, message.sessionId},
        {u"parent_id"_s, nullable(message.parentId)},
        {u"role"_s, message.role},
        {u"content"_s, message.content},
        {u"attachments"_s, attachments(message)},
        {u"status"_s, message.status},
        {u"finish_reason"_s, nullable(message.finishReason)},
        {u"model"_s, nullable(message.model)},
        {u"error"_s, nullable(message.error)},
        {u"prompt_tokens"_s, message.promptTokens},
        {u"completion_tokens"_s, message.completionTokens},
        {u"tokens_estimated"_s, message.tokensEstimated},
        {u"created_at"_s, timestamp(message.createdAt)},
    };
    if (!message.siblingIds.isEmpty())
        json.insert(u"sibling_ids"_s, QJsonArray::fromStringList(message.siblingIds));
    if (message.role == "assistant"_L1) {
        json.insert(u"reasoning"_s, nullable(message.reasoning));
        if (message.reasoningTokens >= 0)
            json.insert(u"reasoning_tokens"_s, message.reasoningTokens);
        json.insert(u"steps"_s, message.steps);
        json.insert(u"parts"_s, publicParts(message.parts));
    }
    return json;
}

QJsonArray publicParts(const QString &stored)
{
    QJsonArray parts = stored.isEmpty() ? QJsonArray() : QJsonDocument::fromJson(stored.toUtf8()).array();
    // Whom a reasoning part goes back to is the server's business, not the API's.
    for (qsizetype i = 0; i < parts.size(); ++i) {
        QJsonObject part = parts.at(i).toObject();
        if (part.contains("echo_for"_L1)) {
            part.remove(u"echo_for"_s);
            part.remove(u"echo_field"_s);
            parts.replace(i, part);
        }
    }
    return parts;
}

QJsonObject stats(const AgentStats &stats)
{
    QJsonObject object{
        {u"sessions"_s, stats.sessions},          {u"messages"_s, stats.messages},
        {u"prompt_tokens"_s, stats.promptTokens}, {u"completion_tokens"_s, stats.completionTokens},
        {u"tokens_used"_s, stats.totalTokens()},
    };
    if (!stats.agentId.isEmpty())
        object.insert(u"agent_id"_s, stats.agentId);
    return object;
}

QJsonObject provider(const ProviderRow &row, bool hasApiKey)
{
    return {
        {u"name"_s, row.name},
        {u"kind"_s, row.kind},
        {u"base_url"_s, row.baseUrl},
        {u"model"_s, row.model},
        {u"is_default"_s, row.isDefault},
        {u"vision"_s, row.vision},
        {u"allowed_models"_s, QJsonArray::fromStringList(row.allowedModels)},
        {u"has_api_key"_s, hasApiKey},
        {u"connect_timeout_ms"_s, row.connectTimeoutMs},
        {u"stall_timeout_ms"_s, row.stallTimeoutMs},
    };
}

static ApiError invalidField(const QString &field, const QString &expected)
{
    return ApiError::badRequest(u"invalid_field"_s, u"Field \"%1\" must be %2"_s.arg(field, expected));
}

ApiError applyAgent(const QJsonObject &body, Agent &agent, bool creating)
{
    struct TextField
    {
        const char *name;
        QString Agent::*member;
        int maxLength;
    };
    static const TextField textFields[] = {
        {"name", &Agent::name, 200},
        {"description", &Agent::description, 4000},
        {"system_prompt", &Agent::systemPrompt, 100000},
        {"greeting", &Agent::greeting, 20000},
        {"provider", &Agent::provider, 200},
        {"model", &Agent::model, 200},
    };
    for (const TextField &field : textFields) {
        const QString name = QLatin1String(field.name);
        const QJsonValue value = body.value(name);
        if (value.isUndefined())
            continue;
        if (value.isNull() && name != "name"_L1) {
            agent.*field.member = QString();
            continue;
        }
        if (!value.isString())
            return invalidField(name, u"a string"_s);
        if (value.toString().size() > field.maxLength)
            return invalidField(name, u"at most %1 characters"_s.arg(field.maxLength));
        agent.*field.member = value.toString();
    }
    agent.name = agent.name.trimmed();
    if (agent.name.isEmpty() && (creating || body.contains(u"name"_s)))
        return ApiError::badRequest(u"invalid_field"_s,
                                    u"Field \"name\" is required and must not be empty"_s);

    const QJsonValue temperature = body.value(u"temperature"_s);
    if (temperature.isNull()) {
        agent.temperature.reset();
    } else if (!temperature.isUndefined()) {
        if (!temperature.isDouble() || temperature.toDouble() < 0 || temperature.toDouble() > 2)
            return invalidField(u"temperature"_s, u"a number from 0 to 2"_s);
        agent.temperature = temperature.toDouble();
    }
    const QJsonValue maxTokens = body.value(u"max_tokens"_s);
    if (maxTokens.isNull()) {
        agent.maxTokens.reset();
    } else if (!maxTokens.isUndefined()) {
        const double value = maxTokens.toDouble();
        if (!maxTokens.isDouble() || value < 1 || value > 1000000 || value != double(qint64(value)))
            return invalidField(u"max_tokens"_s, u"a whole number from 1 to 1000000"_s);
        agent.maxTokens = int(value);
    }
    // Tools: "server/tool" or "server/*", as the MCP servers are named.
    static const QRegularExpression toolPattern(u"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}/([^/\\s]{1,128}|\\*)$"_s);
    for (auto [field, member] :
         {std::pair{"tools", &Agent::tools}, std::pair{"allowed_tools", &Agent::allowedTools}}) {
        const QJsonValue value = body.value(QLatin1String(field));
        if (value.isUndefined())
            continue;
        if (value.isNull()) {
            (agent.*member).clear();
            continue;
        }
        QStringList patterns;
        const QJsonArray array = value.toArray();
        for (const QJsonValue &item : array) {
            if (!item.isString() || !toolPattern.match(item.toString()).hasMatch())
                return invalidField(QLatin1String(field), u"a list of \"server/tool\" or \"server/*\""_s);
            if (!patterns.contains(item.toString()))
                patterns.append(item.toString());
        }
        if (!value.isArray() || patterns.size() > 200)
            return invalidField(QLatin1String(field),
                                u"a list of at most 200 \"server/tool\" or \"server/*\""_s);
        agent.*member = patterns;
    }
    const QJsonValue approval = body.value(u"tool_approval"_s);
    if (!approval.isUndefined()) {
        if (approval.toString() != "ask"_L1 && approval.toString() != "auto"_L1)
            return invalidField(u"tool_approval"_s, u"\"ask\" or \"auto\""_s);
        agent.toolApproval = approval.toString();
    }
    const QJsonValue effort = body.value(u"reasoning_effort"_s);
    if (effort.isNull() || (effort.isString() && effort.toString().isEmpty())) {
        agent.reasoningEffort.clear();
    } else if (!effort.isUndefined()) {
        static const QStringList efforts{u"low"_s, u"medium"_s, u"high"_s, u"off"_s};
        if (!efforts.contains(effort.toString()))
            return invalidField(u"reasoning_effort"_s, u"\"low\", \"medium\", \"high\", \"off\" or null"_s);
        agent.reasoningEffort = effort.toString();
    }
    const QJsonValue maxSteps = body.value(u"max_steps"_s);
    if (!maxSteps.isUndefined()) {
        const double value = maxSteps.toDouble();
        if (!maxSteps.isDouble() || value < 1 || value > 50 || value != double(qint64(value)))
            return invalidField(u"max_steps"_s, u"a whole number from 1 to 50"_s);
        agent.maxSteps = int(value);
    }
    return {};
}

} // namespace JsonView
