#pragma once

#include "chatoutcome.h"
#include "llm/llmtypes.h"
#include "storage/entities.h"

#include <QObject>
#include <QPointer>

class LlmStream;
class SessionStore;

// One reply being generated: relays the upstream's text, checkpoints it to the database while it
// grows (when ChatService asks), and saves the final (or partial) reply with its finish reason
// exactly once.
class ChatTurn : public QObject
{
    Q_OBJECT
public:
    ChatTurn(SessionStore &store, const Session &session, const Message &userMessage, const Message &reply,
             QObject *parent = nullptr);
    ~ChatTurn() override;

    // Takes ownership of the stream.
    void start(LlmStream *stream);

    // The user pressed Stop: abort upstream, save the partial reply, end with done/"Cancelled".
    void cancel();
    // The client went away: abort upstream and save the partial reply as "Disconnected".
    void abandon();
    // The server is shutting down: save the partial reply as "Interrupted".
    void interrupt();

    const Session &session() const { return m_session; }
    const Message &userMessage() const { return m_userMessage; }
    const Message &reply() const { return m_reply; }
    bool hasEnded() const { return m_ended; }

    // Saves the text received so far, when it grew since the last save (ChatService calls this for
    // every running turn at once, in one transaction).
    void checkpoint();

    // Upstream's finish_reason in the reference's spelling: "stop" -> "Stop", "tool_calls" -> "ToolCalls".
    static QString finishReasonName(const QString &upstreamReason);

Q_SIGNALS:
    void content(const QString &text);
    void ended(const ChatOutcome &outcome);

private:
    void onFinished(const LlmCompletion &completion);
    void onFailed(const LlmError &error);
    void stopUpstream(const QString &finishReason, const QString &status);
    void end(ChatOutcome outcome, const QString &status, const QString &errorText);

    SessionStore &m_store;
    Session m_session;
    Message m_userMessage;
    Message m_reply;
    QPointer<LlmStream> m_stream;
    qsizetype m_savedLength = 0;
    bool m_ended = false;
};
