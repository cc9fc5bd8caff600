#include "conversationimport.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace {

constexpr int maxTitleLength = 200;

ApiError malformed(const QString &where, const QString &what)
{
    return ApiError::badRequest(u"invalid_import"_s, u"%1: %2; nothing was imported"_s.arg(where, what));
}

QString cutTitle(const QString &title)
{
    QString simplified = title.simplified();
    if (simplified.size() > maxTitleLength) {
        int cut = maxTitleLength;
        if (simplified.at(cut - 1).isHighSurrogate())
            --cut;
        simplified = simplified.left(cut);
    }
    return simplified;
}

QDateTime fromSeconds(const QJsonValue &value)
{
    if (!value.isDouble() || !std::isfinite(value.toDouble()) || value.toDouble() < 0)
        return {};
    return QDateTime::fromMSecsSinceEpoch(qint64(std::llround(value.toDouble() * 1000)), Qt::UTC);
}

QDateTime fromIso(const QJsonValue &value)
{
    QDateTime time = QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
    return time.isValid() ? time.toUTC() : QDateTime();
}

// --- AgentDesk's own export

bool readAgentDesk(const QJsonObject &file, ConversationImport::Result &result)
{
    if (file.value("version"_L1).toInt() != 1) {
        result.error = ApiError::badRequest(u"unsupported_import_version"_s,
                                            u"This build reads version 1 of agentdesk.sessions files"_s);
        return false;
    }
    const QJsonValue sessions = file.value("sessions"_L1);
    if (!sessions.isArray()) {
        result.error = malformed(u"sessions"_s, u"not an array"_s);
        return false;
    }
    const QJsonArray list = sessions.toArray();
    if (list.size() > ConversationImport::maxConversations) {
        result.error = ApiError::badRequest(
            u"too_many_conversations"_s,
            u"At most %1 sessions per import"_s.arg(ConversationImport::maxConversations));
        return false;
    }
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString where = u"sessions[%1]"_s.arg(i);
        const QJsonObject in = list.at(i).toObject();
        if (!list.at(i).isObject() || !in.value("id"_L1).isString() ||
            in.value("id"_L1).toString().isEmpty()) {
            result.error = malformed(where, u"a session needs an \"id\""_s);
            return false;
        }
        ConversationImport::Conversation out;
        out.sourceSessionId = in.value("id"_L1).toString();
        out.importKey = u"agentdesk:"_s + out.sourceSessionId;
        out.session.title = cutTitle(in.value("title"_L1).toString());
        out.session.pinned = in.value("pinned"_L1).toBool();
        // A call of the OpenAI-compatible API stays one (out of the window's list).
        if (in.value("origin"_L1) == "api"_L1)
            out.session.origin = u"api"_s;
        out.session.createdAt = fromIso(in.value("created_at"_L1));
        out.session.updatedAt = fromIso(in.value("updated_at"_L1));
        const QJsonObject agent = in.value("agent"_L1).toObject();
        out.agentId = agent.value("id"_L1).toString();
        out.agentName = agent.value("name"_L1).toString();
        out.activeLeafId = in.value("active_leaf_id"_L1).toString();
        const QJsonValue messages = in.value("messages"_L1);
        if (!messages.isArray()) {
            result.error = malformed(where + u".messages"_s, u"not an array"_s);
            return false;
        }
        QSet<QString> seen;
        const QJsonArray rows = messages.toArray();
        for (qsizetype j = 0; j < rows.size(); ++j) {
            const QString at = u"%1.messages[%2]"_s.arg(where).arg(j);
            const QJsonObject m = rows.at(j).toObject();
            Message message;
            message.id = m.value("id"_L1).toString();
            message.parentId = m.value("parent_id"_L1).toString();
            message.role = m.value("role"_L1).toString();
            if (message.id.isEmpty() || seen.contains(message.id)) {
                result.error = malformed(at, u"missing or repeated \"id\""_s);
                return false;
            }
            if (message.role != "user"_L1 && message.role != "assistant"_L1) {
                result.error = malformed(at, u"\"role\" must be \"user\" or \"assistant\""_s);
                return false;
            }
            if (!m.value("content"_L1).isString()) {
                result.error = malformed(at, u"\"content\" must be a string"_s);
                return false;
            }
            if (!message.parentId.isEmpty() && !seen.contains(message.parentId)) {
                result.error = malformed(at, u"\"parent_id\" names no earlier message"_s);
                return false;
            }
            const QJsonValue parts = m.value("parts"_L1);
            if (!parts.isUndefined() && !parts.isNull() && !parts.isArray()) {
                result.error = malformed(at, u"\"parts\" must be an array"_s);
                return false;
            }
            message.content = m.value("content"_L1).toString();
            message.status = m.value("status"_L1).toString(u"complete"_s);
            message.finishReason = m.value("finish_reason"_L1).toString();
            message.model = m.value("model"_L1).toString();
            message.error = m.value("error"_L1).toString();
            message.promptTokens = m.value("prompt_tokens"_L1).toInt();
            message.completionTokens = m.value("completion_tokens"_L1).toInt();
            message.tokensEstimated = m.value("tokens_estimated"_L1).toBool();
            message.steps = m.value("steps"_L1).toInt(1);
            if (message.role == "assistant"_L1) {
                message.reasoning = m.value("reasoning"_L1).toString();
                if (m.value("reasoning_tokens"_L1).isDouble())
                    message.reasoningTokens = m.value("reasoning_tokens"_L1).toInt();
            }
            QJsonArray partList = parts.toArray();
            for (qsizetype p = 0; p < partList.size(); ++p) {
                // Whom reasoning goes back to is decided here, never by a file.
                QJsonObject part = partList.at(p).toObject();
                part.remove(u"echo_for"_s);
                part.remove(u"echo_field"_s);
                partList.replace(p, part);
            }
            if (!partList.isEmpty())
                message.parts = QString::fromUtf8(QJsonDocument(partList).toJson(QJsonDocument::Compact));
            message.createdAt = fromIso(m.value("created_at"_L1));
            seen.insert(message.id);
            out.messages.append(message);
        }
        result.conversations.append(out);
    }
    return true;
}

// --- ChatGPT's conversations.json

// The text a ChatGPT message shows, or nothing for what the user never saw as a turn.
QString chatGptText(const QJsonObject &message)
{
    const QString role = message.value("author"_L1).toObject().value("role"_L1).toString();
    if (role != "user"_L1 && role != "assistant"_L1)
        return {};
    // An assistant message to a tool (the code it runs, a search it makes) is not a turn.
    const QString recipient = message.value("recipient"_L1).toString(u"all"_s);
    if (recipient != "all"_L1)
        return {};
    if (message.value("metadata"_L1).toObject().value("is_visually_hidden_from_conversation"_L1).toBool())
        return {};
    const QJsonObject content = message.value("content"_L1).toObject();
    const QString type = content.value("content_type"_L1).toString();
    if (type != "text"_L1 && type != "multimodal_text"_L1)
        return {};
    QStringList texts;
    for (const QJsonValue &part : content.value("parts"_L1).toArray()) {
        if (part.isString() && !part.toString().isEmpty())
            texts.append(part.toString());
        else if (part.isObject() && part.toObject().value("content_type"_L1) == "image_asset_pointer"_L1)
            texts.append(u"[image]"_s);
    }
    return texts.join(u"\n\n"_s).trimmed().isEmpty() ? QString() : texts.join(u"\n\n"_s);
}

bool readChatGpt(const QJsonArray &list, ConversationImport::Result &result)
{
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString where = u"conversations[%1]"_s.arg(i);
        const QJsonObject in = list.at(i).toObject();
        const QJsonValue mappingValue = in.value("mapping"_L1);
        if (!list.at(i).isObject() || !mappingValue.isObject()) {
            result.error = malformed(where, u"a conversation needs a \"mapping\" object"_s);
            return false;
        }
        QString id = in.value("conversation_id"_L1).toString(in.value("id"_L1).toString());
        if (id.isEmpty()) {
            result.error = malformed(where, u"a conversation needs an \"id\" or \"conversation_id\""_s);
            return false;
        }
        const QJsonObject mapping = mappingValue.toObject();
        // Parents from the nodes' own links; children sorted by time, so versions keep their order.
        QHash<QString, QStringList> children;
        QHash<QString, QDateTime> times;
        QStringList roots;
        for (auto it = mapping.begin(); it != mapping.end(); ++it) {
            const QJsonObject node = it.value().toObject();
            if (!it.value().isObject()) {
                result.error = malformed(where + u".mapping."_s + it.key(), u"not an object"_s);
                return false;
            }
            if (it.key().isEmpty()) { // it would be a message without an id
                result.error = malformed(where + u".mapping"_s, u"a node has an empty name"_s);
                return false;
            }
            const QJsonValue parent = node.value("parent"_L1);
            if (parent.isNull() || parent.isUndefined()) {
                roots.append(it.key());
            } else if (!parent.isString() || !mapping.contains(parent.toString()) ||
                       parent.toString() == it.key()) {
                result.error = malformed(where + u".mapping."_s + it.key(), u"\"parent\" names no node"_s);
                return false;
            } else {
                children[parent.toString()].append(it.key());
            }
            times.insert(it.key(), fromSeconds(node.value("message"_L1).toObject().value("create_time"_L1)));
        }
        if (roots.isEmpty() && !mapping.isEmpty()) {
            result.error = malformed(where + u".mapping"_s, u"the nodes' parents form a loop"_s);
            return false;
        }
        const auto byTime = [&](const QString &a, const QString &b) {
            return times.value(a) != times.value(b) ? times.value(a) < times.value(b) : a < b;
        };
        for (QStringList &list : children)
            std::sort(list.begin(), list.end(), byTime);
        std::sort(roots.begin(), roots.end(), byTime);

        ConversationImport::Conversation out;
        out.importKey = u"chatgpt:"_s + id;
        out.session.title = cutTitle(in.value("title"_L1).toString());
        out.session.createdAt = fromSeconds(in.value("create_time"_L1));
        out.session.updatedAt = fromSeconds(in.value("update_time"_L1));
        QHash<QString, QString> keptAbove; // node -> the nearest kept node at or above it ("" none)
        // Depth first from the roots: parents before children, every node once (a loop below a
        // root is never reached, and is reported).
        QList<QPair<QString, QString>> stack; // node, the kept node above its parent
        for (auto it = roots.crbegin(); it != roots.crend(); ++it)
            stack.append({*it, QString()});
        while (!stack.isEmpty()) {
            const auto [nodeId, above] = stack.takeLast();
            const QJsonObject message = mapping.value(nodeId).toObject().value("message"_L1).toObject();
            const QString text = chatGptText(message);
            QString kept = above;
            if (!text.isEmpty()) {
                Message m;
                m.id = nodeId;
                m.parentId = above;
                m.role = message.value("author"_L1).toObject().value("role"_L1).toString();
                m.content = text;
                m.createdAt = times.value(nodeId);
                if (m.role == "assistant"_L1) {
                    m.model = message.value("metadata"_L1).toObject().value("model_slug"_L1).toString();
                    m.finishReason = u"Stop"_s;
                }
                out.messages.append(m);
                kept = nodeId;
            }
            keptAbove.insert(nodeId, kept);
            const QStringList below = children.value(nodeId);
            for (auto it = below.crbegin(); it != below.crend(); ++it)
                stack.append({*it, kept});
        }
        if (keptAbove.size() != mapping.size()) {
            result.error = malformed(where + u".mapping"_s, u"some nodes' parents form a loop"_s);
            return false;
        }
        out.activeLeafId = keptAbove.value(in.value("current_node"_L1).toString());
        if (out.session.title.isEmpty() && !out.messages.isEmpty())
            out.session.title = cutTitle(out.messages.constFirst().content.left(48));
        result.conversations.append(out);
    }
    return true;
}

} // namespace

ConversationImport::Result ConversationImport::parse(const QByteArray &body)
{
    Result result;
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        result.error = ApiError::badRequest(
            u"invalid_json"_s,
            u"The file is not JSON (%1 at byte %2)"_s.arg(error.errorString()).arg(error.offset));
        return result;
    }
    if (document.isArray()) {
        result.format = u"chatgpt"_s;
        if (document.array().size() > maxConversations) {
            result.error = ApiError::badRequest(
                u"too_many_conversations"_s, u"At most %1 conversations per import"_s.arg(maxConversations));
            return result;
        }
        readChatGpt(document.array(), result);
        return result;
    }
    if (document.object().value("format"_L1) == "agentdesk.sessions"_L1) {
        result.format = u"agentdesk"_s;
        readAgentDesk(document.object(), result);
        return result;
    }
    result.error = ApiError::badRequest(
        u"unknown_import_format"_s,
        u"Import an AgentDesk export ({\"format\": \"agentdesk.sessions\"}) or ChatGPT's conversations.json"_s);
    return result;
}
