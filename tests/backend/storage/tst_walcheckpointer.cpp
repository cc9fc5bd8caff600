// WalCheckpointer: checkpoints from its own thread while the serving connection's automatic
// checkpoints are off, and gives them back when it stops.
#include "storage/database.h"
#include "storage/walcheckpointer.h"
#include "testbackend.h"

#include <QFileInfo>
#include <QSqlQuery>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

class WalCheckpointerTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void checkpointsOffTheServingConnection();
    void logStaysBounded_data();
    void logStaysBounded();
    void onlyForSqliteFiles();

private:
    // SQLite only (WAL is an SQLite matter), so no "postgres" row: a fresh file per test.
    TestBackend m_storage{u"tst_walcheckpointer"_s};
    std::unique_ptr<Database> m_db;
};

void WalCheckpointerTest::init()
{
    QVERIFY2(m_storage.reset(u"sqlite"_s), qPrintable(m_storage.error()));
    m_db = m_storage.open();
}

void WalCheckpointerTest::cleanup()
{
    m_db.reset();
}

void WalCheckpointerTest::checkpointsOffTheServingConnection()
{
    Database &db = *m_db;
    QCOMPARE(TestBackend::scalar(db, u"PRAGMA wal_autocheckpoint"_s).toInt(), 1000);

    WalCheckpointer checkpointer(db, 20);
    QVERIFY(checkpointer.start(m_storage.sqlitePath()));
    QVERIFY(checkpointer.isRunning());
    QCOMPARE(TestBackend::scalar(db, u"PRAGMA wal_autocheckpoint"_s).toInt(), 0);

    // Well over the 1000 pages at which SQLite would have checkpointed inside a commit.
    QVERIFY(TestBackend::exec(db, u"CREATE TABLE blobs (b BLOB)"_s));
    const QByteArray blob(64 * 1024, 'x');
    for (int i = 0; i < 100; ++i)
        QVERIFY(TestBackend::exec(db, u"INSERT INTO blobs VALUES (?)"_s, {blob}));
    // The timer runs them (however late the scheduler lets it) ...
    const int before = checkpointer.checkpoints();
    QTRY_VERIFY_WITH_TIMEOUT(checkpointer.checkpoints() > before, 30000);
    // ... and one that starts after the last insert copies everything back.
    QVERIFY(checkpointer.checkpointNow());
    QSqlQuery check(db.connection());
    QVERIFY(check.exec(u"PRAGMA wal_checkpoint(PASSIVE)"_s) && check.next());
    QCOMPARE(check.value(0).toInt(), 0);                      // not busy
    QCOMPARE(check.value(2).toInt(), check.value(1).toInt()); // checkpointed == log frames
    check.finish();
    QCOMPARE(TestBackend::scalar(db, u"SELECT COUNT(*) FROM blobs"_s).toInt(), 100);

    checkpointer.stop();
    QVERIFY(!checkpointer.isRunning());
    QCOMPARE(TestBackend::scalar(db, u"PRAGMA wal_autocheckpoint"_s).toInt(), 1000);
}

void WalCheckpointerTest::logStaysBounded_data()
{
    QTest::addColumn<int>("maxFrames");
    QTest::newRow("under the cap: the log restarts from the top") << 1000000;
    QTest::newRow("past the cap: the log is truncated") << 50;
}

void WalCheckpointerTest::logStaysBounded()
{
    // A busy server: batches of commits with a checkpoint between them. The test runs each
    // checkpoint itself (no timer), so what is asserted does not depend on the scheduler.
    QFETCH(int, maxFrames);
    Database &db = *m_db;
    WalCheckpointer checkpointer(db, 0);
    checkpointer.setMaxFrames(maxFrames);
    QVERIFY(checkpointer.start(m_storage.sqlitePath()));
    QVERIFY(TestBackend::exec(db, u"CREATE TABLE blobs (b BLOB)"_s));
    QVERIFY(checkpointer.checkpointNow());
    const QByteArray blob(16 * 1024, 'y');
    const QString wal = m_storage.sqlitePath() + u"-wal"_s;
    constexpr int batches = 20;
    constexpr int perBatch = 20;
    qint64 firstBatch = 0;
    for (int b = 0; b < batches; ++b) {
        for (int i = 0; i < perBatch; ++i)
            QVERIFY(TestBackend::exec(db, u"INSERT INTO blobs VALUES (?)"_s, {blob}));
        const qint64 size = QFileInfo(wal).size();
        if (b == 0)
            firstBatch = size;
        // Never more than about one batch: without checkpoints it would reach 20 batches' worth.
        QVERIFY2(size <= firstBatch + firstBatch / 2,
                 qPrintable(u"batch %1: log %2 bytes, first batch %3"_s.arg(b).arg(size).arg(firstBatch)));
        QVERIFY(checkpointer.checkpointNow());
        if (maxFrames < perBatch) // every batch is past the cap: truncated at once
            QVERIFY2(QFileInfo(wal).size() < maxFrames * 4096,
                     qPrintable(QString::number(QFileInfo(wal).size())));
    }
    QVERIFY(firstBatch >= perBatch * blob.size());
    QCOMPARE(checkpointer.checkpoints(), batches + 1);
    QCOMPARE(TestBackend::scalar(db, u"SELECT COUNT(*) FROM blobs"_s).toInt(), batches * perBatch);
}

void WalCheckpointerTest::onlyForSqliteFiles()
{
    Database::Options options;
    options.path = u":memory:"_s;
    Database db;
    QVERIFY2(db.open(options), qPrintable(db.lastError()));
    WalCheckpointer checkpointer(db);
    QVERIFY(!checkpointer.start(u":memory:"_s));
    QVERIFY(!checkpointer.isRunning());
}

QTEST_GUILESS_MAIN(WalCheckpointerTest)
#include "tst_walcheckpointer.moc"
