#pragma once

#include "loadclient.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loadclient {

// Runs many streams at once on one epoll loop, one request per connection.
class Engine
{
public:
    struct Options
    {
        int expectedFrames = 0;         // > 0: a stream with another count of frames failed
        int64_t stallNs = 1000000000LL; // a frame gap longer than this is a stall
    };
    // Per stamped frame: the stream's target, receive time, emit stamp, and the gaps to the previous
    // frame of the stream at the client and at the upstream (-1 for the first).
    using FrameHandler =
        std::function<void(int target, int64_t recvNs, int64_t emitNs, int64_t gapNs, int64_t emitGapNs)>;
    using EndHandler = std::function<void(int target, const StreamResult &result)>;

    Engine(const std::vector<Target> &targets, const Options &options);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    void onFrame(FrameHandler handler) { m_onFrame = std::move(handler); }
    void onEnd(EndHandler handler) { m_onEnd = std::move(handler); }

    // Starts one stream to targets[target]; false when no socket could be made (counted as ended).
    bool open(int target);
    // Waits up to timeoutMs for socket events and handles them.
    void poll(int timeoutMs);
    // Ends every open stream as failed with `reason`.
    void abortAll(const std::string &reason);

    int openStreams() const { return m_open; }
    // Streams past their response headers that have not ended.
    int streamingStreams() const { return m_streaming; }

private:
    struct Conn;
    void handle(Conn *c, uint32_t events);
    bool readSome(Conn *c);
    bool parseHead(Conn *c, int64_t now);
    bool decodeBody(Conn *c);
    void consumeLines(Conn *c, int64_t now);
    void finish(Conn *c, const std::string &failure);

    const std::vector<Target> &m_targets;
    Options m_options;
    int m_epoll = -1;
    int m_open = 0;
    int m_streaming = 0;
    std::vector<char> m_readBuffer;
    FrameHandler m_onFrame;
    EndHandler m_onEnd;
    std::vector<Conn *> m_conns;
};

} // namespace loadclient
