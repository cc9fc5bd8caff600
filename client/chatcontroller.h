#pragma once

#include "agentlistmodel.h"
#include "attachmenttray.h"
#include "conversation.h"
#include "modellistmodel.h"
#include "replystreamer.h"
#include "searchresultmodel.h"
#include "sessionlistcontroller.h"

#include <QObject>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

class ApiClient;
class LocalCache;
class QQmlEngine;
class QJSEngine;

// The conversation side of the window as the QML sees it: which agent and chat are shown, what
// can be done now (send, retry, offline), notices and drafts. The work is done by the classes it
// joins: Conversation (the rows and branch shown), ReplyStreamer (sending and streaming) and
// SessionListController (the chat list). The QML only lays things out.
class ChatController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(AgentListModel *agents READ agents CONSTANT)
    Q_PROPERTY(SessionListModel *sessions READ sessions CONSTANT)
    Q_PROPERTY(MessageListModel *messages READ messages CONSTANT)
    Q_PROPERTY(SearchResultModel *search READ search CONSTANT)
    // The files the next message carries, and the models the chat's provider offers.
    Q_PROPERTY(AttachmentTray *attachments READ attachments CONSTANT)
    Q_PROPERTY(ModelListModel *models READ models CONSTANT)
    // The model this chat talks to: its own, else its agent's ("" when the provider's default).
    Q_PROPERTY(QString currentModel READ currentModel NOTIFY currentModelChanged)
    // Whether this chat has a model of its own, set in the header.
    Q_PROPERTY(bool modelOverridden READ modelOverridden NOTIFY currentModelChanged)
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
    SessionListModel *sessions() { return m_sessions.model(); }
    MessageListModel *messages() { return m_conversation.messages(); }
    SearchResultModel *search() { return &m_search; }
    AttachmentTray *attachments() { return &m_attachments; }
    ModelListModel *models() { return &m_models; }
    QString currentModel() const;
    bool modelOverridden() const { return !sessionModel().isEmpty(); }

    QString currentAgentId() const { return m_agentId; }
    void setCurrentAgentId(const QString &id);
    QString currentAgentName() const;
    QString currentAgentModel() const;
    QString currentSessionId() const { return m_conversation.sessionId(); }
    QString currentTitle() const;
    bool isStreaming() const { return m_streamer.isStreaming(); }
    bool isOnline() const;
    bool isRemote() const { return m_remote; }
    QString serverLabel() const;
    QString offlineText() const;
    bool canSend() const { return sendBlockedReason().isEmpty(); }
    QString sendBlockedReason() const;
    bool canRetry() const;
    QString notice() const { return m_notice; }
    bool isLoaded() const { return m_loaded; }
    QString cacheKey() const { return m_cacheKey; }
    QString draftKey() const;

    Q_INVOKABLE bool send(const QString &text);
    // Files for the next message: local files (dropped, picked), or what the clipboard holds
    // (an image, copied files; false when it holds neither, so the text is pasted instead).
    Q_INVOKABLE void attachFiles(const QList<QUrl> &urls);
    Q_INVOKABLE bool pasteAttachment();
    // This chat's model ("" for the agent's again); before the chat's first message it goes with it.
    Q_INVOKABLE void setChatModel(const QString &model);
    // The current agent's provider's models, into `models`.
    Q_INVOKABLE void loadModels();
    // Opens a file of a message with the system's viewer (a PDF, a text file), after fetching it.
    Q_INVOKABLE void openAttachment(const QString &fileId, const QString &name);
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
    void currentModelChanged();

private:
    friend class DesktopApp;
    ChatController(ApiClient *api, LocalCache *cache, const QString &cacheKey, bool remote,
                   QObject *parent = nullptr);

    void createDefaultAgent();
    void loadFromCache();
    void refreshAgents();
    void refreshSessions();
    void loadMessages(const QString &sessionId);
    // Shows `stored` for the chat on screen, with the agent's greeting and a reply still streaming.
    void showMessages(const QList<MessageItem> &stored, bool merge);
    void onReplyFinished(const QString &status, const QString &sessionId);
    void setNotice(const QString &text);
    void updateCanSend();
    QString sessionModel() const;
    bool sendWith(const QString &text, const QList<AttachmentItem> &files);
    void chooseDefaultAgent();

    static ChatController *s_instance;

    ApiClient *m_api;
    LocalCache *m_cache;
    QString m_cacheKey;
    bool m_remote;
    AgentListModel m_agents;
    SessionListController m_sessions;
    Conversation m_conversation;
    ReplyStreamer m_streamer;
    SearchResultModel m_search;
    AttachmentTray m_attachments;
    ModelListModel m_models;
    // The model chosen for a chat not started yet (sent with its first message); nullopt: none.
    std::optional<QString> m_newChatModel;
    QString m_agentId;
    QString m_notice;
    QTimer m_noticeTimer;
    bool m_loaded = false;
    bool m_unauthorized = false;
    QString m_shownDraftKey;
};
