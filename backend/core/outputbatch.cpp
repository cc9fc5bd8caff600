#include "outputbatch.h"

#include <algorithm>

OutputBatch::State &OutputBatch::state()
{
    thread_local State s;
    return s;
}

OutputBatch::OutputBatch()
{
    ++state().depth;
}

OutputBatch::~OutputBatch()
{
    // Still open while flushing: what the flush causes to be written (a stream ended by another
    // one's failed send) queues behind what waits, instead of overtaking it.
    if (state().depth == 1)
        flush();
    --state().depth;
}

void OutputBatch::flush()
{
    State &s = state();
    if (s.flushing)
        return; // already flushing further up the stack
    // A flush may close a stream, and that may enlist or withdraw others: work on a copy that
    // withdraw() can null out, and keep going until nothing is pending.
    while (!s.pending.empty()) {
        std::vector<Sink *> batch;
        batch.swap(s.pending);
        s.flushing = &batch;
        for (Sink *&sink : batch) {
            if (!sink)
                continue;
            Sink *current = sink;
            sink = nullptr;
            current->m_enlisted = false;
            current->flushBatch();
        }
        s.flushing = nullptr;
    }
}

bool OutputBatch::isOpen()
{
    return state().depth > 0;
}

void OutputBatch::enlist(Sink *sink)
{
    if (sink->m_enlisted)
        return;
    sink->m_enlisted = true;
    state().pending.push_back(sink);
}

void OutputBatch::withdraw(Sink *sink)
{
    if (!sink->m_enlisted)
        return;
    sink->m_enlisted = false;
    State &s = state();
    if (const auto it = std::find(s.pending.begin(), s.pending.end(), sink); it != s.pending.end())
        s.pending.erase(it);
    if (s.flushing)
        std::replace(s.flushing->begin(), s.flushing->end(), sink, static_cast<Sink *>(nullptr));
}

OutputBatch::Sink::~Sink()
{
    OutputBatch::withdraw(this);
}
