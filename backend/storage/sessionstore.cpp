#include "sessionstore.h"

#include "core/logging.h"
#include "database.h"
#include "statement.h"
#include "storageutil.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <charconv>

using namespace Qt::StringLiterals;
using namespace StorageUtil;

namespace {

const QString sessionColumns =
    u"id, tenant_id, user_id, agent_id, title, message_count, created_at, updated_at,"
    u" active_leaf_id, pinned, model, origin"_s;
const QString messageColumns =
    u"id, session_id, role, content, status, finish_reason, model, error,"
    u" prompt_tokens, completion_tokens, tokens_estimated, created_at, updated_at, parts, steps, parent_id,"
    u" reasoning, attachments, reasoning_tokens"_s;
const int messageColumnCount = 19;
// One placeholder per column, and the one for seq before them.
const QString messagePlaceholders = u"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"_s;

// The non-content events' JSON, one per line (JSON text has no raw line breaks), kept byte for byte:
// a replay must send exactly what the live stream sent.
QString encodeExtras(const QList<QByteArray> &extras)
{
    return QString::fromUtf8(extras.join('\n'));
}

QList<QByteArray> decodeExtras(const QString &text)
{
    return text.isEmpty() ? QList<QByteArray>() : text.toUtf8().split('\n');
}
const QString streaming = u"streaming"_s;

Session readSession(const Statement &q)
{
    Session s;
    s.id = q.value(0).toString();
    s.tenantId = q.value(1).toString();
    s.userId = q.value(2).toString();
    s.agentId = q.value(3).toString();
    s.title = q.value(4).toString();
    s.messageCount = q.value(5).toInt();
    s.createdAt = fromMs(q.value(6));
    s.updatedAt = fromMs(q.value(7));
    s.activeLeafId = q.value(8).toString();
    s.pinned = q.value(9).toInt() != 0;
    s.model = q.value(10).toString();
    s.origin = q.value(11).toString();
    return s;
}

Message readMessage(const Statement &q)
{
    Message m;
    m.id = q.value(0).toString();
    m.sessionId = q.value(1).toString();
    m.role = q.value(2).toString();
    m.content = q.value(3).toString();
    m.status = q.value(4).toString();
    m.finishReason = q.value(5).toString();
    m.model = q.value(6).toString();
    m.error = q.value(7).toString();
    m.promptTokens = q.value(8).toInt();
    m.completionTokens = q.value(9).toInt();
    m.tokensEstimated = q.value(10).toInt() != 0;
    m.createdAt = fromMs(q.value(11));
    m.updatedAt = fromMs(q.value(12));
    m.parts = q.value(13).toString();
    m.steps = q.value(14).toInt();
    m.parentId = q.value(15).toString();
    m.reasoning = q.value(16).toString();
    m.attachments = q.value(17).toString();
    m.reasoningTokens = q.value(18).toInt();
    return m;
}

// Adds to an agent's usage counters, creating the row on first use. Callers run it in the
// transaction of the write it counts.
bool countUsage(Database &db, const QString &tenantId, const QString &agentId, qint64 sessions,
                qint64 messages, qint64 promptTokens, qint64 completionTokens)
{
    Statement q(
        db,
        u"INSERT INTO agent_stats (tenant_id, agent_id, sessions, messages, prompt_tokens, completion_tokens)"
        u" VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, agent_id) DO UPDATE SET"
        u" sessions = agent_stats.sessions + excluded.sessions,"
        u" messages = agent_stats.messages + excluded.messages,"
        u" prompt_tokens = agent_stats.prompt_tokens + excluded.prompt_tokens,"
        u" completion_tokens = agent_stats.completion_tokens + excluded.completion_tokens"_s);
    q.bind(tenantId).bind(agentId).bind(sessions).bind(messages).bind(promptTokens).bind(completionTokens);
    return q.exec();
}

} // namespace

bool SessionStore::createSession(Session &session, const QList<Message *> &messages)
{
    if (session.tenantId.isEmpty() || session.userId.isEmpty() || session.agentId.isEmpty())
        return false;
    Session row = session;
    const qint64 now = nowMs();
    if (row.id.isEmpty())
        row.id = newId();
    row.messageCount = int(messages.size());
    row.activeLeafId.clear();
    row.createdAt = fromMs(toMs(row.createdAt, now));
    row.updatedAt = fromMs(toMs(row.updatedAt, row.createdAt.toMSecsSinceEpoch()));
    // Its leaf is the last message's: ids first, so the session row is written once.
    for (Message *message : messages) {
        if (message->id.isEmpty())
            message->id = newId();
        row.activeLeafId = message->id;
    }

    Transaction tx(m_db);
    if (!tx.isActive())
        return false;
    {
        // The composite foreign keys reject a user or agent from another tenant.
        Statement q(m_db, u"INSERT INTO sessions ("_s + sessionColumns +
                              u") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
        q.bind(row.id)
            .bind(row.tenantId)
            .bind(row.userId)
            .bind(row.agentId)
            .bind(row.title)
            .bind(row.messageCount)
            .bind(row.createdAt.toMSecsSinceEpoch())
            .bind(row.updatedAt.toMSecsSinceEpoch())
            .bind(row.activeLeafId)
            .bind(row.pinned)
            .bind(row.model)
            .bind(row.origin);
        if (!q.exec())
            return false;
    }
    if (!insertMessages(row.id, messages, 0, QString(), now) ||
        !countUsage(m_db, row.tenantId, row.agentId, 1, messages.size(), 0, 0) || !tx.commit())
        return false;
    session = row;
    return true;
}

std::optional<Session> SessionStore::session(const QString &tenantId, const QString &userId,
                                             const QString &id)
{
    Statement q(m_db, u"SELECT "_s + sessionColumns +
                          u" FROM sessions WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
    q.bind(id).bind(tenantId).bind(userId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return readSession(q);
}

QList<Session> SessionStore::sessions(const QString &tenantId, const QString &userId, const QString &agentId,
                                      const QString &titleFilter, const QString &origin)
{
    // Fixed statement texts (not one per filter value), so each stays prepared.
    QString sql = u"SELECT "_s + sessionColumns + u" FROM sessions WHERE tenant_id = ? AND user_id = ?"_s;
    if (!origin.isEmpty())
        sql += u" AND origin = ?"_s;
    if (!agentId.isEmpty())
        sql += u" AND agent_id = ?"_s;
    // LOWER on both sides folds the same way on each engine (SQLite folds ASCII only).
    if (!titleFilter.isEmpty())
        sql += u" AND LOWER(title) LIKE LOWER(?) ESCAPE '!'"_s;
    sql += u" ORDER BY pinned DESC, updated_at DESC, created_at DESC, id DESC"_s;

    Statement q(m_db, sql);
    q.bind(tenantId).bind(userId);
    if (!origin.isEmpty())
        q.bind(origin);
    if (!agentId.isEmpty())
        q.bind(agentId);
    if (!titleFilter.isEmpty())
        q.bind(containsPattern(titleFilter));
    QList<Session> result;
    if (!q.exec())
        return result;
    while (q.next())
        result.append(readSession(q));
    return result;
}

bool SessionStore::rename(const QString &tenantId, const QString &userId, const QString &id,
                          const QString &title)
{
    // updated_at tracks conversation activity (the list order), so a rename leaves it alone.
    Statement q(m_db, u"UPDATE sessions SET title = ? WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
    q.bind(title).bind(id).bind(tenantId).bind(userId);
    return q.exec() && q.rowsAffected() == 1;
}

bool SessionStore::remove(const QString &tenantId, const QString &userId, const QString &id)
{
    // Messages go with it (ON DELETE CASCADE); usage statistics stay.
    Statement q(m_db, u"DELETE FROM sessions WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
    q.bind(id).bind(tenantId).bind(userId);
    return q.exec() && q.rowsAffected() == 1;
}

QList<Message> SessionStore::messages(const QString &sessionId)
{
    Statement q(m_db, u"SELECT "_s + messageColumns + u" FROM messages WHERE session_id = ? ORDER BY seq"_s);
    q.bind(sessionId);
    QList<Message> result;
    if (!q.exec())
        return result;
    while (q.next())
        result.append(readMessage(q));
    return result;
}

std::optional<Message> SessionStore::message(const QString &sessionId, const QString &id)
{
    Statement q(m_db, u"SELECT "_s + messageColumns + u" FROM messages WHERE id = ? AND session_id = ?"_s);
    q.bind(id).bind(sessionId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return readMessage(q);
}

QList<Message> SessionStore::pathThrough(const QList<Message> &all, const QString &activeLeafId,
                                         const QString &throughId)
{
    if (all.isEmpty())
        return {};
    QHash<QString, qsizetype> index;
    QHash<QString, QList<qsizetype>> children; // by parent id, oldest first
    for (qsizetype i = 0; i < all.size(); ++i) {
        index.insert(all.at(i).id, i);
        children[all.at(i).parentId].append(i);
    }
    // Walks up from `id`; a bounded walk, whatever the stored parents say.
    const auto ancestors = [&](const QString &id) {
        QList<qsizetype> up;
        for (auto it = index.constFind(id); it != index.cend() && up.size() < all.size();
             it = index.constFind(all.at(*it).parentId))
            up.append(*it);
        return up;
    };
    QString leaf = index.contains(activeLeafId) ? activeLeafId : all.constLast().id;
    if (!throughId.isEmpty()) {
        const QList<qsizetype> up = ancestors(leaf);
        const qsizetype through = index.value(throughId, -1);
        if (!up.contains(through)) {
            leaf = throughId;
            for (int guard = 0; children.contains(leaf) && guard < all.size(); ++guard)
                leaf = all.at(children.value(leaf).constLast()).id;
        }
    }
    QList<qsizetype> up = ancestors(leaf);
    QList<Message> path;
    path.reserve(up.size());
    for (auto it = up.crbegin(); it != up.crend(); ++it) {
        Message message = all.at(*it);
        for (const qsizetype sibling : children.value(message.parentId))
            if (all.at(sibling).role == message.role)
                message.siblingIds.append(all.at(sibling).id);
        path.append(message);
    }
    return path;
}

std::optional<QList<Message>> SessionStore::branch(const QString &sessionId, const QString &throughId)
{
    QString activeLeaf;
    {
        Statement q(m_db, u"SELECT COALESCE(active_leaf_id, '') FROM sessions WHERE id = ?"_s);
        q.bind(sessionId);
        if (!q.exec() || !q.next())
            return std::nullopt;
        activeLeaf = q.value(0).toString();
    }
    const QList<Message> all = messages(sessionId);
    if (!throughId.isEmpty() &&
        std::none_of(all.cbegin(), all.cend(), [&](const Message &m) { return m.id == throughId; }))
        return std::nullopt;
    return pathThrough(all, activeLeaf, throughId);
}

std::optional<QString> SessionStore::activateBranch(const QString &sessionId, const QString &messageId)
{
    const auto path = branch(sessionId, messageId);
    if (!path || path->isEmpty())
        return std::nullopt;
    Statement q(m_db, u"UPDATE sessions SET active_leaf_id = ? WHERE id = ?"_s);
    q.bind(path->constLast().id).bind(sessionId);
    if (!q.exec() || q.rowsAffected() != 1)
        return std::nullopt;
    return path->constLast().id;
}

std::optional<std::pair<Session, Message>>
SessionStore::ownedMessage(const QString &tenantId, const QString &userId, const QString &id)
{
    QString sessionId;
    {
        Statement q(m_db, u"SELECT session_id FROM messages WHERE id = ?"_s);
        q.bind(id);
        if (!q.exec() || !q.next())
            return std::nullopt;
        sessionId = q.value(0).toString();
    }
    auto owner = session(tenantId, userId, sessionId);
    if (!owner)
        return std::nullopt;
    auto found = message(sessionId, id);
    if (!found)
        return std::nullopt;
    return std::make_pair(*owner, *found);
}

std::optional<Session> SessionStore::fork(const Session &source, const QString &messageId,
                                          const QString &title)
{
    const auto path = branch(source.id, messageId);
    if (!path)
        return std::nullopt;
    QList<Message> copied;
    for (const Message &message : *path) {
        copied.append(message);
        if (message.id == messageId)
            break;
    }
    Transaction tx(m_db);
    if (!tx.isActive())
        return std::nullopt;
    Session forked;
    forked.tenantId = source.tenantId;
    forked.userId = source.userId;
    forked.agentId = source.agentId;
    forked.title = title;
    forked.model = source.model;
    if (!createSession(forked))
        return std::nullopt;
    const qint64 now = nowMs();
    QString parentId;
    qint64 seq = 0;
    for (const Message &message : std::as_const(copied)) {
        const QString id = newId();
        // The files a message carries are the new session's own (the same bytes), so deleting
        // either chat leaves the other whole.
        const std::optional<QString> attachments = copyFiles(forked, message.attachments);
        if (!attachments)
            return std::nullopt;
        // The stream's events come along, so the copy's replies replay like the originals.
        Statement q(
            m_db, u"INSERT INTO messages (seq, "_s + messageColumns +
                      u", chunks, extra_events) SELECT ?, ?, ?, role, content, status, finish_reason, model,"
                      u" error, prompt_tokens, completion_tokens, tokens_estimated, created_at, ?, parts,"
                      u" steps, ?, reasoning, attachments, reasoning_tokens, chunks, extra_events"
                      u" FROM messages WHERE id = ?"_s);
        q.bind(++seq).bind(id).bind(forked.id).bind(now).bind(parentId).bind(message.id);
        if (!q.exec() || q.rowsAffected() != 1)
            return std::nullopt;
        if (*attachments != message.attachments) {
            Statement update(m_db, u"UPDATE messages SET attachments = ? WHERE id = ?"_s);
            update.bind(*attachments).bind(id);
            if (!update.exec())
                return std::nullopt;
        }
        parentId = id;
    }
    {
        Statement q(m_db, u"UPDATE sessions SET message_count = ?, active_leaf_id = ? WHERE id = ?"_s);
        q.bind(seq).bind(parentId).bind(forked.id);
        if (!q.exec())
            return std::nullopt;
    }
    if (!countUsage(m_db, forked.tenantId, forked.agentId, 0, seq, 0, 0) || !tx.commit())
        return std::nullopt;
    forked.messageCount = int(seq);
    forked.activeLeafId = parentId;
    return forked;
}

std::optional<QString> SessionStore::copyFiles(const Session &to, const QString &attachments)
{
    if (attachments.isEmpty())
        return attachments;
    QJsonArray files = QJsonDocument::fromJson(attachments.toUtf8()).array();
    for (qsizetype i = 0; i < files.size(); ++i) {
        QJsonObject file = files.at(i).toObject();
        const QString id = newId();
        Statement q(m_db,
                    u"INSERT INTO files (id, tenant_id, user_id, session_id, sha256, media_type, name, size,"
                    u" created_at, text, pages, width, height) SELECT ?, tenant_id, user_id, ?, sha256,"
                    u" media_type, name, size, ?, text, pages, width, height FROM files"
                    u" WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
        // Only the owner's own files, whatever the message's JSON names.
        q.bind(id)
            .bind(to.id)
            .bind(nowMs())
            .bind(file.value("id"_L1).toString())
            .bind(to.tenantId)
            .bind(to.userId);
        if (!q.exec())
            return std::nullopt;
        if (q.rowsAffected() == 1) // a file already gone stays named as it was
            file.insert(u"id"_s, id);
        files.replace(i, file);
    }
    return QString::fromUtf8(QJsonDocument(files).toJson(QJsonDocument::Compact));
}

bool SessionStore::setPinned(const QString &tenantId, const QString &userId, const QString &id, bool pinned)
{
    Statement q(m_db, u"UPDATE sessions SET pinned = ? WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
    q.bind(pinned).bind(id).bind(tenantId).bind(userId);
    return q.exec() && q.rowsAffected() == 1;
}

bool SessionStore::setModel(const QString &tenantId, const QString &userId, const QString &id,
                            const QString &model)
{
    Statement q(m_db, u"UPDATE sessions SET model = ? WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
    q.bind(model).bind(id).bind(tenantId).bind(userId);
    return q.exec() && q.rowsAffected() == 1;
}

bool SessionStore::wasImported(const QString &tenantId, const QString &userId, const QString &importKey,
                               const QString &sessionId)
{
    Statement q(
        m_db,
        u"SELECT COUNT(*) FROM sessions WHERE tenant_id = ? AND user_id = ? AND (import_key = ? OR id = ?)"_s);
    q.bind(tenantId).bind(userId).bind(importKey).bind(sessionId);
    return q.exec() && q.next() && q.value(0).toInt() > 0;
}

std::optional<Session> SessionStore::importSession(const Session &source, const QList<Message> &messages,
                                                   const QString &activeLeafId, const QString &importKey)
{
    Transaction tx(m_db);
    if (!tx.isActive())
        return std::nullopt;
    Session row = source;
    row.id.clear();
    if (!createSession(row))
        return std::nullopt;
    QHash<QString, QString> newIds;
    qint64 seq = 0;
    for (const Message &message : messages) {
        const QString id = newId();
        const qint64 created = toMs(message.createdAt, nowMs());
        Statement q(m_db, u"INSERT INTO messages (seq, "_s + messageColumns + u") VALUES ("_s +
                              messagePlaceholders + u')');
        q.bind(++seq)
            .bind(id)
            .bind(row.id)
            .bind(message.role)
            .bind(message.content)
            .bind(message.status == streaming ? u"interrupted"_s : message.status)
            .bind(message.status == streaming ? u"Interrupted"_s : message.finishReason)
            .bind(message.model)
            .bind(message.error)
            .bind(qMax(0, message.promptTokens))
            .bind(qMax(0, message.completionTokens))
            .bind(message.tokensEstimated)
            .bind(created)
            .bind(toMs(message.updatedAt, created))
            .bind(message.parts)
            .bind(qMax(1, message.steps))
            .bind(newIds.value(message.parentId))
            .bind(message.reasoning)
            .bind(message.attachments)
            .bind(message.reasoningTokens);
        if (!q.exec())
            return std::nullopt;
        newIds.insert(message.id, id);
    }
    {
        Statement q(
            m_db,
            u"UPDATE sessions SET message_count = ?, active_leaf_id = ?, import_key = ? WHERE id = ?"_s);
        q.bind(seq)
            .bind(newIds.value(activeLeafId,
                               messages.isEmpty() ? QString() : newIds.value(messages.constLast().id)))
            .bind(importKey)
            .bind(row.id);
        if (!q.exec())
            return std::nullopt;
    }
    if (!countUsage(m_db, row.tenantId, row.agentId, 0, seq, 0, 0) || !tx.commit())
        return std::nullopt;
    row.messageCount = int(seq);
    return session(row.tenantId, row.userId, row.id);
}

Message SessionStore::newUserMessage(const QString &content, int estimatedTokens, const QString &attachments)
{
    Message message;
    message.role = u"user"_s;
    message.content = content;
    message.attachments = attachments;
    message.status = u"complete"_s;
    // Kept on the message for display only: the reply's prompt count already includes this
    // text, so statistics take tokens from replies alone and never count it twice.
    message.promptTokens = qMax(0, estimatedTokens);
    message.tokensEstimated = estimatedTokens > 0;
    return message;
}

Message SessionStore::newReply(const QString &model)
{
    Message message;
    message.role = u"assistant"_s;
    message.status = streaming;
    message.model = model;
    return message;
}

bool SessionStore::appendMessages(const QString &sessionId, const QList<Message *> &messages,
                                  const std::optional<QString> &parentId)
{
    // One statement each for the session and the statistics however many messages come, in one
    // transaction: statistics match the messages.
    if (messages.isEmpty())
        return false;
    Transaction tx(m_db);
    if (!tx.isActive())
        return false;
    QString tenantId;
    QString agentId;
    qint64 seq = 0;
    QString parent;
    {
        Statement q(m_db, u"SELECT s.tenant_id, s.agent_id,"
                          u" (SELECT COALESCE(MAX(m.seq), 0) FROM messages m WHERE m.session_id = s.id),"
                          u" COALESCE(s.active_leaf_id, '') FROM sessions s WHERE s.id = ?"_s);
        q.bind(sessionId);
        if (!q.exec() || !q.next())
            return false;
        tenantId = q.value(0).toString();
        agentId = q.value(1).toString();
        seq = q.value(2).toLongLong();
        parent = parentId ? *parentId : q.value(3).toString();
    }
    const qint64 now = nowMs();
    const std::optional<QString> leaf = insertMessages(sessionId, messages, seq, parent, now);
    if (!leaf)
        return false;
    {
        Statement q(
            m_db, u"UPDATE sessions SET message_count = message_count + ?, updated_at = ?, active_leaf_id = ?"
                  u" WHERE id = ?"_s);
        q.bind(qint64(messages.size())).bind(now).bind(*leaf).bind(sessionId);
        if (!q.exec())
            return false;
    }
    return countUsage(m_db, tenantId, agentId, 0, messages.size(), 0, 0) && tx.commit();
}

std::optional<QString> SessionStore::insertMessages(const QString &sessionId,
                                                    const QList<Message *> &messages, qint64 seq,
                                                    const QString &parent, qint64 now)
{
    QString previous = parent;
    for (Message *message : messages) {
        message->sessionId = sessionId;
        message->parentId = previous;
        if (message->id.isEmpty())
            message->id = newId();
        message->createdAt = fromMs(now);
        message->updatedAt = message->createdAt;
        Statement q(m_db, u"INSERT INTO messages (seq, "_s + messageColumns + u") VALUES ("_s +
                              messagePlaceholders + u')');
        q.bind(++seq)
            .bind(message->id)
            .bind(message->sessionId)
            .bind(message->role)
            .bind(message->content)
            .bind(message->status)
            .bind(message->finishReason)
            .bind(message->model)
            .bind(message->error)
            .bind(message->promptTokens)
            .bind(message->completionTokens)
            .bind(message->tokensEstimated)
            .bind(now)
            .bind(now)
            .bind(message->parts)
            .bind(message->steps)
            .bind(message->parentId)
            .bind(message->reasoning)
            .bind(message->attachments)
            .bind(message->reasoningTokens);
        if (!q.exec())
            return std::nullopt;
        previous = message->id;
    }
    return previous;
}

std::optional<Message> SessionStore::addUserMessage(const QString &sessionId, const QString &content,
                                                    int estimatedTokens,
                                                    const std::optional<QString> &parentId,
                                                    const QString &attachments)
{
    Message message = newUserMessage(content, estimatedTokens, attachments);
    if (!appendMessages(sessionId, {&message}, parentId))
        return std::nullopt;
    return message;
}

std::optional<Message> SessionStore::beginReply(const QString &sessionId, const QString &model,
                                                const std::optional<QString> &parentId)
{
    Message message = newReply(model);
    if (!appendMessages(sessionId, {&message}, parentId))
        return std::nullopt;
    return message;
}

bool SessionStore::saveReplyProgress(const QString &replyId, const QString &content, const QString &reasoning,
                                     const QString &parts, const ReplyEventLog &events)
{
    Statement q(m_db,
                u"UPDATE messages SET content = ?, reasoning = ?, parts = ?, chunks = ?, extra_events = ?,"
                u" updated_at = ? WHERE id = ? AND status = 'streaming'"_s);
    q.bind(content)
        .bind(reasoning)
        .bind(parts)
        .bind(encodeChunks(events.chunks))
        .bind(encodeExtras(events.extras))
        .bind(nowMs())
        .bind(replyId);
    return q.exec() && q.rowsAffected() == 1;
}

QString SessionStore::encodeChunks(const QList<int> &chunks)
{
    // Once per checkpoint and end of every reply, a few hundred numbers: no allocation per number.
    // A content event is its length, a reasoning event "r" and its length, any other event an "x".
    QByteArray text(chunks.size() * 13, Qt::Uninitialized);
    char *out = text.data();
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        if (i > 0)
            *out++ = ',';
        const int chunk = chunks.at(i);
        if (ReplyEventLog::isReasoning(chunk)) {
            *out++ = 'r';
            out = std::to_chars(out, out + 11, ReplyEventLog::reasoningLength(chunk)).ptr;
        } else if (chunk < 0) {
            *out++ = 'x';
        } else {
            out = std::to_chars(out, out + 11, chunk).ptr;
        }
    }
    text.truncate(out - text.constData());
    return QString::fromLatin1(text);
}

QList<int> SessionStore::decodeChunks(QStringView text)
{
    QList<int> chunks;
    if (text.isEmpty())
        return chunks;
    for (const QStringView part : text.split(u',')) {
        if (part == u"x") {
            chunks.append(ReplyEventLog::extraChunk);
            continue;
        }
        const bool reasoning = part.startsWith(u'r');
        bool ok = false;
        const int n = (reasoning ? part.mid(1) : part).toInt(&ok);
        if (!ok || n < 0)
            return {};
        chunks.append(reasoning ? ReplyEventLog::reasoningChunk(n) : n);
    }
    return chunks;
}

std::optional<StoredReply> SessionStore::storedReply(const QString &tenantId, const QString &userId,
                                                     const QString &replyId)
{
    static const QString columns = [] {
        QStringList qualified;
        for (const QString &column : messageColumns.split(u','))
            qualified.append(u"m."_s + column.trimmed());
        return qualified.join(u", "_s);
    }();
    Statement q(m_db,
                u"SELECT "_s + columns +
                    u", m.chunks, m.extra_events FROM messages m JOIN sessions s ON s.id = m.session_id"
                    u" WHERE m.id = ? AND s.tenant_id = ? AND s.user_id = ? AND m.role = 'assistant'"_s);
    q.bind(replyId).bind(tenantId).bind(userId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    StoredReply stored;
    stored.reply = readMessage(q);
    stored.userMessageId = stored.reply.parentId;
    QString chunks = q.value(messageColumnCount).toString();
    stored.cutByCrash = chunks.endsWith(u'!');
    if (stored.cutByCrash)
        chunks.chop(1);
    stored.events.chunks = decodeChunks(chunks);
    stored.events.extras = decodeExtras(q.value(messageColumnCount + 1).toString());
    return stored;
}

bool SessionStore::rememberIdempotencyKey(const QString &tenantId, const QString &userId, const QString &key,
                                          const QString &replyId)
{
    const qint64 now = nowMs();
    {
        Statement q(m_db, u"DELETE FROM idempotency_keys WHERE created_at < ?"_s);
        q.bind(now - idempotencyKeyLifetimeMs);
        if (!q.exec())
            return false;
    }
    Statement q(m_db,
                u"INSERT INTO idempotency_keys (tenant_id, user_id, idempotency_key, reply_id, created_at)"
                u" VALUES (?, ?, ?, ?, ?)"_s);
    q.bind(tenantId).bind(userId).bind(key).bind(replyId).bind(now);
    return q.exec();
}

QString SessionStore::replyForIdempotencyKey(const QString &tenantId, const QString &userId,
                                             const QString &key)
{
    Statement q(m_db, u"SELECT reply_id FROM idempotency_keys"
                      u" WHERE tenant_id = ? AND user_id = ? AND idempotency_key = ? AND created_at >= ?"_s);
    q.bind(tenantId).bind(userId).bind(key).bind(nowMs() - idempotencyKeyLifetimeMs);
    if (!q.exec() || !q.next())
        return {};
    return q.value(0).toString();
}

bool SessionStore::finishReply(const Message &reply, const ReplyEventLog &events)
{
    if (reply.id.isEmpty())
        return false;
    // Only a streaming reply can finish, and only once: its tokens are counted here.
    QString status = reply.status;
    if (status.isEmpty() || status == streaming)
        status = u"complete"_s;

    Transaction tx(m_db);
    if (!tx.isActive())
        return false;
    QString sessionId;
    QString tenantId;
    QString agentId;
    {
        Statement q(m_db,
                    u"SELECT m.session_id, s.tenant_id, s.agent_id FROM messages m"
                    u" JOIN sessions s ON s.id = m.session_id WHERE m.id = ? AND m.status = 'streaming'"_s);
        q.bind(reply.id);
        if (!q.exec() || !q.next())
            return false;
        sessionId = q.value(0).toString();
        tenantId = q.value(1).toString();
        agentId = q.value(2).toString();
    }
    if (!reply.sessionId.isEmpty() && reply.sessionId != sessionId)
        return false;

    const qint64 now = nowMs();
    const int promptTokens = qMax(0, reply.promptTokens);
    const int completionTokens = qMax(0, reply.completionTokens);
    {
        // An empty model keeps the one recorded by beginReply.
        Statement q(m_db, reply.model.isEmpty()
                              ? u"UPDATE messages SET content = ?, reasoning = ?, reasoning_tokens = ?, "
                                u"parts = ?, steps = ?,"
                                u" chunks = ?, extra_events = ?, status = ?, finish_reason = ?, error = ?, "
                                u"prompt_tokens = ?,"
                                u" completion_tokens = ?, tokens_estimated = ?, updated_at = ?"
                                u" WHERE id = ? AND status = 'streaming'"_s
                              : u"UPDATE messages SET content = ?, reasoning = ?, reasoning_tokens = ?, "
                                u"parts = ?, steps = ?,"
                                u" chunks = ?, extra_events = ?, status = ?, finish_reason = ?, error = ?, "
                                u"prompt_tokens = ?,"
                                u" completion_tokens = ?, tokens_estimated = ?, updated_at = ?, model = ?"
                                u" WHERE id = ? AND status = 'streaming'"_s);
        q.bind(reply.content)
            .bind(reply.reasoning)
            .bind(reply.reasoningTokens)
            .bind(reply.parts)
            .bind(qMax(1, reply.steps))
            .bind(encodeChunks(events.chunks))
            .bind(encodeExtras(events.extras))
            .bind(status)
            .bind(reply.finishReason)
            .bind(reply.error)
            .bind(promptTokens)
            .bind(completionTokens)
            .bind(reply.tokensEstimated)
            .bind(now);
        if (!reply.model.isEmpty())
            q.bind(reply.model);
        q.bind(reply.id);
        if (!q.exec() || q.rowsAffected() != 1)
            return false;
    }
    {
        Statement q(m_db, u"UPDATE sessions SET updated_at = ? WHERE id = ?"_s);
        q.bind(now).bind(sessionId);
        if (!q.exec())
            return false;
    }
    return countUsage(m_db, tenantId, agentId, 0, 0, promptTokens, completionTokens) && tx.commit();
}

int SessionStore::markInterruptedReplies()
{
    // The literal 'streaming' (not a bound value) lets SQLite use the partial index.
    // '!' after the content events says the terminal one was never sent (StoredReply::cutByCrash).
    Statement q(m_db, u"UPDATE messages SET status = 'interrupted', finish_reason = 'Interrupted',"
                      u" chunks = chunks || '!', updated_at = ? WHERE status = 'streaming'"_s);
    q.bind(nowMs());
    if (!q.exec())
        return -1;
    const int count = q.rowsAffected();
    if (count > 0)
        qCInfo(lcStorage) << "marked" << count << "replies cut by a restart as interrupted";
    return count;
}
