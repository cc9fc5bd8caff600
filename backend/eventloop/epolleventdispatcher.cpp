#include "epolleventdispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimerEvent>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

EpollEventDispatcher::EpollEventDispatcher(QObject *parent) : QAbstractEventDispatcher(parent)
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_wakeOnly = epoll_create1(EPOLL_CLOEXEC);
    m_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_epoll < 0 || m_wakeOnly < 0 || m_wake < 0) {
        qWarning("EpollEventDispatcher: cannot create epoll or eventfd: %s", strerror(errno));
        return;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = m_wake;
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &event) != 0 ||
        epoll_ctl(m_wakeOnly, EPOLL_CTL_ADD, m_wake, &event) != 0) {
        qWarning("EpollEventDispatcher: cannot watch the eventfd: %s", strerror(errno));
        close(m_wakeOnly);
        m_wakeOnly = -1;
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    for (const int fd : {m_wake, m_wakeOnly, m_epoll}) {
        if (fd >= 0)
            close(fd);
    }
}

qint64 EpollEventDispatcher::nowMs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupt.store(false, std::memory_order_relaxed);
    Q_EMIT awake();
    QCoreApplication::sendPostedEvents();

    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    const bool includeTimers = !(flags & QEventLoop::X11ExcludeTimers);
    // Events posted while the ones above were sent have written the eventfd, so a wait that
    // should not block returns at once.
    const bool canWait =
        (flags & QEventLoop::WaitForMoreEvents) && !m_interrupt.load(std::memory_order_relaxed);
    if (canWait)
        Q_EMIT aboutToBlock();
    if (m_interrupt.load(std::memory_order_relaxed))
        return false;

    applyInterest();
    int timeout = 0;
    if (canWait && (!includeNotifiers || m_alwaysReady.empty())) {
        const qint64 next = includeTimers ? nextTimeout() : -1;
        timeout = next < 0 ? -1 : int(std::min<qint64>(next, 24 * 3600 * 1000));
    }
    // Without notifiers, only a wake-up or a timer ends the wait (ready sockets would end it at
    // once, again and again).
    epoll_event events[256];
    int ready = epoll_wait(includeNotifiers ? m_epoll : m_wakeOnly, events, 256, timeout);
    if (ready < 0) {
        if (errno != EINTR)
            qWarning("EpollEventDispatcher: epoll_wait: %s", strerror(errno));
        ready = 0;
    }

    int handled = 0;
    // The outermost pass reuses its list; a nested loop's pass needs one of its own.
    Activation nested;
    Activation &pending = m_activations.empty() ? m_outermost : nested;
    pending.clear();
    for (int i = 0; i < ready; ++i) {
        const int fd = events[i].data.fd;
        if (fd == m_wake) {
            // Drained before the flag drops: a wake-up between the two writes the eventfd again.
            eventfd_t value;
            eventfd_read(m_wake, &value);
            m_wakePending.store(false);
            ++handled;
            continue;
        }
        if (const auto it = m_fds.find(fd); it != m_fds.end())
            collect(pending, it->second, events[i].events);
    }
    if (includeNotifiers) {
        for (const int fd : m_alwaysReady)
            collect(pending, m_fds.at(fd), EPOLLIN | EPOLLOUT);
    }
    if (!pending.empty())
        handled += activateNotifiers(pending);
    if (includeTimers)
        handled += activateTimers();
    return handled > 0;
}

void EpollEventDispatcher::collect(Activation &pending, const Watched &watched, quint32 events)
{
    // As QEventDispatcherUNIX reads poll()'s answer: a hang-up or an error wakes every notifier.
    constexpr quint32 trouble = EPOLLHUP | EPOLLERR;
    constexpr quint32 wants[3] = {EPOLLIN | trouble, EPOLLOUT | trouble, EPOLLPRI | trouble};
    for (int type = 0; type < 3; ++type) {
        if (!watched.notifiers[type] || !(events & wants[type]))
            continue;
        if (type == QSocketNotifier::Read && watched.reader)
            pending.push_back({nullptr, watched.reader});
        else
            pending.push_back({watched.notifiers[type], nullptr});
    }
}

int EpollEventDispatcher::activateNotifiers(Activation &pending)
{
    // A notifier that an earlier one's handler unregisters (or deletes), or a reader unset, is
    // nulled out here.
    m_activations.push_back(&pending);
    int activated = 0;
    for (Ready &ready : pending) {
        if (Reader *reader = std::exchange(ready.reader, nullptr)) {
            reader->socketReadable();
            ++activated;
            continue;
        }
        if (!ready.notifier)
            continue;
        QSocketNotifier *current = std::exchange(ready.notifier, nullptr);
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(current, &event);
        ++activated;
    }
    m_activations.pop_back();
    return activated;
}

EpollEventDispatcher *EpollEventDispatcher::current()
{
    return qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
}

bool EpollEventDispatcher::setReader(int fd, Reader *reader)
{
    const auto it = m_fds.find(fd);
    if (it == m_fds.end() || !it->second.notifiers[QSocketNotifier::Read])
        return false;
    if (Reader *old = std::exchange(it->second.reader, reader); old && old != reader)
        dropPending(old);
    return true;
}

void EpollEventDispatcher::unsetReader(int fd, Reader *reader)
{
    const auto it = m_fds.find(fd);
    if (it != m_fds.end() && it->second.reader == reader)
        it->second.reader = nullptr;
    dropPending(reader);
}

void EpollEventDispatcher::dropPending(Reader *reader)
{
    for (Activation *pending : m_activations) {
        for (Ready &ready : *pending) {
            if (ready.reader == reader)
                ready.reader = nullptr;
        }
    }
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    const int type = int(notifier->type());
    Watched &watched = m_fds[fd];
    if (watched.notifiers[type] && watched.notifiers[type] != notifier)
        qWarning("EpollEventDispatcher: several socket notifiers of one type on socket %d", fd);
    watched.notifiers[type] = notifier;
    markDirty(fd, watched);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    const auto it = m_fds.find(fd);
    if (it != m_fds.end() && it->second.notifiers[notifier->type()] == notifier) {
        Watched &watched = it->second;
        watched.notifiers[notifier->type()] = nullptr;
        if (notifier->type() == QSocketNotifier::Read && watched.reader)
            dropPending(std::exchange(watched.reader, nullptr));
        if (!watched.notifiers[0] && !watched.notifiers[1] && !watched.notifiers[2])
            watched.emptied = true;
        markDirty(fd, watched);
    }
    for (Activation *pending : m_activations) {
        for (Ready &ready : *pending) {
            if (ready.notifier == notifier)
                ready.notifier = nullptr;
        }
    }
}

void EpollEventDispatcher::forgetSocket(int fd)
{
    const auto it = m_fds.find(fd);
    if (it == m_fds.end() || it->second.inKernel == 0)
        return;
    epoll_event event{};
    epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, &event);
    it->second.inKernel = 0;
}

void EpollEventDispatcher::markDirty(int fd, Watched &watched)
{
    if (!watched.dirty) {
        watched.dirty = true;
        m_dirty.push_back(fd);
    }
}

void EpollEventDispatcher::setAlwaysReady(int fd, Watched &watched, bool on)
{
    watched.alwaysReady = on;
    watched.inKernel = 0;
    if (on)
        m_alwaysReady.push_back(fd);
    else
        m_alwaysReady.erase(std::remove(m_alwaysReady.begin(), m_alwaysReady.end(), fd), m_alwaysReady.end());
}

void EpollEventDispatcher::applyInterest()
{
    for (const int fd : m_dirty) {
        const auto it = m_fds.find(fd);
        if (it == m_fds.end())
            continue;
        Watched &watched = it->second;
        watched.dirty = false;
        const bool emptied = std::exchange(watched.emptied, false);
        quint32 wanted = 0;
        if (watched.notifiers[QSocketNotifier::Read])
            wanted |= EPOLLIN;
        if (watched.notifiers[QSocketNotifier::Write])
            wanted |= EPOLLOUT;
        if (watched.notifiers[QSocketNotifier::Exception])
            wanted |= EPOLLPRI;
        if (watched.alwaysReady) {
            if (wanted != 0 && !emptied)
                continue;
            setAlwaysReady(fd, watched, false); // gone, or perhaps a new socket with its number
            if (wanted == 0) {
                m_fds.erase(it);
                continue;
            }
        }
        // Switched off and on again within one pass costs nothing. But a socket whose notifiers
        // all went may have been closed, which took it out of the set, and a new one may have its
        // number: that one is told to the kernel again (MOD, or ADD where the kernel lost it).
        if (wanted == watched.inKernel && (wanted == 0 || !emptied)) {
            if (wanted == 0)
                m_fds.erase(it);
            continue;
        }
        epoll_event event{};
        event.events = wanted;
        event.data.fd = fd;
        if (wanted == 0) {
            // A closed socket has left the set on its own (EBADF, ENOENT).
            epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, &event);
            m_fds.erase(it);
            continue;
        }
        int op = watched.inKernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        int result = epoll_ctl(m_epoll, op, fd, &event);
        if (result != 0 && errno == ENOENT && op == EPOLL_CTL_MOD)
            result = epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
        else if (result != 0 && errno == EEXIST && op == EPOLL_CTL_ADD)
            result = epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event);
        if (result != 0 && errno == EPERM) {
            setAlwaysReady(fd, watched, true); // a regular file: poll() calls it ready, always
            continue;
        }
        if (result != 0) {
            qWarning("EpollEventDispatcher: cannot watch socket %d: %s", fd, strerror(errno));
            watched.inKernel = 0;
            continue;
        }
        watched.inKernel = wanted;
    }
    m_dirty.clear();
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                         QObject *object)
{
    unregisterTimer(timerId);
    const qint64 deadline = nowMs() + std::max<qint64>(interval, 0);
    m_timers.emplace(timerId, Timer{interval, timerType, object, deadline, ++m_serial});
    m_queue.emplace(deadline, timerId);
    m_timersOf[object].push_back(timerId);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    m_queue.erase({it->second.deadline, timerId});
    if (const auto owner = m_timersOf.find(it->second.object); owner != m_timersOf.end()) {
        std::vector<int> &ids = owner->second;
        ids.erase(std::remove(ids.begin(), ids.end(), timerId), ids.end());
        if (ids.empty())
            m_timersOf.erase(owner);
    }
    m_timers.erase(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    const auto owner = m_timersOf.find(object);
    if (owner == m_timersOf.end())
        return false;
    const std::vector<int> ids = owner->second;
    for (const int id : ids)
        unregisterTimer(id);
    return true;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> list;
    const auto owner = m_timersOf.find(object);
    if (owner == m_timersOf.end())
        return list;
    for (const int id : owner->second) {
        const Timer &timer = m_timers.at(id);
        list.append(TimerInfo(id, int(timer.interval), timer.type));
    }
    return list;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return -1;
    return int(std::max<qint64>(it->second.deadline - nowMs(), 0));
}

qint64 EpollEventDispatcher::nextTimeout() const
{
    // A timer whose event is running (a nested loop) is not due again until it returns.
    for (const auto &[deadline, id] : m_queue) {
        if (!m_timers.at(id).inEvent)
            return std::max<qint64>(deadline - nowMs(), 0);
    }
    return -1;
}

int EpollEventDispatcher::activateTimers()
{
    if (m_queue.empty())
        return 0;
    const qint64 now = nowMs();
    // The timers due now; ones registered by their handlers wait for the next pass.
    std::vector<std::pair<int, quint64>> due;
    for (auto it = m_queue.begin(); it != m_queue.end() && it->first <= now; ++it)
        due.emplace_back(it->second, m_timers.at(it->second).serial);
    int activated = 0;
    for (const auto &[id, serial] : due) {
        auto it = m_timers.find(id);
        // Gone, replaced, running, or fired meanwhile by a nested loop.
        if (it == m_timers.end() || it->second.serial != serial || it->second.inEvent ||
            it->second.deadline > now)
            continue;
        Timer &timer = it->second;
        m_queue.erase({timer.deadline, id});
        timer.deadline += std::max<qint64>(timer.interval, 0);
        if (timer.deadline <= now) // fell behind: no burst to catch up
            timer.deadline = now + std::max<qint64>(timer.interval, 0);
        m_queue.emplace(timer.deadline, id);
        timer.inEvent = true;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(timer.object, &event);
        ++activated;
        it = m_timers.find(id);
        if (it != m_timers.end() && it->second.serial == serial)
            it->second.inEvent = false;
    }
    return activated;
}

void EpollEventDispatcher::wakeUp()
{
    if (!m_wakePending.exchange(true))
        eventfd_write(m_wake, 1);
}

void EpollEventDispatcher::interrupt()
{
    m_interrupt.store(true);
    wakeUp();
}
