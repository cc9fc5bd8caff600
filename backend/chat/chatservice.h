#pragma once

#include "chat/toolhost.h"
#include "chat/turndirectory.h"
#include "core/apierror.h"
#include "llm/llmtypes.h"
#include "storage/agentstore.h"
#include "storage/sessionstore.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>
#include <optional>

struct ChatOutcome;
class ChatTurn;
class Database;
class FileStore;
class GroupCommit;
class LlmClient;
class ModelCatalog;
class ProviderResolver;
class ToolHost;

// What a new turn asks for, beyond the words (ChatService::start, regenerate, edit).
struct ChatOptions
{
    QStringList attachments;      // file ids (POST /api/files)
    bool keepAttachments = false; // edit(): the message's files stay (`attachments` is not used)
    // The session's model from now on: a name, "" for the agent's again; nullopt: unchanged.
    std::optional<QString> model;
    QString idempotencyKey; // stored with the reply, in the same commit
    // The OpenAI-compatible surface: the conversation as the caller sends it (it replaces the
    // session's history; the message to store is ChatService::start's `message`), the caller's
    // own tools, and its sampling settings, which override the agent's. Nobody can be asked to
    // approve a tool call, and a new session is kept with origin "api".
    std::optional<ChatRequest> caller;
};

// Starts replies: checks the agent and session, commits the user message before anything goes
// upstream, builds the history and hands back the running turn. One reply per session at a time.
class ChatService : public QObject
{
    Q_OBJECT
public:
    // `catalog` knows what models can do (vision, Ollama's context lengths).
    ChatService(Database &db, LlmClient &llm, ProviderResolver &providers, ModelCatalog &catalog,
                QObject *parent = nullptr);
    ~ChatService() override;

    // How often a growing reply is checkpointed to the database (0 = only at the end). All running
    // replies are checkpointed together, in one transaction: a timer and a commit per reply per
    // interval cost thousands of commits a second at a few thousand streams.
    void setProgressInterval(int ms);
    // Where agents' tools come from and where files are kept: images tools return, uploads that
    // messages carry (none: agents only talk, and messages carry no files).
    void setToolHost(ToolHost *host) { m_toolHost = host; }
    void setFileStore(FileStore *files) { m_files = files; }
    // What is known of providers' models (whether they take images).
    // How much of a document's text goes to the model with a message; the rest is cut, marked so.
    void setMaxDocumentChars(int chars) { m_maxDocumentChars = chars; }
    static constexpr int maxAttachments = 20;
    // Of the whole request: images (Anthropic takes at most 100), and the history's documents in
    // units of one document's cap.
    static constexpr int maxImagesPerRequest = 20;
    static constexpr int historyDocumentsFactor = 4;

    using Options = ChatOptions;

    struct Started
    {
        ChatTurn *turn = nullptr; // owned by the service; deleted after `ended`
        ApiError error;
        // The model must be asked about first (an Ollama model not asked yet: whether it takes
        // images, how long a context it has): learnModel() it, then start again.
        std::optional<ProviderConfig> askModel;
    };
    Started start(const Principal &principal, const QString &agentId, const QString &message,
                  const QString &sessionId, const Options &options = {});

    // Another answer to a user message, or to the user message a reply answers: a new version of
    // that turn, whose history is the branch before it.
    Started regenerate(const Principal &principal, const QString &messageId, const Options &options = {});
    // A new version of a user message (`text` in its place) and the answer to it.
    Started edit(const Principal &principal, const QString &messageId, const QString &text,
                 const Options &options = {});

    // Asks `provider` about its model (Started::askModel) and calls `done` (on this thread, unless
    // `context` is gone) once that is known or could not be learned.
    void learnModel(const ProviderConfig &provider, QObject *context, std::function<void()> done);
    // Why learnModel() could not tell (the provider's own words), or empty.
    QString learnError(const ProviderConfig &provider) const;
    // Whom a reply's reasoning may be sent back to: this provider, where it is now, and this model.
    static QString echoKey(const ProviderConfig &provider, const QString &model);
    // Why `model` may not be used through `provider` (its admin's list), or no error.
    static ApiError modelRefusal(const ProviderConfig &provider, const QString &model);

    // Not found (404) when the session is not the principal's; `running` says whether a reply stopped.
    ApiError cancel(const Principal &principal, const QString &sessionId, bool *running);
    // The same for one reply.
    ApiError cancelReply(const Principal &principal, const QString &replyId, bool *running);
    // allow / deny / always for a tool call of a running reply of the principal's that waits for it.
    ApiError decideToolCall(const Principal &principal, const QString &replyId, const QString &toolCallId,
                            const QString &decision);

    // What the service that runs a reply said to a request about it (cancel, a tool decision).
    struct OwnerAnswer
    {
        ApiError error;
        bool running = false;
    };
    // Runs `work` on `owner` (another loop's service, on its thread; this one when null) and `done`
    // back on this thread with its answer, unless `context` is gone by then.
    void onOwner(ChatService *owner, QObject *context, std::function<OwnerAnswer(ChatService &)> work,
                 std::function<void(const OwnerAnswer &)> done);

    // A reply of the principal's own: running (in memory) or as stored; neither when it is not theirs.
    struct Reply
    {
        ChatTurn *running = nullptr;
        std::optional<StoredReply> stored;
        // Running on another loop's service: ask it there (it tells whether the reply is theirs).
        ChatService *elsewhere = nullptr;
        bool found() const { return running || stored || elsewhere; }
    };
    Reply reply(const Principal &principal, const QString &replyId);
    // The reply an Idempotency-Key started within its lifetime (empty when none).
    QString replyForIdempotencyKey(const Principal &principal, const QString &key);

    // The server's other loops share one directory (the service has its own until told).
    void setDirectory(TurnDirectory *directory) { m_directory = directory; }
    TurnDirectory &directory() const { return *m_directory; }
    // On any loop.
    bool isStreaming(const QString &sessionId) const { return m_directory->sessionOwner(sessionId); }
    // 409 session_busy: one reply per session at a time.
    static ApiError busy();
    // Saves every running reply as interrupted; for shutdown.
    void interruptAll();

    static QString titleFor(const QString &message);
    // Fills a user message's files in (images, documents' text); set by the service, empty in tests
    // of history() alone.
    using AttachmentReader = std::function<void(const Message &message, ChatMessage &out)>;
    // What the model is sent of a conversation: the agent's prompt and greeting, then every turn,
    // a reply that used tools as its rounds (assistant tool_calls, then a tool message per call).
    // `echoFor` ("<provider>|<model>") gets back the reasoning its own earlier tool rounds
    // stored for it (DeepSeek's reasoning_content).
    static QList<ChatMessage> history(const Agent &agent, const QList<Message> &messages,
                                      const AttachmentReader &attachments = {}, const QString &echoFor = {});
    // A user's words with the documents that go with them, as the model reads them: each one's
    // text in a <document> element before the words, cut at `maxChars` with the cut marked.
    static QString withDocuments(const QString &text, const QList<FileRow> &documents, int maxChars);
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
        QList<FileRow> files;    // the user message's
        bool regenerate = false; // answer an existing user message again
        bool claimed = false;    // the session is this turn's in the directory
    };
    // Takes the turn's session for this service in the directory (false: a reply runs in it), and
    // gives it back when the turn does not start.
    bool claim(Turn &turn);
    // Stores which reply an Idempotency-Key started (nothing to store without a key).
    bool remember(const Principal &principal, const QString &key, const QString &replyId);
    void unclaim(Turn &turn);
    Started continueAt(const Principal &principal, Turn &turn, const QString &userMessageId,
                       const Options &options);
    Started launch(const Principal &principal, const Agent &agent, Turn &turn, const Options &options);
    static Started refused(const ApiError &error);
    // Whether a turn that failed was refused for the images it sent.
    static bool refusedImages(const ChatOutcome &outcome);
    // The user's files `ids`, checked: not found, too many.
    ApiError readFiles(const Principal &principal, const QStringList &ids, QList<FileRow> *files);
    // A stored user message's files as rows (their ids in its attachments JSON).
    QList<FileRow> filesOf(const Principal &principal, const Message &message);
    // What the model gets of a user message's files: images when it `vision` takes them, the
    // documents' text; of a message earlier in the chat only the files in `included`, the others
    // named in a note.
    void attach(const QList<FileRow> &files, bool vision, ChatMessage &out,
                const QSet<QString> *included = nullptr) const;

    Database &m_db;
    LlmClient &m_llm;
    ProviderResolver &m_providers;
    ModelCatalog &m_catalog;
    ToolHost *m_toolHost = nullptr;
    FileStore *m_files = nullptr;
    int m_maxDocumentChars = 100000;
    AgentStore m_agents;
    SessionStore m_sessions;
    TurnDirectory m_ownDirectory;
    TurnDirectory *m_directory = &m_ownDirectory;
    QHash<QString, ChatTurn *> m_turns;   // by session id
    QHash<QString, ChatTurn *> m_replies; // the same, by reply id
    int m_progressIntervalMs = 1000;
    QTimer m_progressTimer;
    GroupCommit *m_commits; // the ends of replies, a transaction per pass of the loop

    void checkpointAll();
    // Cancels `turn` and stores its end before returning; whether it was still running.
    bool stop(ChatTurn *turn);
};
