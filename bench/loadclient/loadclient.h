#pragma once

// agentdesk-loadclient: an epoll HTTP/1.1 load client for streamed chat completions. It speaks just
// enough HTTP to post one request per connection and read a streamed answer (chunked,
// Content-Length or close-delimited), and measures each frame against the emit stamp the fake
// upstream puts in the token text: "[<seq>@<CLOCK_MONOTONIC ns>] ". Same clock, same machine, so
// receive time minus stamp is the delay everything after the fake's write() added.

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loadclient {

int64_t monotonicNs();

// One place to send requests to. Only loopback addresses are accepted.
struct Target
{
    std::string label;
    sockaddr_in address{};
    std::string host; // for the Host header
    std::string path;
    std::string body;
    std::vector<std::string> headers; // "Name: value"
    std::string request;              // the whole request, built by finalize()

    void finalize();
};

// Parses "http://127.0.0.1:PORT/path"; false (with `error`) for anything else or a non-loopback host.
bool parseUrl(const std::string &url, Target *target, std::string *error);

// What one stream saw.
struct StreamResult
{
    int status = 0;
    int frames = 0;     // stamped content frames
    int missing = 0;    // seq gaps
    int outOfOrder = 0; // a seq at or below one already seen
    int stalls = 0;     // frame gaps longer than the stall threshold
    bool done = false;  // saw the closing event ([DONE] or "type":"done")
    bool errorEvent = false;
    bool complete = false; // the response ended cleanly (terminator, length or close after done)
    std::string failure;   // empty when the stream was good
    int64_t startNs = 0;
    int64_t connectedNs = 0;
    int64_t headersNs = 0;
    int64_t firstFrameNs = 0;
    int64_t lastFrameNs = 0;
    int64_t endNs = 0;
};

// Percentiles over a sample of nanosecond values.
struct Summary
{
    size_t count = 0;
    double mean = 0;
    int64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};
Summary summarize(std::vector<int64_t> values);

// Scans one complete line of a stream body for stamps and closing events. Exposed for tests.
struct LineScan
{
    std::vector<std::pair<int64_t, int64_t>> stamps; // (seq, emit ns)
    bool done = false;
    bool error = false;
};
LineScan scanLine(const char *begin, const char *end);

// A process to watch: CPU time and resident memory from /proc.
struct ProcSample
{
    bool ok = false;
    int64_t cpuTicks = 0; // utime + stime
    int64_t rssKiB = 0;
    int threads = 0;
};
ProcSample sampleProcess(int pid);
int64_t ticksPerSecond();

} // namespace loadclient
