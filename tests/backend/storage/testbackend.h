#pragma once

#include "storage/database.h"

#include <QSqlDatabase>
#include <QString>
#include <QTemporaryDir>
#include <QVariant>

#include <memory>

// Where a storage test keeps its data. Each test class runs every test twice through
// initTestCase_data(): on a temporary SQLite file, and on PostgreSQL when AGENTDESK_TEST_PG
// holds a connection spec ("host=/tmp/pgsock port=5433 dbname=agentdesk_test user=postgres";
// scripts/test-postgres-server prints one). On PostgreSQL every test gets its own schema
// (named after the test program), emptied before each test.
class TestBackend
{
public:
    enum class Reset {
        DropSchema, // every test starts without tables (for schema and migration tests)
        DeleteRows, // keeps an up-to-date schema and deletes its rows: much faster on PostgreSQL
    };

    explicit TestBackend(const QString &schema, Reset mode = Reset::DeleteRows);
    ~TestBackend();

    // For initTestCase_data(): a "backend" column with the rows "sqlite" and "postgres".
    static void addBackendRows();
    static bool postgresConfigured();

    // For init(): skips the "postgres" row when no server is configured, otherwise resets the
    // storage for the row's backend. False when the test cannot go on (QTest has recorded why).
    bool startTest();
    // Fresh, empty storage for the backend ("sqlite" or "postgres"); false with error() set.
    bool reset(const QString &backend);
    bool isPostgres() const { return m_postgres; }
    QString error() const { return m_error; }
    // Options that open the current storage, optionally migrating only to `targetVersion`.
    Database::Options options(int targetVersion = 0) const;
    // A Database opened with options(); null, with a QTest failure recorded, when it fails.
    std::unique_ptr<Database> open() const;
    QString sqlitePath() const;

    // One statement with positional values through `db`'s connection; the first column of the
    // first row (an invalid QVariant when there is none or the statement fails).
    static QVariant scalar(Database &db, const QString &sql, const QVariantList &values = {});
    static bool exec(Database &db, const QString &sql, const QVariantList &values = {});

private:
    static bool parseSpec(const QString &spec, Database::Options &options);

    QString m_schema;
    Reset m_mode;
    bool m_postgres = false;
    QString m_error;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_adminConnection;
};
