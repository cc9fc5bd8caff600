#include "loadclient.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace loadclient {

int64_t monotonicNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void Target::finalize()
{
    std::string r;
    r.reserve(256 + body.size());
    r += "POST " + path + " HTTP/1.1\r\nHost: " + host +
         "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nConnection: close\r\n";
    for (const std::string &h : headers)
        r += h + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    request = std::move(r);
}

bool parseUrl(const std::string &url, Target *target, std::string *error)
{
    const std::string scheme = "http://";
    if (url.compare(0, scheme.size(), scheme) != 0) {
        *error = "only http:// URLs: " + url;
        return false;
    }
    const size_t hostStart = scheme.size();
    const size_t slash = url.find('/', hostStart);
    const std::string authority =
        url.substr(hostStart, slash == std::string::npos ? slash : slash - hostStart);
    target->path = slash == std::string::npos ? "/" : url.substr(slash);
    const size_t colon = authority.rfind(':');
    const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
    const int port = colon == std::string::npos ? 80 : std::atoi(authority.c_str() + colon + 1);
    if (port <= 0 || port > 65535) {
        *error = "bad port in " + url;
        return false;
    }
    in_addr addr{};
    if (inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr) != 1) {
        *error = "need a numeric IPv4 loopback address: " + url;
        return false;
    }
    // Load only ever goes to this machine.
    if ((ntohl(addr.s_addr) >> 24) != 127) {
        *error = "refusing a non-loopback address: " + url;
        return false;
    }
    target->address.sin_family = AF_INET;
    target->address.sin_port = htons(uint16_t(port));
    target->address.sin_addr = addr;
    target->host = authority;
    return true;
}

Summary summarize(std::vector<int64_t> values)
{
    Summary s;
    s.count = values.size();
    if (values.empty())
        return s;
    std::sort(values.begin(), values.end());
    long double sum = 0;
    for (const int64_t v : values)
        sum += v;
    s.mean = double(sum / values.size());
    auto at = [&](double q) {
        size_t i = size_t(q * double(values.size()));
        return values[std::min(i, values.size() - 1)];
    };
    s.p50 = at(0.50);
    s.p90 = at(0.90);
    s.p99 = at(0.99);
    s.p999 = at(0.999);
    s.max = values.back();
    return s;
}

static bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

LineScan scanLine(const char *begin, const char *end)
{
    LineScan scan;
    for (const char *p = begin; p < end; ++p) {
        if (*p != '[' || p + 1 >= end || !isDigit(p[1]))
            continue;
        const char *q = p + 1;
        int64_t seq = 0;
        while (q < end && isDigit(*q))
            seq = seq * 10 + (*q++ - '0');
        if (q >= end || *q != '@' || q + 1 >= end || !isDigit(q[1]))
            continue;
        ++q;
        int64_t ns = 0;
        while (q < end && isDigit(*q))
            ns = ns * 10 + (*q++ - '0');
        if (q >= end || *q != ']')
            continue;
        scan.stamps.emplace_back(seq, ns);
        p = q;
    }
    const std::string_view line(begin, size_t(end - begin));
    if (line.find("data: [DONE]") != std::string_view::npos ||
        line.find("\"type\":\"done\"") != std::string_view::npos)
        scan.done = true;
    if (line.find("\"type\":\"error\"") != std::string_view::npos)
        scan.error = true;
    return scan;
}

int64_t ticksPerSecond()
{
    static const int64_t ticks = sysconf(_SC_CLK_TCK);
    return ticks;
}

ProcSample sampleProcess(int pid)
{
    ProcSample s;
    if (pid <= 0)
        return s;
    {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const size_t paren = text.rfind(')');
        if (paren == std::string::npos)
            return s;
        std::istringstream fields(text.substr(paren + 2));
        std::string field;
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        int64_t utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i) {
            if (i == 14)
                utime = std::atoll(field.c_str());
            else if (i == 15)
                stime = std::atoll(field.c_str());
        }
        s.cpuTicks = utime + stime;
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.compare(0, 6, "VmRSS:") == 0)
            s.rssKiB = std::atoll(line.c_str() + 6);
        else if (line.compare(0, 8, "Threads:") == 0)
            s.threads = std::atoi(line.c_str() + 8);
    }
    s.ok = true;
    return s;
}

} // namespace loadclient
