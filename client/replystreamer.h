#pragma once

#include "conversation.h"
#include "types.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <optional>

class ApiClient;
class ChatChunk;
class ChatStream;
class SessionListController;

// Sending a message and streaming its reply into the conversation's rows: a new turn, another
// version of one (regenerate, edit), tool calls and their approval, Stop, and a remote server's
// dropped connection resumed where it broke. What a failed reply needs for Retry is kept here.
class ReplyStreamer : public QObject
{
    Q_OBJECT

public:
    // What Retry does after a failure: answer the stored message again, or send the text anew.
    struct RetryPlan
    {
        QString text;
        QList<AttachmentItem> attachments;
        QString userMessageId; // stored on the server: a new version of its answer
        QString userRowId;     // local rows of the failed attempt
        QString replyRowId;
        bool dropRows = false; // never reached the server: the failed rows go before the new try
    };

    ReplyStreamer(ApiClient *api, Conversation *conversation, SessionListController *sessions, bool remote,
                  QObject *parent = nullptr);
    ~ReplyStreamer() override;

    bool isStreaming() const { return m_pending.has_value(); }
    QString sessionId() const { return m_pending ? m_pending->sessionId : QString(); }
    bool canRetry() const
    {
        return (!m_retry.text.isEmpty() || !m_retry.attachments.isEmpty()) && !m_pending;
    }
    const RetryPlan &retryPlan() const { return m_retry; }
    void clearRetry();

    // The conversation shown is the reply's: its rows, and the view they belong to from now on.
    std::optional<Conversation::LiveTurn> attachLiveTurn();

    // A new turn with `agentId` in the conversation shown (its session, or a new one), with the
    // files already uploaded and the chat's model from now on (nullopt: unchanged).
    void send(const QString &agentId, const QString &text, const QList<AttachmentItem> &attachments = {},
              const std::optional<QString> &model = std::nullopt);
    // Another answer to the stored user message `messageId` (`text`) shown in `userRow`, or that
    // message with a new text: the rows from `userRow` on are replaced by the new version.
    void regenerate(const QString &agentId, int userRow, const QString &messageId, const QString &text);
    void edit(const QString &agentId, int userRow, const QString &text);
    void stop();
    // Answers a tool call that waits for approval: "allow", "always" or "deny".
    void decideToolCall(int row, const QString &callId, const QString &decision);
    // Back online: a reply waiting to be resumed goes first.
    void resumeIfWaiting();

Q_SIGNALS:
    void streamingChanged();
    void canRetryChanged();
    void replyStarted();
    void replyFinished(const QString &status, const QString &sessionId); // complete, cancelled, error...
    void contentStreamed(int totalChars);
    // A new chat shown got its session from the server.
    void sessionAdopted(const QString &sessionId);
    void failed(const QString &notice);
    void agentChanged(); // "always" allowed a tool: the agent's allowed_tools changed

private:
    struct Pending
    {
        QPointer<ChatStream> stream;
        QString agentId;
        QString sessionId;
        QString userMessageId; // the server's, from the first chunk
        QString userRowId;     // local ids of the two rows
        QString replyRowId;
        QString idempotencyKey; // sent with the POST: asking again never starts a second turn
        // A new version of a turn: the message the regenerate / edit route names (else a send).
        QString versionOf;
        bool edit = false;
        QByteArray lastEventId; // of the last event seen: <reply_id>:<seq>
        QString replyId() const
        {
            return QString::fromLatin1(lastEventId.left(lastEventId.lastIndexOf(':')));
        }
        // After a dropped connection (remote server): the reply is followed again from where it
        // was, until it ends or resumeGiveUpMs pass.
        bool reconnecting = false;
        int resumeAttempts = 0;
        QElapsedTimer lostClock;
        QString text;
        QList<AttachmentItem> attachments;
        std::optional<QString> model;
        QString content;
        QString reasoning;
        qint64 reasoningStartMs = -1; // when the first reasoning came
        qint64 thoughtMs = -1;        // from then to the first words of the answer
        QList<ReplyPart> parts;       // once the reply calls a tool
        bool thinking = false;        // the model is asked again after tool results
        int view = 0;                 // the conversation view the reply belongs to
        int chunks = 0;
        QElapsedTimer clock;
        qint64 firstTokenMs = -1;
        qint64 lastTokenMs = -1;
        bool stopRequested = false;
    };

    Pending newPending(const QString &agentId, const QString &text,
                       const QList<AttachmentItem> &attachments = {});
    // Shows the first `keepRows` rows, then the pending turn's two, and starts its stream.
    void begin(const Pending &pending, int keepRows, bool userStored);
    ChatStream *openPendingStream();
    bool viewShowsPending() const;
    int pendingRow(const QString &localId) const;
    void watchStream(ChatStream *stream);
    // A stream of the pending reply broke in a way a resume can mend: try again later.
    bool resumeLater(const QString &code, bool offline);
    void resumeNow();
    void onChunk(const ChatChunk &chunk);
    void onContent(const QString &text);
    void onReasoning(const QString &text);
    void onToolChunk(const ChatChunk &chunk);
    void showPendingParts();
    void onClosed(const ChatChunk &closing);
    void onFailed(const QString &code, const QString &message, bool offline);
    void onAborted();
    void finishPending(const QString &status);
    double measuredRate(int tokens) const;

    ApiClient *m_api;
    Conversation *m_conversation;
    MessageListModel *m_messages;
    SessionListController *m_sessions;
    bool m_remote;
    std::optional<Pending> m_pending;
    RetryPlan m_retry;
    QTimer m_stopFallback;
    QTimer m_resumeTimer;
    QTimer m_partsTimer; // argument fragments are shown a few times a second, not each one
    int m_localIds = 0;
};
