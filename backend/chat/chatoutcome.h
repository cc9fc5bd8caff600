#pragma once

#include "core/apierror.h"
#include "llm/llmtypes.h"

#include <QString>

// How a reply ended. `ok` replies close the stream with a `done` chunk (cancelled ones
// included); the others with an `error` chunk. Either way `content` is what was saved.
struct ChatOutcome
{
    bool ok = false;
    QString finishReason; // "Stop", "Length", "ToolCalls", "ContentFilter", "Cancelled", "Error", ...
    QString model;
    QString content;
    int promptTokens = 0;
    int completionTokens = 0;
    int reasoningTokens = -1; // of completionTokens, when the provider said
    bool tokensEstimated = false;
    int steps = 1; // model rounds
    bool saved = false;
    ApiError error;              // for failures: 502/504 and the upstream's code and message
    int upstreamStatus = 0;      // the HTTP status the upstream failed with (0: none, or no failure)
    QString upstreamMessage;     // ... and its own words
    QList<ToolCall> clientCalls; // "ToolCalls" for the caller's own functions (ChatTurn::Tools)

    qint64 tokensUsed() const { return qint64(promptTokens) + completionTokens; }
};
