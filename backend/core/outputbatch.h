#pragma once

#include <vector>

// While a batch is open on a thread, writes to client streams wait, and leave when the outermost
// batch closes: the events one upstream read produced go out in one system call per client
// instead of one per event (the send, with loopback delivery, is most of a chunk's CPU).
// Batches nest; a sink is flushed once per batch.
class OutputBatch
{
public:
    class Sink
    {
    public:
        virtual void flushBatch() = 0;

    protected:
        ~Sink();
        bool m_enlisted = false;
        friend class OutputBatch;
    };

    OutputBatch();
    ~OutputBatch();
    OutputBatch(const OutputBatch &) = delete;
    OutputBatch &operator=(const OutputBatch &) = delete;

    static bool isOpen();
    // Sends what waits now, the batch staying open: before work that takes long (a commit), so
    // the client does not wait for it.
    static void flush();
    // Flushes `sink` when the batch closes (once, however often it is enlisted).
    static void enlist(Sink *sink);
    // Forgets `sink` (it flushed on its own or is going away).
    static void withdraw(Sink *sink);

private:
    struct State
    {
        int depth = 0;
        std::vector<Sink *> pending;
        std::vector<Sink *> *flushing = nullptr;
    };
    static State &state();
};
