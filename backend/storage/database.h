#pragma once

#include <QObject>
#include <QSqlDatabase>
#include <QString>

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

    bool transaction();
    bool commit();
    void rollback();

    // Default file: <AppDataLocation>/agentdesk.db, or <dataDir>/agentdesk.db.
    static QString defaultPath(const QString &dataDir = {});

private:
    bool migrate();
    int readVersion();
    bool writeVersion(int version);

    QString m_connectionName;
    QString m_lastError;
    bool m_sqlite = true;
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
