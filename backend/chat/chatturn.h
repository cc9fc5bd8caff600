#pragma once

#include "chatoutcome.h"
#include "llm/llmtypes.h"
#include "replyevents.h"
#include "storage/entities.h"
#include "toolhost.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QUrl>

#include <functional>

class FileStore;
class GroupCommit;
class LlmStream;
class SessionStore;

// One reply being generated: relays the model's text, runs the tools it calls (protocol v2,
// section 5) round after round, checkpoints the reply while it grows (when ChatService asks),
// and saves the final (or partial) reply with its finish reason exactly once.
//
// It numbers the reply's stream events as every client sees them (protocol v2, section 2): 1 is
// the opener (an empty `content`), then one event per delta, reasoning fragment, tool call
// fragment, tool call, progress, attachment and result, then the terminal chunk. It keeps where
// each content and reasoning event ends in its text (a few bytes per event) and the JSON of the
// other events, so a client that resumes gets exactly the events after the last one it saw.
class ChatTurn : public QObject
{
    Q_OBJECT
public:
    // What a reply may do with tools (the agent's choice), and how it asks for its next round.
    struct Tools
    {
        ToolHost *host = nullptr;
        QList<ToolInfo> available; // with the functions the model sees
        bool ask = true;           // ask before each call (tool_approval "ask")
        QStringList allowed;       // "server/tool" that run without asking ("always")
        int maxSteps = 8;
        // Starts the next round with the messages the rounds so far added to the request.
        std::function<LlmStream *(const QList<ChatMessage> &roundMessages)> nextRound;
        // A user chose "always" for this "server/tool".
        std::function<void(const QString &tool)> rememberAlways;
        FileStore *files = nullptr; // where images that tools return are kept
        // The caller's own functions (the OpenAI-compatible surface): a round that calls one ends
        // the reply with its calls (ChatOutcome::clientCalls), for the caller to run.
        QSet<QString> clientFunctions;
        // Whether anyone can answer an approval question; if not, calls that need one are declined.
        bool canAsk = true;
    };

    ChatTurn(SessionStore &store, const Session &session, const Message &userMessage, const Message &reply,
             QObject *parent = nullptr);
    ~ChatTurn() override;

    void setTools(const Tools &tools) { m_tools = tools; }
    // Who answers, for error texts that say which provider failed and where.
    void setProvider(const QString &name, const QUrl &baseUrl)
    {
        m_providerName = name;
        m_providerUrl =
            baseUrl.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment).toString();
    }
    // Who may be sent this reply's reasoning back in later turns (ChatService::echoKey).
    void setEchoKey(const QString &key) { m_echoKey = key; }
    // The reply's end is stored with the others that end in the same pass of the event loop, and
    // ended() comes after that commit; without one, at once.
    void setGroupCommit(GroupCommit *commits) { m_commits = commits; }
    // Takes ownership of the stream of the first round.
    void start(LlmStream *stream);
    // The turn's start (its session, user message and empty reply) is to be stored with the pass's
    // group commit; until setStored() says it is, nothing of the turn may reach a client.
    void setStorePending() { m_startState = Start::Pending; }
    // What that commit did. A start not stored ends the turn with a storage error.
    void setStored(bool stored);
    bool isStored() const { return m_startState == Start::Stored; }
    // Runs `then` once the start is stored (true) or could not be (false: the turn has ended), at
    // once when that is known; not once `context` is gone.
    void whenStored(QObject *context, std::function<void(bool stored)> then);

    // The user pressed Stop: abort upstream and tools, save the partial reply, end with done/"Cancelled".
    void cancel();
    // Nobody follows the reply any more: stop it as cancel does, saved as "Disconnected".
    void abandon();
    // The server is shutting down: save the partial reply as "Interrupted".
    void interrupt();

    // A decision on a call awaiting approval: "allow", "deny" or "always". The error says why not.
    ApiError decide(const QString &toolCallId, const QString &decision);

    const Session &session() const { return m_session; }
    QString userMessageId() const { return m_userMessageId; }
    const Message &reply() const { return m_reply; }
    bool hasEnded() const { return m_ended; }
    const ReplyEvents &events() const { return m_events; }
    // The caller's functions offered with this reply (Tools::clientFunctions).
    const QSet<QString> &clientFunctions() const { return m_tools.clientFunctions; }
    // The model's reasoning so far, all rounds.
    const QString &reasoningText() const { return m_reasoning; }

    // Events so far, the opener included; the terminal event, once ended, is the next seq.
    int eventCount() const { return int(m_log.size()); }
    // Event `seq` (1 <= seq <= eventCount()) as bytes on the wire.
    QByteArray eventBytes(int seq) const;
    // How the reply ended (valid once ended() was emitted: hasEnded() comes first, and the end is
    // stored with its pass's others before ended(), see setGroupCommit()).
    const ChatOutcome &outcome() const { return m_outcome; }
    // The reply's events as stored with it (StoredReply::events).
    ReplyEventLog eventLog() const;

    // Saves what the reply has so far, when it changed since the last save (ChatService calls
    // this for every running turn at once, in one transaction).
    void checkpoint();

    // Upstream's finish_reason in the reference's spelling: "stop" -> "Stop", "tool_calls" -> "ToolCalls".
    static QString finishReasonName(const QString &upstreamReason);

Q_SIGNALS:
    // Content event `seq` (2, 3, ...) with its text.
    void content(int seq, const QString &text);
    // Reasoning event `seq` with its text.
    void reasoning(int seq, const QString &text);
    // Event `seq` of another type (tool_call_delta, tool_call, progress, attachment, tool_result).
    void other(int seq, const QByteArray &json);
    void ended(const ChatOutcome &outcome);

private:
    struct Call
    {
        QString id;
        QString function;  // as the model called it
        QString arguments; // as the model wrote them
        ToolInfo tool;     // empty server: the model called a tool it does not have
        QJsonObject argumentsObject;
        QString problem; // why it cannot run (unknown tool, arguments that are no JSON object)
        QString status;  // awaiting_approval, running, denied, done, cancelled
        QString decision;
        QPointer<ToolCallJob> job;
        QElapsedTimer clock;
        int part = -1; // its tool_call in m_parts
    };

    void watch(LlmStream *stream);
    void onDelta(const QString &text);
    void onReasoning(const QString &text);
    void onToolCallDelta(int index, const QString &id, const QString &name, const QString &fragment);
    void onFinished(const LlmCompletion &completion);
    void onFailed(const LlmError &error);
    void addUsage(const LlmCompletion &completion);
    void beginCalls(const LlmCompletion &completion, const QString &roundText);
    // Ends the reply with the calls of the caller's functions in this round (the others do not run).
    void handOver(const QList<ToolCall> &calls);
    void run(Call &call);
    void onToolFinished(const QString &id, const ToolOutcome &outcome);
    void finishCall(Call &call, bool isError, const QString &text, const QJsonArray &parts);
    void nextRoundIfDone();
    void emitToolCall(const Call &call);
    void emitOther(const QString &type, const QString &content, const QJsonObject &metadata);
    // The round's reasoning and text as parts (a reply with tools keeps its rounds apart).
    void flushRound();
    void stopUpstream(const QString &finishReason, const QString &status);
    void end(ChatOutcome outcome, const QString &status, const QString &errorText);
    Call *findCall(const QString &id);

    SessionStore &m_store;
    GroupCommit *m_commits = nullptr;
    Session m_session;
    QString m_userMessageId; // not the message: its text would stay in memory as long as the reply runs
    Message m_reply;
    ReplyEvents m_events;
    QString m_providerName;
    QString m_providerUrl;
    QString m_echoKey;
    Tools m_tools;

    // Per event, its kind in the low two bits and above them where a content event ends in
    // m_text, where a reasoning event ends in m_reasoning, or which of m_extras it is.
    enum LogKind { ContentEnd = 0, Extra = 1, ReasoningEnd = 2 };
    static int logEntry(LogKind kind, qsizetype value) { return int(value) << 2 | kind; }

    QPointer<LlmStream> m_stream;
    QString m_text;                     // what the content events carried, concatenated
    QString m_reasoning;                // what the reasoning events carried, concatenated
    QList<int> m_log{0};                // per event (logEntry); the opener ends content at 0
    QList<QByteArray> m_extras;         // the other events' JSON
    qsizetype m_roundTextFrom = 0;      // where this round's text begins in m_text
    qsizetype m_roundReasoningFrom = 0; // ... and its reasoning in m_reasoning
    bool m_separate = false;            // the next round's first text starts with a paragraph break
    bool m_separateReasoning = false;   // ... and its first reasoning
    bool m_echoReasoning = false;       // the provider wants reasoning_content back in a tool loop
    QString m_echoField;                // ... in this field ("reasoning"); empty: reasoning_content

    QJsonArray m_parts; // text, tool_call and tool_result parts (Message.parts)
    QList<ChatMessage> m_roundMessages;
    QList<Call> m_calls; // this round's
    QList<ToolCall> m_clientCalls;
    int m_step = 1;
    int m_promptTokens = 0;
    int m_completionTokens = 0;
    int m_reasoningTokens = -1;
    bool m_tokensEstimated = false;
    QString m_model;

    ChatOutcome m_outcome;
    qsizetype m_savedEvents = 0;
    enum class Start { Stored, Pending, Failed };
    Start m_startState = Start::Stored;
    QList<std::pair<QPointer<QObject>, std::function<void(bool)>>> m_whenStored;
    bool m_ended = false;
};
