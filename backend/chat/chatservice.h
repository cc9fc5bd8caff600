#pragma once

#include "chat/toolhost.h"
#include "core/apierror.h"
#include "llm/llmtypes.h"
#include "storage/agentstore.h"
#include "storage/sessionstore.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <optional>

class ChatTurn;
class Database;
class FileStore;
class LlmClient;
class ProviderResolver;
class ToolHost;

// Starts replies: checks the agent and session, commits the user message before anything goes
// upstream, builds the history and hands back the running turn. One reply per session at a time.
class ChatService : public QObject
{
    Q_OBJECT
public:
    ChatService(Database &db, LlmClient &llm, ProviderResolver &providers, QObject *parent = nullptr);
    ~ChatService() override;

    // How often a growing reply is checkpointed to the database (0 = only at the end). All running
    // replies are checkpointed together, in one transaction: a timer and a commit per reply per
    // interval cost thousands of commits a second at a few thousand streams.
    void setProgressInterval(int ms);
    // Where agents' tools come from and where images they return are kept (none: agents only talk).
    void setToolHost(ToolHost *host) { m_toolHost = host; }
    void setFileStore(FileStore *files) { m_files = files; }

    struct Started
    {
        ChatTurn *turn = nullptr; // owned by the service; deleted after `ended`
        ApiError error;
    };
    // A non-empty `idempotencyKey` is stored with the reply, in the same commit.
    Started start(const Principal &principal, const QString &agentId, const QString &message,
                  const QString &sessionId, const QString &idempotencyKey = {});

    // Another answer to a user message, or to the user message a reply answers: a new version of
    // that turn, whose history is the branch before it.
    Started regenerate(const Principal &principal, const QString &messageId,
                       const QString &idempotencyKey = {});
    // A new version of a user message (`text` in its place) and the answer to it.
    Started edit(const Principal &principal, const QString &messageId, const QString &text,
                 const QString &idempotencyKey = {});

    // Not found (404) when the session is not the principal's; `running` says whether a reply stopped.
    ApiError cancel(const Principal &principal, const QString &sessionId, bool *running);
    // The same for one reply.
    ApiError cancelReply(const Principal &principal, const QString &replyId, bool *running);
    // allow / deny / always for a tool call of a running reply of the principal's that waits for it.
    ApiError decideToolCall(const Principal &principal, const QString &replyId, const QString &toolCallId,
                            const QString &decision);

    // A reply of the principal's own: running (in memory) or as stored; neither when it is not theirs.
    struct Reply
    {
        ChatTurn *running = nullptr;
        std::optional<StoredReply> stored;
        bool found() const { return running || stored; }
    };
    Reply reply(const Principal &principal, const QString &replyId);
    // The reply an Idempotency-Key started within its lifetime (empty when none).
    QString replyForIdempotencyKey(const Principal &principal, const QString &key);

    bool isStreaming(const QString &sessionId) const { return m_turns.contains(sessionId); }
    // 409 session_busy: one reply per session at a time.
    static ApiError busy();
    int activeTurns() const { return int(m_turns.size()); }
    // Saves every running reply as interrupted; for shutdown.
    void interruptAll();

    static QString titleFor(const QString &message);
    // What the model is sent of a conversation: the agent's prompt and greeting, then every turn,
    // a reply that used tools as its rounds (assistant tool_calls, then a tool message per call).
    static QList<ChatMessage> history(const Agent &agent, const QList<Message> &messages);
    // The function definitions a model is offered for `tools`.
    static QJsonArray functionsFor(const QList<ToolInfo> &tools);

private:
    // What a reply continues: its session (empty id: a new one), the branch before its user
    // message, and that message (already stored, or `text` to store after `parentId`).
    struct Turn
    {
        Session session;
        QList<Message> before;
        std::optional<Message> existingUser;
        QString text;
        std::optional<QString> parentId;
    };
    Started continueAt(const Principal &principal, Turn &turn, const QString &userMessageId,
                       const QString &idempotencyKey);
    Started launch(const Principal &principal, const Agent &agent, Turn &turn, const QString &idempotencyKey);
    static Started refused(const ApiError &error);

    Database &m_db;
    LlmClient &m_llm;
    ProviderResolver &m_providers;
    ToolHost *m_toolHost = nullptr;
    FileStore *m_files = nullptr;
    AgentStore m_agents;
    SessionStore m_sessions;
    QHash<QString, ChatTurn *> m_turns;   // by session id
    QHash<QString, ChatTurn *> m_replies; // the same, by reply id
    int m_progressIntervalMs = 1000;
    QTimer m_progressTimer;

    void checkpointAll();
};
