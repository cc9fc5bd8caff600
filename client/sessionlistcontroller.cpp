#include "sessionlistcontroller.h"

#include "apiclient.h"
#include "localcache.h"

#include <QJsonArray>
#include <QSettings>

using namespace Qt::StringLiterals;

SessionListController::SessionListController(ApiClient *api, LocalCache *cache, const QString &cacheKey,
                                             QObject *parent)
    : QObject(parent), m_api(api), m_cache(cache), m_cacheKey(cacheKey)
{
    m_sessions.setShowApiCalls(QSettings().value(u"sessions/showApiCalls"_s).toBool());
    // The server lists the API's calls only when asked.
    connect(&m_sessions, &SessionListModel::showApiCallsChanged, this, [this] {
        QSettings().setValue(u"sessions/showApiCalls"_s, m_sessions.showApiCalls());
        refresh();
    });
}

void SessionListController::loadFromCache()
{
    if (m_cache && m_cache->isOpen())
        m_sessions.setSessions(m_cache->sessions(m_cacheKey));
}

void SessionListController::refresh()
{
    m_api->listSessions({}, {}, m_sessions.showApiCalls() ? u"all"_s : QString(), this,
                        [this](const ApiResult &r) {
                            if (!r.ok())
                                return;
                            QList<SessionItem> sessions;
                            const QJsonArray arr = r.json.value("sessions"_L1).toArray();
                            for (const QJsonValue &v : arr)
                                sessions.append(SessionItem::fromJson(v.toObject()));
                            m_sessions.setSessions(sessions);
                            if (m_cache)
                                m_cache->replaceSessions(m_cacheKey, sessions);
                            Q_EMIT refreshed();
                        });
}

void SessionListController::rename(const QString &id, const QString &title)
{
    const QString t = title.trimmed();
    if (id.isEmpty() || t.isEmpty())
        return;
    m_api->renameSession(id, t, this, [this, id](const ApiResult &r) {
        if (!r.ok()) {
            Q_EMIT failed(tr("Could not rename the chat: %1").arg(r.message));
            return;
        }
        m_sessions.setTitle(id, SessionItem::fromJson(r.json).title);
        if (const SessionItem *cur = m_sessions.find(id); cur && m_cache)
            m_cache->upsertSession(m_cacheKey, *cur);
        Q_EMIT renamed(id);
    });
}

void SessionListController::setPinned(const QString &id, bool pinned)
{
    if (id.isEmpty())
        return;
    m_sessions.setPinned(id, pinned); // at once; put back if the server says no
    m_api->pinSession(id, pinned, this, [this, id, pinned](const ApiResult &r) {
        if (!r.ok()) {
            m_sessions.setPinned(id, !pinned);
            Q_EMIT failed(tr("Could not pin the chat: %1").arg(r.message));
            return;
        }
        if (const SessionItem *s = m_sessions.find(id); s && m_cache)
            m_cache->upsertSession(m_cacheKey, *s);
    });
}

void SessionListController::remove(const QString &id)
{
    if (id.isEmpty())
        return;
    m_api->deleteSession(id, this, [this, id](const ApiResult &r) {
        if (!r.ok() && r.status != 404) {
            Q_EMIT failed(tr("Could not delete the chat: %1").arg(r.message));
            return;
        }
        forget(id);
    });
}

void SessionListController::forget(const QString &id)
{
    m_sessions.remove(id);
    if (m_cache)
        m_cache->removeSession(m_cacheKey, id);
    Q_EMIT removed(id);
}

void SessionListController::addStarted(const QString &id, const QString &agentId, const QString &firstMessage)
{
    SessionItem s;
    s.id = id;
    s.agentId = agentId;
    s.title = firstMessage.left(60).simplified();
    s.createdAt = s.updatedAt = QDateTime::currentDateTimeUtc();
    s.streaming = true;
    m_sessions.upsert(s);
}

void SessionListController::cacheSettled(const QString &id)
{
    if (!m_cache)
        return;
    if (const SessionItem *s = m_sessions.find(id)) {
        SessionItem copy = *s;
        copy.streaming = false;
        copy.updatedAt = QDateTime::currentDateTimeUtc();
        m_cache->upsertSession(m_cacheKey, copy);
    }
}
