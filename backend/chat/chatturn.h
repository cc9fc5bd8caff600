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
// exactly once. It numbers the reply's stream events as every client sees them (protocol v2,
// section 2): 1 is the opener (an empty `content`), then one `content` per delta, then the
// terminal chunk; it keeps where each content event begins in the text (a few bytes per event)
// so a client that resumes gets exactly the events after the last one it saw.
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

    // Content events so far, the opener included; the terminal event, once ended, is the next seq.
    int eventCount() const { return int(m_eventEnds.size()); }
    // The text of content event `seq` (1-based, 1 <= seq <= eventCount()).
    QStringView eventText(int seq) const;
    // How the reply ended (valid once hasEnded()).
    const ChatOutcome &outcome() const { return m_outcome; }
    // The reply's content events as stored with it (SessionStore, StoredReply::chunkLengths).
    QList<int> chunkLengths() const;

    // Saves the text received so far, when it grew since the last save (ChatService calls this for
    // every running turn at once, in one transaction).
    void checkpoint();

    // Upstream's finish_reason in the reference's spelling: "stop" -> "Stop", "tool_calls" -> "ToolCalls".
    static QString finishReasonName(const QString &upstreamReason);

Q_SIGNALS:
    // Content event `seq` (2, 3, ...) with its text.
    void content(int seq, const QString &text);
    void ended(const ChatOutcome &outcome);

private:
    void onDelta(const QString &text);
    void onFinished(const LlmCompletion &completion);
    void onFailed(const LlmError &error);
    void stopUpstream(const QString &finishReason, const QString &status);
    void end(ChatOutcome outcome, const QString &status, const QString &errorText);

    SessionStore &m_store;
    Session m_session;
    Message m_userMessage;
    Message m_reply;
    // The text relayed so far: the stream's, which is the content events concatenated.
    const QString &text() const;

    QPointer<LlmStream> m_stream;
    QList<int> m_eventEnds{0}; // where each content event ends in text(); event 1 (the opener) is empty
    ChatOutcome m_outcome;
    qsizetype m_savedLength = 0;
    bool m_ended = false;
};
