#include "types.h"

#include <QJsonDocument>
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

QStringList stringList(const QJsonObject &o, QLatin1String key)
{
    QStringList list;
    const QJsonArray array = o.value(key).toArray();
    for (const QJsonValue &v : array) {
        if (v.isString())
            list.append(v.toString());
    }
    return list;
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
    a.tools = stringList(o, "tools"_L1);
    if (const QString approval = string(o, "tool_approval"_L1); !approval.isEmpty())
        a.toolApproval = approval;
    a.maxSteps = o.value("max_steps"_L1).toInt(a.maxSteps);
    a.allowedTools = stringList(o, "allowed_tools"_L1);
    a.reasoningEffort = string(o, "reasoning_effort"_L1);
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
        {u"tools"_s, QJsonArray::fromStringList(tools)},
        {u"tool_approval"_s, toolApproval},
        {u"max_steps"_s, maxSteps},
        {u"allowed_tools"_s, QJsonArray::fromStringList(allowedTools)},
        {u"reasoning_effort"_s, nullIfEmpty(reasoningEffort)},
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
    s.pinned = o.value("pinned"_L1).toBool();
    s.model = string(o, "model"_L1);
    if (const QString origin = string(o, "origin"_L1); !origin.isEmpty())
        s.origin = origin;
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
        {u"pinned"_s, pinned},
        {u"model"_s, nullIfEmpty(model)},
        {u"origin"_s, origin},
    };
}

AttachmentItem AttachmentItem::fromJson(const QJsonObject &o)
{
    AttachmentItem a;
    a.id = string(o, "id"_L1);
    a.mediaType = string(o, "media_type"_L1);
    a.name = string(o, "name"_L1);
    a.size = qint64(o.value("size"_L1).toDouble());
    a.width = o.value("width"_L1).toInt();
    a.height = o.value("height"_L1).toInt();
    a.pages = o.value("pages"_L1).toInt();
    return a;
}

QJsonObject AttachmentItem::toJson() const
{
    QJsonObject o{{u"id"_s, id}, {u"media_type"_s, mediaType}, {u"name"_s, name}, {u"size"_s, size}};
    if (width > 0) {
        o.insert(u"width"_s, width);
        o.insert(u"height"_s, height);
    }
    if (pages > 0)
        o.insert(u"pages"_s, pages);
    return o;
}

QList<AttachmentItem> AttachmentItem::listFromJson(const QJsonArray &list)
{
    QList<AttachmentItem> out;
    for (const QJsonValue &v : list)
        out.append(fromJson(v.toObject()));
    return out;
}

QJsonArray AttachmentItem::listToJson(const QList<AttachmentItem> &list)
{
    QJsonArray out;
    for (const AttachmentItem &a : list)
        out.append(a.toJson());
    return out;
}

MessageItem MessageItem::fromJson(const QJsonObject &o)
{
    MessageItem m;
    m.id = string(o, "id"_L1);
    m.sessionId = string(o, "session_id"_L1);
    m.parentId = string(o, "parent_id"_L1);
    m.siblingIds = JsonUtil::stringList(o, "sibling_ids"_L1);
    m.role = string(o, "role"_L1);
    m.content = string(o, "content"_L1);
    m.reasoning = string(o, "reasoning"_L1);
    m.reasoningTokens = o.value("reasoning_tokens"_L1).toInt(-1);
    m.thoughtMs = qint64(o.value("thought_ms"_L1).toDouble(-1)); // client cache only
    m.attachments = AttachmentItem::listFromJson(o.value("attachments"_L1).toArray());
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
    m.steps = o.value("steps"_L1).toInt();
    m.parts = ReplyPart::listFromJson(o.value("parts"_L1).toArray());
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
    if (!parentId.isEmpty())
        o.insert(u"parent_id"_s, parentId);
    if (!siblingIds.isEmpty())
        o.insert(u"sibling_ids"_s, QJsonArray::fromStringList(siblingIds));
    if (role == "assistant"_L1) {
        o.insert(u"steps"_s, steps);
        o.insert(u"parts"_s, ReplyPart::listToJson(parts));
        o.insert(u"reasoning"_s, nullIfEmpty(reasoning));
        if (reasoningTokens >= 0)
            o.insert(u"reasoning_tokens"_s, reasoningTokens);
        if (thoughtMs >= 0)
            o.insert(u"thought_ms"_s, thoughtMs);
    }
    if (!attachments.isEmpty())
        o.insert(u"attachments"_s, AttachmentItem::listToJson(attachments));
    return o;
}

McpServerItem McpServerItem::fromJson(const QJsonObject &o)
{
    McpServerItem s;
    s.name = string(o, "name"_L1);
    s.transport = string(o, "transport"_L1);
    s.command = string(o, "command"_L1);
    s.args = stringList(o, "args"_L1);
    s.envNames = o.value("env"_L1).toObject().keys();
    s.url = string(o, "url"_L1);
    s.headerNames = o.value("headers"_L1).toObject().keys();
    s.timeoutMs = o.value("timeout_ms"_L1).toInt();
    s.status = string(o, "status"_L1);
    s.error = string(o, "error"_L1);
    s.protocolVersion = string(o, "protocol_version"_L1);
    const QJsonArray tools = o.value("tools"_L1).toArray();
    for (const QJsonValue &v : tools)
        s.tools.append({string(v.toObject(), "name"_L1), string(v.toObject(), "description"_L1)});
    return s;
}

QString McpServerItem::target() const
{
    if (transport == "http"_L1)
        return url;
    // Quoted as QProcess::splitCommand reads it back: "..." around, """ for a quote inside.
    QStringList words{command};
    words += args;
    for (QString &w : words) {
        if (w.isEmpty() || w.contains(u'"') ||
            std::any_of(w.cbegin(), w.cend(), [](QChar c) { return c.isSpace(); }))
            w = u'"' + QString(w).replace(u"\""_s, u"\"\"\""_s) + u'"';
    }
    return words.join(u' ');
}

bool ToolCallItem::operator==(const ToolCallItem &o) const
{
    return id == o.id && function == o.function && server == o.server && name == o.name &&
           arguments == o.arguments && status == o.status && decision == o.decision && step == o.step &&
           progress == o.progress && total == o.total && progressMessage == o.progressMessage &&
           deciding == o.deciding && hasResult == o.hasResult && isError == o.isError &&
           durationMs == o.durationMs && resultText == o.resultText && resultParts == o.resultParts;
}

QList<ReplyPart> ReplyPart::listFromJson(const QJsonArray &parts)
{
    QList<ReplyPart> list;
    for (const QJsonValue &v : parts) {
        const QJsonObject o = v.toObject();
        const QString type = string(o, "type"_L1);
        if (type == "text"_L1 || type == "reasoning"_L1) {
            ReplyPart part;
            part.isReasoning = type == "reasoning"_L1;
            part.text = string(o, "text"_L1);
            list.append(part);
        } else if (type == "tool_call"_L1) {
            ReplyPart part;
            part.isTool = true;
            ToolCallItem &c = part.call;
            c.id = string(o, "id"_L1);
            c.function = string(o, "function"_L1);
            c.server = string(o, "server"_L1);
            c.name = string(o, "name"_L1);
            const QJsonValue args = o.value("arguments"_L1);
            c.arguments =
                args.isObject()
                    ? QString::fromUtf8(QJsonDocument(args.toObject()).toJson(QJsonDocument::Compact))
                    : args.toString();
            c.status = string(o, "status"_L1);
            c.decision = string(o, "decision"_L1);
            c.step = o.value("step"_L1).toInt();
            list.append(part);
        } else if (type == "tool_result"_L1) {
            ToolCallItem *c = findCall(list, string(o, "tool_call_id"_L1));
            if (!c)
                continue;
            c->hasResult = true;
            c->isError = o.value("is_error"_L1).toBool();
            c->durationMs = o.value("duration_ms"_L1).toInteger();
            c->resultText = string(o, "text"_L1);
            c->resultParts = o.value("parts"_L1).toArray();
        }
    }
    return list;
}

QJsonArray ReplyPart::listToJson(const QList<ReplyPart> &parts)
{
    QJsonArray array;
    auto orNull = [](const QString &s) {
        return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
    };
    for (const ReplyPart &part : parts) {
        if (!part.isTool) {
            array.append(QJsonObject{{u"type"_s, part.isReasoning ? u"reasoning"_s : u"text"_s},
                                     {u"text"_s, part.text}});
            continue;
        }
        const ToolCallItem &c = part.call;
        array.append(QJsonObject{{u"type"_s, u"tool_call"_s},
                                 {u"id"_s, c.id},
                                 {u"function"_s, c.function},
                                 {u"server"_s, orNull(c.server)},
                                 {u"name"_s, c.name},
                                 {u"arguments"_s, c.arguments},
                                 {u"status"_s, c.status},
                                 {u"decision"_s, orNull(c.decision)},
                                 {u"step"_s, c.step}});
        if (c.hasResult) {
            array.append(QJsonObject{{u"type"_s, u"tool_result"_s},
                                     {u"tool_call_id"_s, c.id},
                                     {u"is_error"_s, c.isError},
                                     {u"duration_ms"_s, c.durationMs},
                                     {u"text"_s, c.resultText},
                                     {u"parts"_s, c.resultParts}});
        }
    }
    return array;
}

void ReplyPart::appendText(QList<ReplyPart> &parts, const QString &text)
{
    if (parts.isEmpty() || parts.constLast().isTool || parts.constLast().isReasoning)
        parts.append(ReplyPart());
    parts.last().text += text;
}

void ReplyPart::appendReasoning(QList<ReplyPart> &parts, const QString &text)
{
    if (parts.isEmpty() || !parts.constLast().isReasoning) {
        ReplyPart part;
        part.isReasoning = true;
        parts.append(part);
    }
    parts.last().text += text;
}

ToolCallItem *ReplyPart::findCall(QList<ReplyPart> &parts, const QString &id, int step)
{
    for (qsizetype i = parts.size() - 1; i >= 0; --i) {
        ReplyPart &part = parts[i];
        if (part.isTool && part.call.id == id && (step < 0 || part.call.step == step))
            return &part.call;
    }
    return nullptr;
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
    p.readOnly = o.value("read_only"_L1).toBool();
    p.connectTimeoutMs = o.value("connect_timeout_ms"_L1).toInt();
    p.stallTimeoutMs = o.value("stall_timeout_ms"_L1).toInt();
    p.vision = string(o, "vision"_L1);
    if (p.vision.isEmpty())
        p.vision = u"auto"_s;
    return p;
}
