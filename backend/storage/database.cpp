#include "database.h"

#include "core/logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>
#include <QSqlError>
#include <QStandardPaths>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace {

// One step per schema version, oldest first: step i creates version i + 1. The SQL is
// portable (TEXT ids, BIGINT milliseconds, no AUTOINCREMENT, no dialect functions) so the
// same text runs on SQLite and PostgreSQL. Never edit a released step; add a new one.
const QList<QStringList> &migrations()
{
    static const QList<QStringList> steps = {
        // v1: the core tables. Composite foreign keys keep a session's user and agent in the
        // session's own tenant, whatever the caller passes.
        {
            u"CREATE TABLE tenants ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " name TEXT NOT NULL UNIQUE,"
            " created_at BIGINT NOT NULL)"_s,
            u"CREATE TABLE users ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
            " name TEXT NOT NULL,"
            " created_at BIGINT NOT NULL,"
            " UNIQUE (tenant_id, name),"
            " UNIQUE (tenant_id, id))"_s,
            // token_hash is UNIQUE, so authentication is one index lookup.
            u"CREATE TABLE api_tokens ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " tenant_id TEXT NOT NULL,"
            " user_id TEXT NOT NULL,"
            " token_hash TEXT NOT NULL UNIQUE,"
            " prefix TEXT NOT NULL,"
            " label TEXT NOT NULL DEFAULT '',"
            " created_at BIGINT NOT NULL,"
            " last_used_at BIGINT,"
            " revoked_at BIGINT,"
            " FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE)"_s,
            u"CREATE TABLE agents ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
            " name TEXT NOT NULL,"
            " description TEXT NOT NULL DEFAULT '',"
            " system_prompt TEXT NOT NULL DEFAULT '',"
            " greeting TEXT NOT NULL DEFAULT '',"
            " provider TEXT NOT NULL DEFAULT '',"
            " model TEXT NOT NULL DEFAULT '',"
            " temperature DOUBLE PRECISION,"
            " max_tokens INTEGER,"
            " created_at BIGINT NOT NULL,"
            " updated_at BIGINT NOT NULL,"
            " UNIQUE (tenant_id, id))"_s,
            u"CREATE TABLE sessions ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " tenant_id TEXT NOT NULL,"
            " user_id TEXT NOT NULL,"
            " agent_id TEXT NOT NULL,"
            " title TEXT NOT NULL DEFAULT '',"
            " message_count INTEGER NOT NULL DEFAULT 0,"
            " created_at BIGINT NOT NULL,"
            " updated_at BIGINT NOT NULL,"
            " FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,"
            " FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE)"_s,
            // UNIQUE (session_id, seq) is also the index that reads a session in order.
            u"CREATE TABLE messages ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
            " seq BIGINT NOT NULL,"
            " role TEXT NOT NULL,"
            " content TEXT NOT NULL DEFAULT '',"
            " status TEXT NOT NULL DEFAULT 'complete',"
            " finish_reason TEXT NOT NULL DEFAULT '',"
            " model TEXT NOT NULL DEFAULT '',"
            " error TEXT NOT NULL DEFAULT '',"
            " prompt_tokens INTEGER NOT NULL DEFAULT 0,"
            " completion_tokens INTEGER NOT NULL DEFAULT 0,"
            " created_at BIGINT NOT NULL,"
            " updated_at BIGINT NOT NULL,"
            " UNIQUE (session_id, seq))"_s,
            // Usage counters outlive the agent (no foreign key to agents): deleting an agent
            // does not lower what the tenant has used.
            u"CREATE TABLE agent_stats ("
            " tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
            " agent_id TEXT NOT NULL,"
            " sessions BIGINT NOT NULL DEFAULT 0,"
            " messages BIGINT NOT NULL DEFAULT 0,"
            " prompt_tokens BIGINT NOT NULL DEFAULT 0,"
            " completion_tokens BIGINT NOT NULL DEFAULT 0,"
            " PRIMARY KEY (tenant_id, agent_id))"_s,
        },
        // v2: per-tenant upstream providers, whether a message's token counts are estimated,
        // and indexes for the session list, foreign-key cascades and the start-up sweep of
        // replies cut by a crash.
        {
            u"ALTER TABLE messages ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0"_s,
            u"CREATE TABLE providers ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
            " name TEXT NOT NULL,"
            " kind TEXT NOT NULL DEFAULT '',"
            " base_url TEXT NOT NULL DEFAULT '',"
            " model TEXT NOT NULL DEFAULT '',"
            " connect_timeout_ms INTEGER NOT NULL DEFAULT 15000,"
            " stall_timeout_ms INTEGER NOT NULL DEFAULT 120000,"
            " is_default INTEGER NOT NULL DEFAULT 0,"
            " created_at BIGINT NOT NULL,"
            " updated_at BIGINT NOT NULL,"
            " UNIQUE (tenant_id, name))"_s,
            u"CREATE INDEX idx_sessions_owner ON sessions (tenant_id, user_id, updated_at)"_s,
            u"CREATE INDEX idx_sessions_agent ON sessions (tenant_id, agent_id)"_s,
            u"CREATE INDEX idx_api_tokens_user ON api_tokens (tenant_id, user_id)"_s,
            u"CREATE INDEX idx_messages_streaming ON messages (status) WHERE status = 'streaming'"_s,
        },
        // v3: resumable streams. A reply keeps the message it answers (parent_id) and where its
        // stream's content events began and ended (chunks: the length of each, in UTF-16 units,
        // comma-separated), so a client can resume it after any event; Idempotency-Key values
        // name the reply a POST started.
        {
            u"ALTER TABLE messages ADD COLUMN parent_id TEXT"_s,
            u"ALTER TABLE messages ADD COLUMN chunks TEXT NOT NULL DEFAULT ''"_s,
            u"CREATE TABLE idempotency_keys ("
            " tenant_id TEXT NOT NULL,"
            " user_id TEXT NOT NULL,"
            " idempotency_key TEXT NOT NULL,"
            " reply_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
            " created_at BIGINT NOT NULL,"
            " PRIMARY KEY (tenant_id, user_id, idempotency_key),"
            " FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE)"_s,
            u"CREATE INDEX idx_idempotency_keys_age ON idempotency_keys (created_at)"_s,
            u"CREATE INDEX idx_idempotency_keys_reply ON idempotency_keys (reply_id)"_s,
        },
        // v4: agents that act. Admin tokens (the tokens that existed keep what they could do);
        // agents' tools, approval policy, step limit and the tools a user allowed for good;
        // a reply's parts (text, tool calls, results) and the events of its stream that are not
        // content; the tenants' MCP servers (secrets live in the SecretStore); files (images a
        // tool returned), content-addressed under the data directory.
        {
            u"ALTER TABLE api_tokens ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0"_s,
            u"UPDATE api_tokens SET is_admin = 1"_s,
            u"ALTER TABLE agents ADD COLUMN tools TEXT NOT NULL DEFAULT '[]'"_s,
            u"ALTER TABLE agents ADD COLUMN tool_approval TEXT NOT NULL DEFAULT 'ask'"_s,
            u"ALTER TABLE agents ADD COLUMN max_steps INTEGER NOT NULL DEFAULT 8"_s,
            u"ALTER TABLE agents ADD COLUMN allowed_tools TEXT NOT NULL DEFAULT '[]'"_s,
            u"ALTER TABLE messages ADD COLUMN parts TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE messages ADD COLUMN extra_events TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE messages ADD COLUMN steps INTEGER NOT NULL DEFAULT 1"_s,
            u"CREATE TABLE mcp_servers ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,"
            " name TEXT NOT NULL,"
            " transport TEXT NOT NULL,"
            " command TEXT NOT NULL DEFAULT '',"
            " args TEXT NOT NULL DEFAULT '[]',"
            " url TEXT NOT NULL DEFAULT '',"
            " env_names TEXT NOT NULL DEFAULT '[]',"
            " header_names TEXT NOT NULL DEFAULT '[]',"
            " timeout_ms INTEGER NOT NULL DEFAULT 120000,"
            " created_at BIGINT NOT NULL,"
            " updated_at BIGINT NOT NULL,"
            " UNIQUE (tenant_id, name))"_s,
            u"CREATE TABLE files ("
            " id TEXT NOT NULL PRIMARY KEY,"
            " tenant_id TEXT NOT NULL,"
            " user_id TEXT NOT NULL,"
            " session_id TEXT REFERENCES sessions (id) ON DELETE CASCADE,"
            " sha256 TEXT NOT NULL,"
            " media_type TEXT NOT NULL,"
            " name TEXT NOT NULL DEFAULT '',"
            " size BIGINT NOT NULL,"
            " created_at BIGINT NOT NULL,"
            " FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE)"_s,
            u"CREATE INDEX idx_files_owner ON files (tenant_id, user_id)"_s,
            u"CREATE INDEX idx_files_session ON files (session_id)"_s,
            u"CREATE INDEX idx_files_sha ON files (sha256)"_s,
        },
        // v5: conversations as trees. Every message follows its parent (a user message the reply
        // before it), the session remembers the end of the branch it follows, sessions can be
        // pinned and imported; full-text search over finished messages (SQLite: FTS5 trigrams, so Chinese
        // needs
        // no word breaks; PostgreSQL: a pg_trgm index for ILIKE).
        {
            u"ALTER TABLE sessions ADD COLUMN active_leaf_id TEXT"_s,
            u"ALTER TABLE sessions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0"_s,
            // Where an imported session came from ("chatgpt:<id>", "agentdesk:<id>"): importing
            // the same file again adds nothing. NULLs are distinct, on both engines.
            u"ALTER TABLE sessions ADD COLUMN import_key TEXT"_s,
            u"CREATE UNIQUE INDEX idx_sessions_import ON sessions (tenant_id, user_id, import_key)"_s,
            u"UPDATE messages SET parent_id = (SELECT p.id FROM messages p WHERE p.session_id = "
            u"messages.session_id"
            u" AND p.seq < messages.seq ORDER BY p.seq DESC LIMIT 1) WHERE parent_id IS NULL OR parent_id = ''"_s,
            u"UPDATE messages SET parent_id = '' WHERE parent_id IS NULL"_s,
            u"UPDATE sessions SET active_leaf_id = (SELECT m.id FROM messages m WHERE m.session_id = "
            u"sessions.id"
            u" ORDER BY m.seq DESC LIMIT 1)"_s,
            // Indexed lazily, off the path that ends every reply: `indexed` says a row is in the
            // index (SearchIndex::catchUp adds the rest before a search and while nothing streams);
            // the triggers only take out what changes or goes.
            u"ALTER TABLE messages ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0"_s,
            u"sqlite:CREATE INDEX idx_messages_unindexed ON messages (status) WHERE indexed = 0"_s,
            u"sqlite:CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages',"
            u" content_rowid='rowid', tokenize='trigram')"_s,
            u"sqlite:CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.indexed <> 0"
            u" BEGIN INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, "
            u"old.content);"
            u" END"_s,
            u"sqlite:CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages"
            u" WHEN old.indexed <> 0 AND old.content <> new.content BEGIN"
            u" INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, "
            u"old.content);"
            u" UPDATE messages SET indexed = 0 WHERE rowid = new.rowid;"
            u" END"_s,
            u"pg:@trigram-index"_s,
        },
        // v6: rich content. A reply's reasoning apart from its answer (and the provider's count of
        // it); the files a user message carries; a per-session model; how hard an agent's model
        // reasons; whether a provider's models take images; a document's extracted text, an image's size.
        // PostgreSQL keeps file bytes in the database
        // (every server of a team sees them); SQLite keeps them in the data directory.
        {
            u"ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE messages ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT -1"_s,
            u"ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE sessions ADD COLUMN model TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE agents ADD COLUMN reasoning_effort TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE providers ADD COLUMN allowed_models TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE providers ADD COLUMN vision TEXT NOT NULL DEFAULT 'auto'"_s,
            u"ALTER TABLE files ADD COLUMN text TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE files ADD COLUMN pages INTEGER NOT NULL DEFAULT 0"_s,
            u"ALTER TABLE files ADD COLUMN width INTEGER NOT NULL DEFAULT 0"_s,
            u"ALTER TABLE files ADD COLUMN height INTEGER NOT NULL DEFAULT 0"_s,
            u"CREATE INDEX idx_files_unused ON files (created_at) WHERE session_id IS NULL"_s,
            // created_at: bytes just stored (a file row about to name them) are never collected.
            u"pg:CREATE TABLE file_blobs (sha256 TEXT NOT NULL PRIMARY KEY, data BYTEA NOT NULL,"
            u" created_at BIGINT NOT NULL)"_s,
        },
        // 7: where a session came from: the chat API and the window ("chat"), or the
        // OpenAI-compatible /v1 surface ("api"), whose sessions the window lists only when asked.
        {
            u"ALTER TABLE sessions ADD COLUMN origin TEXT NOT NULL DEFAULT 'chat'"_s,
        },
        // 8: only imported sessions have an import key: the index holds them alone (the same
        // uniqueness, NULLs being distinct), and a new chat writes one index page fewer.
        {
            u"DROP INDEX idx_sessions_import"_s,
            u"CREATE UNIQUE INDEX idx_sessions_import ON sessions (tenant_id, user_id, import_key)"
            u" WHERE import_key IS NOT NULL"_s,
        },
    };
    return steps;
}

bool isSafeIdentifier(const QString &name)
{
    static const QRegularExpression re(u"^[a-z_][a-z0-9_]{0,62}$"_s);
    return re.match(name).hasMatch();
}

} // namespace

namespace {
// The write gate of each SQLite file this process has open (Database::lockWrites).
std::shared_ptr<QMutex> writeGateFor(const QString &path)
{
    static QMutex lock;
    static QHash<QString, std::weak_ptr<QMutex>> gates;
    const QMutexLocker locker(&lock);
    std::shared_ptr<QMutex> gate = gates.value(path).lock();
    if (!gate) {
        gate = std::make_shared<QMutex>();
        gates.insert(path, gate);
    }
    return gate;
}
} // namespace

Database::Database(QObject *parent)
    : QObject(parent), m_connectionName(u"agentdesk-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces))
{}

Database::~Database()
{
    close();
}

bool Database::fail(const QString &message)
{
    m_lastError = message;
    qCWarning(lcStorage).noquote() << message;
    close();
    return false;
}

bool Database::open(const Options &options)
{
    close();
    m_lastError.clear();
    m_sqlite = options.driver == u"QSQLITE"_s;
    if (!m_sqlite && options.driver != u"QPSQL"_s)
        return fail(u"unsupported database driver %1 (use QSQLITE or QPSQL)"_s.arg(options.driver));
    if (!QSqlDatabase::isDriverAvailable(options.driver))
        return fail(u"the Qt SQL driver %1 is not installed"_s.arg(options.driver));
    if (options.targetVersion < 0 || options.targetVersion > latestSchemaVersion())
        return fail(u"cannot migrate to schema version %1"_s.arg(options.targetVersion));

    m_busyTimeoutMs = qMax(0, options.busyTimeoutMs);
    if (m_sqlite)
        m_writeGate = writeGateFor(QFileInfo(options.path).absoluteFilePath());
    QSqlDatabase db = QSqlDatabase::addDatabase(options.driver, m_connectionName);
    bool created = false;
    QString path;
    if (m_sqlite) {
        path = options.path.isEmpty() ? defaultPath() : options.path;
        if (path != u":memory:"_s) {
            const QFileInfo info(path);
            if (!QDir().mkpath(info.absolutePath()))
                return fail(u"cannot create the directory %1"_s.arg(info.absolutePath()));
            created = !info.exists();
        }
        db.setDatabaseName(path);
    } else {
        db.setHostName(options.host);
        db.setPort(options.port);
        db.setDatabaseName(options.name);
        db.setUserName(options.user);
        db.setPassword(options.password);
    }
    if (!db.open()) {
        const QString error = db.lastError().text();
        db = QSqlDatabase();
        return fail(u"cannot open the database: %1"_s.arg(error));
    }
    db = QSqlDatabase();

    if (m_sqlite) {
        // The file holds chat history and token hashes: readable by its owner only.
        if (created)
            QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        // WAL lets readers run beside the writer; NORMAL is durable across application
        // crashes in WAL mode and much cheaper than FULL per message.
        if (!execute(u"PRAGMA foreign_keys = ON"_s) ||
            !execute(u"PRAGMA busy_timeout = %1"_s.arg(qMax(0, options.busyTimeoutMs))) ||
            !execute(u"PRAGMA journal_mode = WAL"_s) || !execute(u"PRAGMA synchronous = NORMAL"_s))
            return fail(u"cannot configure SQLite: %1"_s.arg(m_lastError));
    } else {
        if (!execute(u"SET client_min_messages TO WARNING"_s))
            return fail(u"cannot configure PostgreSQL: %1"_s.arg(m_lastError));
        if (!options.schema.isEmpty()) {
            // An identifier cannot be bound; accept only plain lower-case names.
            if (!isSafeIdentifier(options.schema))
                return fail(u"invalid PostgreSQL schema name %1"_s.arg(options.schema));
            if (!execute(u"CREATE SCHEMA IF NOT EXISTS %1"_s.arg(options.schema)) ||
                !execute(u"SET search_path TO %1"_s.arg(options.schema)))
                return fail(u"cannot use schema %1: %2"_s.arg(options.schema, m_lastError));
        }
        if (!execute(u"CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"_s))
            return fail(u"cannot create schema_version: %1"_s.arg(m_lastError));
    }

    if (!migrate(options.targetVersion > 0 ? options.targetVersion : latestSchemaVersion()))
        return fail(m_lastError);
    qCDebug(lcStorage) << "opened" << (m_sqlite ? path : options.name) << "schema version" << m_version;
    return true;
}

void Database::close()
{
    m_queries.clear(); // the queries need the connection while they are destroyed
    unlockWrites(std::exchange(m_gateHeld, false));
    m_writeGate.reset();
    m_transactionDepth = 0;
    m_rollbackOnly = false;
    m_version = 0;
    if (QSqlDatabase::contains(m_connectionName)) {
        {
            QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_connectionName);
    }
}

bool Database::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName) && connection().isOpen();
}

QSqlDatabase Database::connection() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

bool Database::isSqlite() const
{
    return m_sqlite;
}

int Database::schemaVersion() const
{
    return m_version;
}

int Database::latestSchemaVersion()
{
    return int(migrations().size());
}

bool Database::migrate(int targetVersion)
{
    int current = readVersion();
    if (current < 0)
        return false;
    const auto tooNew = [this](int version) {
        m_lastError = u"the database has schema version %1 but this build knows only up to %2;"
                      u" use a newer AgentDesk or another database"_s.arg(version)
                          .arg(latestSchemaVersion());
        return false;
    };
    if (current > latestSchemaVersion())
        return tooNew(current);

    while (current < targetVersion) {
        const int next = current + 1;
        if (!transaction()) {
            m_lastError = u"cannot start the migration to schema version %1: %2"_s.arg(QString::number(next),
                                                                                       m_lastError);
            return false;
        }
        // Another process may have migrated while we waited for the write lock: read again
        // under it (BEGIN IMMEDIATE on SQLite, a table lock on PostgreSQL).
        if (!m_sqlite && !execute(u"LOCK TABLE schema_version IN EXCLUSIVE MODE"_s)) {
            rollback();
            return false;
        }
        current = readVersion();
        if (current < 0 || current > latestSchemaVersion()) {
            rollback();
            return current < 0 ? false : tooNew(current);
        }
        if (current >= next) {
            commit();
            continue;
        }
        qCInfo(lcStorage) << "migrating the database to schema version" << next;
        for (QString sql : migrations().at(next - 1)) {
            if (sql.startsWith("sqlite:"_L1) || sql.startsWith("pg:"_L1)) {
                const bool forSqlite = sql.startsWith("sqlite:"_L1);
                if (forSqlite != m_sqlite)
                    continue;
                sql = sql.mid(sql.indexOf(u':') + 1);
            }
            if (sql == "@trigram-index"_L1) {
                createTrigramIndex();
                continue;
            }
            if (!execute(sql)) {
                const QString error = m_lastError;
                rollback();
                m_lastError =
                    u"migration to schema version %1 failed: %2"_s.arg(QString::number(next), error);
                return false;
            }
        }
        if (!writeVersion(next) || !commit()) {
            const QString error = m_lastError;
            rollback();
            m_lastError = u"cannot record schema version %1: %2"_s.arg(QString::number(next), error);
            return false;
        }
        current = next;
    }
    m_version = current;
    return true;
}

void Database::createTrigramIndex()
{
    // Search works without it (a scan); a server without the extension, or a user who may not
    // create it, must not stop the migration. A savepoint keeps a failure from aborting it.
    if (!execute(u"SAVEPOINT trigram"_s))
        return;
    QSqlQuery query(connection());
    const bool ok =
        execute(u"CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"_s) &&
        query.exec(u"SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                   u" WHERE e.extname = 'pg_trgm'"_s) &&
        query.next() && isSafeIdentifier(query.value(0).toString()) &&
        execute(
            u"CREATE INDEX idx_messages_content_trgm ON messages USING gin (content %1.gin_trgm_ops)"_s.arg(
                query.value(0).toString()));
    query.finish();
    if (ok) {
        execute(u"RELEASE SAVEPOINT trigram"_s);
        return;
    }
    qCWarning(lcStorage) << "no pg_trgm index on messages (search scans them):" << m_lastError;
    execute(u"ROLLBACK TO SAVEPOINT trigram"_s);
}

int Database::readVersion()
{
    QSqlQuery query(connection());
    const QString sql = m_sqlite ? u"PRAGMA user_version"_s : u"SELECT MAX(version) FROM schema_version"_s;
    if (!query.exec(sql)) {
        m_lastError = u"cannot read the schema version: %1"_s.arg(query.lastError().text());
        return -1;
    }
    return query.next() ? query.value(0).toInt() : 0; // MAX() of no rows is NULL, i.e. 0
}

bool Database::writeVersion(int version)
{
    if (m_sqlite)
        return execute(u"PRAGMA user_version = %1"_s.arg(version));
    return execute(u"DELETE FROM schema_version"_s) &&
           execute(u"INSERT INTO schema_version (version) VALUES (%1)"_s.arg(version));
}

bool Database::execute(const QString &sql)
{
    QSqlQuery query(connection());
    if (query.exec(sql))
        return true;
    m_lastError = query.lastError().text();
    qCWarning(lcStorage).noquote() << "statement failed:" << sql.simplified().left(120) << "-" << m_lastError;
    return false;
}

// BEGIN/COMMIT run for every message written: keep them prepared too.
bool Database::execCached(const QString &sql)
{
    QSqlQuery *query = cachedQuery(sql);
    if (!query)
        return false;
    const bool ok = query->exec();
    if (!ok)
        m_lastError = query->lastError().text();
    query->finish();
    return ok;
}

QSqlQuery *Database::cachedQuery(const QString &sql)
{
    const auto it = m_queries.find(sql);
    if (it != m_queries.end())
        return it->second.get();
    if (!isOpen())
        return nullptr;
    auto query = std::make_unique<QSqlQuery>(connection());
    query->setForwardOnly(true);
    if (!query->prepare(sql)) {
        qCWarning(lcStorage).noquote()
            << "cannot prepare:" << sql.simplified().left(120) << "-" << query->lastError().text();
        return nullptr;
    }
    return m_queries.emplace(sql, std::move(query)).first->second.get();
}

bool Database::lockWrites()
{
    return m_writeGate && m_writeGate->tryLock(m_busyTimeoutMs);
}

void Database::unlockWrites(bool taken)
{
    if (taken)
        m_writeGate->unlock();
}

bool Database::transaction()
{
    if (m_transactionDepth > 0) {
        ++m_transactionDepth;
        return true;
    }
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY without waiting out busy_timeout.
    m_gateHeld = lockWrites();
    const bool ok = m_sqlite ? execCached(u"BEGIN IMMEDIATE"_s) : connection().transaction();
    if (!ok) {
        unlockWrites(std::exchange(m_gateHeld, false));
        if (!m_sqlite)
            m_lastError = connection().lastError().text();
        qCWarning(lcStorage).noquote() << "cannot begin a transaction:" << m_lastError;
        return false;
    }
    m_transactionDepth = 1;
    m_rollbackOnly = false;
    return true;
}

bool Database::commit()
{
    if (m_transactionDepth <= 0)
        return false;
    if (--m_transactionDepth > 0)
        return !m_rollbackOnly;
    if (m_rollbackOnly) {
        m_transactionDepth = 1;
        rollback();
        return false;
    }
    const bool ok = m_sqlite ? execCached(u"COMMIT"_s) : connection().commit();
    if (!ok) {
        if (!m_sqlite)
            m_lastError = connection().lastError().text();
        qCWarning(lcStorage).noquote() << "commit failed:" << m_lastError;
        m_transactionDepth = 1;
        rollback();
        return false;
    }
    unlockWrites(std::exchange(m_gateHeld, false));
    return ok;
}

void Database::rollback()
{
    if (m_transactionDepth <= 0)
        return;
    if (--m_transactionDepth > 0) {
        m_rollbackOnly = true;
        return;
    }
    m_rollbackOnly = false;
    if (m_sqlite)
        execCached(u"ROLLBACK"_s);
    else
        connection().rollback();
    unlockWrites(std::exchange(m_gateHeld, false));
}

QString Database::defaultPath(const QString &dataDir)
{
    const QString dir =
        dataDir.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : dataDir;
    return QDir(dir).filePath(u"agentdesk.db"_s);
}
