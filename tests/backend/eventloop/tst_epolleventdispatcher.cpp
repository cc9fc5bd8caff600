// EpollEventDispatcher as the main thread's dispatcher (the headless server's): timers, posted
// events from other threads, nested loops, deferred deletes and many sockets at once.
#include "eventloop/epolleventdispatcher.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <QSocketNotifier>

#include <algorithm>
#include <memory>

#include <fcntl.h>
#include <functional>
#include <unistd.h>

class EpollEventDispatcherTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void isTheMainThreadsDispatcher();
    void singleShotTimersFireOnceAfterTheirInterval();
    void repeatingTimersKeepTheirPace();
    void aTimerStoppedInItsOwnEventStops();
    void timersAreListedAndTellTheirRemainingTime();
    void eventsPostedFromAnotherThreadWakeTheLoop();
    void aNestedLoopRunsAndATimerIsNotReentered();
    void deferredDeletesRun();
    void manySocketsEchoConcurrently();
    void aNotifierDisabledByAnEarlierOneIsNotActivated();
    void aSocketNumberReusedWithinAPassIsWatched();
    void aRegularFileIsAlwaysReady();
    void aForgottenSocketHandedOnDoesNotWakeItsNumbersNextOwner();
    void aReaderIsCalledInPlaceOfTheReadNotifier();
};

namespace {
// Reads its pipe itself when called, and may unset another reader first.
struct PipeReader : EpollEventDispatcher::Reader
{
    int fd = -1;
    int calls = 0;
    std::function<void()> onCall;
    void socketReadable() override
    {
        ++calls;
        if (onCall)
            onCall();
        char buffer[16];
        while (::read(fd, buffer, sizeof buffer) > 0) {
        }
    }
};
} // namespace

void EpollEventDispatcherTest::isTheMainThreadsDispatcher()
{
    QVERIFY(qobject_cast<EpollEventDispatcher *>(QCoreApplication::eventDispatcher()));
}

void EpollEventDispatcherTest::singleShotTimersFireOnceAfterTheirInterval()
{
    QElapsedTimer clock;
    clock.start();
    int fired = 0;
    qint64 firedAt = -1;
    QTimer timer;
    timer.setSingleShot(true);
    timer.setInterval(60);
    connect(&timer, &QTimer::timeout, this, [&] {
        ++fired;
        firedAt = clock.elapsed();
    });
    timer.start();
    QTRY_COMPARE(fired, 1);
    QVERIFY2(firedAt >= 59, qPrintable(QString::number(firedAt)));
    QTest::qWait(150);
    QCOMPARE(fired, 1);
    QVERIFY(!timer.isActive());
}

void EpollEventDispatcherTest::repeatingTimersKeepTheirPace()
{
    int fired = 0;
    QTimer timer;
    timer.setInterval(20);
    connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
    QElapsedTimer clock;
    clock.start();
    timer.start();
    QTRY_VERIFY(fired >= 10);
    timer.stop();
    // Ten intervals of 20 ms take at least 200 ms, and (with room for a busy machine) not seconds.
    QVERIFY2(clock.elapsed() >= 195, qPrintable(QString::number(clock.elapsed())));
    const int atStop = fired;
    QTest::qWait(100);
    QCOMPARE(fired, atStop);
}

void EpollEventDispatcherTest::aTimerStoppedInItsOwnEventStops()
{
    int fired = 0;
    QTimer timer;
    timer.setInterval(0); // due on every pass until stopped
    connect(&timer, &QTimer::timeout, this, [&] {
        if (++fired == 3)
            timer.stop();
    });
    timer.start();
    QTRY_COMPARE(fired, 3);
    QTest::qWait(50);
    QCOMPARE(fired, 3);

    // Deleting the timer's object inside its event.
    auto *doomed = new QTimer;
    doomed->setInterval(5);
    QPointer<QTimer> watch = doomed;
    connect(doomed, &QTimer::timeout, doomed, [doomed] { delete doomed; });
    doomed->start();
    QTRY_VERIFY(!watch);
}

void EpollEventDispatcherTest::timersAreListedAndTellTheirRemainingTime()
{
    QObject owner;
    auto *dispatcher = QCoreApplication::eventDispatcher();
    const int a = owner.startTimer(500);
    const int b = owner.startTimer(1000, Qt::CoarseTimer);
    const QList<QAbstractEventDispatcher::TimerInfo> timers = dispatcher->registeredTimers(&owner);
    QCOMPARE(timers.size(), 2);
    QCOMPARE(timers.at(0).timerId, a);
    QCOMPARE(timers.at(0).interval, 500);
    QCOMPARE(timers.at(1).timerId, b);
    QCOMPARE(timers.at(1).timerType, Qt::CoarseTimer);
    const int remaining = dispatcher->remainingTime(a);
    QVERIFY2(remaining > 400 && remaining <= 500, qPrintable(QString::number(remaining)));
    owner.killTimer(a);
    QCOMPARE(dispatcher->remainingTime(a), -1);
    QCOMPARE(dispatcher->registeredTimers(&owner).size(), 1);
    QVERIFY(dispatcher->unregisterTimers(&owner));
    QVERIFY(dispatcher->registeredTimers(&owner).isEmpty());
}

void EpollEventDispatcherTest::eventsPostedFromAnotherThreadWakeTheLoop()
{
    // The loop is blocked in epoll_wait with no timer due; the other thread's calls wake it.
    QObject receiver;
    int received = 0;
    std::unique_ptr<QThread> thread(QThread::create([&receiver, &received] {
        for (int i = 0; i < 100; ++i) {
            QMetaObject::invokeMethod(
                &receiver, [&received] { ++received; }, Qt::QueuedConnection);
            if (i % 10 == 0)
                QThread::msleep(5);
        }
    }));
    thread->start();
    QTRY_COMPARE(received, 100);
    QVERIFY(thread->wait(5000));
}

void EpollEventDispatcherTest::aNestedLoopRunsAndATimerIsNotReentered()
{
    int entered = 0;
    int maxDepth = 0;
    int depth = 0;
    QTimer outer;
    outer.setInterval(5);
    connect(&outer, &QTimer::timeout, this, [&] {
        ++entered;
        maxDepth = qMax(maxDepth, ++depth);
        if (entered == 1) {
            QEventLoop loop;
            QTimer::singleShot(60, &loop, &QEventLoop::quit);
            loop.exec(); // the outer timer is due many times meanwhile
        }
        --depth;
    });
    outer.start();
    QTRY_VERIFY(entered >= 3);
    outer.stop();
    QCOMPARE(maxDepth, 1);
}

void EpollEventDispatcherTest::deferredDeletesRun()
{
    QPointer<QObject> object = new QObject;
    object->deleteLater();
    QTRY_VERIFY(!object);
}

void EpollEventDispatcherTest::manySocketsEchoConcurrently()
{
    constexpr int clients = 300;
    QTcpServer server;
    server.setListenBacklogSize(clients);
    QVERIFY(server.listen(QHostAddress::LocalHost));
    connect(&server, &QTcpServer::newConnection, this, [&server] {
        while (QTcpSocket *peer = server.nextPendingConnection()) {
            connect(peer, &QTcpSocket::readyRead, peer, [peer] {
                const QByteArray data = peer->readAll();
                peer->write(data);
                if (data.endsWith('!'))
                    peer->disconnectFromHost();
            });
            connect(peer, &QTcpSocket::disconnected, peer, &QObject::deleteLater);
        }
    });

    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    int done = 0;
    for (int i = 0; i < clients; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        QTcpSocket *s = socket.get();
        auto received = std::make_shared<QByteArray>();
        const QByteArray message = "hello " + QByteArray::number(i) + " 你好";
        connect(s, &QTcpSocket::connected, s, [s, message] { s->write(message); });
        connect(s, &QTcpSocket::readyRead, s, [s, received, message, &done] {
            *received += s->readAll();
            if (*received == message) {
                s->write("!");
            } else if (*received == message + "!") {
                ++done;
            }
        });
        s->connectToHost(QHostAddress::LocalHost, server.serverPort());
        sockets.push_back(std::move(socket));
    }
    QTRY_COMPARE_WITH_TIMEOUT(done, clients, 20000);
    // The server closes each connection after the last byte; every client sees it.
    QTRY_VERIFY_WITH_TIMEOUT(
        std::all_of(sockets.begin(), sockets.end(),
                    [](const auto &s) { return s->state() == QAbstractSocket::UnconnectedState; }),
        10000);
}

void EpollEventDispatcherTest::aNotifierDisabledByAnEarlierOneIsNotActivated()
{
    // Two sockets ready in the same pass: the first one's handler turns the second's notifier off;
    // the second must not be activated after that (nor crash when it is deleted instead).
    int pipeA[2], pipeB[2];
    QVERIFY(::pipe(pipeA) == 0);
    QVERIFY(::pipe(pipeB) == 0);
    auto *a = new QSocketNotifier(pipeA[0], QSocketNotifier::Read);
    auto *b = new QSocketNotifier(pipeB[0], QSocketNotifier::Read);
    int aFired = 0, bFired = 0;
    connect(a, &QSocketNotifier::activated, this, [&] {
        ++aFired;
        a->setEnabled(false);
        b->setEnabled(false);
    });
    connect(b, &QSocketNotifier::activated, this, [&] {
        ++bFired;
        a->setEnabled(false);
        b->setEnabled(false);
    });
    QVERIFY(::write(pipeA[1], "x", 1) == 1);
    QVERIFY(::write(pipeB[1], "y", 1) == 1);
    QTRY_COMPARE(aFired + bFired, 1);
    QTest::qWait(50);
    QCOMPARE(aFired + bFired, 1); // level-triggered, but switched off: never again

    // Switched on again, the data still waiting is reported again.
    b->setEnabled(true);
    QTRY_COMPARE(aFired + bFired, 2);
    delete a;
    delete b;
    for (int fd : {pipeA[0], pipeA[1], pipeB[0], pipeB[1]})
        ::close(fd);
}

void EpollEventDispatcherTest::aSocketNumberReusedWithinAPassIsWatched()
{
    // A socket closed and a new one opened under the same number before the loop waits again: the
    // close took the old one out of epoll's set, so the new one must be added, not assumed there.
    int first[2];
    QVERIFY(::pipe(first) == 0);
    auto *old = new QSocketNotifier(first[0], QSocketNotifier::Read);
    QTest::qWait(10); // the old one is in the kernel's set now
    delete old;
    ::close(first[0]);
    int second[2];
    QVERIFY(::pipe(second) == 0);
    QCOMPARE(second[0], first[0]); // POSIX: the lowest free number
    const int readEnd = second[0];
    const int writeEnd = second[1];
    QSocketNotifier fresh(readEnd, QSocketNotifier::Read);
    int fired = 0;
    connect(&fresh, &QSocketNotifier::activated, this, [&] {
        ++fired;
        char byte;
        QCOMPARE(::read(readEnd, &byte, 1), 1);
    });
    QVERIFY(::write(writeEnd, "z", 1) == 1);
    QTRY_COMPARE(fired, 1);
    fresh.setEnabled(false);
    for (int fd : {first[1], second[0], second[1]})
        ::close(fd);
}

void EpollEventDispatcherTest::aRegularFileIsAlwaysReady()
{
    // epoll refuses regular files (EPERM); poll() calls them ready, and so does the dispatcher.
    QTemporaryFile file;
    QVERIFY(file.open());
    QSocketNotifier notifier(file.handle(), QSocketNotifier::Read);
    int fired = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&] {
        if (++fired == 3)
            notifier.setEnabled(false);
    });
    QTRY_COMPARE(fired, 3);
    QTest::qWait(30);
    QCOMPARE(fired, 3);
}

void EpollEventDispatcherTest::aForgottenSocketHandedOnDoesNotWakeItsNumbersNextOwner()
{
    // A socket handed to another thread: its descriptor copied, then closed here. epoll's set holds
    // the connection, not the number: unless forgotten first, the copy's readiness would be
    // reported under the old number, to whichever socket has it next.
    auto *dispatcher = qobject_cast<EpollEventDispatcher *>(QCoreApplication::eventDispatcher());
    int handed[2];
    QVERIFY(::pipe(handed) == 0);
    auto *old = new QSocketNotifier(handed[0], QSocketNotifier::Read);
    QTest::qWait(10); // in the kernel's set now
    const int copy = ::dup(handed[0]);
    QVERIFY(copy >= 0);
    dispatcher->forgetSocket(handed[0]);
    delete old;
    ::close(handed[0]);
    QVERIFY(::write(handed[1], "z", 1) == 1); // the copy is readable from now on
    int next[2];
    QVERIFY(::pipe(next) == 0);
    QCOMPARE(next[0], handed[0]); // POSIX: the lowest free number
    QSocketNotifier fresh(next[0], QSocketNotifier::Read);
    int fired = 0;
    connect(&fresh, &QSocketNotifier::activated, this, [&] { ++fired; });
    QTest::qWait(100);
    QCOMPARE(fired, 0); // nothing was written to it
    QVERIFY(::write(next[1], "y", 1) == 1);
    QTRY_VERIFY(fired > 0);
    fresh.setEnabled(false);
    for (int fd : {copy, handed[1], next[0], next[1]})
        ::close(fd);
}

void EpollEventDispatcherTest::aReaderIsCalledInPlaceOfTheReadNotifier()
{
    auto *dispatcher = EpollEventDispatcher::current();
    QVERIFY(dispatcher);
    int pipeA[2], pipeB[2];
    QVERIFY(::pipe2(pipeA, O_NONBLOCK) == 0);
    QVERIFY(::pipe2(pipeB, O_NONBLOCK) == 0);
    PipeReader readerA, readerB, stranger;
    readerA.fd = pipeA[0];
    readerB.fd = pipeB[0];
    QVERIFY(!dispatcher->setReader(pipeA[0], &readerA)); // no read notifier on it yet
    auto *a = new QSocketNotifier(pipeA[0], QSocketNotifier::Read);
    auto *b = new QSocketNotifier(pipeB[0], QSocketNotifier::Read);
    int aNotified = 0, bNotified = 0;
    connect(a, &QSocketNotifier::activated, this, [&] {
        ++aNotified;
        char buffer[16];
        while (::read(pipeA[0], buffer, sizeof buffer) > 0) {
        }
    });
    connect(b, &QSocketNotifier::activated, this, [&] {
        ++bNotified;
        char buffer[16];
        while (::read(pipeB[0], buffer, sizeof buffer) > 0) {
        }
    });
    QVERIFY(dispatcher->setReader(pipeA[0], &readerA));
    QVERIFY(dispatcher->setReader(pipeB[0], &readerB));

    QVERIFY(::write(pipeA[1], "x", 1) == 1);
    QTRY_COMPARE(readerA.calls, 1);
    QTest::qWait(30);
    QCOMPARE(readerA.calls, 1); // it read what there was
    QCOMPARE(aNotified, 0);

    // Unset by another reader: only the one set is unset.
    dispatcher->unsetReader(pipeA[0], &stranger);
    QVERIFY(::write(pipeA[1], "y", 1) == 1);
    QTRY_COMPARE(readerA.calls, 2);
    QCOMPARE(aNotified, 0);

    // Both ready in one pass: whichever runs first unsets the other, which is then not called;
    // its notifier takes over from the next pass.
    readerA.onCall = [&] {
        dispatcher->unsetReader(pipeB[0], &readerB);
    };
    readerB.onCall = [&] {
        dispatcher->unsetReader(pipeA[0], &readerA);
    };
    QVERIFY(::write(pipeA[1], "z", 1) == 1);
    QVERIFY(::write(pipeB[1], "z", 1) == 1);
    QTRY_VERIFY(aNotified + bNotified > 0);
    QCOMPARE(readerA.calls + readerB.calls, 3);
    readerA.onCall = readerB.onCall = nullptr;

    // A read notifier switched off takes its reader with it: switched on again, it is notified.
    dispatcher->setReader(pipeA[0], &readerA);
    a->setEnabled(false);
    a->setEnabled(true);
    const int before = aNotified;
    QVERIFY(::write(pipeA[1], "w", 1) == 1);
    QTRY_COMPARE(aNotified, before + 1);
    QCOMPARE(readerA.calls + readerB.calls, 3);

    delete a;
    delete b;
    for (int fd : {pipeA[0], pipeA[1], pipeB[0], pipeB[1]})
        ::close(fd);
}

int main(int argc, char **argv)
{
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    EpollEventDispatcherTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epolleventdispatcher.moc"
