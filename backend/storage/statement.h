#pragma once

#include <QList>
#include <QSqlQuery>
#include <QString>
#include <QVariant>

#include <optional>

class Database;

// One execution of a statement the Database keeps prepared. Values are bound by position
// (never spliced into the SQL); the query is finished when the Statement goes out of scope so
// SQLite releases its read snapshot and PostgreSQL its pending result.
class Statement
{
public:
    Statement(Database &db, const QString &sql);
    ~Statement();
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    // A null QString binds as '' (every text column is NOT NULL); a bool binds as 0/1 so the
    // same value suits SQLite and PostgreSQL INTEGER columns. Pass a typed null QVariant for NULL.
    Statement &bind(const QVariant &value);
    bool exec();
    bool next();
    QVariant value(int column) const;
    int rowsAffected() const;
    QString lastError() const;
    void finish();

private:
    Database &m_db;
    QString m_sql;
    bool m_writes = false; // INSERT, UPDATE, DELETE or REPLACE
    QSqlQuery *m_query = nullptr;
    std::optional<QSqlQuery> m_own; // when the cached query is still in use further up the stack
    QList<QVariant> m_values;
    QString m_error;
};
