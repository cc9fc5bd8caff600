#pragma once

#include <QString>

#include <condition_variable>
#include <mutex>
#include <thread>

class Database;

// Checkpoints a SQLite write-ahead log from a thread and connection of its own. A checkpoint ends
// with an fsync of the database file; SQLite's automatic checkpoint runs it inside whichever commit
// crosses 1000 WAL pages, on the thread serving every stream, and on a busy disk that commit then
// takes tens of milliseconds (the p99 of time-to-first-token). start() turns the serving
// connection's automatic checkpoints off and checkpoints every interval instead; stop() (or the
// destructor) turns them back on. Only for a SQLite file; does nothing for anything else. Under a
// steady stream of commits the log could grow without end (it restarts only once fully copied), so
// past maxFrames it is truncated, holding writers back once for the short remainder.
class WalCheckpointer
{
public:
    // intervalMs <= 0: no timer; checkpoints run only on checkpointNow() (tests drive it so).
    explicit WalCheckpointer(Database &db, int intervalMs = 1000);
    void setMaxFrames(int frames) { m_maxFrames = frames; }
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer &) = delete;
    WalCheckpointer &operator=(const WalCheckpointer &) = delete;

    // False when the database is not a SQLite file or the thread's connection does not open; the
    // database then keeps its automatic checkpoints.
    bool start(const QString &path);
    void stop();
    bool isRunning() const { return m_thread.joinable(); }
    // Checkpoints done so far (for tests).
    int checkpoints() const;
    // Runs a checkpoint that starts after this call and waits until it is done, so a test knows
    // exactly what it has copied. False when not running or not done within timeoutMs.
    bool checkpointNow(int timeoutMs = 30000);

private:
    void run(const QString &path);

    Database &m_db;
    int m_intervalMs;
    int m_maxFrames = 16384; // 64 MiB of 4 KiB pages: past this, the log is truncated
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    bool m_opened = false;
    bool m_openFailed = false;
    int m_checkpoints = 0;
    quint64 m_requested = 0; // checkpointNow() calls so far
    quint64 m_served = 0;    // of those, the ones a finished checkpoint started after
};
