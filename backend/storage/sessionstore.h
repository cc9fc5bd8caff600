#pragma once

#include "entities.h"

#include <QList>
#include <optional>

class Database;

// Sessions and their messages. Every write that changes what statistics count happens in
// the same transaction as the statistics update.
class SessionStore
{
public:
    explicit SessionStore(Database &db) : m_db(db) {}

    // --- sessions (scoped to tenant and user)
    bool createSession(Session &session); // fills id/timestamps; counts a session for its agent
    std::optional<Session> session(const QString &tenantId, const QString &userId, const QString &id);
    // Newest first; agentId empty = all agents; titleFilter matches case-insensitively.
    QList<Session> sessions(const QString &tenantId, const QString &userId, const QString &agentId = {},
                            const QString &titleFilter = {});
    bool rename(const QString &tenantId, const QString &userId, const QString &id, const QString &title);
    bool remove(const QString &tenantId, const QString &userId, const QString &id);

    // --- messages (callers have checked the session belongs to the principal)
    // Oldest first, in the order they were written.
    QList<Message> messages(const QString &sessionId);
    std::optional<Message> message(const QString &sessionId, const QString &id);

    // Stores a complete user message; counts it in the agent's statistics.
    std::optional<Message> addUserMessage(const QString &sessionId, const QString &content,
                                          int estimatedTokens = 0);
    // Inserts the assistant reply to `parentId` with status "streaming" and empty content; counts it.
    std::optional<Message> beginReply(const QString &sessionId, const QString &model,
                                      const QString &parentId = {});
    // Checkpoints a streaming reply's text, parts and stream events so a crash loses at most the
    // last interval.
    bool saveReplyProgress(const QString &replyId, const QString &content, const QString &parts = {},
                           const ReplyEventLog &events = {});
    // Final content, parts, status, finish reason and token counts; adds the tokens to statistics.
    // Only a reply still streaming finishes (once); an empty or "streaming" status means
    // "complete", an empty model keeps the one given to beginReply().
    bool finishReply(const Message &reply, const ReplyEventLog &events = {});
    // An assistant reply of this tenant's user, for replaying its stream.
    std::optional<StoredReply> storedReply(const QString &tenantId, const QString &userId,
                                           const QString &replyId);

    // --- Idempotency-Key values of chat POSTs (scoped to tenant and user), kept 24 hours
    static constexpr qint64 idempotencyKeyLifetimeMs = 24 * 3600 * 1000;
    // In the caller's transaction, with the reply it started; forgets keys past their lifetime.
    bool rememberIdempotencyKey(const QString &tenantId, const QString &userId, const QString &key,
                                const QString &replyId);
    // The reply a key started within its lifetime; empty when none.
    QString replyForIdempotencyKey(const QString &tenantId, const QString &userId, const QString &key);

    static QString encodeChunks(const QList<int> &chunks);
    static QList<int> decodeChunks(QStringView text);
    // At start-up: every reply still "streaming" was cut by a crash. Returns how many (-1 on a
    // database error).
    int markInterruptedReplies();

private:
    Database &m_db;
};
