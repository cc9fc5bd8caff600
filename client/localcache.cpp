#include "localcache.h"

#include "logging.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>

using namespace Qt::StringLiterals;

LocalCache::LocalCache(const QString &filePath)
    : m_path(filePath.isEmpty() ? defaultPath() : filePath),
      m_connection(u"agentdesk-client-cache-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces))
{}

LocalCache::~LocalCache()
{
    if (QSqlDatabase::contains(m_connection)) {
        QSqlDatabase::database(m_connection, false).close();
        QSqlDatabase::removeDatabase(m_connection);
    }
}

QString LocalCache::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + u"/client-cache.db"_s;
}

bool LocalCache::open(QString *error)
{
    QDir().mkpath(QFileInfo(m_path).absolutePath());
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_connection);
    db.setDatabaseName(m_path);
    if (!db.open()) {
        if (error)
            *error = db.lastError().text();
        qCWarning(lcClient) << "cannot open the local cache" << m_path << db.lastError().text();
        return false;
    }
    exec(u"PRAGMA journal_mode=WAL"_s);
    exec(u"PRAGMA synchronous=NORMAL"_s);
    if (!migrate(error)) {
        db.close();
        return false;
    }
    m_open = true;
    return true;
}

bool LocalCache::exec(const QString &sql, const QVariantList &args) const
{
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.prepare(sql)) {
        qCWarning(lcClient) << "cache: prepare failed" << q.lastError().text();
        return false;
    }
    for (const QVariant &a : args)
        q.addBindValue(a);
    if (!q.exec()) {
        qCWarning(lcClient) << "cache: query failed" << q.lastError().text();
        return false;
    }
    return true;
}

bool LocalCache::migrate(QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QSqlQuery q(db);
    q.exec(u"PRAGMA user_version"_s);
    const int version = q.next() ? q.value(0).toInt() : 0;
    if (version > SchemaVersion) {
        if (error)
            *error = u"the cache file was written by a newer AgentDesk (schema %1 > %2)"_s.arg(version).arg(
                SchemaVersion);
        qCWarning(lcClient).noquote() << "local cache:" << (error ? *error : QString());
        return false;
    }
    // One step per schema version, each in its own transaction.
    using Step = QStringList;
    const QList<Step> steps = {
        // 1: the first schema.
        {u"CREATE TABLE agents (server TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, "
         "json TEXT NOT NULL, PRIMARY KEY (server, id))"_s,
         u"CREATE TABLE sessions (server TEXT NOT NULL, id TEXT NOT NULL, agent_id TEXT NOT NULL, "
         "json TEXT NOT NULL, PRIMARY KEY (server, id))"_s,
         u"CREATE TABLE messages (server TEXT NOT NULL, session_id TEXT NOT NULL, position INTEGER NOT NULL, "
         "json TEXT NOT NULL, PRIMARY KEY (server, session_id, position))"_s},
        // 2: drafts and flags.
        {u"CREATE TABLE kv (server TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (server, key))"_s},
    };
    for (int v = version; v < SchemaVersion; ++v) {
        db.transaction();
        bool ok = true;
        for (const QString &sql : steps.at(v))
            ok = ok && exec(sql);
        ok = ok && exec(u"PRAGMA user_version = %1"_s.arg(v + 1));
        if (!ok || !db.commit()) {
            db.rollback();
            if (error)
                *error = u"cannot migrate the cache to schema %1"_s.arg(v + 1);
            return false;
        }
    }
    return true;
}

static QString toText(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

static QJsonObject fromText(const QString &s)
{
    return QJsonDocument::fromJson(s.toUtf8()).object();
}

QString LocalCache::value(const QString &server, const QString &key) const
{
    if (!m_open)
        return {};
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(u"SELECT value FROM kv WHERE server = ? AND key = ?"_s);
    q.addBindValue(server);
    q.addBindValue(key);
    return q.exec() && q.next() ? q.value(0).toString() : QString();
}

void LocalCache::setValue(const QString &server, const QString &key, const QString &value)
{
    if (!m_open)
        return;
    if (value.isEmpty())
        exec(u"DELETE FROM kv WHERE server = ? AND key = ?"_s, {server, key});
    else
        exec(
            u"INSERT INTO kv (server, key, value) VALUES (?, ?, ?) ON CONFLICT (server, key) DO UPDATE SET value = excluded.value"_s,
            {server, key, value});
}

QList<AgentItem> LocalCache::agents(const QString &server) const
{
    QList<AgentItem> out;
    if (!m_open)
        return out;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(u"SELECT json FROM agents WHERE server = ? ORDER BY position"_s);
    q.addBindValue(server);
    q.exec();
    while (q.next())
        out.append(AgentItem::fromJson(fromText(q.value(0).toString())));
    return out;
}

void LocalCache::replaceAgents(const QString &server, const QList<AgentItem> &agents)
{
    if (!m_open)
        return;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    db.transaction();
    exec(u"DELETE FROM agents WHERE server = ?"_s, {server});
    int pos = 0;
    for (const AgentItem &a : agents)
        exec(u"INSERT OR REPLACE INTO agents (server, id, position, json) VALUES (?, ?, ?, ?)"_s,
             {server, a.id, pos++, toText(a.toJson())});
    db.commit();
}

QList<SessionItem> LocalCache::sessions(const QString &server) const
{
    QList<SessionItem> out;
    if (!m_open)
        return out;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(u"SELECT json FROM sessions WHERE server = ?"_s);
    q.addBindValue(server);
    q.exec();
    while (q.next())
        out.append(SessionItem::fromJson(fromText(q.value(0).toString())));
    return out;
}

void LocalCache::replaceSessions(const QString &server, const QList<SessionItem> &sessions)
{
    if (!m_open)
        return;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    db.transaction();
    exec(u"DELETE FROM sessions WHERE server = ?"_s, {server});
    for (const SessionItem &s : sessions)
        exec(u"INSERT OR REPLACE INTO sessions (server, id, agent_id, json) VALUES (?, ?, ?, ?)"_s,
             {server, s.id, s.agentId, toText(s.toJson())});
    // Messages of sessions that are gone go too.
    exec(u"DELETE FROM messages WHERE server = ? AND session_id NOT IN "
         "(SELECT id FROM sessions WHERE server = ?)"_s,
         {server, server});
    db.commit();
}

void LocalCache::upsertSession(const QString &server, const SessionItem &session)
{
    if (!m_open)
        return;
    exec(u"INSERT OR REPLACE INTO sessions (server, id, agent_id, json) VALUES (?, ?, ?, ?)"_s,
         {server, session.id, session.agentId, toText(session.toJson())});
}

void LocalCache::removeSession(const QString &server, const QString &sessionId)
{
    if (!m_open)
        return;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    db.transaction();
    exec(u"DELETE FROM sessions WHERE server = ? AND id = ?"_s, {server, sessionId});
    exec(u"DELETE FROM messages WHERE server = ? AND session_id = ?"_s, {server, sessionId});
    db.commit();
}

QList<MessageItem> LocalCache::messages(const QString &server, const QString &sessionId) const
{
    QList<MessageItem> out;
    if (!m_open)
        return out;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(u"SELECT json FROM messages WHERE server = ? AND session_id = ? ORDER BY position"_s);
    q.addBindValue(server);
    q.addBindValue(sessionId);
    q.exec();
    while (q.next())
        out.append(MessageItem::fromJson(fromText(q.value(0).toString())));
    return out;
}

void LocalCache::replaceMessages(const QString &server, const QString &sessionId,
                                 const QList<MessageItem> &messages)
{
    if (!m_open)
        return;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    db.transaction();
    exec(u"DELETE FROM messages WHERE server = ? AND session_id = ?"_s, {server, sessionId});
    int pos = 0;
    for (const MessageItem &m : messages) {
        if (m.role == "greeting"_L1)
            continue;
        exec(u"INSERT INTO messages (server, session_id, position, json) VALUES (?, ?, ?, ?)"_s,
             {server, sessionId, pos++, toText(m.toJson())});
    }
    db.commit();
}
