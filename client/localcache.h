#pragma once

#include "types.h"

#include <QList>
#include <QString>

// The client's own SQLite file (AppDataLocation/client-cache.db by default), separate from the
// server's database: the agents, the session list and each session's messages, per server, so
// history shows at once at start and while a remote server cannot be reached. Everything here is
// a copy of what the server said; losing the file loses nothing.
class LocalCache
{
public:
    static constexpr int SchemaVersion = 2;

    explicit LocalCache(const QString &filePath = {});
    ~LocalCache();
    LocalCache(const LocalCache &) = delete;
    LocalCache &operator=(const LocalCache &) = delete;

    static QString defaultPath();

    // Opens (and creates or migrates) the file. false, with *error set, when it cannot be used;
    // the client then runs without a cache.
    bool open(QString *error = nullptr);
    bool isOpen() const { return m_open; }
    QString filePath() const { return m_path; }

    QList<AgentItem> agents(const QString &server) const;
    void replaceAgents(const QString &server, const QList<AgentItem> &agents);

    QList<SessionItem> sessions(const QString &server) const;
    void replaceSessions(const QString &server, const QList<SessionItem> &sessions);
    void upsertSession(const QString &server, const SessionItem &session);
    void removeSession(const QString &server, const QString &sessionId);

    // Small values the window keeps per server: drafts, what was done once. Empty when unset.
    QString value(const QString &server, const QString &key) const;
    void setValue(const QString &server, const QString &key, const QString &value); // empty: removes

    QList<MessageItem> messages(const QString &server, const QString &sessionId) const;
    void replaceMessages(const QString &server, const QString &sessionId, const QList<MessageItem> &messages);

private:
    bool migrate(QString *error);
    bool exec(const QString &sql, const QVariantList &args = {}) const;

    QString m_path;
    QString m_connection;
    bool m_open = false;
};
