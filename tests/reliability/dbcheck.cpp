#include "dbcheck.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QUuid>

using namespace Qt::StringLiterals;

ReadOnlyDb::ReadOnlyDb(const QString &path)
    : m_name(u"readonly-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_name);
    db.setDatabaseName(path);
    db.setConnectOptions(u"QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"_s);
    if (!db.open())
        m_error = db.lastError().text();
}

ReadOnlyDb::~ReadOnlyDb()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_name, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_name);
}

bool ReadOnlyDb::isOpen() const
{
    return QSqlDatabase::database(m_name, false).isOpen();
}

QList<QVariantMap> ReadOnlyDb::rows(const QString &sql, const QVariantList &binds)
{
    QList<QVariantMap> result;
    QSqlQuery query(QSqlDatabase::database(m_name, false));
    query.setForwardOnly(true);
    if (!query.prepare(sql)) {
        m_error = query.lastError().text();
        return result;
    }
    for (const QVariant &value : binds)
        query.addBindValue(value);
    if (!query.exec()) {
        m_error = query.lastError().text();
        return result;
    }
    while (query.next()) {
        QVariantMap row;
        const QSqlRecord record = query.record();
        for (int i = 0; i < record.count(); ++i)
            row.insert(record.fieldName(i), query.value(i));
        result.append(row);
    }
    return result;
}

QVariant ReadOnlyDb::scalar(const QString &sql, const QVariantList &binds)
{
    const QList<QVariantMap> result = rows(sql, binds);
    if (result.isEmpty() || result.first().isEmpty())
        return {};
    return result.first().first();
}

QString ReadOnlyDb::integrityCheck()
{
    QStringList lines;
    for (const QVariantMap &row : rows(u"PRAGMA integrity_check"_s))
        lines.append(row.first().toString());
    return lines.isEmpty() ? m_error : lines.join(u"; "_s);
}

QStringList ReadOnlyDb::foreignKeyProblems()
{
    QStringList problems;
    for (const QVariantMap &row : rows(u"PRAGMA foreign_key_check"_s))
        problems.append(u"%1 rowid %2 -> %3"_s.arg(row.value(u"table"_s).toString(),
                                                   row.value(u"rowid"_s).toString(),
                                                   row.value(u"parent"_s).toString()));
    return problems;
}

QStringList ReadOnlyDb::statisticsMismatches()
{
    QStringList problems;
    const QList<QVariantMap> stats = rows(
        u"SELECT st.tenant_id, st.agent_id, st.sessions, st.messages, st.prompt_tokens, st.completion_tokens,"
        u" (SELECT COUNT(*) FROM sessions s WHERE s.tenant_id = st.tenant_id AND s.agent_id = st.agent_id)"
        u"   AS counted_sessions,"
        u" (SELECT COUNT(*) FROM messages m JOIN sessions s ON s.id = m.session_id"
        u"   WHERE s.tenant_id = st.tenant_id AND s.agent_id = st.agent_id) AS counted_messages,"
        u" (SELECT COALESCE(SUM(m.prompt_tokens), 0) FROM messages m JOIN sessions s ON s.id = m.session_id"
        u"   WHERE s.tenant_id = st.tenant_id AND s.agent_id = st.agent_id AND m.role = 'assistant')"
        u"   AS counted_prompt,"
        u" (SELECT COALESCE(SUM(m.completion_tokens), 0) FROM messages m JOIN sessions s ON s.id = "
        u"m.session_id"
        u"   WHERE s.tenant_id = st.tenant_id AND s.agent_id = st.agent_id AND m.role = 'assistant')"
        u"   AS counted_completion"
        u" FROM agent_stats st"_s);
    for (const QVariantMap &row : stats) {
        const QString agent = row.value(u"agent_id"_s).toString();
        const auto check = [&](const char *stored, const char *counted) {
            const qint64 a = row.value(QLatin1String(stored)).toLongLong();
            const qint64 b = row.value(QLatin1String(counted)).toLongLong();
            if (a != b)
                problems.append(u"agent %1: agent_stats.%2 = %3 but the rows count %4"_s.arg(agent)
                                    .arg(QLatin1String(stored))
                                    .arg(a)
                                    .arg(b));
        };
        check("sessions", "counted_sessions");
        check("messages", "counted_messages");
        check("prompt_tokens", "counted_prompt");
        check("completion_tokens", "counted_completion");
    }
    // Sessions of an agent that has no statistics row at all.
    for (const QVariantMap &row :
         rows(u"SELECT DISTINCT s.agent_id FROM sessions s LEFT JOIN agent_stats st"
              u" ON st.tenant_id = s.tenant_id AND st.agent_id = s.agent_id WHERE st.agent_id IS NULL"_s))
        problems.append(u"agent %1 has sessions but no agent_stats row"_s.arg(row.first().toString()));
    for (const QVariantMap &row : rows(
             u"SELECT s.id, s.message_count, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS n"
             u" FROM sessions s WHERE s.message_count <> (SELECT COUNT(*) FROM messages m"
             u" WHERE m.session_id = s.id)"_s))
        problems.append(u"session %1: message_count %2 but %3 messages"_s.arg(
            row.value(u"id"_s).toString(), row.value(u"message_count"_s).toString(),
            row.value(u"n"_s).toString()));
    if (stats.isEmpty() && !m_error.isEmpty())
        problems.append(m_error);
    return problems;
}
