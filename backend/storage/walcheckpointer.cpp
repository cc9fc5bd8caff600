#include "walcheckpointer.h"

#include "core/logging.h"
#include "database.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <atomic>

using namespace Qt::StringLiterals;

WalCheckpointer::WalCheckpointer(Database &db, int intervalMs)
    : m_db(db), m_intervalMs(intervalMs > 0 ? qMax(10, intervalMs) : 0)
{}

WalCheckpointer::~WalCheckpointer()
{
    stop();
}

bool WalCheckpointer::start(const QString &path)
{
    if (isRunning() || !m_db.isSqlite() || path.isEmpty() || path == ":memory:"_L1)
        return false;
    m_stopping = false;
    m_opened = m_openFailed = false;
    m_thread = std::thread([this, path] { run(path); });
    std::unique_lock lock(m_mutex);
    m_wake.wait(lock, [this] { return m_opened || m_openFailed; });
    if (m_openFailed) {
        lock.unlock();
        m_thread.join();
        return false;
    }
    QSqlQuery off(m_db.connection());
    if (!off.exec(u"PRAGMA wal_autocheckpoint = 0"_s))
        qCWarning(lcStorage) << "cannot turn automatic WAL checkpoints off:" << off.lastError().text();
    return true;
}

void WalCheckpointer::stop()
{
    if (!isRunning())
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
    if (m_db.isOpen()) {
        QSqlQuery on(m_db.connection());
        on.exec(u"PRAGMA wal_autocheckpoint = 1000"_s);
    }
}

int WalCheckpointer::checkpoints() const
{
    std::lock_guard lock(m_mutex);
    return m_checkpoints;
}

bool WalCheckpointer::checkpointNow(int timeoutMs)
{
    if (!isRunning())
        return false;
    std::unique_lock lock(m_mutex);
    const quint64 request = ++m_requested;
    m_wake.notify_all();
    return m_wake.wait_for(lock, std::chrono::milliseconds(timeoutMs), [this, request] {
        return m_served >= request || m_stopping;
    }) && m_served >= request;
}

void WalCheckpointer::run(const QString &path)
{
    static std::atomic<int> serial{0};
    const QString name = u"agentdesk-wal-checkpointer-%1"_s.arg(++serial);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(path);
        const bool ok = db.open();
        if (ok) {
            QSqlQuery pragma(db);
            pragma.exec(u"PRAGMA busy_timeout = 1000"_s);
        } else {
            qCWarning(lcStorage) << "WAL checkpointer cannot open" << path << db.lastError().text();
        }
        {
            std::lock_guard lock(m_mutex);
            (ok ? m_opened : m_openFailed) = true;
        }
        m_wake.notify_all();
        if (ok) {
            QSqlQuery checkpoint(db);
            std::unique_lock lock(m_mutex);
            while (!m_stopping) {
                const auto due = [this] {
                    return m_stopping || m_requested > m_served;
                };
                if (m_intervalMs > 0)
                    m_wake.wait_for(lock, std::chrono::milliseconds(m_intervalMs), due);
                else
                    m_wake.wait(lock, due);
                if (m_stopping)
                    break;
                const quint64 serving = m_requested; // every request so far comes before this checkpoint
                lock.unlock();
                // PASSIVE copies what no reader still needs and never blocks the serving connection.
                // The log restarts from the top when a writer finds it fully copied, which a steady
                // stream of commits can keep from happening: past a cap, TRUNCATE once, which holds
                // writers back for the little PASSIVE left over and one fsync.
                int frames = 0;
                if (checkpoint.exec(u"PRAGMA wal_checkpoint(PASSIVE)"_s) && checkpoint.next())
                    frames = checkpoint.value(1).toInt();
                else
                    qCWarning(lcStorage) << "WAL checkpoint failed:" << checkpoint.lastError().text();
                checkpoint.finish();
                if (frames > m_maxFrames) {
                    if (!checkpoint.exec(u"PRAGMA wal_checkpoint(TRUNCATE)"_s))
                        qCWarning(lcStorage) << "WAL truncation failed:" << checkpoint.lastError().text();
                    checkpoint.finish();
                }
                lock.lock();
                ++m_checkpoints;
                m_served = serving;
                m_wake.notify_all();
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}
