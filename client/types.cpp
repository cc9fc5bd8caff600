#include "types.h"

#include <QJsonValue>

using namespace Qt::StringLiterals;

namespace JsonUtil {

QString string(const QJsonObject &o, QLatin1String key)
{
    const QJsonValue v = o.value(key);
    return v.isString() ? v.toString() : QString();
}

QDateTime dateTime(const QJsonObject &o, QLatin1String key)
{
    const QString s = string(o, key);
    if (s.isEmpty())
        return {};
    QDateTime dt = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!dt.isValid())
        dt = QDateTime::fromString(s, Qt::ISODate);
    return dt;
}

QJsonValue dateTimeValue(const QDateTime &dt)
{
    if (!dt.isValid())
        return QJsonValue::Null;
    return dt.toUTC().toString(Qt::ISODateWithMs);
}

} // namespace JsonUtil

using namespace JsonUtil;

static QJsonValue nullIfEmpty(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

AgentItem AgentItem::fromJson(const QJsonObject &o)
{
    AgentItem a;
    a.id = string(o, "id"_L1);
    a.name = string(o, "name"_L1);
    a.description = string(o, "description"_L1);
    a.systemPrompt = string(o, "system_prompt"_L1);
    a.greeting = string(o, "greeting"_L1);
    a.provider = string(o, "provider"_L1);
    a.model = string(o, "model"_L1);
    const QJsonValue t = o.value("temperature"_L1);
    if (t.isDouble())
        a.temperature = t.toDouble();
    const QJsonValue m = o.value("max_tokens"_L1);
    if (m.isDouble())
        a.maxTokens = m.toInt();
    a.createdAt = dateTime(o, "created_at"_L1);
    a.updatedAt = dateTime(o, "updated_at"_L1);
    return a;
}

QJsonObject AgentItem::toJson() const
{
    QJsonObject o{
        {u"name"_s, name},
        {u"description"_s, description},
        {u"system_prompt"_s, systemPrompt},
        {u"greeting"_s, greeting},
        {u"provider"_s, nullIfEmpty(provider)},
        {u"model"_s, model},
        {u"temperature"_s, temperature.isValid() && !temperature.isNull() ? QJsonValue(temperature.toDouble())
                                                                          : QJsonValue(QJsonValue::Null)},
        {u"max_tokens"_s, maxTokens.isValid() && !maxTokens.isNull() ? QJsonValue(maxTokens.toInt())
                                                                     : QJsonValue(QJsonValue::Null)},
    };
    if (!id.isEmpty())
        o.insert(u"id"_s, id);
    if (createdAt.isValid())
        o.insert(u"created_at"_s, dateTimeValue(createdAt));
    if (updatedAt.isValid())
        o.insert(u"updated_at"_s, dateTimeValue(updatedAt));
    return o;
}

SessionItem SessionItem::fromJson(const QJsonObject &o)
{
    SessionItem s;
    s.id = string(o, "id"_L1);
    s.agentId = string(o, "agent_id"_L1);
    s.title = string(o, "title"_L1);
    s.messageCount = o.value("message_count"_L1).toInt();
    s.createdAt = dateTime(o, "created_at"_L1);
    s.updatedAt = dateTime(o, "updated_at"_L1);
    s.streaming = o.value("streaming"_L1).toBool();
    return s;
}

QJsonObject SessionItem::toJson() const
{
    return QJsonObject{
        {u"id"_s, id},
        {u"agent_id"_s, agentId},
        {u"title"_s, title},
        {u"message_count"_s, messageCount},
        {u"created_at"_s, dateTimeValue(createdAt)},
        {u"updated_at"_s, dateTimeValue(updatedAt)},
        {u"streaming"_s, streaming},
    };
}

MessageItem MessageItem::fromJson(const QJsonObject &o)
{
    MessageItem m;
    m.id = string(o, "id"_L1);
    m.sessionId = string(o, "session_id"_L1);
    m.role = string(o, "role"_L1);
    m.content = string(o, "content"_L1);
    m.status = string(o, "status"_L1);
    if (m.status.isEmpty())
        m.status = u"complete"_s;
    m.finishReason = string(o, "finish_reason"_L1);
    m.model = string(o, "model"_L1);
    m.error = string(o, "error"_L1);
    m.promptTokens = o.value("prompt_tokens"_L1).toInt();
    m.completionTokens = o.value("completion_tokens"_L1).toInt();
    m.tokensUsed = o.value("tokens_used"_L1).toInt(m.promptTokens + m.completionTokens);
    m.tokensEstimated = o.value("tokens_estimated"_L1).toBool();
    m.tokensPerSecond = o.value("tokens_per_second"_L1).toDouble(); // client cache only
    m.createdAt = dateTime(o, "created_at"_L1);
    return m;
}

QJsonObject MessageItem::toJson() const
{
    QJsonObject o{
        {u"id"_s, id},
        {u"session_id"_s, sessionId},
        {u"role"_s, role},
        {u"content"_s, content},
        {u"status"_s, status},
        {u"finish_reason"_s, nullIfEmpty(finishReason)},
        {u"model"_s, nullIfEmpty(model)},
        {u"error"_s, nullIfEmpty(error)},
        {u"prompt_tokens"_s, promptTokens},
        {u"completion_tokens"_s, completionTokens},
        {u"tokens_used"_s, tokensUsed},
        {u"tokens_estimated"_s, tokensEstimated},
        {u"created_at"_s, dateTimeValue(createdAt)},
    };
    if (tokensPerSecond > 0)
        o.insert(u"tokens_per_second"_s, tokensPerSecond);
    return o;
}

ProviderItem ProviderItem::fromJson(const QJsonObject &o)
{
    ProviderItem p;
    p.name = string(o, "name"_L1);
    p.kind = string(o, "kind"_L1);
    p.baseUrl = string(o, "base_url"_L1);
    p.model = string(o, "model"_L1);
    p.isDefault = o.value("is_default"_L1).toBool();
    p.hasApiKey = o.value("has_api_key"_L1).toBool();
    p.connectTimeoutMs = o.value("connect_timeout_ms"_L1).toInt();
    p.stallTimeoutMs = o.value("stall_timeout_ms"_L1).toInt();
    return p;
}
