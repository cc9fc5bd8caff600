#include "statement.h"

#include "core/logging.h"
#include "database.h"

#include <QSqlError>

using namespace Qt::StringLiterals;

Statement::Statement(Database &db, const QString &sql) : m_db(db), m_sql(sql)
{
    const QStringView verb = QStringView(sql).trimmed().left(7);
    m_writes =
        verb.startsWith(u"INSERT", Qt::CaseInsensitive) || verb.startsWith(u"UPDATE", Qt::CaseInsensitive) ||
        verb.startsWith(u"DELETE", Qt::CaseInsensitive) || verb.startsWith(u"REPLACE", Qt::CaseInsensitive);
    m_query = db.cachedQuery(sql);
    if (m_query && m_query->isActive()) {
        // Re-entrant use of the same SQL: a private query keeps the outer one's rows intact.
        m_own.emplace(db.connection());
        m_own->setForwardOnly(true);
        m_query = m_own->prepare(sql) ? &*m_own : nullptr;
    }
    if (!m_query)
        m_error = u"statement did not prepare"_s;
}

Statement::~Statement()
{
    finish();
}

Statement &Statement::bind(const QVariant &value)
{
    if (value.typeId() == QMetaType::QString && value.toString().isNull())
        m_values.append(QVariant(u""_s));
    else if (value.typeId() == QMetaType::Bool)
        m_values.append(QVariant(value.toBool() ? 1 : 0));
    else
        m_values.append(value);
    return *this;
}

bool Statement::exec()
{
    if (!m_query)
        return false;
    for (qsizetype i = 0; i < m_values.size(); ++i)
        m_query->bindValue(int(i), m_values.at(i));
    // A write outside a transaction waits for the other loops' writers here (Database::lockWrites).
    const bool gated = m_writes && !m_db.inTransaction() && m_db.lockWrites();
    const bool ok = m_query->exec();
    m_db.unlockWrites(gated);
    if (ok)
        return true;
    // The SQL names no user data (values are bound), so it is safe to log; the values are not.
    m_error = m_query->lastError().text();
    qCWarning(lcStorage).noquote() << "statement failed:" << m_sql.simplified().left(120) << "-" << m_error;
    return false;
}

bool Statement::next()
{
    return m_query && m_query->next();
}

QVariant Statement::value(int column) const
{
    return m_query ? m_query->value(column) : QVariant();
}

int Statement::rowsAffected() const
{
    return m_query ? m_query->numRowsAffected() : -1;
}

QString Statement::lastError() const
{
    return m_error;
}

void Statement::finish()
{
    if (m_query)
        m_query->finish();
}
