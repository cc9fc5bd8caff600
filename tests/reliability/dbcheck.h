#pragma once

#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <QVariantList>
#include <QVariantMap>

// A SQLite file opened read-only beside a server that may be writing it (WAL), for tests that
// check what was stored. Opening it read-only proves the test itself changes nothing.
class ReadOnlyDb
{
public:
    explicit ReadOnlyDb(const QString &path);
    ~ReadOnlyDb();
    ReadOnlyDb(const ReadOnlyDb &) = delete;
    ReadOnlyDb &operator=(const ReadOnlyDb &) = delete;

    bool isOpen() const;
    QString errorString() const { return m_error; }

    QList<QVariantMap> rows(const QString &sql, const QVariantList &binds = {});
    QVariant scalar(const QString &sql, const QVariantList &binds = {});

    // "ok" when the file is sound.
    QString integrityCheck();
    // Rows that break a foreign key (empty when none).
    QStringList foreignKeyProblems();
    // Where agent_stats and sessions.message_count disagree with the rows they count (empty
    // when they agree): sessions and messages per agent, tokens summed over the replies.
    QStringList statisticsMismatches();

private:
    QString m_name;
    QString m_error;
};
