#pragma once

#include <QAbstractEventDispatcher>

#include <atomic>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

class QSocketNotifier;

// An event dispatcher on epoll for a thread that serves many sockets. Qt's own (glib's or its
// UNIX one) hands every socket to poll() on every wake-up, so a loop pass costs in proportion to
// the open connections, not to the ones that have something to say: at a thousand streams that
// walk was a large part of each chunk's CPU. Here a pass costs in proportion to the ready sockets.
// Interest changes are applied just before the next wait, so a notifier switched off and on again
// within one pass costs no system call while its socket keeps another notifier (one whose
// notifiers all went is told to the kernel again: its number may belong to a new socket).
// Timers sit in a queue ordered by deadline; posted events and wake-ups come through an eventfd.
// The semantics follow QEventDispatcherUNIX: level-triggered notifiers, a timer is not re-entered
// while its event runs, timers started during a pass wait for the next one.
class EpollEventDispatcher : public QAbstractEventDispatcher
{
    Q_OBJECT
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    // False where epoll or eventfd could not be created (the dispatcher then must not be used).
    bool isValid() const { return m_epoll >= 0 && m_wake >= 0 && m_wakeOnly >= 0; }

    // Reads a socket itself: told by a direct call when the socket is readable, in place of the
    // read notifier's event (for a stream's upstream: no QSocketNotifier, QAbstractSocket or
    // readyRead between the kernel and the reader).
    class Reader
    {
    public:
        virtual void socketReadable() = 0;

    protected:
        ~Reader() = default;
    };

    // The dispatcher of the calling thread, when it is one of these.
    static EpollEventDispatcher *current();

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    // Takes socket `fd` out of the kernel's set now, for a socket whose descriptor is about to be
    // duplicated (handed to another thread) and closed here: the set holds the open connection,
    // not the number, and would keep waking this loop for it while the copy is open.
    void forgetSocket(int fd);
    // While `reader` is set for socket `fd`, that socket's read notifier stays registered (it keeps
    // the socket in the kernel's set) but is not activated: `reader` is called instead. False
    // when the socket has no read notifier here. Unset on its own when the read notifier goes (the
    // socket closed, or switched off): Qt's notifier takes over again.
    bool setReader(int fd, Reader *reader);
    // Only while `reader` is still the one set: the number may be another socket's by now.
    void unsetReader(int fd, Reader *reader);

    void wakeUp() override;
    void interrupt() override;

private:
    struct Watched
    {
        QSocketNotifier *notifiers[3] = {nullptr, nullptr, nullptr}; // by QSocketNotifier::Type
        Reader *reader = nullptr;                                    // in place of notifiers[Read]
        quint32 inKernel = 0;                                        // the events epoll watches
        bool dirty = false;
        bool emptied = false;     // all its notifiers went: the socket may have been closed since
        bool alwaysReady = false; // epoll cannot watch it (a regular file): ready, as poll() says
    };
    struct Timer
    {
        qint64 interval;
        Qt::TimerType type;
        QObject *object;
        qint64 deadline; // ms on the monotonic clock
        quint64 serial;  // tells a timer from a later one with the same id
        bool inEvent = false;
    };
    struct Ready
    {
        QSocketNotifier *notifier; // or
        Reader *reader;
    };
    using Activation = std::vector<Ready>;

    static qint64 nowMs();
    void markDirty(int fd, Watched &watched);
    void setAlwaysReady(int fd, Watched &watched, bool on);
    static void collect(Activation &pending, const Watched &watched, quint32 events);
    void dropPending(Reader *reader);
    void applyInterest();
    int activateTimers();
    int activateNotifiers(Activation &pending);
    qint64 nextTimeout() const; // -1: no timer

    int m_epoll = -1;
    int m_wake = -1;     // eventfd
    int m_wakeOnly = -1; // an epoll set with the eventfd alone, for passes without notifiers
    std::atomic<bool> m_wakePending{false};
    std::atomic<bool> m_interrupt{false};
    std::unordered_map<int, Watched> m_fds;
    std::vector<int> m_dirty;
    std::vector<int> m_alwaysReady;
    std::vector<Activation *> m_activations; // of the passes running (nested loops), for unregister
    Activation m_outermost;
    std::unordered_map<int, Timer> m_timers;
    std::set<std::pair<qint64, int>> m_queue; // (deadline, id)
    std::unordered_map<QObject *, std::vector<int>> m_timersOf;
    quint64 m_serial = 0;
};
