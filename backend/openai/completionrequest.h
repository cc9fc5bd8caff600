#pragma once

#include "llm/llmtypes.h"
#include "openaierror.h"

#include <QByteArray>
#include <QString>

// A POST /v1/chat/completions body, decoded and checked the way OpenAI checks it: each refusal
// names the field at fault (`param`). Pure: no I/O, no state, so it is unit-tested and fuzzed alone.
struct CompletionRequest
{
    QString model; // an agent's id or its unique name
    bool stream = false;
    bool includeUsage = false; // stream_options.include_usage: a last chunk with the usage
    // The caller's conversation, tools and settings (ChatOptions::caller).
    ChatRequest caller;
    // What the session keeps as this call's user message: the newest user words (images named),
    // or the tool results the call brings back.
    QString record;

    static constexpr int maxMessages = 10000;
    static constexpr int maxImages = 20;
    static constexpr int maxStops = 4;
    static constexpr qsizetype maxImageBytes = 20 * 1024 * 1024;

    struct Result;
    static Result decode(const QByteArray &body);
};

struct CompletionRequest::Result
{
    CompletionRequest request;
    OpenAiError error;
    bool ok() const { return !error.isError(); }
};
