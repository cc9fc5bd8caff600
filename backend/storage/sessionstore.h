#pragma once

#include "entities.h"

#include <QList>

#include <optional>
#include <utility>

class Database;

// Sessions and their messages. Every write that changes what statistics count happens in
// the same transaction as the statistics update.
class SessionStore
{
public:
    explicit SessionStore(Database &db) : m_db(db) {}

    // --- sessions (scoped to tenant and user)
    // Fills id/timestamps; counts a session for its agent. With `messages` (a new chat's user
    // message and reply), the session starts with them, each after the one before it, as
    // appendMessages() stores them: the session row written once, the statistics counted once.
    bool createSession(Session &session, const QList<Message *> &messages = {});
    std::optional<Session> session(const QString &tenantId, const QString &userId, const QString &id);
    // Newest first; agentId empty = all agents; titleFilter matches case-insensitively; origin
    // empty = sessions of any origin (Session::origin).
    QList<Session> sessions(const QString &tenantId, const QString &userId, const QString &agentId = {},
                            const QString &titleFilter = {}, const QString &origin = {});
    bool rename(const QString &tenantId, const QString &userId, const QString &id, const QString &title);
    bool remove(const QString &tenantId, const QString &userId, const QString &id);

    // --- messages (callers have checked the session belongs to the principal)
    // Oldest first, in the order they were written.
    QList<Message> messages(const QString &sessionId);
    std::optional<Message> message(const QString &sessionId, const QString &id);

    // A user's message and an assistant's reply (status "streaming", empty), not stored yet.
    static Message newUserMessage(const QString &content, int estimatedTokens = 0,
                                  const QString &attachments = {});
    static Message newReply(const QString &model);
    // Stores `messages` in `sessionId`, the first after `parentId` (nullopt: at the end of the
    // active branch) and each after the one before it; the last becomes the active branch's end.
    // Fills in what storing gives them (a fresh id where theirs is empty, parents, times) and counts
    // them in the agent's statistics: one transaction, one update of the session and statistics.
    bool appendMessages(const QString &sessionId, const QList<Message *> &messages,
                        const std::optional<QString> &parentId = std::nullopt);
    // Stores a complete user message after `parentId` ("": a first message; nullopt: at the end of
    // the active branch) and makes it the active branch's end; counts it in the agent's statistics.
    // `attachments` is Message::attachments.
    std::optional<Message> addUserMessage(const QString &sessionId, const QString &content,
                                          int estimatedTokens = 0,
                                          const std::optional<QString> &parentId = std::nullopt,
                                          const QString &attachments = {});
    // Inserts the assistant reply to `parentId` (nullopt: the active branch's end) with status
    // "streaming" and empty content, as the active branch's end; counts it.
    std::optional<Message> beginReply(const QString &sessionId, const QString &model,
                                      const std::optional<QString> &parentId = std::nullopt);
    // --- the conversation tree (callers have checked the session belongs to the principal)
    // The branch through `throughId` (empty: the active branch), first message first, each with
    // its siblingIds. Below `throughId` it follows the active branch where that passes through it,
    // else the newest version of each turn. nullopt when `throughId` is not in the session.
    std::optional<QList<Message>> branch(const QString &sessionId, const QString &throughId = {});
    // Makes the branch through `messageId` the one the conversation follows; returns its last
    // message (nullopt when `messageId` is not in the session).
    std::optional<QString> activateBranch(const QString &sessionId, const QString &messageId);
    // The same walk over messages already read (oldest first), for branch().
    static QList<Message> pathThrough(const QList<Message> &all, const QString &activeLeafId,
                                      const QString &throughId);
    // The message `id` in one of this user's sessions, and that session.
    std::optional<std::pair<Session, Message>> ownedMessage(const QString &tenantId, const QString &userId,
                                                            const QString &id);
    // A new session of the same user and agent holding a copy of `source`'s branch up to and
    // including `messageId` (new ids, same texts, parts and stream events).
    std::optional<Session> fork(const Session &source, const QString &messageId, const QString &title);
    bool setPinned(const QString &tenantId, const QString &userId, const QString &id, bool pinned);
    // The model this session uses instead of its agent's (empty: the agent's again).
    bool setModel(const QString &tenantId, const QString &userId, const QString &id, const QString &model);

    // --- import (in the caller's transaction)
    // Whether this user already has the session `importKey` names, or a session with `sessionId`.
    bool wasImported(const QString &tenantId, const QString &userId, const QString &importKey,
                     const QString &sessionId = {});
    // Stores `session` (tenant, user, agent, title, pinned, times) and `messages`, whose ids and
    // parent ids are the source's (parents before children); they get new ids. `activeLeafId` is
    // a source id. Returns the new session.
    std::optional<Session> importSession(const Session &session, const QList<Message> &messages,
                                         const QString &activeLeafId, const QString &importKey);

    // Checkpoints a streaming reply's text, reasoning, parts and stream events so a crash loses at
    // most the last interval.
    bool saveReplyProgress(const QString &replyId, const QString &content, const QString &reasoning = {},
                           const QString &parts = {}, const ReplyEventLog &events = {});
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
    // Inserts `messages` from seq + 1 on, each the child of the one before (the first of `parent`).
    // Returns the last one's id, or nothing when an insert failed.
    std::optional<QString> insertMessages(const QString &sessionId, const QList<Message *> &messages,
                                          qint64 seq, const QString &parent, qint64 now);
    // Copies for session `to` of those files a message's attachments JSON names that its owner
    // owns; the JSON naming the copies.
    std::optional<QString> copyFiles(const Session &to, const QString &attachments);

    Database &m_db;
};
