#pragma once

#include "llm/llmstream.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QStringList>
#include <QTimer>

#include <functional>
#include <optional>

// What the stream tests share: a wait in a real event loop, and a record of what one stream emitted.

// Waits in a real event loop: QTest::qWaitFor sleeps 10 ms per pass, which would make the
// fake's split mode (one piece per pass) crawl.
inline bool waitUntil(const std::function<bool()> &done, int ms)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
    poll.start(2);
    deadline.start(ms);
    loop.exec();
    return done();
}

// What one stream emitted.
struct Outcome
{
    QStringList deltas;
    QStringList reasoning;
    QList<std::tuple<int, QString, QString, QString>> toolDeltas; // index, id, name, fragment
    std::optional<LlmCompletion> completion;
    std::optional<LlmError> error;
    int terminals = 0;
    int afterTerminal = 0; // any signal after the terminal one
    QElapsedTimer clock;
    qint64 terminalMs = -1;

    void watch(LlmStream *stream)
    {
        clock.start();
        QObject::connect(stream, &LlmStream::delta, stream, [this](const QString &text) {
            afterTerminal += terminals;
            deltas.append(text);
        });
        QObject::connect(stream, &LlmStream::reasoning, stream, [this](const QString &text) {
            afterTerminal += terminals;
            reasoning.append(text);
        });
        QObject::connect(stream, &LlmStream::toolCallDelta, stream,
                         [this](int index, const QString &id, const QString &name, const QString &fragment) {
                             afterTerminal += terminals;
                             toolDeltas.append({index, id, name, fragment});
                         });
        QObject::connect(stream, &LlmStream::finished, stream, [this](const LlmCompletion &c) {
            afterTerminal += terminals;
            ++terminals;
            terminalMs = clock.elapsed();
            completion = c;
        });
        QObject::connect(stream, &LlmStream::failed, stream, [this](const LlmError &e) {
            afterTerminal += terminals;
            ++terminals;
            terminalMs = clock.elapsed();
            error = e;
        });
    }
    bool wait(int ms = 5000)
    {
        const bool done = waitUntil([this] { return terminals > 0; }, ms);
        waitUntil([] { return false; }, 30); // room for a (wrong) second terminal signal
        return done;
    }
};
