#include "chatcontroller.h"

#include "apiclient.h"
#include "chatchunk.h"
#include "chatstream.h"
#include "localcache.h"
#include "logging.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QJSEngine>
#include <QJsonArray>
#include <QJsonDocument>
#include <QQmlEngine>
#include <QUuid>

using namespace Qt::StringLiterals;

ChatController *ChatController::s_instance = nullptr;

namespace {
// How long Stop waits for the server's closing `done` chunk before dropping the connection
// (which makes the server abort the upstream request too).
constexpr int StopFallbackMs = 5000;
constexpr int ResumeGiveUpMs = 180000; // the server keeps an unwatched reply running 30 s by default
// Waits between resume attempts: quick at first (a blip), then every few seconds.
int resumeDelayMs(int attempt)
{
    return qMin(5000, 250 << qMin(attempt, 5));
}
} // namespace

ChatController::ChatController(ApiClient *api, LocalCache *cache, const QString &cacheKey, bool remote,
                               QObject *parent)
    : QObject(parent), m_api(api), m_cache(cache), m_cacheKey(cacheKey), m_remote(remote), m_search(api)
{
    s_instance = this;
    m_sessions.setAgentModel(&m_agents);
    // Titles and agents' names change often; the draft shown only when the chat or agent does.
    const auto draftMayChange = [this] {
        if (draftKey() != m_shownDraftKey) {
            m_shownDraftKey = draftKey();
            Q_EMIT draftKeyChanged();
        }
    };
    connect(this, &ChatController::currentSessionChanged, this, draftMayChange);
    connect(this, &ChatController::currentAgentChanged, this, draftMayChange);
    m_stopFallback.setSingleShot(true);
    connect(&m_stopFallback, &QTimer::timeout, this, [this] {
        if (m_pending && m_pending->stream) {
            qCInfo(lcClient) << "no closing chunk after cancel; dropping the stream";
            m_pending->stream->abort();
        }
    });
    m_resumeTimer.setSingleShot(true);
    connect(&m_resumeTimer, &QTimer::timeout, this, &ChatController::resumeNow);
    m_partsTimer.setSingleShot(true);
    m_partsTimer.setInterval(50);
    connect(&m_partsTimer, &QTimer::timeout, this, &ChatController::showPendingParts);
    m_messages.setFileUrlResolver([this](const QString &path) { return m_api->fileUrl(path); });
    m_noticeTimer.setSingleShot(true);
    m_noticeTimer.setInterval(6000);
    connect(&m_noticeTimer, &QTimer::timeout, this, &ChatController::clearNotice);
    connect(m_api, &ApiClient::onlineChanged, this, [this] {
        Q_EMIT onlineChanged();
        updateCanSend();
    });
    connect(m_api, &ApiClient::reconnected, this, &ChatController::refresh);
    // Back online: a reply waiting to be resumed goes first.
    connect(m_api, &ApiClient::reconnected, this, [this] {
        if (m_pending && m_pending->reconnecting && !m_pending->stream)
            resumeNow();
    });
    connect(m_api, &ApiClient::unauthorized, this, [this] { setUnauthorized(true); });
    connect(&m_agents, &AgentListModel::countChanged, this, &ChatController::updateCanSend);
    m_lastCanSend = canSend();
}

ChatController::~ChatController()
{
    if (m_pending && m_pending->stream)
        m_pending->stream->disconnect(this);
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
    if (m_pending)
        return tr("A reply is being written. Press Stop (Esc) to end it.");
    if (m_agentId.isEmpty() || !m_agents.find(m_agentId))
        return m_agents.rowCount() == 0 ? tr("Create an agent to start chatting.") : tr("Choose an agent.");
    return {};
}

void ChatController::updateCanSend()
{
    Q_EMIT canSendChanged();
    m_lastCanSend = canSend();
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

QString ChatController::currentTitle() const
{
    if (m_sessionId.isEmpty())
        return tr("New chat");
    const SessionItem *s = m_sessions.find(m_sessionId);
    return s && !s->title.isEmpty() ? s->title : tr("New chat");
}

void ChatController::setCurrentAgentId(const QString &id)
{
    if (id == m_agentId)
        return;
    m_agentId = id;
    Q_EMIT currentAgentChanged();
    // Another agent means another conversation: a new one with that agent's greeting.
    const SessionItem *s = m_sessions.find(m_sessionId);
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
    if (!m_sessions.sessions().isEmpty())
        pick = m_sessions.sessions().constFirst().agentId;
    if (!m_agents.find(pick))
        pick = m_agents.rowCount() > 0 ? m_agents.agents().constFirst().id : QString();
    if (pick == m_agentId)
        return;
    m_agentId = pick;
    Q_EMIT currentAgentChanged();
    if (m_sessionId.isEmpty())
        showMessages({}, false);
    updateCanSend();
}

// --- loading -----------------------------------------------------------------------------

void ChatController::loadFromCache()
{
    if (!m_cache || !m_cache->isOpen())
        return;
    m_agents.setAgents(m_cache->agents(m_cacheKey));
    m_sessions.setSessions(m_cache->sessions(m_cacheKey));
    chooseDefaultAgent();
    showMessages({}, false);
}

void ChatController::refresh()
{
    setUnauthorized(false);
    refreshAgents();
    if (!m_sessionId.isEmpty())
        loadMessages(m_sessionId);
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
        if (m_sessionId.isEmpty() && !m_pending)
            showMessages({}, true); // the greeting may have changed
        updateCanSend();
    });
}

QString ChatController::draftKey() const
{
    return m_sessionId.isEmpty() ? u"draft:new:"_s + m_agentId : u"draft:"_s + m_sessionId;
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

void ChatController::refreshSessions()
{
    m_api->listSessions({}, {}, this, [this](const ApiResult &r) {
        if (!r.ok())
            return;
        QList<SessionItem> sessions;
        const QJsonArray arr = r.json.value("sessions"_L1).toArray();
        for (const QJsonValue &v : arr)
            sessions.append(SessionItem::fromJson(v.toObject()));
        m_sessions.setSessions(sessions);
        if (m_cache)
            m_cache->replaceSessions(m_cacheKey, sessions);
        chooseDefaultAgent();
        Q_EMIT currentSessionChanged(); // the title may have changed
        if (!m_loaded) {
            m_loaded = true;
            Q_EMIT loadedChanged();
        }
    });
}

MessageItem ChatController::greetingItem() const
{
    MessageItem g;
    const AgentItem *a = m_agents.find(m_agentId);
    if (!a || a->greeting.trimmed().isEmpty())
        return g;
    g.id = u"greeting"_s;
    g.role = u"greeting"_s;
    g.content = a->greeting;
    g.status = u"complete"_s;
    return g;
}

void ChatController::showMessages(const QList<MessageItem> &stored, bool merge)
{
    QList<MessageItem> rows;
    const MessageItem g = greetingItem();
    if (!g.role.isEmpty())
        rows.append(g);
    for (MessageItem m : stored) {
        if (m.role == "assistant"_L1 && m.tokensPerSecond <= 0)
            m.tokensPerSecond = m_rates.value(m.id);
        rows.append(m);
    }
    // A reply still streaming into this conversation: its two rows come from the stream, not
    // from the stored copy (which lags behind).
    if (m_pending && !m_pending->sessionId.isEmpty() && m_pending->sessionId == m_sessionId) {
        const QString replyId = m_pending->replyId();
        rows.removeIf([this, &replyId](const MessageItem &m) {
            return (m.role == "user"_L1 && m.id == m_pending->userMessageId) ||
                   (m.role == "assistant"_L1 && (m.status == "streaming"_L1 || m.id == replyId));
        });
        m_pending->view = m_view;
        MessageItem user;
        user.id = m_pending->userRowId;
        user.role = u"user"_s;
        user.content = m_pending->text;
        user.status = u"complete"_s;
        MessageItem reply;
        reply.id = m_pending->replyRowId;
        reply.role = u"assistant"_s;
        reply.content = m_pending->content;
        reply.parts = m_pending->parts;
        reply.thinking = m_pending->thinking;
        reply.status = m_pending->reconnecting        ? u"reconnecting"_s
                       : m_pending->content.isEmpty() ? u"typing"_s
                                                      : u"streaming"_s;
        if (m_pending->reconnecting)
            reply.error = tr("Connection lost — reconnecting…");
        rows << user << reply;
    }
    if (!m_unsent.isEmpty() && m_unsentView == m_view)
        rows += m_unsent;
    m_messages.setRetryRow(-1);
    if (!merge) {
        m_messages.setMessages(rows);
    } else {
        mergeRows(rows);
    }
    if (!m_focusMessageId.isEmpty()) {
        if (const int row = m_messages.rowOf(m_focusMessageId); row >= 0) {
            m_focusMessageId.clear();
            Q_EMIT messageFocusRequested(row);
        }
    }
    if (!m_retryText.isEmpty()) {
        for (int i = int(rows.size()) - 1; i >= 0; --i) {
            if (rows.at(i).role == "assistant"_L1) {
                if (rows.at(i).status == "error"_L1)
                    m_messages.setRetryRow(i);
                break;
            }
        }
    }
}

void ChatController::mergeRows(const QList<MessageItem> &rows)
{
    // Update in place where the rows line up (no reset, no flicker), then add or drop the rest.
    const int common = int(qMin(rows.size(), qsizetype(m_messages.rowCount())));
    int firstDiff = common;
    for (int i = 0; i < common; ++i) {
        const MessageItem &old = m_messages.at(i);
        if (old.role != rows.at(i).role) {
            firstDiff = i;
            break;
        }
    }
    for (int i = 0; i < firstDiff; ++i) {
        const MessageItem &a = m_messages.at(i), &b = rows.at(i);
        const bool same = a.id == b.id && a.content == b.content && a.status == b.status &&
                          a.error == b.error && a.tokensUsed == b.tokensUsed &&
                          a.completionTokens == b.completionTokens &&
                          a.tokensPerSecond == b.tokensPerSecond && a.model == b.model && a.parts == b.parts;
        if (!same)
            m_messages.update(i, b);
    }
    while (m_messages.rowCount() > firstDiff)
        m_messages.removeRow(m_messages.rowCount() - 1);
    for (int i = firstDiff; i < rows.size(); ++i)
        m_messages.append(rows.at(i));
}

void ChatController::loadMessages(const QString &sessionId)
{
    const int view = m_view;
    m_api->listMessages(sessionId, this, [this, sessionId, view](const ApiResult &r) {
        if (!r.ok()) {
            if (r.status == 404) {
                m_sessions.remove(sessionId);
                if (m_cache)
                    m_cache->removeSession(m_cacheKey, sessionId);
                if (m_sessionId == sessionId)
                    newChat();
            }
            return;
        }
        QList<MessageItem> list;
        const QJsonArray arr = r.json.value("messages"_L1).toArray();
        for (const QJsonValue &v : arr) {
            MessageItem m = MessageItem::fromJson(v.toObject());
            if (m.role == "assistant"_L1 && m.tokensPerSecond <= 0)
                m.tokensPerSecond = m_rates.value(m.id);
            list.append(m);
        }
        if (m_cache)
            m_cache->replaceMessages(m_cacheKey, sessionId, list);
        if (view == m_view && m_sessionId == sessionId)
            showMessages(list, true);
    });
}

// --- conversations -----------------------------------------------------------------------

void ChatController::newChat()
{
    ++m_view;
    m_unsent.clear();
    const bool changed = !m_sessionId.isEmpty();
    m_sessionId.clear();
    m_retryText.clear();
    m_retryUserMessageId.clear();
    Q_EMIT canRetryChanged();
    showMessages({}, false);
    if (changed)
        Q_EMIT currentSessionChanged();
    else
        Q_EMIT currentSessionChanged(); // the QML resets the view (title, input focus) either way
}

void ChatController::openSession(const QString &id)
{
    if (id.isEmpty()) {
        newChat();
        return;
    }
    if (id == m_sessionId)
        return;
    ++m_view;
    m_unsent.clear();
    m_sessionId = id;
    m_retryText.clear();
    m_retryUserMessageId.clear();
    Q_EMIT canRetryChanged();
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
    m_focusMessageId = messageId;
    // A reply still running there keeps its branch; otherwise the chat follows the hit's.
    if (messageId.isEmpty() || (m_pending && m_pending->sessionId == sessionId)) {
        openSession(sessionId);
        return;
    }
    m_api->switchBranch(sessionId, messageId, this, [this, sessionId](const ApiResult &) {
        if (sessionId != m_sessionId)
            openSession(sessionId);
        else if (isOnline())
            loadMessages(sessionId);
    });
}

void ChatController::renameSession(const QString &id, const QString &title)
{
    const QString t = title.trimmed();
    if (id.isEmpty() || t.isEmpty())
        return;
    m_api->renameSession(id, t, this, [this, id](const ApiResult &r) {
        if (!r.ok()) {
            setNotice(tr("Could not rename the chat: %1").arg(r.message));
            return;
        }
        const SessionItem s = SessionItem::fromJson(r.json);
        m_sessions.setTitle(id, s.title);
        if (const SessionItem *cur = m_sessions.find(id); cur && m_cache)
            m_cache->upsertSession(m_cacheKey, *cur);
        if (id == m_sessionId)
            Q_EMIT currentSessionChanged();
    });
}

void ChatController::pinSession(const QString &id, bool pinned)
{
    if (id.isEmpty())
        return;
    m_sessions.setPinned(id, pinned); // at once; put back if the server says no
    m_api->pinSession(id, pinned, this, [this, id, pinned](const ApiResult &r) {
        if (!r.ok()) {
            m_sessions.setPinned(id, !pinned);
            setNotice(tr("Could not pin the chat: %1").arg(r.message));
            return;
        }
        if (const SessionItem *s = m_sessions.find(id); s && m_cache)
            m_cache->upsertSession(m_cacheKey, *s);
    });
}

void ChatController::deleteSession(const QString &id)
{
    if (id.isEmpty())
        return;
    if (m_pending && m_pending->sessionId == id)
        stop();
    m_api->deleteSession(id, this, [this, id](const ApiResult &r) {
        if (!r.ok() && r.status != 404) {
            setNotice(tr("Could not delete the chat: %1").arg(r.message));
            return;
        }
        m_sessions.remove(id);
        if (m_cache)
            m_cache->removeSession(m_cacheKey, id);
        if (id == m_sessionId)
            newChat();
    });
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
    copyText(m_messages.contentAt(row));
}

void ChatController::agentSaved(const AgentItem &agent)
{
    m_agents.upsert(agent);
    if (m_cache)
        m_cache->replaceAgents(m_cacheKey, m_agents.agents());
    if (m_agentId.isEmpty() || m_agentId == agent.id) {
        m_agentId = agent.id;
        Q_EMIT currentAgentChanged();
        if (m_sessionId.isEmpty() && !m_pending)
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

ChatController::Pending ChatController::newPending(const QString &text)
{
    Pending p;
    p.agentId = m_agentId;
    p.sessionId = m_sessionId;
    p.text = text;
    p.view = m_view;
    p.userRowId = u"local-%1"_s.arg(++m_localIds);
    p.replyRowId = u"local-%1"_s.arg(++m_localIds);
    p.idempotencyKey = QUuid::createUuid().toString(QUuid::WithoutBraces);
    p.clock.start();
    return p;
}

bool ChatController::send(const QString &text)
{
    const QString message = text.trimmed();
    if (message.isEmpty() || !canSend())
        return false;
    if (m_sessions.filterText().size())
        m_sessions.setFilterText({});
    return begin(newPending(message), m_messages.rowCount(), false);
}

bool ChatController::begin(const Pending &pending, int keepRows, bool userStored)
{
    m_retryText.clear();
    m_retryUserMessageId.clear();
    m_messages.setRetryRow(-1);
    // A new version replaces the turn shown from its row on; what followed it belongs to the
    // old branch.
    if (keepRows < m_messages.rowCount())
        m_unsent.clear();
    while (m_messages.rowCount() > keepRows)
        m_messages.removeRow(m_messages.rowCount() - 1);

    MessageItem user;
    user.id = pending.userRowId;
    user.sessionId = m_sessionId;
    user.role = u"user"_s;
    user.content = pending.text;
    user.status = userStored ? u"complete"_s : u"sending"_s;
    user.createdAt = QDateTime::currentDateTimeUtc();
    m_messages.append(user);
    MessageItem reply;
    reply.id = pending.replyRowId;
    reply.sessionId = m_sessionId;
    reply.role = u"assistant"_s;
    reply.status = u"typing"_s;
    reply.createdAt = user.createdAt;
    m_messages.append(reply);

    m_pending = pending;
    watchStream(openPendingStream());
    qCDebug(lcClient) << "sending a message of" << pending.text.size() << "characters"
                      << (pending.versionOf.isEmpty() ? "" : "as a new version");
    Q_EMIT streamingChanged();
    Q_EMIT canRetryChanged();
    updateCanSend();
    Q_EMIT replyStarted();
    return true;
}

ChatStream *ChatController::openPendingStream()
{
    const Pending &p = *m_pending;
    if (!p.versionOf.isEmpty())
        return m_api->versionStream(p.versionOf, p.edit ? p.text : QString(), p.idempotencyKey, this);
    return m_api->chatStream(p.agentId, p.text, p.sessionId, p.idempotencyKey, this);
}

int ChatController::userRowFor(int row) const
{
    for (int i = row; i >= 0 && i < m_messages.rowCount(); --i) {
        const MessageItem &m = m_messages.at(i);
        if (m.role == "user"_L1)
            return m.isLocal() ? -1 : i;
        if (m.role != "assistant"_L1)
            return -1;
    }
    return -1;
}

void ChatController::regenerate(int row)
{
    const int userRow = userRowFor(row);
    if (userRow < 0 || !canSend() || m_sessionId.isEmpty())
        return;
    const MessageItem &user = m_messages.at(userRow);
    Pending p = newPending(user.content);
    p.versionOf = user.id;
    p.userMessageId = user.id;
    begin(p, userRow, true);
}

void ChatController::editMessage(int row, const QString &text)
{
    const QString message = text.trimmed();
    if (row < 0 || row >= m_messages.rowCount() || message.isEmpty() || !canSend() || m_sessionId.isEmpty())
        return;
    const MessageItem &user = m_messages.at(row);
    if (user.role != "user"_L1 || user.isLocal())
        return;
    Pending p = newPending(message);
    p.versionOf = user.id;
    p.edit = true;
    begin(p, row, false);
}

void ChatController::showVersion(int row, int step)
{
    if (row < 0 || row >= m_messages.rowCount() || m_pending || m_sessionId.isEmpty())
        return;
    const MessageItem &m = m_messages.at(row);
    const QString target = m.siblingIds.value(m.siblingIds.indexOf(m.id) + step);
    if (target.isEmpty() || step == 0)
        return;
    const QString sessionId = m_sessionId;
    const int view = m_view;
    m_api->switchBranch(sessionId, target, this, [this, sessionId, view](const ApiResult &r) {
        if (!r.ok()) {
            setNotice(tr("Could not show that version: %1").arg(r.message));
            return;
        }
        QList<MessageItem> list;
        for (const QJsonValue &v : r.json.value("messages"_L1).toArray())
            list.append(MessageItem::fromJson(v.toObject()));
        if (m_cache)
            m_cache->replaceMessages(m_cacheKey, sessionId, list);
        if (view == m_view && m_sessionId == sessionId)
            showMessages(list, true);
    });
}

void ChatController::forkAt(int row)
{
    if (row < 0 || row >= m_messages.rowCount() || m_sessionId.isEmpty())
        return;
    const MessageItem &m = m_messages.at(row);
    if (m.isLocal() || m.role == "greeting"_L1)
        return;
    m_api->forkSession(m_sessionId, m.id, tr("%1 (copy)").arg(currentTitle()), this,
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

void ChatController::watchStream(ChatStream *stream)
{
    m_pending->stream = stream;
    connect(stream, &ChatStream::chunkReceived, this, &ChatController::onChunk);
    connect(stream, &ChatStream::contentReceived, this, &ChatController::onContent);
    connect(stream, &ChatStream::closed, this, &ChatController::onClosed);
    connect(stream, &ChatStream::failed, this, &ChatController::onFailed);
    connect(stream, &ChatStream::aborted, this, &ChatController::onAborted);
}

bool ChatController::resumeLater(const QString &code, bool offline)
{
    // Only a remote server's connection drops; the in-process backend's cannot.
    if (!m_remote || m_pending->stopRequested)
        return false;
    const bool started = !m_pending->lastEventId.isEmpty();
    const bool broken = code == "network_error"_L1 || code == "stream_interrupted"_L1 ||
                        code == "stream_stalled"_L1 || code == "http_502"_L1 || code == "http_503"_L1 ||
                        code == "http_504"_L1;
    // A first POST that could not connect at all never reached the server: the usual "not sent".
    if (!broken || (!started && offline && !m_pending->reconnecting))
        return false;
    if (!m_pending->reconnecting) {
        m_pending->reconnecting = true;
        m_pending->resumeAttempts = 0;
        m_pending->lostClock.start();
        qCInfo(lcClient) << "reply stream lost (" << code << "); resuming after" << m_pending->lastEventId;
        const int row = pendingRow(m_pending->replyRowId);
        if (row >= 0)
            m_messages.setStatus(row, u"reconnecting"_s, tr("Connection lost — reconnecting…"));
    } else if (m_pending->lostClock.elapsed() > ResumeGiveUpMs) {
        return false;
    }
    if (m_pending->stream)
        m_pending->stream->disconnect(this);
    m_pending->stream = nullptr;
    m_resumeTimer.start(resumeDelayMs(m_pending->resumeAttempts++));
    return true;
}

void ChatController::resumeNow()
{
    m_resumeTimer.stop();
    if (!m_pending || !m_pending->reconnecting || m_pending->stream)
        return;
    // After an event: the events that follow it. Before any: the same POST, whose
    // Idempotency-Key attaches to the turn if the first one started it.
    watchStream(m_pending->lastEventId.isEmpty()
                    ? openPendingStream()
                    : m_api->replyStream(m_pending->replyId(), m_pending->lastEventId, this));
}

bool ChatController::viewShowsPending() const
{
    return m_pending && m_pending->view == m_view;
}

int ChatController::pendingRow(const QString &localId) const
{
    return viewShowsPending() ? m_messages.rowOf(localId) : -1;
}

void ChatController::onChunk(const ChatChunk &chunk)
{
    if (!m_pending)
        return;
    if (m_pending->stream)
        m_pending->lastEventId = m_pending->stream->lastEventId();
    if (m_pending->reconnecting) {
        m_pending->reconnecting = false;
        qCInfo(lcClient) << "reply stream resumed at" << m_pending->lastEventId;
        const int row = pendingRow(m_pending->replyRowId);
        if (row >= 0)
            m_messages.setStatus(row, m_pending->content.isEmpty() ? u"typing"_s : u"streaming"_s);
    }
    if (m_pending->userMessageId.isEmpty() && !chunk.messageId.isEmpty()) {
        m_pending->userMessageId = chunk.messageId;
        const int row = pendingRow(m_pending->userRowId);
        if (row >= 0)
            m_messages.setStatus(row, u"complete"_s);
    }
    if (m_pending->sessionId.isEmpty() && !chunk.sessionId.isEmpty()) {
        m_pending->sessionId = chunk.sessionId;
        // A new session: it joins the list at once; the server's title comes with the refresh.
        SessionItem s;
        s.id = chunk.sessionId;
        s.agentId = m_pending->agentId;
        s.title = m_pending->text.left(60).simplified();
        s.createdAt = s.updatedAt = QDateTime::currentDateTimeUtc();
        s.streaming = true;
        m_sessions.upsert(s);
        if (viewShowsPending() && m_sessionId.isEmpty()) {
            m_sessionId = chunk.sessionId;
            Q_EMIT currentSessionChanged();
        }
        if (m_pending->stopRequested)
            m_api->cancel(m_pending->sessionId, this, {});
    }
    switch (chunk.type) {
    case ChatChunk::Type::ToolCallDelta:
    case ChatChunk::Type::ToolCall:
    case ChatChunk::Type::ToolResult:
    case ChatChunk::Type::Progress:
        onToolChunk(chunk);
        break;
    default:
        break;
    }
}

void ChatController::onToolChunk(const ChatChunk &chunk)
{
    QList<ReplyPart> &parts = m_pending->parts;
    const QJsonObject &meta = chunk.metadata;
    const QString id = meta.value("tool_call_id"_L1).toString();
    // Deltas and calls name their round; results and progress belong to the latest call of that id.
    const int step = meta.value("step"_L1).toInt(-1);
    auto call = [&]() -> ToolCallItem * {
        if (id.isEmpty())
            return nullptr;
        if (ToolCallItem *c = ReplyPart::findCall(parts, id, step))
            return c;
        if (parts.isEmpty() && !m_pending->content.isEmpty())
            ReplyPart::appendText(parts, m_pending->content); // what the model said before its first call
        ReplyPart part;
        part.isTool = true;
        part.call.id = id;
        part.call.status = u"streaming"_s;
        part.call.step = qMax(step, 0);
        parts.append(part);
        return &parts.last().call;
    };
    const bool wasThinking = m_pending->thinking;
    m_pending->thinking = false;
    if (chunk.type == ChatChunk::Type::ToolCallDelta) {
        ToolCallItem *c = call();
        if (!c)
            return;
        if (const QString function = meta.value("name"_L1).toString();
            !function.isEmpty() && c->function.isEmpty()) {
            // "<server>__<tool>": shown as the tool and its server until the call is complete.
            c->function = function;
            const qsizetype cut = function.indexOf(u"__"_s);
            c->server = cut > 0 ? function.left(cut) : QString();
            c->name = cut > 0 ? function.mid(cut + 2) : function;
        }
        c->arguments += chunk.content;
        if (wasThinking || c->arguments.size() == chunk.content.size())
            showPendingParts(); // a new card at once; its fragments a few times a second
        else if (!m_partsTimer.isActive())
            m_partsTimer.start();
        return;
    }
    if (chunk.type == ChatChunk::Type::ToolCall) {
        ToolCallItem *c = call();
        if (!c)
            return;
        c->name = meta.value("name"_L1).toString(c->name);
        c->server = meta.value("server"_L1).toString(); // null: no such tool
        if (c->function.isEmpty())
            c->function = c->server.isEmpty() ? c->name : c->server + u"__"_s + c->name;
        const QJsonValue args = meta.value("arguments"_L1);
        if (args.isObject())
            c->arguments = QString::fromUtf8(QJsonDocument(args.toObject()).toJson(QJsonDocument::Compact));
        else if (args.isString())
            c->arguments = args.toString();
        c->status = meta.value("status"_L1).toString();
        c->deciding = false;
        if (c->status == "denied"_L1)
            c->decision = u"deny"_s;
    } else if (chunk.type == ChatChunk::Type::ToolResult) {
        ToolCallItem *c = call();
        if (!c)
            return;
        c->hasResult = true;
        c->isError = meta.value("is_error"_L1).toBool();
        c->durationMs = meta.value("duration_ms"_L1).toInteger();
        c->resultText = chunk.content;
        c->resultParts = meta.value("parts"_L1).toArray();
        c->progress = c->total = -1;
        c->progressMessage.clear();
        if (c->status != "denied"_L1)
            c->status = u"done"_s;
    } else { // progress
        const QString phase = meta.value("phase"_L1).toString();
        if (phase == "thinking"_L1) {
            m_pending->thinking = true;
        } else if (phase == "tool"_L1) {
            ToolCallItem *c = call();
            if (!c)
                return;
            c->progress = meta.value("progress"_L1).toDouble(-1);
            c->total = meta.value("total"_L1).toDouble(-1);
            c->progressMessage = meta.value("message"_L1).toString();
        } else if (phase == "awaiting_approval"_L1) {
            if (ToolCallItem *c = call())
                c->status = u"awaiting_approval"_s;
        }
    }
    showPendingParts();
}

void ChatController::showPendingParts()
{
    m_partsTimer.stop();
    const int row = m_pending ? pendingRow(m_pending->replyRowId) : -1;
    if (row >= 0)
        m_messages.setParts(row, m_pending->parts, m_pending->thinking);
}

void ChatController::decideToolCall(int row, const QString &callId, const QString &decision)
{
    if (row < 0 || row >= m_messages.rowCount())
        return;
    const QString rowId = m_messages.at(row).id;
    const bool pendingReply = m_pending && pendingRow(m_pending->replyRowId) == row;
    const QString replyId = pendingReply ? m_pending->replyId() : rowId;
    if (replyId.isEmpty() || replyId.startsWith(u"local-"_s))
        return;
    // By the row's id, not its index: the answer may come after the rows changed.
    auto mark = [this, rowId, callId](bool deciding, const QString &decided) {
        auto apply = [&](QList<ReplyPart> &parts) {
            if (ToolCallItem *c = ReplyPart::findCall(parts, callId)) {
                c->deciding = deciding;
                if (!decided.isEmpty())
                    c->decision = decided;
            }
        };
        if (m_pending && m_pending->replyRowId == rowId) {
            apply(m_pending->parts);
            showPendingParts();
        } else if (const int at = m_messages.rowOf(rowId); at >= 0) {
            QList<ReplyPart> parts = m_messages.at(at).parts;
            apply(parts);
            m_messages.setParts(at, parts, m_messages.at(at).thinking);
        }
    };
    mark(true, {});
    qCInfo(lcClient) << "tool call" << callId << "decided:" << decision;
    // The stream brings the call's new state; only a refusal needs handling here.
    m_api->decideToolCall(replyId, callId, decision, this, [this, mark, decision](const ApiResult &r) {
        if (r.ok()) {
            mark(true, decision); // still deciding until the stream says running or denied
            if (decision == "always"_L1)
                refreshAgents(); // the agent's allowed_tools changed
            return;
        }
        mark(false, {});
        const bool gone = r.code == "reply_ended"_L1 || r.code == "tool_call_decided"_L1 ||
                          r.code == "tool_call_not_found"_L1 || r.code == "reply_not_found"_L1;
        setNotice(gone ? tr("That tool call no longer waits for an answer.")
                       : tr("Could not send your answer: %1").arg(r.message));
    });
}

void ChatController::onContent(const QString &text)
{
    if (!m_pending)
        return;
    const qint64 now = m_pending->clock.elapsed();
    if (m_pending->firstTokenMs < 0)
        m_pending->firstTokenMs = now;
    m_pending->lastTokenMs = now;
    ++m_pending->chunks;
    m_pending->content += text;
    m_pending->thinking = false;
    if (!m_pending->parts.isEmpty())
        ReplyPart::appendText(m_pending->parts, text);
    const int row = pendingRow(m_pending->replyRowId);
    if (row >= 0)
        m_messages.appendContent(row, text);
    Q_EMIT contentStreamed(int(m_pending->content.size()));
}

double ChatController::measuredRate(int tokens) const
{
    if (!m_pending || m_pending->firstTokenMs < 0 || tokens <= 1)
        return 0;
    const qint64 ms = m_pending->lastTokenMs - m_pending->firstTokenMs;
    // A reply that came all at once has no speed worth showing ("4,000 tok/s").
    if (ms < 250)
        return 0;
    // The first token opens the clock; the others arrive within it.
    return (tokens - 1) * 1000.0 / double(ms);
}

void ChatController::onClosed(const ChatChunk &closing)
{
    if (!m_pending)
        return;
    showPendingParts(); // the last argument fragments, if they wait for the timer
    const int row = pendingRow(m_pending->replyRowId);
    if (closing.type == ChatChunk::Type::Done) {
        // As the server stores them: a reply stopped by the user or because nobody followed it is
        // cancelled, one cut by a restart interrupted.
        const bool cancelled =
            closing.finishReason == "Cancelled"_L1 || closing.finishReason == "Disconnected"_L1;
        const bool interrupted = closing.finishReason == "Interrupted"_L1;
        const QString status = cancelled ? u"cancelled"_s : interrupted ? u"interrupted"_s : u"complete"_s;
        // Time spent on tools (and waiting for approval) is not the model's speed.
        const double rate = m_pending->parts.isEmpty() ? measuredRate(m_pending->chunks) : 0;
        if (!closing.replyId.isEmpty() && rate > 0)
            m_rates.insert(closing.replyId, rate);
        if (row >= 0) {
            MessageItem m = m_messages.at(row);
            m.status = status;
            m.finishReason = closing.finishReason;
            m.model = closing.model();
            m.tokensUsed = closing.tokensUsed();
            m.tokensPerSecond = rate;
            m.thinking = false;
            m.steps = closing.metadata.value("steps"_L1).toInt(m.steps);
            if (!closing.replyId.isEmpty())
                m.id = closing.replyId;
            m_messages.update(row, m);
        }
        finishPending(status);
    } else {
        const QString error = closing.error.isEmpty() ? tr("The reply failed.") : closing.error;
        if (row >= 0)
            m_messages.setStatus(row, u"error"_s, error);
        m_retryText = m_pending->text;
        m_retryUserMessageId = m_pending->userMessageId; // the server kept the message and the partial reply
        m_retryDropRows = false;
        m_retryReplyRowId = row >= 0 ? m_messages.at(row).id : QString();
        if (row >= 0)
            m_messages.setRetryRow(row);
        finishPending(u"error"_s);
    }
}

void ChatController::onFailed(const QString &code, const QString &message, bool offline)
{
    if (!m_pending)
        return;
    if (resumeLater(code, offline))
        return;
    if (code == "reply_ended"_L1) {
        // 204: the server counts the end as seen. The stored copy, loaded next, says how it ended.
        if (const int row = pendingRow(m_pending->replyRowId); row >= 0)
            m_messages.setStatus(row, u"interrupted"_s);
        finishPending(u"interrupted"_s);
        return;
    }
    if (m_pending->reconnecting && code == "reply_not_found"_L1) {
        const int row = pendingRow(m_pending->replyRowId);
        if (row >= 0)
            m_messages.setStatus(row, u"error"_s, tr("The reply is no longer on the server."));
        finishPending(u"error"_s);
        return;
    }
    QString text;
    if (offline)
        text = m_remote ? tr("Cannot reach the server: the message was not sent.")
                        : tr("Cannot reach the local service: the message was not sent.");
    else if (code == "session_busy"_L1)
        text = tr("Another reply is still being written in this chat. Try again in a moment.");
    else if (code == "stream_stalled"_L1)
        text = tr("The server stopped sending the reply.");
    else if (m_pending->reconnecting)
        text = tr("The connection was lost and the reply could not be resumed.");
    else
        text = message;
    const bool stored = !m_pending->userMessageId.isEmpty();
    const int userRow = pendingRow(m_pending->userRowId);
    const int row = pendingRow(m_pending->replyRowId);
    if (userRow >= 0 && !stored)
        m_messages.setStatus(userRow, u"failed"_s);
    if (row >= 0) {
        m_messages.setStatus(row, u"error"_s, text);
        m_messages.setRetryRow(row);
    }
    // The message stays in the chat with Retry; the input stays the user's, for what they type next.
    m_retryText = m_pending->text;
    m_retryUserMessageId = stored ? m_pending->userMessageId : QString();
    m_retryDropRows = !stored;
    m_retryUserRowId = m_pending->userRowId;
    m_retryReplyRowId = m_pending->replyRowId;
    if (!stored && userRow >= 0 && row >= 0) {
        m_unsent = {m_messages.at(userRow), m_messages.at(row)};
        m_unsentView = m_view;
    }
    finishPending(u"error"_s);
}

void ChatController::onAborted()
{
    if (!m_pending)
        return;
    const int row = pendingRow(m_pending->replyRowId);
    if (row >= 0)
        m_messages.setStatus(row, u"cancelled"_s);
    finishPending(u"cancelled"_s);
}

void ChatController::finishPending(const QString &status)
{
    m_stopFallback.stop();
    m_partsTimer.stop();
    m_resumeTimer.stop();
    const QString sessionId = m_pending->sessionId;
    if (viewShowsPending() && !sessionId.isEmpty())
        cacheShownMessages(); // in case the app quits before the server's copy comes
    if (m_pending->stream)
        m_pending->stream->disconnect(this);
    m_pending.reset();
    Q_EMIT streamingChanged();
    Q_EMIT canRetryChanged();
    updateCanSend();
    Q_EMIT replyFinished(status);
    // The server has the final copy (ids, usage, title): bring it in.
    if (isOnline()) {
        refreshSessions();
        if (!sessionId.isEmpty())
            loadMessages(sessionId);
    }
}

void ChatController::stop()
{
    if (!m_pending || m_pending->stopRequested)
        return;
    m_pending->stopRequested = true;
    if (m_pending->reconnecting) {
        // No connection to see the end on: stop the server's reply by id (when it can be reached;
        // otherwise it stops by itself once nobody followed it for its grace period).
        if (!m_pending->lastEventId.isEmpty())
            m_api->cancelReply(m_pending->replyId(), this, {});
        else if (!m_pending->sessionId.isEmpty())
            m_api->cancel(m_pending->sessionId, this, {});
        if (m_pending->stream)
            m_pending->stream->abort();
        else
            onAborted();
        return;
    }
    if (m_pending->sessionId.isEmpty()) {
        // No session yet: nothing to cancel by id. onChunk cancels as soon as the id comes;
        // the fallback drops the connection if it never does.
        m_stopFallback.start(1500);
        return;
    }
    m_api->cancel(m_pending->sessionId, this, [this](const ApiResult &r) {
        if (!r.ok() && m_pending && m_pending->stream)
            m_pending->stream->abort();
    });
    m_stopFallback.start(StopFallbackMs);
}

void ChatController::retry()
{
    if (m_retryText.isEmpty() || m_pending)
        return;
    const QString text = m_retryText;
    if (!m_retryUserMessageId.isEmpty()) {
        // Stored: the message is answered again, as a new version of the reply; the failed one
        // stays as the version before it.
        int userRow = m_messages.rowOf(m_retryUserMessageId);
        if (userRow < 0)
            userRow = m_messages.rowOf(m_retryUserRowId);
        if (userRow < 0 || !canSend()) {
            setNotice(sendBlockedReason());
            return;
        }
        Pending p = newPending(text);
        p.versionOf = m_retryUserMessageId;
        p.userMessageId = m_retryUserMessageId;
        begin(p, userRow, true);
        return;
    }
    if (m_retryDropRows) {
        // Never reached the server: the failed attempt goes, the new one replaces it.
        m_unsent.clear();
        m_messages.removeRow(m_messages.rowOf(m_retryReplyRowId));
        m_messages.removeRow(m_messages.rowOf(m_retryUserRowId));
    }
    m_messages.setRetryRow(-1);
    m_retryText.clear();
    Q_EMIT canRetryChanged();
    if (!send(text)) {
        m_retryText = text;
        Q_EMIT canRetryChanged();
        setNotice(sendBlockedReason());
    }
}

void ChatController::cacheShownMessages()
{
    if (!m_cache || m_sessionId.isEmpty())
        return;
    QList<MessageItem> list;
    for (const MessageItem &m : m_messages.messages()) {
        if (m.role != "greeting"_L1 && m.status != "failed"_L1)
            list.append(m);
    }
    m_cache->replaceMessages(m_cacheKey, m_sessionId, list);
    if (const SessionItem *s = m_sessions.find(m_sessionId)) {
        SessionItem copy = *s;
        copy.streaming = false;
        copy.updatedAt = QDateTime::currentDateTimeUtc();
        m_cache->upsertSession(m_cacheKey, copy);
    }
}
