#pragma once

#include <cstdint>

namespace loadclient {

// A light upstream for the stream-capacity runs: the fake upstream's stamped streaming scenario
// (`fake:tokens=N,delay=MS,first=MS,stamp=1`, chunked `chat.completion.chunk` events, usage chunk
// when asked for, `data: [DONE]`, the chunked terminator) byte for byte but for ids and times, on
// one epoll loop with a timer heap. Like real servers it keeps HTTP/1.1 connections alive and reads
// the next request on them, unless the client sends `Connection: close`. The Qt fake spends tens
// of microseconds per paced chunk (a QTimer, a std::function and a QString per chunk), which caps
// a one-core rig near 25k chunks/s; this spends a few, so the relay under test rather than the rig
// runs out first. Listens on 127.0.0.1 only; prints "listening on <port>" and serves until killed.
int runPacer(int port);

} // namespace loadclient
