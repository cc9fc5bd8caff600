#include "sessionstore.h"

#include "core/logging.h"
#include "database.h"
#include "statement.h"
#include "storageutil.h"

#include <charconv>

using namespace Qt::StringLiterals;
using namespace StorageUtil;

namespace {

const QString sessionColumns =
    u"id, tenant_id, user_id, agent_id, title, message_count, created_at, updated_at"_s;
const QString messageColumns =
    u"id, session_id, role, content, status, finish_reason, model, error,"
    u" prompt_tokens, completion_tokens, tokens_estimated, created_at, updated_at, parts, steps"_s;
const int messageColumnCount = 15;

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

// Appends a message at the end of its session, bumps the session's count and activity time
// and counts the message for the agent: one transaction, so statistics match the messages.
bool appendMessage(Database &db, Message &message, const QString &parentId = {})
{
    Transaction tx(db);
    if (!tx.isActive())
        return false;
    QString tenantId;
    QString agentId;
    qint64 seq = 0;
    {
        Statement q(db, u"SELECT s.tenant_id, s.agent_id,"
                        u" (SELECT COALESCE(MAX(m.seq), 0) FROM messages m WHERE m.session_id = s.id)"
                        u" FROM sessions s WHERE s.id = ?"_s);
        q.bind(message.sessionId);
        if (!q.exec() || !q.next())
            return false;
        tenantId = q.value(0).toString();
        agentId = q.value(1).toString();
        seq = q.value(2).toLongLong() + 1;
    }
    const qint64 now = nowMs();
    message.id = newId();
    message.createdAt = fromMs(now);
    message.updatedAt = message.createdAt;
    {
        Statement q(db, u"INSERT INTO messages (seq, parent_id, "_s + messageColumns +
                            u") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
        q.bind(seq)
            .bind(parentId)
            .bind(message.id)
            .bind(message.sessionId)
            .bind(message.role)
            .bind(message.content)
            .bind(message.status)
            .bind(message.finishReason)
            .bind(message.model)
            .bind(message.error)
            .bind(message.promptTokens)
            .bind(message.completionTokens)
            .bind(message.tokensEstimated)
            .bind(now)
            .bind(now)
            .bind(message.parts)
            .bind(message.steps);
        if (!q.exec())
            return false;
    }
    {
        Statement q(db,
                    u"UPDATE sessions SET message_count = message_count + 1, updated_at = ? WHERE id = ?"_s);
        q.bind(now).bind(message.sessionId);
        if (!q.exec())
            return false;
    }
    return countUsage(db, tenantId, agentId, 0, 1, 0, 0) && tx.commit();
}

} // namespace

bool SessionStore::createSession(Session &session)
{
    if (session.tenantId.isEmpty() || session.userId.isEmpty() || session.agentId.isEmpty())
        return false;
    Session row = session;
    const qint64 now = nowMs();
    if (row.id.isEmpty())
        row.id = newId();
    row.messageCount = 0;
    row.createdAt = fromMs(toMs(row.createdAt, now));
    row.updatedAt = fromMs(toMs(row.updatedAt, row.createdAt.toMSecsSinceEpoch()));

    Transaction tx(m_db);
    if (!tx.isActive())
        return false;
    {
        // The composite foreign keys reject a user or agent from another tenant.
        Statement q(m_db,
                    u"INSERT INTO sessions ("_s + sessionColumns + u") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
        q.bind(row.id)
            .bind(row.tenantId)
            .bind(row.userId)
            .bind(row.agentId)
            .bind(row.title)
            .bind(0)
            .bind(row.createdAt.toMSecsSinceEpoch())
            .bind(row.updatedAt.toMSecsSinceEpoch());
        if (!q.exec())
            return false;
    }
    if (!countUsage(m_db, row.tenantId, row.agentId, 1, 0, 0, 0) || !tx.commit())
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
                                      const QString &titleFilter)
{
    // Four fixed statement texts (not one per filter value), so each stays prepared.
    QString sql = u"SELECT "_s + sessionColumns + u" FROM sessions WHERE tenant_id = ? AND user_id = ?"_s;
    if (!agentId.isEmpty())
        sql += u" AND agent_id = ?"_s;
    // LOWER on both sides folds the same way on each engine (SQLite folds ASCII only).
    if (!titleFilter.isEmpty())
        sql += u" AND LOWER(title) LIKE LOWER(?) ESCAPE '!'"_s;
    sql += u" ORDER BY updated_at DESC, created_at DESC, id DESC"_s;

    Statement q(m_db, sql);
    q.bind(tenantId).bind(userId);
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

std::optional<Message> SessionStore::addUserMessage(const QString &sessionId, const QString &content,
                                                    int estimatedTokens)
{
    Message message;
    message.sessionId = sessionId;
    message.role = u"user"_s;
    message.content = content;
    message.status = u"complete"_s;
    // Kept on the message for display only: the reply's prompt count already includes this
    // text, so statistics take tokens from replies alone and never count it twice.
    message.promptTokens = qMax(0, estimatedTokens);
    message.tokensEstimated = estimatedTokens > 0;
    if (!appendMessage(m_db, message))
        return std::nullopt;
    return message;
}

std::optional<Message> SessionStore::beginReply(const QString &sessionId, const QString &model,
                                                const QString &parentId)
{
    Message message;
    message.sessionId = sessionId;
    message.role = u"assistant"_s;
    message.status = streaming;
    message.model = model;
    if (!appendMessage(m_db, message, parentId))
        return std::nullopt;
    return message;
}

bool SessionStore::saveReplyProgress(const QString &replyId, const QString &content, const QString &parts,
                                     const ReplyEventLog &events)
{
    Statement q(m_db, u"UPDATE messages SET content = ?, parts = ?, chunks = ?, extra_events = ?, updated_at = ?"
                      u" WHERE id = ? AND status = 'streaming'"_s);
    q.bind(content)
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
    // A content event is its length; any other event an "x".
    QByteArray text(chunks.size() * 12, Qt::Uninitialized);
    char *out = text.data();
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        if (i > 0)
            *out++ = ',';
        if (chunks.at(i) < 0)
            *out++ = 'x';
        else
            out = std::to_chars(out, out + 11, chunks.at(i)).ptr;
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
            chunks.append(-1);
            continue;
        }
        bool ok = false;
        const int n = part.toInt(&ok);
        if (!ok || n < 0)
            return {};
        chunks.append(n);
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
                    u", m.parent_id, m.chunks, m.extra_events FROM messages m JOIN sessions s ON s.id = m.session_id"
                    u" WHERE m.id = ? AND s.tenant_id = ? AND s.user_id = ? AND m.role = 'assistant'"_s);
    q.bind(replyId).bind(tenantId).bind(userId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    StoredReply stored;
    stored.reply = readMessage(q);
    stored.userMessageId = q.value(messageColumnCount).toString();
    QString chunks = q.value(messageColumnCount + 1).toString();
    stored.cutByCrash = chunks.endsWith(u'!');
    if (stored.cutByCrash)
        chunks.chop(1);
    stored.events.chunks = decodeChunks(chunks);
    stored.events.extras = decodeExtras(q.value(messageColumnCount + 2).toString());
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
        Statement q(m_db,
                    reply.model.isEmpty()
                        ? u"UPDATE messages SET content = ?, parts = ?, steps = ?, chunks = ?, extra_events = ?,"
                          u" status = ?, finish_reason = ?, error = ?, prompt_tokens = ?, completion_tokens = ?,"
                          u" tokens_estimated = ?, updated_at = ? WHERE id = ? AND status = 'streaming'"_s
                        : u"UPDATE messages SET content = ?, parts = ?, steps = ?, chunks = ?, extra_events = ?,"
                          u" status = ?, finish_reason = ?, error = ?, prompt_tokens = ?, completion_tokens = ?,"
                          u" tokens_estimated = ?, updated_at = ?, model = ? WHERE id = ? AND status = 'streaming'"_s);
        q.bind(reply.content)
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
