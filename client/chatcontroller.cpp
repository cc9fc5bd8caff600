#include "chatcontroller.h"

#include "apiclient.h"
#include "localcache.h"
#include "logging.h"

#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QImage>
#include <QJSEngine>
#include <QJsonArray>
#include <QMimeData>
#include <QQmlEngine>
#include <QStandardPaths>

using namespace Qt::StringLiterals;

ChatController *ChatController::s_instance = nullptr;

ChatController::ChatController(ApiClient *api, LocalCache *cache, const QString &cacheKey, bool remote,
                               QObject *parent)
    : QObject(parent), m_api(api), m_cache(cache), m_cacheKey(cacheKey), m_remote(remote),
      m_sessions(api, cache, cacheKey), m_conversation(api, cache, cacheKey),
      m_streamer(api, &m_conversation, &m_sessions, remote), m_search(api), m_attachments(api), m_models(api)
{
    s_instance = this;
    m_sessions.model()->setAgentModel(&m_agents);
    // Titles and agents' names change often; the draft shown only when the chat or agent does.
    const auto draftMayChange = [this] {
        if (draftKey() != m_shownDraftKey) {
            m_shownDraftKey = draftKey();
            Q_EMIT draftKeyChanged();
        }
    };
    connect(this, &ChatController::currentSessionChanged, this, draftMayChange);
    connect(this, &ChatController::currentAgentChanged, this, draftMayChange);
    m_noticeTimer.setSingleShot(true);
    m_noticeTimer.setInterval(6000);
    connect(&m_noticeTimer, &QTimer::timeout, this, &ChatController::clearNotice);
    connect(m_api, &ApiClient::onlineChanged, this, [this] {
        Q_EMIT onlineChanged();
        updateCanSend();
    });
    connect(m_api, &ApiClient::reconnected, this, &ChatController::refresh);
    connect(m_api, &ApiClient::reconnected, &m_streamer, &ReplyStreamer::resumeIfWaiting);
    connect(m_api, &ApiClient::unauthorized, this, [this] { setUnauthorized(true); });
    connect(&m_agents, &AgentListModel::countChanged, this, &ChatController::updateCanSend);

    connect(&m_sessions, &SessionListController::refreshed, this, [this] {
        chooseDefaultAgent();
        Q_EMIT currentSessionChanged(); // the title may have changed
        if (!m_loaded) {
            m_loaded = true;
            Q_EMIT loadedChanged();
        }
    });
    connect(&m_sessions, &SessionListController::renamed, this, [this](const QString &id) {
        if (id == currentSessionId())
            Q_EMIT currentSessionChanged();
    });
    connect(&m_sessions, &SessionListController::removed, this, [this](const QString &id) {
        if (id == currentSessionId())
            newChat();
    });
    connect(&m_sessions, &SessionListController::failed, this, &ChatController::setNotice);
    connect(&m_conversation, &Conversation::sessionGone, &m_sessions, &SessionListController::forget);
    connect(&m_conversation, &Conversation::failed, this, &ChatController::setNotice);
    connect(&m_conversation, &Conversation::messageFocusRequested, this,
            &ChatController::messageFocusRequested);

    connect(&m_streamer, &ReplyStreamer::streamingChanged, this, [this] {
        Q_EMIT streamingChanged();
        updateCanSend();
    });
    connect(&m_streamer, &ReplyStreamer::canRetryChanged, this, &ChatController::canRetryChanged);
    connect(&m_streamer, &ReplyStreamer::replyStarted, this, &ChatController::replyStarted);
    connect(&m_streamer, &ReplyStreamer::replyFinished, this, &ChatController::onReplyFinished);
    connect(&m_streamer, &ReplyStreamer::contentStreamed, this, &ChatController::contentStreamed);
    connect(&m_streamer, &ReplyStreamer::sessionAdopted, this, &ChatController::currentSessionChanged);
    connect(&m_streamer, &ReplyStreamer::failed, this, &ChatController::setNotice);
    connect(&m_streamer, &ReplyStreamer::agentChanged, this, &ChatController::refreshAgents);
    connect(&m_attachments, &AttachmentTray::changed, this, &ChatController::updateCanSend);
    connect(&m_attachments, &AttachmentTray::notice, this, &ChatController::setNotice);
    connect(this, &ChatController::currentAgentChanged, this, &ChatController::currentModelChanged);
    connect(this, &ChatController::currentSessionChanged, this, [this] {
        if (m_newChatModel && !currentSessionId().isEmpty()) {
            // It went with the first message: the new chat has it now.
            if (const SessionItem *s = m_sessions.find(currentSessionId());
                s && s->model != *m_newChatModel) {
                SessionItem started = *s;
                started.model = *m_newChatModel;
                m_sessions.upsert(started);
            }
            m_newChatModel.reset();
        }
        Q_EMIT currentModelChanged();
    });
}

ChatController::~ChatController()
{
    if (s_instance == this)
        s_instance = nullptr;
}

ChatController *ChatController::create(QQmlEngine *, QJSEngine *)
{
    Q_ASSERT_X(s_instance, "ChatController::create", "DesktopApp creates the controller before loading QML");
    QJSEngine::setObjectOwnership(s_instance, QJSEngine::CppOwnership);
    return s_instance;
}

ChatController *ChatController::instance()
{
    return s_instance;
}

// --- state -------------------------------------------------------------------------------

bool ChatController::isOnline() const
{
    return m_api->isOnline();
}

QString ChatController::serverLabel() const
{
    if (!m_remote)
        return tr("This computer");
    const QUrl url = m_api->baseUrl();
    return url.port() > 0 ? u"%1:%2"_s.arg(url.host()).arg(url.port()) : url.host();
}

QString ChatController::offlineText() const
{
    if (isOnline())
        return {};
    return m_remote
               ? tr("Offline: %1 cannot be reached. Showing saved history; reconnecting…").arg(serverLabel())
               : tr("The local AgentDesk service is not answering; reconnecting…");
}

QString ChatController::sendBlockedReason() const
{
    if (!isOnline())
        return m_remote ? tr("Sending is disabled while the server is unreachable.")
                        : tr("Sending is disabled while the local service is not answering.");
    if (m_unauthorized)
        return tr("The server refused the access token. Set a valid token in Settings.");
    if (m_streamer.isStreaming())
        return tr("A reply is being written. Press Stop (Esc) to end it.");
    if (m_agentId.isEmpty() || !m_agents.find(m_agentId))
        return m_agents.rowCount() == 0 ? tr("Create an agent to start chatting.") : tr("Choose an agent.");
    if (const int n = m_attachments.uploading(); n > 0)
        return tr("Uploading %n file(s)…", nullptr, n);
    if (m_attachments.failed() > 0)
        return tr("Remove the files that could not be uploaded to send.");
    return {};
}

void ChatController::updateCanSend()
{
    Q_EMIT canSendChanged();
}

void ChatController::setUnauthorized(bool unauthorized)
{
    if (m_unauthorized == unauthorized)
        return;
    m_unauthorized = unauthorized;
    if (unauthorized)
        setNotice(tr("The server refused the access token."));
    updateCanSend();
}

void ChatController::setNotice(const QString &text)
{
    m_notice = text;
    Q_EMIT noticeChanged();
    if (!text.isEmpty())
        m_noticeTimer.start();
}

void ChatController::clearNotice()
{
    setNotice({});
}

QString ChatController::currentAgentName() const
{
    const AgentItem *a = m_agents.find(m_agentId);
    return a ? a->name : QString();
}

QString ChatController::currentAgentModel() const
{
    const AgentItem *a = m_agents.find(m_agentId);
    return a ? a->model : QString();
}

QString ChatController::sessionModel() const
{
    if (currentSessionId().isEmpty())
        return m_newChatModel.value_or(QString());
    const SessionItem *s = m_sessions.find(currentSessionId());
    return s ? s->model : QString();
}

QString ChatController::currentModel() const
{
    const QString own = sessionModel();
    return own.isEmpty() ? currentAgentModel() : own;
}

void ChatController::setChatModel(const QString &model)
{
    const QString chosen = model.trimmed() == currentAgentModel() ? QString() : model.trimmed();
    if (currentSessionId().isEmpty()) {
        m_newChatModel = chosen;
        Q_EMIT currentModelChanged();
        return;
    }
    const QString sessionId = currentSessionId();
    m_api->setSessionModel(sessionId, chosen, this, [this, sessionId](const ApiResult &r) {
        if (!r.ok()) {
            setNotice(tr("Could not change the model: %1").arg(r.message));
            return;
        }
        m_sessions.upsert(SessionItem::fromJson(r.json));
        if (sessionId == currentSessionId())
            Q_EMIT currentModelChanged();
    });
}

void ChatController::loadModels()
{
    const AgentItem *a = m_agents.find(m_agentId);
    m_models.load(a ? a->provider : QString());
}

void ChatController::attachFiles(const QList<QUrl> &urls)
{
    m_attachments.addFiles(urls);
}

bool ChatController::pasteAttachment()
{
    const QMimeData *data = QGuiApplication::clipboard()->mimeData();
    if (!data)
        return false;
    if (data->hasImage()) {
        m_attachments.addImage(qvariant_cast<QImage>(data->imageData()));
        return true;
    }
    QList<QUrl> files;
    for (const QUrl &url : data->urls()) {
        if (url.isLocalFile())
            files.append(url);
    }
    if (files.isEmpty())
        return false;
    m_attachments.addFiles(files);
    return true;
}

void ChatController::openAttachment(const QString &fileId, const QString &name)
{
    m_api->get(u"/api/files/"_s + fileId, {}, this, [this, fileId, name](const ApiResult &r) {
        if (!r.ok()) {
            setNotice(tr("Could not open %1: %2").arg(name, r.message));
            return;
        }
        // A folder per file keeps its own name, which the viewer shows.
        const QString dir =
            QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + u"/files/"_s + fileId;
        QDir().mkpath(dir);
        const QString path = dir + u'/' + QFileInfo(name).fileName();
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(r.body) != r.body.size()) {
            setNotice(tr("Could not save %1 to open it.").arg(name));
            return;
        }
        file.close();
        if (!QDesktopServices::openUrl(QUrl::fromLocalFile(path)))
            setNotice(tr("No application here opens %1.").arg(name));
    });
}

QString ChatController::currentTitle() const
{
    if (currentSessionId().isEmpty())
        return tr("New chat");
    const SessionItem *s = m_sessions.find(currentSessionId());
    return s && !s->title.isEmpty() ? s->title : tr("New chat");
}

void ChatController::setCurrentAgentId(const QString &id)
{
    if (id == m_agentId)
        return;
    m_agentId = id;
    Q_EMIT currentAgentChanged();
    // Another agent means another conversation: a new one with that agent's greeting.
    const SessionItem *s = m_sessions.find(currentSessionId());
    if (!s || s->agentId != id)
        newChat();
    updateCanSend();
}

void ChatController::chooseDefaultAgent()
{
    if (!m_agentId.isEmpty() && m_agents.find(m_agentId))
        return;
    QString pick;
    // The agent of the most recent session, else the first one.
    if (const QList<SessionItem> &sessions = m_sessions.model()->sessions(); !sessions.isEmpty())
        pick = sessions.constFirst().agentId;
    if (!m_agents.find(pick))
        pick = m_agents.rowCount() > 0 ? m_agents.agents().constFirst().id : QString();
    if (pick == m_agentId)
        return;
    m_agentId = pick;
    Q_EMIT currentAgentChanged();
    if (currentSessionId().isEmpty())
        showMessages({}, false);
    updateCanSend();
}

// --- loading -----------------------------------------------------------------------------

void ChatController::loadFromCache()
{
    if (!m_cache || !m_cache->isOpen())
        return;
    m_agents.setAgents(m_cache->agents(m_cacheKey));
    m_sessions.loadFromCache();
    chooseDefaultAgent();
    showMessages({}, false);
}

void ChatController::refresh()
{
    setUnauthorized(false);
    refreshAgents();
    if (!currentSessionId().isEmpty())
        loadMessages(currentSessionId());
}

void ChatController::refreshAgents()
{
    m_api->listAgents(this, [this](const ApiResult &r) {
        if (!r.ok()) {
            if (!r.offline && r.status != 401)
                setNotice(tr("Could not load the agents: %1").arg(r.message));
            return;
        }
        QList<AgentItem> agents;
        const QJsonArray arr = r.json.value("agents"_L1).toArray();
        for (const QJsonValue &v : arr)
            agents.append(AgentItem::fromJson(v.toObject()));
        if (agents.isEmpty() && !m_remote)
            createDefaultAgent();
        m_agents.setAgents(agents);
        if (m_cache)
            m_cache->replaceAgents(m_cacheKey, agents);
        refreshSessions();
        Q_EMIT currentAgentChanged();
        if (currentSessionId().isEmpty() && !isStreaming())
            showMessages({}, true); // the greeting may have changed
        updateCanSend();
    });
}

void ChatController::refreshSessions()
{
    m_sessions.refresh();
}

QString ChatController::draftKey() const
{
    return currentSessionId().isEmpty() ? u"draft:new:"_s + m_agentId : u"draft:"_s + currentSessionId();
}

QString ChatController::draft(const QString &key) const
{
    return m_cache && key.startsWith("draft:"_L1) ? m_cache->value(m_cacheKey, key) : QString();
}

void ChatController::saveDraft(const QString &key, const QString &text)
{
    if (m_cache && key.startsWith("draft:"_L1))
        m_cache->setValue(m_cacheKey, key, text.trimmed().isEmpty() ? QString() : text);
}

void ChatController::createDefaultAgent()
{
    // On the first start the user can say hello at once. Once only: someone who deleted every
    // agent meant it.
    if (!m_cache || !m_cache->value(m_cacheKey, u"default-agent"_s).isEmpty())
        return;
    m_cache->setValue(m_cacheKey, u"default-agent"_s, u"created"_s);
    const QJsonObject agent{
        {u"name"_s, tr("Assistant")},
        {u"description"_s, tr("A general assistant")},
        {u"system_prompt"_s, tr("You are a helpful assistant. Answer in the language of the user.")}};
    m_api->createAgent(agent, this, [this](const ApiResult &r) {
        if (!r.ok()) {
            qCWarning(lcClient) << "could not create the default agent:" << r.message;
            return;
        }
        agentSaved(AgentItem::fromJson(r.json));
    });
}

void ChatController::showMessages(const QList<MessageItem> &stored, bool merge)
{
    const AgentItem *a = m_agents.find(m_agentId);
    m_conversation.setGreeting(a ? a->greeting : QString());
    m_conversation.show(stored, merge, m_streamer.attachLiveTurn());
    Q_EMIT canRetryChanged();
}

bool ChatController::canRetry() const
{
    if (isStreaming())
        return false;
    // A failed reply of this run, or one stored as failed (after a restart): answered again.
    const int row = m_conversation.messages()->retryRow();
    return m_streamer.canRetry() || (row >= 0 && m_conversation.userRowFor(row) >= 0);
}

void ChatController::loadMessages(const QString &sessionId)
{
    m_conversation.load(sessionId, [this](const QList<MessageItem> &list) { showMessages(list, true); });
}

// --- conversations -----------------------------------------------------------------------

void ChatController::newChat()
{
    m_conversation.switchTo({});
    m_streamer.clearRetry();
    m_newChatModel.reset();
    showMessages({}, false);
    Q_EMIT currentSessionChanged(); // the QML resets the view (title, input focus) even if it was new
}

void ChatController::openSession(const QString &id)
{
    if (id.isEmpty()) {
        newChat();
        return;
    }
    if (id == currentSessionId())
        return;
    m_conversation.switchTo(id);
    m_streamer.clearRetry();
    const SessionItem *s = m_sessions.find(id);
    if (s && s->agentId != m_agentId) {
        m_agentId = s->agentId;
        Q_EMIT currentAgentChanged();
    }
    // What the cache has shows at once; the server's copy replaces it when it comes.
    showMessages(m_cache ? m_cache->messages(m_cacheKey, id) : QList<MessageItem>(), false);
    Q_EMIT currentSessionChanged();
    updateCanSend();
    if (isOnline())
        loadMessages(id);
}

void ChatController::openSearchHit(const QString &sessionId, const QString &messageId)
{
    if (sessionId.isEmpty())
        return;
    m_conversation.focusMessage(messageId);
    // A reply still running there keeps its branch; otherwise the chat follows the hit's.
    if (messageId.isEmpty() || m_streamer.sessionId() == sessionId) {
        openSession(sessionId);
        return;
    }
    m_conversation.followBranch(sessionId, messageId, [this, sessionId] {
        if (sessionId != currentSessionId())
            openSession(sessionId);
        else if (isOnline())
            loadMessages(sessionId);
    });
}

void ChatController::renameSession(const QString &id, const QString &title)
{
    m_sessions.rename(id, title);
}

void ChatController::pinSession(const QString &id, bool pinned)
{
    m_sessions.setPinned(id, pinned);
}

void ChatController::deleteSession(const QString &id)
{
    if (!id.isEmpty() && m_streamer.sessionId() == id)
        stop();
    m_sessions.remove(id);
}

void ChatController::copyText(const QString &text)
{
    if (QClipboard *cb = QGuiApplication::clipboard()) {
        cb->setText(text);
        Q_EMIT messageCopied();
    }
}

void ChatController::copyMessage(int row)
{
    copyText(messages()->contentAt(row));
}

void ChatController::agentSaved(const AgentItem &agent)
{
    m_agents.upsert(agent);
    if (m_cache)
        m_cache->replaceAgents(m_cacheKey, m_agents.agents());
    if (m_agentId.isEmpty() || m_agentId == agent.id) {
        m_agentId = agent.id;
        Q_EMIT currentAgentChanged();
        if (currentSessionId().isEmpty() && !isStreaming())
            showMessages({}, true);
    }
    updateCanSend();
}

void ChatController::agentRemoved(const QString &id)
{
    m_agents.remove(id);
    if (m_cache)
        m_cache->replaceAgents(m_cacheKey, m_agents.agents());
    refreshSessions();
    if (m_agentId == id) {
        m_agentId.clear();
        newChat();
        chooseDefaultAgent();
        Q_EMIT currentAgentChanged();
    }
    updateCanSend();
}

// --- sending -----------------------------------------------------------------------------

bool ChatController::send(const QString &text)
{
    if (!sendWith(text, m_attachments.ready()))
        return false;
    m_attachments.clear();
    return true;
}

bool ChatController::sendWith(const QString &text, const QList<AttachmentItem> &files)
{
    const QString message = text.trimmed();
    if ((message.isEmpty() && files.isEmpty()) || !canSend())
        return false;
    if (!m_sessions.model()->filterText().isEmpty())
        m_sessions.model()->setFilterText({});
    m_streamer.send(m_agentId, message, files, currentSessionId().isEmpty() ? m_newChatModel : std::nullopt);
    return true;
}

void ChatController::regenerate(int row)
{
    const int userRow = m_conversation.userRowFor(row);
    if (userRow < 0 || currentSessionId().isEmpty())
        return;
    if (!canSend()) {
        setNotice(sendBlockedReason());
        return;
    }
    const MessageItem &user = messages()->at(userRow);
    m_streamer.regenerate(m_agentId, userRow, user.id, user.content);
}

void ChatController::editMessage(int row, const QString &text)
{
    const QString message = text.trimmed();
    if (row < 0 || row >= messages()->rowCount() || message.isEmpty() || !canSend() ||
        currentSessionId().isEmpty())
        return;
    const MessageItem &user = messages()->at(row);
    if (user.role != "user"_L1 || user.isLocal())
        return;
    m_streamer.edit(m_agentId, row, message);
}

void ChatController::showVersion(int row, int step)
{
    if (isStreaming())
        return;
    m_conversation.showVersion(row, step,
                               [this](const QList<MessageItem> &list) { showMessages(list, true); });
}

void ChatController::forkAt(int row)
{
    if (row < 0 || row >= messages()->rowCount() || currentSessionId().isEmpty())
        return;
    const MessageItem &m = messages()->at(row);
    if (m.isLocal() || m.role == "greeting"_L1)
        return;
    m_api->forkSession(currentSessionId(), m.id, tr("%1 (copy)").arg(currentTitle()), this,
                       [this](const ApiResult &r) {
                           if (!r.ok()) {
                               setNotice(tr("Could not copy the chat: %1").arg(r.message));
                               return;
                           }
                           const SessionItem forked = SessionItem::fromJson(r.json);
                           m_sessions.upsert(forked);
                           openSession(forked.id);
                           refreshSessions();
                       });
}

void ChatController::decideToolCall(int row, const QString &callId, const QString &decision)
{
    m_streamer.decideToolCall(row, callId, decision);
}

void ChatController::stop()
{
    m_streamer.stop();
}

void ChatController::onReplyFinished(const QString &status, const QString &sessionId)
{
    Q_EMIT replyFinished(status);
    // The server has the final copy (ids, usage, title): bring it in.
    if (isOnline()) {
        refreshSessions();
        if (!sessionId.isEmpty())
            loadMessages(sessionId);
    }
}

void ChatController::retry()
{
    if (!canRetry())
        return;
    if (!canSend()) {
        setNotice(sendBlockedReason());
        return;
    }
    MessageListModel *rows = messages();
    if (!m_streamer.canRetry()) {
        regenerate(rows->retryRow());
        return;
    }
    const ReplyStreamer::RetryPlan plan = m_streamer.retryPlan();
    if (!plan.userMessageId.isEmpty()) {
        // Stored: the message is answered again, as a new version of the reply; the failed one
        // stays as the version before it.
        int userRow = rows->rowOf(plan.userMessageId);
        if (userRow < 0)
            userRow = rows->rowOf(plan.userRowId);
        if (userRow < 0)
            return;
        // By the server's id: the row may still carry its local one until the reload.
        m_streamer.regenerate(m_agentId, userRow, plan.userMessageId, plan.text);
        return;
    }
    if (plan.dropRows) {
        // Never reached the server: the failed attempt goes, the new one replaces it.
        m_conversation.dropUnsent();
        rows->removeRow(rows->rowOf(plan.replyRowId));
        rows->removeRow(rows->rowOf(plan.userRowId));
    }
    rows->setRetryRow(-1);
    m_streamer.clearRetry();
    sendWith(plan.text, plan.attachments);
}
