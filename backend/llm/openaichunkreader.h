#pragma once

#include <QByteArray>

#include <string_view>

// The common chunk of an OpenAI-style stream (one choice, index 0, a delta with text or nothing,
// a finish reason), read with simdjson's On-Demand API: about a tenth of what QJsonDocument takes
// for it, which was a fifth of the relay's CPU per chunk. Anything else (usage, tool calls,
// reasoning, errors, several choices, JSON it cannot vouch for) is left to QJsonDocument.
class OpenAiChunkReader
{
public:
    struct Chunk
    {
        // Views into the reader's buffers: valid until the next read() on this thread.
        std::string_view model;
        std::string_view finishReason;
        std::string_view content;
        bool hasContent = false;
    };

    // True when `json` is such a chunk and `out` holds all it says; one parser per thread.
    static bool read(const QByteArray &json, Chunk &out);
};
