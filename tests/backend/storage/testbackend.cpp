#include "testbackend.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace {

constexpr const char *specVariable = "AGENTDESK_TEST_PG";
constexpr const char *skipMessage =
    "AGENTDESK_TEST_PG is not set: PostgreSQL variant skipped (see scripts/test-postgres-server)";

// PostgreSQL cannot PREPARE DDL, so statements without values run directly.
bool run(QSqlQuery &query, const QString &sql, const QVariantList &values)
{
    bool ok = false;
    if (values.isEmpty()) {
        ok = query.exec(sql);
    } else if (query.prepare(sql)) {
        for (qsizetype i = 0; i < values.size(); ++i)
            query.bindValue(int(i), values.at(i));
        ok = query.exec();
    }
    if (!ok)
        qInfo().noquote() << "test statement failed:" << sql << "-" << query.lastError().text();
    return ok;
}

} // namespace

TestBackend::TestBackend(const QString &schema, Reset mode)
    : m_schema(schema), m_mode(mode),
      m_adminConnection(u"testbackend-admin-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces))
{}

TestBackend::~TestBackend()
{
    if (QSqlDatabase::contains(m_adminConnection)) {
        QSqlDatabase::database(m_adminConnection, false).close();
        QSqlDatabase::removeDatabase(m_adminConnection);
    }
}

void TestBackend::addBackendRows()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << u"sqlite"_s;
    QTest::newRow("postgres") << u"postgres"_s;
}

bool TestBackend::postgresConfigured()
{
    return !qEnvironmentVariableIsEmpty(specVariable);
}

bool TestBackend::startTest()
{
    bool ready = false;
    // QSKIP and QVERIFY2 return from the lambda only, so `ready` tells the caller to stop.
    [&] {
        QFETCH_GLOBAL(QString, backend);
        if (backend == u"postgres"_s && !postgresConfigured())
            QSKIP(skipMessage);
        QVERIFY2(reset(backend), qPrintable(m_error));
        ready = true;
    }();
    return ready;
}

bool TestBackend::parseSpec(const QString &spec, Database::Options &options)
{
    options.driver = u"QPSQL"_s;
    for (const QString &part : spec.split(u' ', Qt::SkipEmptyParts)) {
        const qsizetype eq = part.indexOf(u'=');
        if (eq <= 0)
            return false;
        const QString key = part.left(eq);
        const QString value = part.mid(eq + 1);
        if (key == u"host"_s)
            options.host = value;
        else if (key == u"port"_s)
            options.port = value.toInt();
        else if (key == u"dbname"_s)
            options.name = value;
        else if (key == u"user"_s)
            options.user = value;
        else if (key == u"password"_s)
            options.password = value;
        else
            return false;
    }
    return !options.name.isEmpty();
}

bool TestBackend::reset(const QString &backend)
{
    m_error.clear();
    m_postgres = backend == u"postgres"_s;
    if (!m_postgres) {
        m_dir = std::make_unique<QTemporaryDir>();
        if (!m_dir->isValid())
            m_error = u"no temporary directory"_s;
        return m_error.isEmpty();
    }

    Database::Options spec;
    if (!parseSpec(qEnvironmentVariable(specVariable), spec)) {
        m_error = u"cannot parse AGENTDESK_TEST_PG=%1"_s.arg(qEnvironmentVariable(specVariable));
        return false;
    }
    if (!QSqlDatabase::contains(m_adminConnection)) {
        QSqlDatabase admin = QSqlDatabase::addDatabase(u"QPSQL"_s, m_adminConnection);
        admin.setHostName(spec.host);
        admin.setPort(spec.port);
        admin.setDatabaseName(spec.name);
        admin.setUserName(spec.user);
        admin.setPassword(spec.password);
    }
    QSqlDatabase admin = QSqlDatabase::database(m_adminConnection, true);
    if (!admin.isOpen()) {
        m_error = u"cannot connect to PostgreSQL: %1"_s.arg(admin.lastError().text());
        return false;
    }
    QSqlQuery query(admin);
    // Every row hangs off a tenant (ON DELETE CASCADE), so one DELETE empties the schema; file
    // bytes are kept by hash alone.
    if (m_mode == Reset::DeleteRows && query.exec(u"SELECT version FROM %1.schema_version"_s.arg(m_schema)) &&
        query.next() && query.value(0).toInt() == Database::latestSchemaVersion() &&
        query.exec(u"DELETE FROM %1.tenants"_s.arg(m_schema)) &&
        query.exec(u"DELETE FROM %1.file_blobs"_s.arg(m_schema)) &&
        query.exec(u"SELECT COUNT(*) FROM %1.messages"_s.arg(m_schema)) && query.next() &&
        query.value(0).toInt() == 0)
        return true;
    if (!query.exec(u"SET client_min_messages TO WARNING"_s) ||
        !query.exec(u"DROP SCHEMA IF EXISTS %1 CASCADE"_s.arg(m_schema))) {
        m_error = u"cannot drop schema %1: %2"_s.arg(m_schema, query.lastError().text());
        return false;
    }
    return true;
}

Database::Options TestBackend::options(int targetVersion) const
{
    Database::Options options;
    if (m_postgres) {
        parseSpec(qEnvironmentVariable(specVariable), options);
        options.schema = m_schema;
    } else {
        options.path = sqlitePath();
    }
    options.targetVersion = targetVersion;
    return options;
}

std::unique_ptr<Database> TestBackend::open() const
{
    auto db = std::make_unique<Database>();
    bool opened = false;
    [&] {
        QVERIFY2(db->open(options()), qPrintable(db->lastError()));
        opened = true;
    }();
    return opened ? std::move(db) : nullptr;
}

QString TestBackend::sqlitePath() const
{
    return m_dir ? m_dir->filePath(u"data/agentdesk.db"_s) : QString();
}

QVariant TestBackend::scalar(Database &db, const QString &sql, const QVariantList &values)
{
    QSqlQuery query(db.connection());
    if (!run(query, sql, values) || !query.next())
        return {};
    return query.value(0);
}

bool TestBackend::exec(Database &db, const QString &sql, const QVariantList &values)
{
    QSqlQuery query(db.connection());
    return run(query, sql, values);
}
