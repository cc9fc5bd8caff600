#include "storage/authstore.h"
#include "storage/database.h"
#include "storage/providerstore.h"
#include "storage/sessionstore.h"
#include "storage/statsstore.h"
#include "testbackend.h"

#include <QFile>
#include <QFileInfo>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTest>

using namespace Qt::StringLiterals;

class DatabaseTest : public QObject
{
    Q_OBJECT

private:
    TestBackend m_backend{u"tst_database"_s, TestBackend::Reset::DropSchema};

    bool tableExists(Database &db, const QString &table)
    {
        QSqlQuery query(db.connection());
        return query.exec(u"SELECT COUNT(*) FROM %1"_s.arg(table));
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void initTestCase_data() { TestBackend::addBackendRows(); }

    void init() { m_backend.startTest(); }

    void freshOpenCreatesLatestVersion()
    {
        QVERIFY(Database::latestSchemaVersion() >= 2);
        Database db;
        QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
        QVERIFY(db.isOpen());
        QVERIFY(db.lastError().isEmpty());
        QCOMPARE(db.isSqlite(), !m_backend.isPostgres());
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        const QString stored =
            db.isSqlite() ? u"PRAGMA user_version"_s : u"SELECT version FROM schema_version"_s;
        QCOMPARE(TestBackend::scalar(db, stored).toInt(), Database::latestSchemaVersion());
        for (const QString &table : {u"tenants"_s, u"users"_s, u"api_tokens"_s, u"agents"_s, u"sessions"_s,
                                     u"messages"_s, u"agent_stats"_s, u"providers"_s})
            QVERIFY2(tableExists(db, table), qPrintable(table));
        QVERIFY(!tableExists(db, u"no_such_table"_s));
        if (db.isSqlite()) {
            QVERIFY(QFile::exists(m_backend.sqlitePath())); // parent directory was created
            // Chat history and token hashes: owner-only file.
            QCOMPARE(QFileInfo(m_backend.sqlitePath()).permissions() & (QFile::ReadOther | QFile::ReadGroup),
                     QFile::Permissions());
        }
    }

    void sqlitePragmas()
    {
        if (m_backend.isPostgres())
            QSKIP("SQLite pragmas");
        Database::Options options = m_backend.options();
        options.busyTimeoutMs = 1234;
        Database db;
        QVERIFY2(db.open(options), qPrintable(db.lastError()));
        QCOMPARE(TestBackend::scalar(db, u"PRAGMA journal_mode"_s).toString(), u"wal"_s);
        QCOMPARE(TestBackend::scalar(db, u"PRAGMA foreign_keys"_s).toInt(), 1);
        QCOMPARE(TestBackend::scalar(db, u"PRAGMA busy_timeout"_s).toInt(), 1234);
        QCOMPARE(TestBackend::scalar(db, u"PRAGMA synchronous"_s).toInt(), 1); // NORMAL
        // Foreign keys are enforced, not just declared.
        QVERIFY(!TestBackend::exec(
            db, u"INSERT INTO users (id, tenant_id, name, created_at) VALUES ('u', 'nope', 'x', 0)"_s));
    }

    void reopenKeepsData()
    {
        QString tenantId;
        {
            Database db;
            QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
            const auto tenant = AuthStore(db).ensureTenant(u"acme"_s);
            QVERIFY(tenant);
            tenantId = tenant->id;
        }
        Database db;
        QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        const auto tenant = AuthStore(db).tenantByName(u"acme"_s);
        QVERIFY(tenant);
        QCOMPARE(tenant->id, tenantId);
    }

    void importKeysStayUniqueInAPartialIndex()
    {
        const auto session = [](const QString &id, const QString &importKey) {
            return u"INSERT INTO sessions (id, tenant_id, user_id, agent_id, created_at, updated_at, "
                   u"import_key)"
                   u" VALUES ('%1', 't1', 'u1', 'a1', 1, 1, %2)"_s.arg(
                       id, importKey.isEmpty() ? u"NULL"_s : u"'%1'"_s.arg(importKey));
        };
        {
            Database v7;
            QVERIFY2(v7.open(m_backend.options(7)), qPrintable(v7.lastError()));
            QVERIFY(TestBackend::exec(
                v7, u"INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'acme', 1)"_s));
            QVERIFY(TestBackend::exec(
                v7,
                u"INSERT INTO users (id, tenant_id, name, created_at) VALUES ('u1', 't1', 'alice', 1)"_s));
            QVERIFY(TestBackend::exec(v7, u"INSERT INTO agents (id, tenant_id, name, created_at, updated_at)"
                                          u" VALUES ('a1', 't1', 'Helper', 1, 1)"_s));
            QVERIFY(TestBackend::exec(v7, session(u"s1"_s, u"chatgpt:1"_s)));
            QVERIFY(TestBackend::exec(v7, session(u"s2"_s, {})));
        }
        Database db;
        QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        // The same key twice for one user is refused as before; sessions without a key are not in it.
        QVERIFY(!TestBackend::exec(db, session(u"s3"_s, u"chatgpt:1"_s)));
        QVERIFY(TestBackend::exec(db, session(u"s4"_s, u"chatgpt:2"_s)));
        QVERIFY(TestBackend::exec(db, session(u"s5"_s, {})));
        const QString definition =
            TestBackend::scalar(
                db, db.isSqlite() ? u"SELECT sql FROM sqlite_master WHERE name = 'idx_sessions_import'"_s
                                  : u"SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_sessions_import'"
                                    u" AND schemaname = current_schema()"_s)
                .toString();
        QVERIFY2(definition.contains(u"import_key IS NOT NULL"_s), qPrintable(definition));
        SessionStore sessions(db);
        QVERIFY(sessions.wasImported(u"t1"_s, u"u1"_s, u"chatgpt:1"_s));
        QVERIFY(!sessions.wasImported(u"t1"_s, u"u1"_s, u"chatgpt:3"_s));
    }

    void upgradeFromV1KeepsRows()
    {
        {
            Database v1;
            QVERIFY2(v1.open(m_backend.options(1)), qPrintable(v1.lastError()));
            QCOMPARE(v1.schemaVersion(), 1);
            QVERIFY(!tableExists(v1, u"providers"_s));
            // Rows as a v1 build wrote them (no tokens_estimated column yet).
            QVERIFY(TestBackend::exec(
                v1, u"INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'acme', 1000)"_s));
            QVERIFY(TestBackend::exec(
                v1,
                u"INSERT INTO users (id, tenant_id, name, created_at) VALUES ('u1', 't1', 'alice', 1000)"_s));
            QVERIFY(TestBackend::exec(
                v1, u"INSERT INTO agents (id, tenant_id, name, temperature, created_at, updated_at)"
                    u" VALUES ('a1', 't1', 'Helper', 0.5, 1000, 1000)"_s));
            QVERIFY(TestBackend::exec(
                v1,
                u"INSERT INTO sessions (id, tenant_id, user_id, agent_id, title, message_count,"
                u" created_at, updated_at) VALUES ('s1', 't1', 'u1', 'a1', 'Old chat', 2, 1000, 2000)"_s));
            QVERIFY(TestBackend::exec(
                v1, u"INSERT INTO messages (id, session_id, seq, role, content, created_at, updated_at)"
                    u" VALUES ('m1', 's1', 1, 'user', '你好', 1000, 1000)"_s));
            QVERIFY(TestBackend::exec(
                v1, u"INSERT INTO messages (id, session_id, seq, role, content, finish_reason, prompt_tokens,"
                    u" completion_tokens, created_at, updated_at)"
                    u" VALUES ('m2', 's1', 2, 'assistant', 'hello', 'Stop', 7, 3, 2000, 2000)"_s));
            QVERIFY(TestBackend::exec(v1, u"INSERT INTO agent_stats VALUES ('t1', 'a1', 1, 2, 7, 3)"_s));
        }

        Database db;
        QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        QVERIFY(tableExists(db, u"providers"_s));

        SessionStore sessions(db);
        const auto session = sessions.session(u"t1"_s, u"u1"_s, u"s1"_s);
        QVERIFY(session);
        QCOMPARE(session->title, u"Old chat"_s);
        QCOMPARE(session->messageCount, 2);
        const QList<Message> messages = sessions.messages(u"s1"_s);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(0).content, u"你好"_s);
        QCOMPARE(messages.at(1).promptTokens, 7);
        QCOMPARE(messages.at(1).tokensEstimated, false); // the column added in v2, defaulted
        const AgentStats stats = StatsStore(db).agentStats(u"t1"_s, u"a1"_s);
        QCOMPARE(stats.messages, 2);
        QCOMPARE(stats.totalTokens(), 10);

        // The upgraded file works like a new one: appends after the old rows, new tables.
        const auto added = sessions.addUserMessage(u"s1"_s, u"again"_s, 4);
        QVERIFY(added);
        QCOMPARE(sessions.messages(u"s1"_s).last().id, added->id);
        QVERIFY(sessions.message(u"s1"_s, added->id)->tokensEstimated);
        // v5 made the old linear history a tree: each message follows the one before it, and the
        // new message follows the old reply, on the active branch.
        const auto branch = sessions.branch(u"s1"_s);
        QVERIFY(branch);
        QCOMPARE(branch->size(), 3);
        QCOMPARE(branch->at(0).parentId, QString());
        QCOMPARE(branch->at(1).parentId, u"m1"_s);
        QCOMPARE(branch->at(2).parentId, u"m2"_s);
        QCOMPARE(branch->at(1).siblingIds, QStringList{u"m2"_s});
        QCOMPARE(sessions.session(u"t1"_s, u"u1"_s, u"s1"_s)->activeLeafId, added->id);
        ProviderRow provider{{}, u"t1"_s, u"local"_s, u"openai"_s, u"http://127.0.0.1:1"_s, {}, 1, 2, true};
        QVERIFY(ProviderStore(db).upsert(provider));
    }

    void failedMigrationRollsBack()
    {
        {
            Database v1;
            QVERIFY2(v1.open(m_backend.options(1)), qPrintable(v1.lastError()));
            QVERIFY(TestBackend::exec(
                v1, u"INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'acme', 1000)"_s));
            // A table in the way makes step 2 fail half-way through.
            QVERIFY(TestBackend::exec(v1, u"CREATE TABLE providers (x INTEGER)"_s));
        }
        Database db;
        QVERIFY(!db.open(m_backend.options()));
        QVERIFY(!db.isOpen());
        QVERIFY2(db.lastError().contains(u"version 2"_s), qPrintable(db.lastError()));

        Database v1;
        QVERIFY2(v1.open(m_backend.options(1)), qPrintable(v1.lastError()));
        QCOMPARE(v1.schemaVersion(), 1);
        // The step's first statement (a new column) was rolled back with the rest.
        QSqlQuery query(v1.connection());
        QVERIFY(!query.exec(u"SELECT tokens_estimated FROM messages"_s));
        QCOMPARE(TestBackend::scalar(v1, u"SELECT name FROM tenants"_s).toString(), u"acme"_s);
    }

    void newerSchemaIsRefused()
    {
        const int newer = Database::latestSchemaVersion() + 1;
        {
            Database db;
            QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
            QVERIFY(TestBackend::exec(db, db.isSqlite()
                                              ? u"PRAGMA user_version = %1"_s.arg(newer)
                                              : u"UPDATE schema_version SET version = %1"_s.arg(newer)));
        }
        Database db;
        QVERIFY(!db.open(m_backend.options()));
        QVERIFY(!db.isOpen());
        QVERIFY2(db.lastError().contains(u"newer"_s), qPrintable(db.lastError()));
        QVERIFY2(db.lastError().contains(QString::number(newer)), qPrintable(db.lastError()));

        // The refusal changed nothing: the next attempt sees the same version.
        Database again;
        QVERIFY(!again.open(m_backend.options()));
        QVERIFY(again.lastError().contains(QString::number(newer)));
    }

    void severalDatabasesAtOnce()
    {
        Database first;
        Database second;
        QVERIFY2(first.open(m_backend.options()), qPrintable(first.lastError()));
        QVERIFY2(second.open(m_backend.options()), qPrintable(second.lastError()));
        QVERIFY(first.connection().connectionName() != second.connection().connectionName());
        QVERIFY(AuthStore(first).ensureTenant(u"acme"_s));
        QVERIFY(AuthStore(second).tenantByName(u"acme"_s)); // same storage, committed
        first.close();
        QVERIFY(!first.isOpen());
        QVERIFY(second.isOpen());
        QVERIFY(AuthStore(second).ensureTenant(u"other"_s));
    }

    void transactionGuard()
    {
        Database db;
        QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
        AuthStore auth(db);
        {
            Transaction tx(db);
            QVERIFY(tx.isActive());
            QVERIFY(auth.ensureTenant(u"dropped"_s));
        } // no commit: rolled back
        QVERIFY(!auth.tenantByName(u"dropped"_s));
        {
            Transaction outer(db);
            QVERIFY(auth.ensureTenant(u"outer"_s));
            {
                Transaction inner(db);
                QVERIFY(inner.isActive());
            } // inner rollback dooms the outer one
            QVERIFY(!outer.commit());
        }
        QVERIFY(!auth.tenantByName(u"outer"_s));
        {
            Transaction outer(db);
            Transaction inner(db);
            QVERIFY(auth.ensureTenant(u"kept"_s));
            QVERIFY(inner.commit());
            QVERIFY(outer.commit());
        }
        QVERIFY(auth.tenantByName(u"kept"_s));
    }

    void badOptionsAreRefused()
    {
        Database db;
        Database::Options options = m_backend.options();
        options.driver = u"QNOSUCHDRIVER"_s;
        QVERIFY(!db.open(options));
        QVERIFY(db.lastError().contains(u"QNOSUCHDRIVER"_s));
        QVERIFY(!db.isOpen());
        options = m_backend.options(Database::latestSchemaVersion() + 1);
        QVERIFY(!db.open(options));
        if (m_backend.isPostgres()) {
            options = m_backend.options();
            options.schema = u"bad; DROP TABLE x"_s;
            QVERIFY(!db.open(options));
            QVERIFY(db.lastError().contains(u"schema"_s));
        }
    }

    void defaultPath()
    {
        if (m_backend.isPostgres())
            QSKIP("does not depend on the backend");
        QCOMPARE(Database::defaultPath(u"/srv/agentdesk"_s), u"/srv/agentdesk/agentdesk.db"_s);
        const QString appData = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        QVERIFY(!appData.isEmpty());
        QCOMPARE(Database::defaultPath(), appData + u"/agentdesk.db"_s);
        QVERIFY2(appData.contains(u".qttest"_s), qPrintable(appData)); // test mode, never the user's data
    }
};

QTEST_GUILESS_MAIN(DatabaseTest)
#include "tst_database.moc"
