#include "pacer.h"

#include "loadclient.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <queue>
#include <string>
#include <vector>

namespace loadclient {
namespace {

struct Scenario
{
    int tokens = 5;
    int delayMs = 0;
    int firstMs = 0;
    bool stamp = false;
};

// The `fake:k=v,...` model string; keys this pacer does not implement answer 400.
bool parseScenario(const std::string &model, Scenario *s, std::string *bad)
{
    if (model.compare(0, 5, "fake:") != 0)
        return true;
    size_t pos = 5;
    while (pos < model.size()) {
        size_t comma = model.find(',', pos);
        if (comma == std::string::npos)
            comma = model.size();
        const std::string item = model.substr(pos, comma - pos);
        pos = comma + 1;
        if (item.empty())
            continue;
        const size_t eq = item.find('=');
        const std::string key = item.substr(0, eq);
        const std::string value = eq == std::string::npos ? "1" : item.substr(eq + 1);
        const int v = std::atoi(value.c_str());
        if (key == "tokens")
            s->tokens = v;
        else if (key == "delay")
            s->delayMs = v;
        else if (key == "first")
            s->firstMs = v;
        else if (key == "stamp")
            s->stamp = value != "0" && value != "false";
        else if (key != "usage" || value != "1") {
            *bad = key;
            return false;
        }
    }
    return true;
}

// The raw JSON string value of "key" in `body` (escapes kept), or empty.
std::string rawStringField(const std::string &body, const char *key)
{
    const std::string needle = std::string("\"") + key + "\"";
    size_t at = body.find(needle);
    if (at == std::string::npos)
        return {};
    at = body.find(':', at + needle.size());
    if (at == std::string::npos)
        return {};
    at = body.find('"', at);
    if (at == std::string::npos)
        return {};
    size_t end = at + 1;
    while (end < body.size() && body[end] != '"')
        end += body[end] == '\\' ? 2 : 1;
    return body.substr(at + 1, end - at - 1);
}

// The fake's estimate: 3 + 4 per message + characters / 4.
int promptEstimate(const std::string &body)
{
    int messages = 0, chars = 0;
    for (size_t at = body.find("\"role\""); at != std::string::npos; at = body.find("\"role\"", at + 6))
        ++messages;
    for (size_t at = body.find("\"content\""); at != std::string::npos; at = body.find("\"content\"", at + 9))
        chars += int(rawStringField(body.substr(at), "content").size());
    return 3 + 4 * messages + chars / 4;
}

const char *const words[] = {"Hello",     "from", "the",   "fake",  "upstream",
                             "streaming", "one",  "token", "after", "another"};

struct Conn
{
    int fd = -1;
    uint32_t generation = 0;
    std::string in;
    std::string out; // not yet written
    size_t outPos = 0;
    bool responding = false;
    bool keepAlive = false; // this response leaves the connection open for the next request
    bool closeAfterWrite = false;
    Scenario scenario;
    std::string head; // the chunk JSON up to "choices":[
    std::string usageNull;
    std::string usageChunk;
    int next = 0; // content pieces written
};

void frame(std::string &out, const std::string &event)
{
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", event.size());
    out += size;
    out += event;
    out += "\r\n";
}

class Pacer
{
public:
    int run(int port);

private:
    struct Due
    {
        int64_t ns;
        int slot;
        uint32_t generation;
        bool operator>(const Due &o) const { return ns > o.ns; }
    };

    void accept();
    void onEvent(int slot, uint32_t events);
    void onReadable(int slot);
    bool nextRequest(int slot);
    void respond(int slot, size_t headEnd, size_t length);
    void step(int slot);
    void send(int slot, std::string bytes);
    void flush(int slot);
    void drop(int slot);
    void schedule(int slot, int delayMs);

    int m_epoll = -1;
    int m_listen = -1;
    uint64_t m_ids = 0;
    std::vector<Conn> m_conns; // by slot
    std::vector<int> m_free;
    std::priority_queue<Due, std::vector<Due>, std::greater<Due>> m_timers;
};

int Pacer::run(int port)
{
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(uint16_t(port));
    if (::bind(m_listen, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
        ::listen(m_listen, 4096) != 0) {
        std::fprintf(stderr, "agentdesk-loadclient: cannot listen on port %d: %s\n", port,
                     std::strerror(errno));
        return 1;
    }
    socklen_t len = sizeof addr;
    ::getsockname(m_listen, reinterpret_cast<sockaddr *>(&addr), &len);
    std::printf("listening on %d\n", ntohs(addr.sin_port));
    std::fflush(stdout);

    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = ~uint64_t(0);
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_listen, &ev);
    std::vector<epoll_event> events(1024);
    for (;;) {
        int timeoutMs = -1;
        if (!m_timers.empty()) {
            const int64_t wait = m_timers.top().ns - monotonicNs();
            timeoutMs = wait <= 0 ? 0 : int((wait + 999999) / 1000000);
        }
        const int n = ::epoll_wait(m_epoll, events.data(), int(events.size()), timeoutMs);
        for (int i = 0; i < n; ++i) {
            if (events[size_t(i)].data.u64 == ~uint64_t(0))
                accept();
            else
                onEvent(int(events[size_t(i)].data.u64), events[size_t(i)].events);
        }
        const int64_t now = monotonicNs();
        while (!m_timers.empty() && m_timers.top().ns <= now) {
            const Due due = m_timers.top();
            m_timers.pop();
            if (m_conns[size_t(due.slot)].fd >= 0 && m_conns[size_t(due.slot)].generation == due.generation)
                step(due.slot);
        }
    }
}

void Pacer::accept()
{
    for (;;) {
        const int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int slot;
        if (!m_free.empty()) {
            slot = m_free.back();
            m_free.pop_back();
        } else {
            slot = int(m_conns.size());
            m_conns.emplace_back();
        }
        Conn &c = m_conns[size_t(slot)];
        const uint32_t generation = c.generation + 1;
        c = Conn();
        c.fd = fd;
        c.generation = generation;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = uint64_t(slot);
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    }
}

void Pacer::onEvent(int slot, uint32_t events)
{
    if (m_conns[size_t(slot)].fd < 0)
        return;
    if (events & EPOLLOUT)
        flush(slot);
    if (m_conns[size_t(slot)].fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        onReadable(slot);
}

void Pacer::onReadable(int slot)
{
    char buffer[16384];
    for (;;) {
        Conn &c = m_conns[size_t(slot)];
        const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { // the peer went away (or an error): stop streaming to it
            drop(slot);
            return;
        }
        // A request sent while the previous one is answered (pipelining) waits its turn.
        if (c.in.size() < (size_t(1) << 20))
            c.in.append(buffer, size_t(n));
        if (!c.responding)
            nextRequest(slot);
    }
}

// Answers the request at the start of the connection's input once it is complete.
bool Pacer::nextRequest(int slot)
{
    Conn &c = m_conns[size_t(slot)];
    const size_t headEnd = c.in.find("\r\n\r\n");
    if (headEnd == std::string::npos)
        return false;
    std::string lower = c.in.substr(0, headEnd);
    for (char &ch : lower)
        ch = char(std::tolower(static_cast<unsigned char>(ch)));
    const size_t cl = lower.find("\r\ncontent-length:");
    const size_t length = cl == std::string::npos ? 0 : size_t(std::atoll(lower.c_str() + cl + 17));
    if (c.in.size() < headEnd + 4 + length)
        return false;
    // HTTP/1.1 keeps the connection, as real servers do, unless the client asks to close.
    const std::string requestLine = lower.substr(0, lower.find("\r\n"));
    c.keepAlive = requestLine.size() >= 8 &&
                  requestLine.compare(requestLine.size() - 8, 8, "http/1.1") == 0 &&
                  lower.find("\r\nconnection: close") == std::string::npos;
    respond(slot, headEnd, length);
    return true;
}

void Pacer::respond(int slot, size_t headEnd, size_t length)
{
    Conn &c = m_conns[size_t(slot)];
    c.responding = true;
    c.scenario = Scenario();
    c.usageChunk.clear();
    const std::string body = c.in.substr(headEnd + 4, length);
    const std::string path =
        c.in.substr(c.in.find(' ') + 1, c.in.find(' ', c.in.find(' ') + 1) - c.in.find(' ') - 1);
    c.in.erase(0, headEnd + 4 + length);
    const std::string model = rawStringField(body, "model");
    std::string bad;
    if (path.compare(0, 20, "/v1/chat/completions") != 0 && path.compare(0, 17, "/chat/completions") != 0)
        bad = "path";
    else if (body.find("\"stream\":true") == std::string::npos)
        bad = "stream";
    if (!bad.empty() || !parseScenario(model, &c.scenario, &bad)) {
        const std::string error = "{\"error\":{\"message\":\"the bench pacer does not do " + bad +
                                  "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}";
        c.closeAfterWrite = true;
        send(slot, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(error.size()) + "\r\nConnection: close\r\n\r\n" + error);
        return;
    }
    const bool includeUsage = body.find("\"include_usage\":true") != std::string::npos;
    c.usageNull = includeUsage ? ",\"usage\":null" : "";
    c.head = "{\"id\":\"chatcmpl-fake" + std::to_string(++m_ids) +
             "\",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(time(nullptr)) +
             ",\"model\":\"" + model + "\",\"system_fingerprint\":\"fp_fake\",\"choices\":[";
    if (includeUsage) {
        const int prompt = promptEstimate(body);
        const int completion = c.scenario.tokens;
        c.usageChunk = "data: " + c.head + "],\"usage\":{\"prompt_tokens\":" + std::to_string(prompt) +
                       ",\"completion_tokens\":" + std::to_string(completion) +
                       ",\"total_tokens\":" + std::to_string(prompt + completion) + "}}\n\n";
    }
    send(slot, std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                           "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n") +
                   (c.keepAlive ? "" : "Connection: close\r\n") + "Transfer-Encoding: chunked\r\n\r\n");
    if (m_conns[size_t(slot)].fd < 0)
        return;
    c.next = -1; // the role chunk comes first
    if (c.scenario.firstMs > 0)
        schedule(slot, c.scenario.firstMs);
    else
        step(slot);
}

// Writes the next event (the role chunk, a content chunk, or the end) and, with no delay between
// them, every event after it in the same write, as the fake's buffered socket does.
void Pacer::step(int slot)
{
    Conn &c = m_conns[size_t(slot)];
    std::string out;
    bool ended = false;
    for (;;) {
        if (c.next < 0) {
            frame(out,
                  "data: " + c.head +
                      "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
                      "\"finish_reason\":null}]" +
                      c.usageNull + "}\n\n");
        } else if (c.next < c.scenario.tokens) {
            char content[64];
            if (c.scenario.stamp)
                std::snprintf(content, sizeof content, "[%d@%lld] ", c.next, (long long)monotonicNs());
            else
                std::snprintf(content, sizeof content, "%s%s", c.next ? " " : "", words[c.next % 10]);
            frame(out, "data: " + c.head + "{\"index\":0,\"delta\":{\"content\":\"" + content +
                           "\"},\"logprobs\":null,\"finish_reason\":null}]" + c.usageNull + "}\n\n");
        } else {
            frame(out, "data: " + c.head +
                           "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]" +
                           c.usageNull + "}\n\n");
            if (!c.usageChunk.empty())
                frame(out, c.usageChunk);
            frame(out, "data: [DONE]\n\n");
            out += "0\r\n\r\n";
            ended = true;
            c.closeAfterWrite = !c.keepAlive;
        }
        ++c.next;
        if (ended || c.scenario.delayMs > 0)
            break;
    }
    send(slot, std::move(out));
    if (c.fd < 0)
        return;
    if (!ended) {
        schedule(slot, c.scenario.delayMs);
    } else if (c.keepAlive) {
        c.responding = false;
        nextRequest(slot); // one that came while we answered
    }
}

void Pacer::schedule(int slot, int delayMs)
{
    m_timers.push({monotonicNs() + int64_t(delayMs) * 1000000, slot, m_conns[size_t(slot)].generation});
}

void Pacer::send(int slot, std::string bytes)
{
    Conn &c = m_conns[size_t(slot)];
    if (c.outPos < c.out.size()) {
        c.out.append(bytes);
    } else {
        c.out = std::move(bytes);
        c.outPos = 0;
    }
    flush(slot);
}

void Pacer::flush(int slot)
{
    Conn &c = m_conns[size_t(slot)];
    while (c.outPos < c.out.size()) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) {
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
                ev.data.u64 = uint64_t(slot);
                ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &ev);
                return;
            }
            drop(slot);
            return;
        }
        c.outPos += size_t(n);
    }
    c.out.clear();
    c.outPos = 0;
    if (c.closeAfterWrite)
        drop(slot);
}

void Pacer::drop(int slot)
{
    Conn &c = m_conns[size_t(slot)];
    if (c.fd < 0)
        return;
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.out = std::string();
    c.in = std::string();
    ++c.generation;
    m_free.push_back(slot);
}

} // namespace

int runPacer(int port)
{
    Pacer pacer;
    return pacer.run(port);
}

} // namespace loadclient
