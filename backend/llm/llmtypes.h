#pragma once

#include <QJsonArray>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QUrl>

#include <optional>

// Plain values exchanged with upstream providers. Kept free of QObject so they copy cheaply
// across signals.

struct ChatMessage
{
    QString role; // "system" | "user" | "assistant" | "tool"
    QString content;
    QJsonArray toolCalls; // assistant: the calls it made, OpenAI's [{id, type, function: {name, arguments}}]
    QString toolCallId;   // tool: the call this is the result of
};

// A function call the model made: its arguments are JSON text as the model wrote them.
struct ToolCall
{
    QString id;
    QString name;
    QString arguments;
};

struct ChatRequest
{
    QList<ChatMessage> messages;
    QJsonArray tools; // OpenAI's [{type: "function", function: {name, description, parameters}}]
    QString model; // empty: the provider's default model
    std::optional<double> temperature;
    std::optional<int> maxTokens;
};

// An OpenAI-compatible endpoint. `kind` "demo" is the built-in stand-in used while no real
// provider is configured.
struct ProviderConfig
{
    QString name;
    QString kind = QStringLiteral("openai"); // "openai" | "demo"
    QUrl baseUrl; // e.g. https://api.openai.com/v1 (".../chat/completions" is appended)
    QString model;
    QString apiKey; // never persisted in the database, never logged
    int connectTimeoutMs = 15000;
    int stallTimeoutMs = 120000; // no byte for this long ends the stream; total duration is unbounded

    bool isDemo() const { return kind == QLatin1String("demo"); }
};

struct LlmCompletion
{
    QString finishReason; // upstream's raw value: "stop", "length", "tool_calls", "content_filter", ...
    QString model;        // as reported by the upstream, else the requested model
    int promptTokens = 0;
    int completionTokens = 0;
    bool usageEstimated = false; // true when the upstream sent no usage and we counted ourselves
    QList<ToolCall> toolCalls;   // the model wants these run before it goes on
};

struct LlmError
{
    enum Kind { Network, Timeout, Http, Protocol, Aborted };
    Kind kind = Network;
    int httpStatus = 0; // 0 when no HTTP response arrived
    QString code;       // stable code: "upstream_unreachable", "upstream_timeout", "upstream_http_401", ...
    QString message;    // human readable; for HTTP errors the upstream's own error message
};

Q_DECLARE_METATYPE(ChatMessage)
Q_DECLARE_METATYPE(LlmCompletion)
Q_DECLARE_METATYPE(LlmError)
