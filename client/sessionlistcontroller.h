#pragma once

#include "sessionlistmodel.h"

#include <QObject>

class ApiClient;
class LocalCache;

// The chat list: loaded from the server (and the local cache before it answers), renamed,
// pinned and deleted there, every change kept in the cache. ChatController shows it; what the
// list's changes mean for the chat on screen goes out as signals.
class SessionListController : public QObject
{
    Q_OBJECT

public:
    SessionListController(ApiClient *api, LocalCache *cache, const QString &cacheKey,
                          QObject *parent = nullptr);

    SessionListModel *model() { return &m_sessions; }
    const SessionItem *find(const QString &id) const { return m_sessions.find(id); }

    void loadFromCache();
    void refresh();
    void rename(const QString &id, const QString &title);
    void setPinned(const QString &id, bool pinned);
    void remove(const QString &id);
    // A session the server just started for a reply: listed at once, its title from the refresh.
    void addStarted(const QString &id, const QString &agentId, const QString &firstMessage);
    void upsert(const SessionItem &session) { m_sessions.upsert(session); }
    // The server no longer has it (404): out of the list and the cache.
    void forget(const QString &id);
    // Kept in the cache as no longer streaming, updated now.
    void cacheSettled(const QString &id);

Q_SIGNALS:
    void refreshed();
    void renamed(const QString &id);
    void removed(const QString &id);
    void failed(const QString &notice);

private:
    ApiClient *m_api;
    LocalCache *m_cache;
    QString m_cacheKey;
    SessionListModel m_sessions;
};
