// OutputBatch: writes held while a batch is open leave once, when the outermost batch closes.
#include "core/outputbatch.h"

#include <QTest>

#include <functional>

namespace {

struct Sink : OutputBatch::Sink
{
    int flushes = 0;
    std::function<void()> onFlush;
    void write() { OutputBatch::enlist(this); }
    void flushBatch() override
    {
        ++flushes;
        if (onFlush)
            onFlush();
    }
    using OutputBatch::Sink::m_enlisted;
};

} // namespace

class OutputBatchTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void flushesOnceWhenTheOutermostCloses();
    void aWithdrawnSinkIsNotFlushed();
    void aSinkGoneDuringTheFlushIsSkipped();
    void writesMadeWhileFlushingLeaveInTheSameClose();
    void flushSendsNowAndTheBatchStaysOpen();
};

void OutputBatchTest::flushesOnceWhenTheOutermostCloses()
{
    Sink a, b;
    QVERIFY(!OutputBatch::isOpen());
    {
        const OutputBatch outer;
        a.write();
        {
            const OutputBatch inner;
            QVERIFY(OutputBatch::isOpen());
            a.write();
            b.write();
        }
        QCOMPARE(a.flushes, 0); // the inner batch does not flush
        QCOMPARE(b.flushes, 0);
        a.write();
    }
    QVERIFY(!OutputBatch::isOpen());
    QCOMPARE(a.flushes, 1);
    QCOMPARE(b.flushes, 1);
    {
        const OutputBatch again;
        a.write();
    }
    QCOMPARE(a.flushes, 2);
    QCOMPARE(b.flushes, 1);
}

void OutputBatchTest::aWithdrawnSinkIsNotFlushed()
{
    Sink a;
    {
        const OutputBatch batch;
        a.write();
        OutputBatch::withdraw(&a);
        QVERIFY(!a.m_enlisted);
    }
    QCOMPARE(a.flushes, 0);
    {
        const OutputBatch batch;
        auto *gone = new Sink;
        gone->write();
        delete gone; // withdraws itself
        a.write();
    }
    QCOMPARE(a.flushes, 1);
}

void OutputBatchTest::aSinkGoneDuringTheFlushIsSkipped()
{
    Sink first;
    auto *second = new Sink;
    int secondFlushes = 0;
    second->onFlush = [&] {
        ++secondFlushes;
    };
    first.onFlush = [&] {
        delete second; // a flush that closes another stream
        second = nullptr;
    };
    {
        const OutputBatch batch;
        first.write();
        second->write();
    }
    QCOMPARE(first.flushes, 1);
    QCOMPARE(secondFlushes, 0);
    QVERIFY(!second);
}

void OutputBatchTest::writesMadeWhileFlushingLeaveInTheSameClose()
{
    Sink a, b;
    a.onFlush = [&] {
        b.write();
    };
    {
        const OutputBatch batch;
        a.write();
    }
    QCOMPARE(a.flushes, 1);
    QCOMPARE(b.flushes, 1);
    QVERIFY(!OutputBatch::isOpen());
}

void OutputBatchTest::flushSendsNowAndTheBatchStaysOpen()
{
    Sink a;
    {
        const OutputBatch batch;
        a.write();
        OutputBatch::flush();
        QCOMPARE(a.flushes, 1);
        QVERIFY(OutputBatch::isOpen());
        OutputBatch::flush(); // nothing waits
        QCOMPARE(a.flushes, 1);
        a.write();
    }
    QCOMPARE(a.flushes, 2);
}

QTEST_GUILESS_MAIN(OutputBatchTest)
#include "tst_outputbatch.moc"
