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
    void truncatesPastTheCap();
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
    const int before = checkpointer.checkpoints();
    QTRY_VERIFY_WITH_TIMEOUT(checkpointer.checkpoints() >= before + 2, 5000);
    // Everything in the log was copied back by the other connection: nothing left to do here.
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

void WalCheckpointerTest::truncatesPastTheCap()
{
    Database &db = *m_db;
    WalCheckpointer checkpointer(db, 20);
    checkpointer.setMaxFrames(50);
    QVERIFY(checkpointer.start(m_storage.sqlitePath()));
    QVERIFY(TestBackend::exec(db, u"CREATE TABLE blobs (b BLOB)"_s));
    // Keep writing while it checkpoints, as a busy server does: the log must not keep growing.
    const QByteArray blob(16 * 1024, 'y');
    const QString wal = m_storage.sqlitePath() + u"-wal"_s;
    qint64 largest = 0;
    for (int i = 0; i < 400; ++i) {
        QVERIFY(TestBackend::exec(db, u"INSERT INTO blobs VALUES (?)"_s, {blob}));
        if (i % 20 == 0)
            QTest::qWait(5);
        largest = qMax(largest, QFileInfo(wal).size());
    }
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(wal).size() < 50 * 4096, 5000);
    QVERIFY2(largest < 400 * 16 * 1024, qPrintable(QString::number(largest)));
    QCOMPARE(TestBackend::scalar(db, u"SELECT COUNT(*) FROM blobs"_s).toInt(), 400);
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
