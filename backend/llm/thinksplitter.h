#pragma once

#include <QString>

// Cuts a `<think>…</think>` block at the start of a streamed reply out of its content, as
// DeepSeek-R1's distills, QwQ and Qwen3 write their reasoning through servers that do not separate
// it (vLLM without a reasoning parser, llama.cpp, older Ollama). Only a block that opens the reply
// (after whitespace) counts: a reply that talks about the tag later keeps it. Tags may be split
// across deltas anywhere; what might still become a tag is held back until it is decided.
class ThinkSplitter
{
public:
    struct Pieces
    {
        QString reasoning;
        QString content;
    };

    Pieces feed(const QString &delta);
    // The stream ended: whatever was held back, as what it was most likely to be.
    Pieces flush();
    bool inThink() const { return m_state == State::Think; }

private:
    enum class State { Start, Think, AfterThink, Content };

    void run(Pieces &out);

    State m_state = State::Start;
    QString m_held;
};
