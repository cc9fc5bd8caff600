#include "engine.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loadclient {

struct Engine::Conn
{
    enum class State { Connecting, Writing, Head, Body };
    enum class Chunk { Size, Data, DataEnd, Done };

    int fd = -1;
    int target = 0;
    size_t index = 0; // in m_conns
    State state = State::Connecting;
    size_t written = 0;
    std::string in;    // bytes not yet parsed (head, or chunk framing)
    std::string lines; // decoded body not yet split into lines
    bool chunked = false;
    int64_t contentLength = -1;
    int64_t bodyBytes = 0;
    Chunk chunk = Chunk::Size;
    int64_t chunkLeft = 0;
    int64_t nextSeq = 0;
    int64_t lastEmitNs = 0;
    bool streaming = false;
    StreamResult result;
};

Engine::Engine(const std::vector<Target> &targets, const Options &options)
    : m_targets(targets), m_options(options), m_epoll(epoll_create1(EPOLL_CLOEXEC)), m_readBuffer(256 * 1024)
{}

Engine::~Engine()
{
    for (Conn *c : m_conns) {
        ::close(c->fd);
        delete c;
    }
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool Engine::open(int target)
{
    auto *c = new Conn;
    c->target = target;
    c->result.startNs = monotonicNs();
    c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->index = m_conns.size();
    m_conns.push_back(c);
    ++m_open;
    if (c->fd < 0) {
        finish(c, std::string("socket: ") + std::strerror(errno));
        return false;
    }
    const int one = 1;
    ::setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const sockaddr_in &addr = m_targets[size_t(target)].address;
    if (::connect(c->fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
        finish(c, std::string("connect: ") + std::strerror(errno));
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.ptr = c;
    if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        finish(c, std::string("epoll_ctl: ") + std::strerror(errno));
        return false;
    }
    return true;
}

void Engine::poll(int timeoutMs)
{
    epoll_event events[512];
    const int n = ::epoll_wait(m_epoll, events, 512, timeoutMs);
    for (int i = 0; i < n; ++i)
        handle(static_cast<Conn *>(events[i].data.ptr), events[i].events);
}

void Engine::abortAll(const std::string &reason)
{
    while (!m_conns.empty())
        finish(m_conns.back(), reason);
}

void Engine::handle(Conn *c, uint32_t events)
{
    if (c->state == Conn::State::Connecting) {
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
            finish(c, std::string("connect: ") + std::strerror(error));
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        c->result.connectedNs = monotonicNs();
        c->state = Conn::State::Writing;
    }
    if (c->state == Conn::State::Writing) {
        const std::string &request = m_targets[size_t(c->target)].request;
        while (c->written < request.size()) {
            const ssize_t n =
                ::send(c->fd, request.data() + c->written, request.size() - c->written, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN)
                    return;
                finish(c, std::string("send: ") + std::strerror(errno));
                return;
            }
            c->written += size_t(n);
        }
        c->state = Conn::State::Head;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = c;
        ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, c->fd, &ev);
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        readSome(c);
}

bool Engine::readSome(Conn *c)
{
    for (;;) {
        const ssize_t n = ::recv(c->fd, m_readBuffer.data(), m_readBuffer.size(), 0);
        if (n < 0) {
            if (errno == EAGAIN)
                return true;
            if (errno == EINTR)
                continue;
            finish(c, std::string("recv: ") + std::strerror(errno));
            return false;
        }
        const int64_t now = monotonicNs();
        if (n == 0) { // the peer closed
            StreamResult &r = c->result;
            if (c->state == Conn::State::Body && !c->chunked && c->contentLength < 0) {
                r.complete = true; // close-delimited body
                if (!c->lines.empty()) {
                    c->lines.push_back('\n');
                    consumeLines(c, now);
                }
            }
            finish(c, r.complete ? std::string() : std::string("closed early"));
            return false;
        }
        c->in.append(m_readBuffer.data(), size_t(n));
        if (c->state == Conn::State::Head) {
            if (!parseHead(c, now))
                return false;
            if (c->state == Conn::State::Head)
                continue;
        }
        if (!decodeBody(c))
            return false;
        consumeLines(c, now);
        if (c->result.complete) {
            finish(c, std::string());
            return false;
        }
        // A short read drained the socket; level-triggered epoll reports anything newer, so the
        // recv() that would only say EAGAIN is saved (one syscall per frame).
        if (size_t(n) < m_readBuffer.size())
            return true;
    }
}

bool Engine::parseHead(Conn *c, int64_t now)
{
    const size_t end = c->in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c->in.size() > 64 * 1024) {
            finish(c, "response head too large");
            return false;
        }
        return true;
    }
    const std::string head = c->in.substr(0, end);
    c->in.erase(0, end + 4);
    if (head.compare(0, 7, "HTTP/1.") != 0 || head.size() < 12) {
        finish(c, "not an HTTP response");
        return false;
    }
    c->result.status = std::atoi(head.c_str() + 9);
    c->result.headersNs = now;
    // Header names compared case-insensitively on a lower-cased copy.
    std::string lower = head;
    for (char &ch : lower)
        ch = char(std::tolower(static_cast<unsigned char>(ch)));
    c->chunked = lower.find("\r\ntransfer-encoding: chunked") != std::string::npos;
    const size_t cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos)
        c->contentLength = std::atoll(lower.c_str() + cl + 17);
    c->state = Conn::State::Body;
    c->streaming = true;
    ++m_streaming;
    if (c->result.status != 200) {
        // Read the (small) error body for the close, but it is a failed stream either way.
        c->result.errorEvent = true;
    }
    return true;
}

bool Engine::decodeBody(Conn *c)
{
    if (!c->chunked) {
        c->lines.append(c->in);
        c->bodyBytes += int64_t(c->in.size());
        c->in.clear();
        if (c->contentLength >= 0 && c->bodyBytes >= c->contentLength) {
            c->result.complete = true;
            c->lines.push_back('\n');
        }
        return true;
    }
    size_t pos = 0;
    std::string &in = c->in;
    while (pos < in.size() && c->chunk != Conn::Chunk::Done) {
        switch (c->chunk) {
        case Conn::Chunk::Size: {
            const size_t eol = in.find("\r\n", pos);
            if (eol == std::string::npos) {
                if (in.size() - pos > 1024) {
                    finish(c, "bad chunk size line");
                    return false;
                }
                in.erase(0, pos);
                return true;
            }
            char *endp = nullptr;
            const long long size = std::strtoll(in.c_str() + pos, &endp, 16);
            if (endp == in.c_str() + pos || size < 0) {
                finish(c, "bad chunk size");
                return false;
            }
            pos = eol + 2;
            if (size == 0) {
                c->chunk = Conn::Chunk::Done;
                c->result.complete = true;
                c->lines.push_back('\n');
            } else {
                c->chunkLeft = size;
                c->chunk = Conn::Chunk::Data;
            }
            break;
        }
        case Conn::Chunk::Data: {
            const size_t take = std::min<size_t>(size_t(c->chunkLeft), in.size() - pos);
            c->lines.append(in, pos, take);
            pos += take;
            c->chunkLeft -= int64_t(take);
            if (c->chunkLeft == 0)
                c->chunk = Conn::Chunk::DataEnd;
            break;
        }
        case Conn::Chunk::DataEnd:
            if (in.size() - pos < 2) {
                in.erase(0, pos);
                return true;
            }
            pos += 2;
            c->chunk = Conn::Chunk::Size;
            break;
        case Conn::Chunk::Done:
            break;
        }
    }
    in.erase(0, pos);
    return true;
}

void Engine::consumeLines(Conn *c, int64_t now)
{
    std::string &buf = c->lines;
    size_t start = 0;
    StreamResult &r = c->result;
    for (;;) {
        const size_t eol = buf.find('\n', start);
        if (eol == std::string::npos)
            break;
        const LineScan scan = scanLine(buf.data() + start, buf.data() + eol);
        start = eol + 1;
        for (const auto &[seq, emitNs] : scan.stamps) {
            int64_t gap = -1;
            if (r.frames == 0) {
                r.firstFrameNs = now;
            } else {
                gap = now - r.lastFrameNs;
                if (gap > m_options.stallNs)
                    ++r.stalls;
            }
            r.lastFrameNs = now;
            ++r.frames;
            if (seq > c->nextSeq)
                r.missing += int(seq - c->nextSeq);
            else if (seq < c->nextSeq)
                ++r.outOfOrder;
            c->nextSeq = std::max(c->nextSeq, seq + 1);
            const int64_t emitGap = gap < 0 ? -1 : emitNs - c->lastEmitNs;
            c->lastEmitNs = emitNs;
            if (m_onFrame)
                m_onFrame(c->target, now, emitNs, gap, emitGap);
        }
        if (scan.done)
            r.done = true;
        if (scan.error)
            r.errorEvent = true;
    }
    buf.erase(0, start);
}

void Engine::finish(Conn *c, const std::string &failure)
{
    StreamResult &r = c->result;
    r.endNs = monotonicNs();
    r.failure = failure;
    if (r.failure.empty()) {
        if (r.status != 200)
            r.failure = "http " + std::to_string(r.status);
        else if (r.errorEvent)
            r.failure = "error event";
        else if (!r.done)
            r.failure = "no closing event";
        else if (r.missing > 0)
            r.failure = "missing frames";
        else if (m_options.expectedFrames > 0 && r.frames != m_options.expectedFrames)
            r.failure =
                "frames " + std::to_string(r.frames) + " of " + std::to_string(m_options.expectedFrames);
    }
    if (c->fd >= 0) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c->fd, nullptr);
        ::close(c->fd);
    }
    if (c->streaming)
        --m_streaming;
    --m_open;
    Conn *last = m_conns.back();
    last->index = c->index;
    m_conns[c->index] = last;
    m_conns.pop_back();
    const StreamResult result = r;
    const int target = c->target;
    delete c;
    if (m_onEnd)
        m_onEnd(target, result);
}

} // namespace loadclient
