// GroupCommit: the writes queued in one pass of the event loop are committed together at its end,
// each `then` after the commit; a failing write costs no other its place; a write whose owner is
// gone is dropped; flush() and the destructor write what is queued at once.
#include "storage/groupcommit.h"
#include "storagetest.h"

#include <QTest>

using namespace Qt::StringLiterals;

class GroupCommitTest : public StorageTest
{
    Q_OBJECT
public:
    GroupCommitTest() : StorageTest(u"tst_groupcommit"_s) {}

private Q_SLOTS:
    void onePassOneTransaction();
    void aFailureCostsNoOther();
    void aGoneOwnerIsDropped();
    void flushAndDestructorWriteAtOnce();

private:
    void seed() override;
    std::function<bool()> insert(const QString &x)
    {
        return [this, x] {
            return TestBackend::exec(*m_db, u"INSERT INTO probe (x) VALUES (?)"_s, {x});
        };
    }
    // What another connection sees committed.
    int committed(Database &other) const
    {
        return TestBackend::scalar(other, u"SELECT COUNT(*) FROM probe"_s).toInt();
    }
};

void GroupCommitTest::seed()
{
    QVERIFY(TestBackend::exec(*m_db, u"CREATE TABLE IF NOT EXISTS probe (x TEXT NOT NULL)"_s));
    QVERIFY(TestBackend::exec(*m_db, u"DELETE FROM probe"_s));
}

void GroupCommitTest::onePassOneTransaction()
{
    const std::unique_ptr<Database> other = m_backend.open();
    QVERIFY(other);
    GroupCommit group(*m_db);
    QObject owner;
    QList<int> seenByThen;
    int seenByLastWrite = -1;
    for (int i = 0; i < 3; ++i) {
        const bool last = i == 2;
        group.add(
            &owner,
            [&, last, write = insert(u"row %1"_s.arg(i))] {
                if (last) // the first two are written, in this transaction, not committed
                    seenByLastWrite = committed(*other);
                return write();
            },
            [&](bool saved) { seenByThen.append(saved ? committed(*other) : -1); });
    }
    QCOMPARE(group.pending(), 3);
    QCOMPARE(committed(*other), 0); // nothing before the pass is over
    QTRY_COMPARE(seenByThen.size(), 3);
    QCOMPARE(seenByLastWrite, 0);
    QCOMPARE(seenByThen, (QList<int>{3, 3, 3})); // every `then` after the one commit
    QCOMPARE(group.pending(), 0);
}

void GroupCommitTest::aFailureCostsNoOther()
{
    GroupCommit group(*m_db);
    QObject owner;
    QList<bool> saved;
    const auto record = [&saved](bool ok) {
        saved.append(ok);
    };
    group.add(&owner, insert(u"a"_s), record);
    group.add(
        &owner, [this] { return TestBackend::exec(*m_db, u"INSERT INTO no_such_table (x) VALUES ('b')"_s); },
        record);
    group.add(&owner, insert(u"c"_s), record);
    QTRY_COMPARE(saved.size(), 3);
    QCOMPARE(saved, (QList<bool>{true, false, true}));
    QCOMPARE(TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM probe"_s).toInt(), 2);
    QCOMPARE(TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM probe WHERE x IN ('a', 'c')"_s).toInt(), 2);
}

void GroupCommitTest::aGoneOwnerIsDropped()
{
    GroupCommit group(*m_db);
    auto *gone = new QObject;
    QObject kept;
    bool goneRan = false;
    int keptThen = 0;
    group.add(
        gone, [&goneRan] { return goneRan = true; }, [&goneRan](bool) { goneRan = true; });
    group.add(&kept, insert(u"kept"_s), [&keptThen](bool saved) { keptThen += saved ? 1 : 100; });
    delete gone;
    QTRY_COMPARE(keptThen, 1);
    QVERIFY(!goneRan);
    QCOMPARE(TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM probe"_s).toInt(), 1);
}

void GroupCommitTest::flushAndDestructorWriteAtOnce()
{
    QObject owner;
    int thens = 0;
    GroupCommit group(*m_db);
    group.add(&owner, insert(u"flushed"_s), [&thens](bool saved) { thens += saved; });
    group.flush();
    QCOMPARE(thens, 1);
    QTest::qWait(20); // the pass the add asked for finds nothing left to write
    QCOMPARE(thens, 1);
    QCOMPARE(TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM probe"_s).toInt(), 1);
    {
        GroupCommit last(*m_db);
        last.add(&owner, insert(u"at the end"_s), [&thens](bool saved) { thens += saved; });
    }
    QCOMPARE(thens, 2);
    QCOMPARE(TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM probe"_s).toInt(), 2);
}

QTEST_GUILESS_MAIN(GroupCommitTest)
#include "tst_groupcommit.moc"
