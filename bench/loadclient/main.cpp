// agentdesk-loadclient: load and latency client for bench/run. See --help.

#include "engine.h"
#include "loadclient.h"
#include "pacer.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace loadclient;

namespace {

const char *const usage = R"(usage: agentdesk-loadclient --mode ttft|streams|serve|free-port [options]

Posts one request per connection to loopback HTTP targets and reads the streamed answers. Frames
are the "[<seq>@<CLOCK_MONOTONIC ns>] " stamps of the fake upstream (model "fake:...,stamp=1");
latency is receive time minus stamp. A stream ends at "data: [DONE]" or a "type":"done" chunk.

targets (LABEL is a name of your choice; the first target is the one `streams` uses):
  --target LABEL=URL        http://127.0.0.1:PORT/path (loopback only)
  --header LABEL=NAME:VALUE extra request header (repeatable)
  --body LABEL=JSON         request body
  --frames N                frames each stream must carry (0: do not check)
  --stall-ms N              a frame gap over this is a stall (1000)
  --timeout-s N             end everything after this many seconds (120)
  --watch LABEL=PID         report CPU time, threads and RSS of this process (repeatable)

--mode ttft: one stream at a time, rounds alternate the targets (rotating the order)
  --rounds N (200)  --warmup N (20)  --gap-ms N (2)

--mode streams: `--concurrency` streams to the first target
  --concurrency N (100)  --rate N  opens per second (0: all at once)
  --duration S       > 0: closed loop, a finished stream is replaced until S seconds are up
  --warmup-s S       closed loop: frames and CPU are counted after this (1)
  --settle-ms N      after the last stream ends, wait and sample the watched RSS again (2000)
  --mark N           also sample the watched processes when N streams are open (repeatable)

--mode serve: a light upstream (the "pacer") with the fake upstream's stamped streaming scenario
  --port N           loopback port (0: any; prints "listening on <port>")

--mode free-port: prints a free loopback TCP port

Output: `result ...`, `added ...` and `watch ...` lines of key=value pairs; times in microseconds.
)";

struct Watch
{
    std::string label;
    int pid = 0;
    ProcSample start, peak, end, settled, plateauStart, plateauEnd;
    int peakOpen = -1;
};

struct Args
{
    std::string mode;
    std::vector<Target> targets;
    std::vector<Watch> watches;
    int frames = 0;
    int stallMs = 1000;
    int timeoutS = 120;
    int rounds = 200;
    int warmup = 20;
    int gapMs = 2;
    int concurrency = 100;
    double rate = 0;
    double duration = 0;
    double warmupS = 1;
    int settleMs = 2000;
    int port = 0;
    std::vector<int> marks; // sample the watched processes when this many streams are open
};

[[noreturn]] void die(const std::string &message)
{
    std::fprintf(stderr, "agentdesk-loadclient: %s\n", message.c_str());
    std::exit(2);
}

Target &targetFor(Args &args, const std::string &label)
{
    for (Target &t : args.targets) {
        if (t.label == label)
            return t;
    }
    die("no --target named " + label);
}

std::pair<std::string, std::string> splitLabel(const std::string &value)
{
    const size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0)
        die("expected LABEL=VALUE, got " + value);
    return {value.substr(0, eq), value.substr(eq + 1)};
}

Args parseArgs(int argc, char **argv)
{
    Args args;
    // Targets first, so --header/--body may come in any order.
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            const auto [label, url] = splitLabel(argv[++i]);
            Target t;
            t.label = label;
            std::string error;
            if (!parseUrl(url, &t, &error))
                die(error);
            args.targets.push_back(t);
        }
    }
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        } else if (a == "--mode") {
            args.mode = value();
        } else if (a == "--target") {
            ++i;
        } else if (a == "--header") {
            const auto [label, header] = splitLabel(value());
            targetFor(args, label).headers.push_back(header);
        } else if (a == "--body") {
            const auto [label, body] = splitLabel(value());
            targetFor(args, label).body = body;
        } else if (a == "--watch") {
            const auto [label, pid] = splitLabel(value());
            Watch w;
            w.label = label;
            w.pid = std::atoi(pid.c_str());
            args.watches.push_back(w);
        } else if (a == "--frames") {
            args.frames = std::atoi(value().c_str());
        } else if (a == "--stall-ms") {
            args.stallMs = std::atoi(value().c_str());
        } else if (a == "--timeout-s") {
            args.timeoutS = std::atoi(value().c_str());
        } else if (a == "--rounds") {
            args.rounds = std::atoi(value().c_str());
        } else if (a == "--warmup") {
            args.warmup = std::atoi(value().c_str());
        } else if (a == "--gap-ms") {
            args.gapMs = std::atoi(value().c_str());
        } else if (a == "--concurrency") {
            args.concurrency = std::atoi(value().c_str());
        } else if (a == "--rate") {
            args.rate = std::atof(value().c_str());
        } else if (a == "--duration") {
            args.duration = std::atof(value().c_str());
        } else if (a == "--warmup-s") {
            args.warmupS = std::atof(value().c_str());
        } else if (a == "--port") {
            args.port = std::atoi(value().c_str());
        } else if (a == "--mark") {
            args.marks.push_back(std::atoi(value().c_str()));
        } else if (a == "--settle-ms") {
            args.settleMs = std::atoi(value().c_str());
        } else {
            die("unknown argument " + a + " (see --help)");
        }
    }
    for (Target &t : args.targets)
        t.finalize();
    return args;
}

void raiseFileLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

int64_t selfCpuNs()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return (int64_t(usage.ru_utime.tv_sec) + usage.ru_stime.tv_sec) * 1000000000LL +
           (int64_t(usage.ru_utime.tv_usec) + usage.ru_stime.tv_usec) * 1000LL;
}

long long us(int64_t ns)
{
    return (ns + 500) / 1000;
}

std::string field(const char *prefix, const Summary &s)
{
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  " %s_n=%zu %s_p50_us=%lld %s_p90_us=%lld %s_p99_us=%lld %s_p999_us=%lld %s_max_us=%lld",
                  prefix, s.count, prefix, us(s.p50), prefix, us(s.p90), prefix, us(s.p99), prefix,
                  us(s.p999), prefix, us(s.max));
    return buf;
}

std::string reasons(const std::map<std::string, int> &failures)
{
    std::vector<std::pair<int, std::string>> sorted;
    for (const auto &[reason, count] : failures)
        sorted.emplace_back(count, reason);
    std::sort(sorted.rbegin(), sorted.rend());
    std::string out;
    for (size_t i = 0; i < sorted.size() && i < 4; ++i) {
        std::string r = sorted[i].second;
        std::replace(r.begin(), r.end(), ' ', '_');
        out += (i ? ";" : "") + r + ":" + std::to_string(sorted[i].first);
    }
    return out.empty() ? "none" : out;
}

void sampleAll(std::vector<Watch> &watches, ProcSample Watch::*slot)
{
    for (Watch &w : watches)
        w.*slot = sampleProcess(w.pid);
}

int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
        die("cannot bind a loopback port");
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    ::close(fd);
    std::printf("%d\n", ntohs(addr.sin_port));
    return 0;
}

// --- ttft: interleaved single streams ----------------------------------------------------------

int runTtft(Args &args)
{
    const size_t n = args.targets.size();
    if (n == 0)
        die("--mode ttft needs at least one --target");
    Engine::Options options;
    options.expectedFrames = args.frames;
    options.stallNs = int64_t(args.stallMs) * 1000000;
    Engine engine(args.targets, options);

    struct PerTarget
    {
        std::vector<int64_t> ttft, head, firstLatency, latency;
        int ok = 0;
        std::map<std::string, int> failures;
    };
    std::vector<PerTarget> per(n);
    bool measuring = false;
    bool ended = false;
    StreamResult last;
    engine.onFrame([&](int target, int64_t recvNs, int64_t emitNs, int64_t, int64_t) {
        if (measuring)
            per[size_t(target)].latency.push_back(recvNs - emitNs);
    });
    engine.onEnd([&](int, const StreamResult &r) {
        last = r;
        ended = true;
    });
    sampleAll(args.watches, &Watch::start);
    const int64_t deadline = monotonicNs() + int64_t(args.timeoutS) * 1000000000LL;
    for (int round = 0; round < args.warmup + args.rounds; ++round) {
        measuring = round >= args.warmup;
        for (size_t j = 0; j < n; ++j) {
            const size_t t = (j + size_t(round)) % n;
            ended = false;
            engine.open(int(t));
            while (!ended) {
                engine.poll(100);
                if (monotonicNs() > deadline) {
                    engine.abortAll("timeout");
                    break;
                }
            }
            if (measuring) {
                PerTarget &p = per[t];
                if (last.failure.empty()) {
                    ++p.ok;
                    p.ttft.push_back(last.firstFrameNs - last.startNs);
                    p.head.push_back(last.headersNs - last.startNs);
                } else {
                    ++p.failures[last.failure];
                }
            }
            if (args.gapMs > 0)
                ::usleep(useconds_t(args.gapMs) * 1000);
            if (monotonicNs() > deadline)
                break;
        }
        if (monotonicNs() > deadline) {
            std::fprintf(stderr, "agentdesk-loadclient: timed out after round %d\n", round);
            break;
        }
    }
    sampleAll(args.watches, &Watch::end);

    std::vector<Summary> ttft(n);
    for (size_t t = 0; t < n; ++t) {
        PerTarget &p = per[t];
        ttft[t] = summarize(p.ttft);
        const Summary s = ttft[t];
        int failed = 0;
        for (const auto &kv : p.failures)
            failed += kv.second;
        std::printf(
            "result target=%s mode=ttft rounds=%d ok=%d failed=%d fail_reasons=%s ttft_mean_us=%lld%s%s%s\n",
            args.targets[t].label.c_str(), args.rounds, p.ok, failed, reasons(p.failures).c_str(),
            us(int64_t(s.mean)), field("ttft", s).c_str(), field("head", summarize(p.head)).c_str(),
            field("lat", summarize(p.latency)).c_str());
    }
    for (size_t t = 1; t < n; ++t) {
        for (size_t b = 0; b < t; ++b) {
            std::printf("added target=%s vs=%s ttft_p50_us=%lld ttft_p99_us=%lld ttft_mean_us=%lld\n",
                        args.targets[t].label.c_str(), args.targets[b].label.c_str(),
                        us(ttft[t].p50 - ttft[b].p50), us(ttft[t].p99 - ttft[b].p99),
                        us(int64_t(ttft[t].mean - ttft[b].mean)));
        }
    }
    for (Watch &w : args.watches) {
        std::printf("watch label=%s pid=%d cpu_ms=%lld rss_kib=%lld threads=%d\n", w.label.c_str(), w.pid,
                    (long long)((w.end.cpuTicks - w.start.cpuTicks) * 1000 / ticksPerSecond()),
                    (long long)w.end.rssKiB, w.end.threads);
    }
    return 0;
}

// --- streams: many at once ---------------------------------------------------------------------

int runStreams(Args &args)
{
    if (args.targets.empty())
        die("--mode streams needs a --target");
    Engine::Options options;
    options.expectedFrames = args.frames;
    options.stallNs = int64_t(args.stallMs) * 1000000;
    Engine engine(args.targets, options);

    const bool loop = args.duration > 0;
    std::vector<int64_t> latency, gaps, emitGaps, ttft;
    // The plateau: from the moment all `concurrency` streams are open to the first one ending. Its
    // frames say what holding that many streams costs, apart from opening them.
    std::vector<int64_t> plateauLatency, plateauGaps;
    bool plateau = false;
    int64_t plateauStartNs = 0, plateauEndNs = 0;
    latency.reserve(1 << 20);
    gaps.reserve(1 << 20);
    int64_t frames = 0, windowFrames = 0, missing = 0, stalls = 0, outOfOrder = 0;
    int ok = 0, failed = 0, started = 0, peakStreaming = 0;
    std::map<std::string, int> failures;
    bool inWindow = !loop;
    int64_t lastPeakSample = 0;
    struct Mark
    {
        int open;
        std::vector<ProcSample> samples;
    };
    std::vector<Mark> marks;
    for (const int m : args.marks)
        marks.push_back({m, {}});

    auto endPlateau = [&] {
        if (!plateau)
            return;
        plateau = false;
        plateauEndNs = monotonicNs();
        sampleAll(args.watches, &Watch::plateauEnd);
    };
    engine.onFrame([&](int, int64_t recvNs, int64_t emitNs, int64_t gapNs, int64_t emitGapNs) {
        ++frames;
        if (plateau) {
            plateauLatency.push_back(recvNs - emitNs);
            if (gapNs >= 0)
                plateauGaps.push_back(gapNs);
        }
        if (!inWindow)
            return;
        ++windowFrames;
        latency.push_back(recvNs - emitNs);
        if (gapNs >= 0)
            gaps.push_back(gapNs);
        if (emitGapNs >= 0)
            emitGaps.push_back(emitGapNs);
    });
    engine.onEnd([&](int, const StreamResult &r) {
        endPlateau();
        if (r.failure.empty()) {
            ++ok;
            ttft.push_back(r.firstFrameNs - r.startNs);
        } else {
            ++failed;
            ++failures[r.failure];
        }
        missing += r.missing;
        stalls += r.stalls;
        outOfOrder += r.outOfOrder;
    });

    const int64_t t0 = monotonicNs();
    const int64_t deadline = t0 + int64_t(args.timeoutS) * 1000000000LL;
    const int64_t windowStart = loop ? t0 + int64_t(args.warmupS * 1e9) : t0;
    const int64_t windowEnd = loop ? windowStart + int64_t(args.duration * 1e9) : 0;
    int64_t windowStartNs = t0, windowEndNs = 0;
    int64_t cpu0 = selfCpuNs(), cpu1 = 0;
    sampleAll(args.watches, &Watch::start);

    for (;;) {
        const int64_t now = monotonicNs();
        if (loop && !inWindow && windowEndNs == 0 && now >= windowStart) {
            inWindow = true;
            windowStartNs = now;
            cpu0 = selfCpuNs();
            sampleAll(args.watches, &Watch::start);
        }
        if (loop && inWindow && now >= windowEnd) {
            inWindow = false;
            windowEndNs = now;
            cpu1 = selfCpuNs();
            sampleAll(args.watches, &Watch::end);
        }
        // Open what is due: everything at once, at --rate, or (closed loop) to refill.
        int due = args.concurrency - started;
        if (args.rate > 0)
            due = std::min<int64_t>(due, int64_t(double(now - t0) * args.rate / 1e9) + 1 - started);
        if (loop && now < windowEnd) {
            const int refill = args.concurrency - engine.openStreams();
            due = std::max(due, refill);
        }
        for (int i = 0; i < due; ++i) {
            engine.open(0);
            ++started;
        }
        const int streaming = engine.streamingStreams();
        if (!loop && !plateau && plateauStartNs == 0 && started >= args.concurrency &&
            streaming == args.concurrency) {
            plateau = true;
            plateauStartNs = now;
            sampleAll(args.watches, &Watch::plateauStart);
        }
        for (Mark &m : marks) {
            if (m.samples.empty() && streaming >= m.open) {
                for (const Watch &w : args.watches)
                    m.samples.push_back(sampleProcess(w.pid));
            }
        }
        if (streaming > peakStreaming) {
            peakStreaming = streaming;
            if (streaming == args.concurrency || now - lastPeakSample > 100000000) {
                lastPeakSample = now;
                sampleAll(args.watches, &Watch::peak);
                for (Watch &w : args.watches)
                    w.peakOpen = streaming;
            }
        }
        if (engine.openStreams() == 0 && started >= args.concurrency && (!loop || now >= windowEnd))
            break;
        if (now > deadline) {
            engine.abortAll("timeout");
            break;
        }
        engine.poll(args.rate > 0 && started < args.concurrency ? 1 : 20);
    }
    endPlateau();
    const int64_t tEnd = monotonicNs();
    if (!loop) {
        windowEndNs = tEnd;
        cpu1 = selfCpuNs();
        sampleAll(args.watches, &Watch::end);
    }
    if (args.settleMs > 0)
        ::usleep(useconds_t(args.settleMs) * 1000);
    sampleAll(args.watches, &Watch::settled);

    const double windowS = double(windowEndNs - windowStartNs) / 1e9;
    const Summary lat = summarize(latency);
    std::printf(
        "result target=%s mode=streams concurrency=%d started=%d ok=%d failed=%d fail_reasons=%s frames=%lld "
        "expected_frames=%lld missing=%lld out_of_order=%lld stalls=%lld peak_open=%d wall_s=%.3f "
        "window_s=%.3f "
        "window_frames=%lld frames_per_s=%.0f self_cpu_pct=%.1f plateau_s=%.3f%s%s%s%s%s%s\n",
        args.targets[0].label.c_str(), args.concurrency, started, ok, failed, reasons(failures).c_str(),
        (long long)frames, (long long)(loop ? 0 : int64_t(args.frames) * started), (long long)missing,
        (long long)outOfOrder, (long long)stalls, peakStreaming, double(tEnd - t0) / 1e9, windowS,
        (long long)windowFrames, windowS > 0 ? double(windowFrames) / windowS : 0.0,
        windowS > 0 ? 100.0 * double(cpu1 - cpu0) / 1e9 / windowS : 0.0,
        double(plateauEndNs - plateauStartNs) / 1e9, field("lat", lat).c_str(),
        field("gap", summarize(gaps)).c_str(), field("emitgap", summarize(emitGaps)).c_str(),
        field("ttft", summarize(ttft)).c_str(), field("plat", summarize(plateauLatency)).c_str(),
        field("platgap", summarize(plateauGaps)).c_str());
    for (Watch &w : args.watches) {
        const double cpuS = double(w.end.cpuTicks - w.start.cpuTicks) / double(ticksPerSecond());
        std::printf(
            "watch label=%s pid=%d cpu_pct=%.1f cpu_us_per_frame=%.2f rss_start_kib=%lld rss_peak_kib=%lld "
            "peak_open=%d rss_end_kib=%lld rss_settled_kib=%lld threads_start=%d threads_peak=%d "
            "threads_settled=%d plateau_cpu_pct=%.1f\n",
            w.label.c_str(), w.pid, windowS > 0 ? 100.0 * cpuS / windowS : 0.0,
            windowFrames > 0 ? cpuS * 1e6 / double(windowFrames) : 0.0, (long long)w.start.rssKiB,
            (long long)w.peak.rssKiB, w.peakOpen, (long long)w.end.rssKiB, (long long)w.settled.rssKiB,
            w.start.threads, w.peak.threads, w.settled.threads,
            plateauEndNs > plateauStartNs
                ? 100.0 * double(w.plateauEnd.cpuTicks - w.plateauStart.cpuTicks) / double(ticksPerSecond()) /
                      (double(plateauEndNs - plateauStartNs) / 1e9)
                : 0.0);
    }
    for (const Mark &m : marks) {
        for (size_t i = 0; i < m.samples.size(); ++i) {
            std::printf("mark label=%s open=%d rss_kib=%lld threads=%d\n", args.watches[i].label.c_str(),
                        m.open, (long long)m.samples[i].rssKiB, m.samples[i].threads);
        }
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    Args args = parseArgs(argc, argv);
    raiseFileLimit();
    if (args.mode == "free-port")
        return freePort();
    if (args.mode == "serve")
        return runPacer(args.port);
    if (args.mode == "ttft")
        return runTtft(args);
    if (args.mode == "streams")
        return runStreams(args);
    std::fputs(usage, stderr);
    return 2;
}
