#pragma once

#include "agentlistmodel.h"
#include "messagelistmodel.h"
#include "searchresultmodel.h"
#include "sessionlistmodel.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <optional>

class ApiClient;
class ChatChunk;
class ChatStream;
class LocalCache;
class QQmlEngine;
class QJSEngine;

// The conversation side of the window: which agent and session are shown, sending a message
// and streaming the reply into one row, stopping it, retrying after an error, the session list
// (rename, delete, search) and the offline state. Everything the QML calls is here; the QML
// only lays things out.
class ChatController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(AgentListModel *agents READ agents CONSTANT)
    Q_PROPERTY(SessionListModel *sessions READ sessions CONSTANT)
    Q_PROPERTY(MessageListModel *messages READ messages CONSTANT)
    Q_PROPERTY(SearchResultModel *search READ search CONSTANT)
    Q_PROPERTY(QString currentAgentId READ currentAgentId WRITE setCurrentAgentId NOTIFY currentAgentChanged)
    Q_PROPERTY(QString currentAgentName READ currentAgentName NOTIFY currentAgentChanged)
    Q_PROPERTY(QString currentAgentModel READ currentAgentModel NOTIFY currentAgentChanged)
    Q_PROPERTY(QString currentSessionId READ currentSessionId NOTIFY currentSessionChanged)
    Q_PROPERTY(QString currentTitle READ currentTitle NOTIFY currentSessionChanged)
    Q_PROPERTY(bool streaming READ isStreaming NOTIFY streamingChanged)
    Q_PROPERTY(bool online READ isOnline NOTIFY onlineChanged)
    Q_PROPERTY(bool remote READ isRemote CONSTANT)
    Q_PROPERTY(QString serverLabel READ serverLabel CONSTANT)
    Q_PROPERTY(QString offlineText READ offlineText NOTIFY onlineChanged)
    Q_PROPERTY(bool canSend READ canSend NOTIFY canSendChanged)
    Q_PROPERTY(QString sendBlockedReason READ sendBlockedReason NOTIFY canSendChanged)
    Q_PROPERTY(bool canRetry READ canRetry NOTIFY canRetryChanged)
    Q_PROPERTY(QString notice READ notice NOTIFY noticeChanged)
    Q_PROPERTY(bool loaded READ isLoaded NOTIFY loadedChanged)
    // Which draft the input shows: this chat's, or a new chat's with the current agent.
    Q_PROPERTY(QString draftKey READ draftKey NOTIFY draftKeyChanged)

public:
    static ChatController *create(QQmlEngine *qmlEngine, QJSEngine *jsEngine);
    static ChatController *instance();
    ~ChatController() override;

    AgentListModel *agents() { return &m_agents; }
    SessionListModel *sessions() { return &m_sessions; }
    MessageListModel *messages() { return &m_messages; }
    SearchResultModel *search() { return &m_search; }

    QString currentAgentId() const { return m_agentId; }
    void setCurrentAgentId(const QString &id);
    QString currentAgentName() const;
    QString currentAgentModel() const;
    QString currentSessionId() const { return m_sessionId; }
    QString currentTitle() const;
    bool isStreaming() const { return m_pending.has_value(); }
    bool isOnline() const;
    bool isRemote() const { return m_remote; }
    QString serverLabel() const;
    QString offlineText() const;
    bool canSend() const { return sendBlockedReason().isEmpty(); }
    QString sendBlockedReason() const;
    bool canRetry() const { return !m_retryText.isEmpty() && !m_pending; }
    QString notice() const { return m_notice; }
    bool isLoaded() const { return m_loaded; }
    QString cacheKey() const { return m_cacheKey; }
    QString draftKey() const;

    Q_INVOKABLE bool send(const QString &text);
    Q_INVOKABLE void stop();
    // After a failed reply: another answer to the same message (never the message twice), or the
    // message again when it never reached the server.
    Q_INVOKABLE void retry();
    // Versions of a turn: another answer to the user message of `row` (a reply or that message),
    // a new text for the user message of `row` and its answer, and the version `step` before or
    // after the one shown (the conversation follows it from then on).
    Q_INVOKABLE void regenerate(int row);
    Q_INVOKABLE void editMessage(int row, const QString &text);
    Q_INVOKABLE void showVersion(int row, int step);
    // A new chat holding this one up to `row`, opened.
    Q_INVOKABLE void forkAt(int row);
    Q_INVOKABLE void newChat();
    Q_INVOKABLE void openSession(const QString &id);
    // Opens a chat at a search hit: on the branch that holds that message, scrolled to it.
    Q_INVOKABLE void openSearchHit(const QString &sessionId, const QString &messageId);
    Q_INVOKABLE void renameSession(const QString &id, const QString &title);
    Q_INVOKABLE void pinSession(const QString &id, bool pinned);
    Q_INVOKABLE void deleteSession(const QString &id);
    Q_INVOKABLE void copyMessage(int row);
    Q_INVOKABLE void copyText(const QString &text);
    Q_INVOKABLE void refresh();
    Q_INVOKABLE void clearNotice();
    // What was typed and not sent, kept in the local cache across restarts.
    Q_INVOKABLE QString draft(const QString &key) const;
    Q_INVOKABLE void saveDraft(const QString &key, const QString &text);
    // Answers a tool call that waits for approval: "allow", "always" or "deny".
    Q_INVOKABLE void decideToolCall(int row, const QString &callId, const QString &decision);

    // Called by the settings side when agents change.
    void agentSaved(const AgentItem &agent);
    void agentRemoved(const QString &id);
    void setUnauthorized(bool unauthorized);

Q_SIGNALS:
    void currentAgentChanged();
    void currentSessionChanged();
    void streamingChanged();
    void onlineChanged();
    void canSendChanged();
    void canRetryChanged();
    void noticeChanged();
    void loadedChanged();
    void draftKeyChanged();
    void messageCopied();
    void replyStarted();
    void replyFinished(const QString &status); // complete, cancelled, error
    void contentStreamed(int totalChars);      // for a screenshot driver and tests
    void messageFocusRequested(int row);       // scroll there (a search hit)

private:
    friend class DesktopApp;
    ChatController(ApiClient *api, LocalCache *cache, const QString &cacheKey, bool remote,
                   QObject *parent = nullptr);

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
        QString content;
        QList<ReplyPart> parts; // once the reply calls a tool
        bool thinking = false;  // the model is asked again after tool results
        int view = 0;           // the view (m_view) the reply belongs to
        int chunks = 0;
        QElapsedTimer clock;
        qint64 firstTokenMs = -1;
        qint64 lastTokenMs = -1;
        bool stopRequested = false;
    };

    Pending newPending(const QString &text);
    // Shows the first `keepRows` rows, then the pending turn's two, and starts its stream.
    bool begin(const Pending &pending, int keepRows, bool userStored);
    ChatStream *openPendingStream();
    // The row of the user message a reply or user row belongs to (-1: none stored yet).
    int userRowFor(int row) const;
    void createDefaultAgent();
    void loadFromCache();
    void refreshAgents();
    void refreshSessions();
    void loadMessages(const QString &sessionId);
    void showMessages(const QList<MessageItem> &stored, bool merge);
    void mergeRows(const QList<MessageItem> &rows);
    MessageItem greetingItem() const;
    bool viewShowsPending() const;
    int pendingRow(const QString &localId) const;
    void onChunk(const ChatChunk &chunk);
    void onContent(const QString &text);
    void onToolChunk(const ChatChunk &chunk);
    void showPendingParts();
    void onClosed(const ChatChunk &closing);
    void onFailed(const QString &code, const QString &message, bool offline);
    void onAborted();
    void finishPending(const QString &status);
    void watchStream(ChatStream *stream);
    // A stream of the pending reply broke in a way a resume can mend: try again later.
    bool resumeLater(const QString &code, bool offline);
    void resumeNow();
    void cacheShownMessages();
    void setNotice(const QString &text);
    void updateCanSend();
    void chooseDefaultAgent();
    double measuredRate(int tokens) const;

    static ChatController *s_instance;

    ApiClient *m_api;
    LocalCache *m_cache;
    QString m_cacheKey;
    bool m_remote;
    AgentListModel m_agents;
    SessionListModel m_sessions;
    MessageListModel m_messages;
    SearchResultModel m_search;
    QString m_focusMessageId; // shown once the conversation holding it is
    QString m_agentId;
    QString m_sessionId;
    int m_view = 0; // bumped whenever another conversation is shown
    std::optional<Pending> m_pending;
    QTimer m_stopFallback;
    QTimer m_resumeTimer;
    QTimer m_partsTimer; // argument fragments are shown a few times a second, not each one
    QString m_retryText;
    QString m_retryUserMessageId; // the server has the message: a retry regenerates its answer
    QString m_retryUserRowId;
    QString m_retryReplyRowId;
    bool m_retryDropRows = false;
    // A message that never reached the server and its error row: kept on screen (reloads of
    // the conversation would otherwise drop them) until another conversation is shown.
    QList<MessageItem> m_unsent;
    int m_unsentView = -1;
    QString m_notice;
    QTimer m_noticeTimer;
    bool m_loaded = false;
    bool m_unauthorized = false;
    int m_localIds = 0;
    // Tokens per second of the last replies, kept by reply id so a reload keeps them.
    QHash<QString, double> m_rates;
    bool m_lastCanSend = false;
    QString m_shownDraftKey;
};
