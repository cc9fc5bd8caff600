#pragma once

#include <QJsonArray>
#include <QJsonValue>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

// Plain values exchanged with upstream providers. Kept free of QObject so they copy cheaply
// across signals.

// An image the model is shown with a user message: the bytes, never a URL (each provider takes
// them inline: OpenAI as a data URL, Anthropic and Ollama as base64).
struct ChatImage
{
    QString mediaType; // image/png, image/jpeg, image/webp, image/gif
    QByteArray data;
};

struct ChatMessage
{
    QString role; // "system" | "user" | "assistant" | "tool"
    QString content;
    QList<ChatImage> images; // user: images that go with the text
    QJsonArray toolCalls; // assistant: the calls it made, OpenAI's [{id, type, function: {name, arguments}}]
    QString toolCallId;   // tool: the call this is the result of
    bool toolError = false; // tool: the result is an error
    // Assistant, within one reply's tool loop only: what the model reasoned before its calls, for
    // the providers that must be sent it back (DeepSeek's `reasoning_content`; Anthropic's thinking
    // blocks with their signatures, kept as the provider sent them). Never sent for earlier turns.
    QString reasoningContent;
    QString reasoningField; // the field it came in and goes back in: "reasoning_content" (empty), "reasoning"
    QJsonArray thinkingBlocks;
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
    QJsonArray tools;      // OpenAI's [{type: "function", function: {name, description, parameters}}]
    QString model;         // empty: the provider's default model
    int contextWindow = 0; // the model's context length where the provider said (Ollama); 0 unknown
    std::optional<double> temperature;
    std::optional<int> maxTokens;
    QStringList stop;           // up to 4 sequences that end the answer
    std::optional<qint64> seed; // where the provider samples reproducibly (OpenAI, Ollama)
    // OpenAI's tool_choice ("auto", "none", "required" or {type: function, function: {name}});
    // undefined: the provider's default. Each protocol says it its own way.
    QJsonValue toolChoice = QJsonValue(QJsonValue::Undefined);
    std::optional<bool> parallelToolCalls;
    // How hard a reasoning model thinks: "low", "medium", "high"; "off" asks for no reasoning
    // where the provider can turn it off; empty leaves it to the provider.
    QString reasoningEffort;
};

// An upstream model service. `kind` picks the wire protocol: "openai" (any OpenAI-compatible
// `/chat/completions`), "anthropic" (the Messages API), "ollama" (its native `/api/chat`), or
// "demo", the built-in stand-in used while no real provider is configured.
struct ProviderConfig
{
    QString name;
    QString kind = QStringLiteral("openai"); // "openai" | "anthropic" | "ollama" | "demo"
    QUrl baseUrl; // e.g. https://api.openai.com/v1, https://api.anthropic.com, http://localhost:11434
    QString model;
    // Whether its models take images: "auto" (known per model, asked of Ollama), "yes" or "no".
    QString vision = QStringLiteral("auto");
    QStringList allowedModels; // an admin's limit on the models used through it; empty: any
    QString apiKey;            // never persisted in the database, never logged
    int connectTimeoutMs = 15000;
    int stallTimeoutMs = 120000; // no byte for this long ends the stream; total duration is unbounded

    bool isDemo() const { return kind == QLatin1String("demo"); }
    static bool isKnownKind(const QString &kind)
    {
        return kind == QLatin1String("openai") || kind == QLatin1String("anthropic") ||
               kind == QLatin1String("ollama");
    }
};

// A model a provider offers (GET /v1/models, Ollama's /api/tags).
struct ModelInfo
{
    QString id;
    QString name;    // a display name, when the provider gives one
    QString ownedBy; // OpenAI's owned_by; Ollama's family
    qint64 created = 0;
    qint64 size = 0; // Ollama: bytes on disk
};

struct LlmCompletion
{
    QString finishReason; // upstream's raw value: "stop", "length", "tool_calls", "content_filter", ...
    QString model;        // as reported by the upstream, else the requested model
    int promptTokens = 0;
    int completionTokens = 0;    // reasoning included, as every provider counts it
    int reasoningTokens = -1;    // of completionTokens, when the upstream says; -1 when it does not
    bool usageEstimated = false; // true when the upstream sent no usage and we counted ourselves
    QList<ToolCall> toolCalls;   // the model wants these run before it goes on
    // What the next round of a tool loop must send back with the calls (ChatMessage's fields).
    QString reasoningContent;
    QString reasoningField;
    QJsonArray thinkingBlocks;
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
Q_DECLARE_METATYPE(ModelInfo)
Q_DECLARE_METATYPE(LlmCompletion)
Q_DECLARE_METATYPE(LlmError)
