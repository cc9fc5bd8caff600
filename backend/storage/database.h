#pragma once

#include <QMutex>
#include <QObject>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>

#include <memory>
#include <unordered_map>

// Owns the connection and the schema. SQLite by default (WAL, foreign keys, busy timeout);
// the SQL is kept portable so the PostgreSQL driver serves the same schema. All use is from
// the thread that opened it.
class Database : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString driver = QStringLiteral("QSQLITE"); // or "QPSQL"
        QString path;                               // SQLite file
        QString host;                               // PostgreSQL
        int port = 5432;
        QString name;
        QString user;
        QString password;
        int busyTimeoutMs = 5000;
        // PostgreSQL schema to work in (created when missing; empty = the server's search_path).
        // Lets several test runs share one database without seeing each other.
        QString schema;
        // Migrate only up to this version (0 = latest). For tests that build an old schema.
        int targetVersion = 0;
    };

    explicit Database(QObject *parent = nullptr);
    ~Database() override;

    // Opens and migrates. Refuses a database whose schema is newer than this build.
    bool open(const Options &options);
    void close();
    bool isOpen() const;
    QString lastError() const { return m_lastError; }

    QSqlDatabase connection() const;
    bool isSqlite() const;
    int schemaVersion() const;
    static int latestSchemaVersion();

    // Nest: only the outermost pair talks to the server; a nested rollback makes the
    // outermost commit roll back (and return false).
    bool transaction();
    bool commit();
    void rollback();
    bool inTransaction() const { return m_transactionDepth > 0; }

    // One writer at a time among this process's connections to one SQLite file (the server's
    // loops, --threads): they queue on a mutex instead of in SQLite's busy handler, which sleeps a
    // millisecond or more per try and stalls every stream of the loop that waits. The outermost
    // transaction holds it; Statement takes it for a write outside one. Waits at most the busy
    // timeout (then SQLite's own locking decides); false when not taken (or PostgreSQL).
    bool lockWrites();
    void unlockWrites(bool taken);

    // A statement prepared once per connection and reused: the chat hot path runs the same few
    // statements for every message. nullptr when it does not prepare (logged). Callers finish()
    // it after use; Statement (statement.h) does that for them.
    QSqlQuery *cachedQuery(const QString &sql);

    // Default file: <AppDataLocation>/agentdesk.db, or <dataDir>/agentdesk.db.
    static QString defaultPath(const QString &dataDir = {});

private:
    bool migrate(int targetVersion);
    void createTrigramIndex();
    int readVersion();
    bool writeVersion(int version);
    bool execute(const QString &sql);
    bool execCached(const QString &sql);
    bool fail(const QString &message);

    QString m_connectionName;
    QString m_lastError;
    bool m_sqlite = true;
    int m_version = 0;
    int m_transactionDepth = 0;
    bool m_rollbackOnly = false;
    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_queries;
    std::shared_ptr<QMutex> m_writeGate; // shared by the connections to the same file
    int m_busyTimeoutMs = 5000;
    bool m_gateHeld = false; // by the open transaction
};

// Rolls back unless committed; keeps early returns from leaving a transaction open.
class Transaction
{
public:
    explicit Transaction(Database &db) : m_db(db), m_active(db.transaction()) {}
    ~Transaction()
    {
        if (m_active)
            m_db.rollback();
    }
    bool isActive() const { return m_active; }
    bool commit()
    {
        const bool ok = m_active && m_db.commit();
        m_active = false;
        return ok;
    }

private:
    Database &m_db;
    bool m_active;
};
