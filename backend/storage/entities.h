#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

// Rows as the rest of the backend sees them. Ids are UUID strings without braces; timestamps
// are UTC.

struct Tenant
{
    QString id;
    QString name;
    QDateTime createdAt;
};

struct User
{
    QString id;
    QString tenantId;
    QString name;
    QDateTime createdAt;
};

// What a valid bearer token resolves to.
struct Principal
{
    QString tokenId;
    QString userId;
    QString tenantId;
    QString userName;
    QString tenantName;
    bool admin = false; // may configure the tenant's providers and MCP servers
};

struct ApiTokenInfo
{
    QString id;
    QString tenantName;
    QString userName;
    QString prefix; // first characters of the token, enough to recognise it in a list
    QString label;
    QDateTime createdAt;
    std::optional<QDateTime> lastUsedAt;
    std::optional<QDateTime> revokedAt;
    bool admin = false;
};

struct Agent
{
    QString id;
    QString tenantId;
    QString name;
    QString description;
    QString systemPrompt;
    QString greeting;
    QString provider; // provider name; empty = the default provider
    QString model;    // empty = the provider's model
    std::optional<double> temperature;
    std::optional<int> maxTokens;
    // Tools: "server/tool" or "server/*" patterns; "ask" or "auto"; model rounds per reply; the
    // "server/tool" names a user allowed for good ("always").
    QStringList tools;
    QString toolApproval = QStringLiteral("ask");
    int maxSteps = 8;
    QStringList allowedTools;
    // "low", "medium", "high", "off" (ChatRequest::reasoningEffort); empty: the provider's default.
    QString reasoningEffort;
    QDateTime createdAt;
    QDateTime updatedAt;
};

struct Session
{
    QString id;
    QString tenantId;
    QString userId;
    QString agentId;
    QString title;
    QString model; // overrides the agent's model in this session (empty: the agent's)
    int messageCount = 0;
    // The last message of the branch the conversation follows (empty: the newest message).
    QString activeLeafId;
    bool pinned = false;
    // "chat" (the chat API, the window) or "api" (the OpenAI-compatible surface)
    QString origin = QStringLiteral("chat");
    QDateTime createdAt;
    QDateTime updatedAt;
};

struct Message
{
    // status: "complete" for finished messages; "streaming" while a reply is being written;
    // "interrupted" for a reply cut by a crash or restart; "cancelled"/"error" for partial
    // replies ended by cancel, disconnect or an upstream failure.
    QString id;
    QString sessionId;
    // The message this one follows in the conversation tree: a reply's user message, a user
    // message's previous reply; empty for a first message. Versions of a turn share a parent.
    QString parentId;
    // The versions of this turn (messages with the same parent and role, oldest first, this one
    // included); filled only when a branch is read (SessionStore::branch).
    QStringList siblingIds;
    QString role; // "user" | "assistant"
    QString content;
    // An assistant reply: the model's reasoning (all rounds), kept apart from the answer.
    QString reasoning;
    // A user message: the files that went with it, as JSON [{id, media_type, name, size}].
    QString attachments;
    QString status = QStringLiteral("complete");
    QString finishReason; // "Stop", "Length", "Cancelled", "Error", ... (empty for user messages)
    QString model;
    QString error;
    int promptTokens = 0;
    int completionTokens = 0;
    int reasoningTokens = -1; // of completionTokens, when the provider said
    bool tokensEstimated = false;
    // An assistant reply that used tools: its text, tool calls and results in order, as JSON
    // (docs/api.md, Message.parts); empty for a plain reply.
    QString parts;
    int steps = 1; // model rounds (more than one when tools ran)
    QDateTime createdAt;
    QDateTime updatedAt;
};

// A reply's stream event by event, as stored with it: `chunks` >= 0 is a content event of that
// many UTF-16 units of the text, -1 the next of `extras` (a chunk of another type, its JSON),
// below that a reasoning event of reasoningLength() units of the reasoning.
struct ReplyEventLog
{
    QList<int> chunks;
    QList<QByteArray> extras;

    static constexpr int extraChunk = -1;
    static int reasoningChunk(int length) { return -2 - length; }
    static bool isReasoning(int chunk) { return chunk <= -2; }
    static int reasoningLength(int chunk) { return -2 - chunk; }
};

// A reply as a stream replays it: the message, what it answers, and its events.
struct StoredReply
{
    Message reply;
    QString userMessageId; // the message it answers
    ReplyEventLog events;
    // A crash cut it: its terminal event was never sent, and events after the last checkpoint
    // are lost (SessionStore::markInterruptedReplies).
    bool cutByCrash = false;
};

struct AgentStats
{
    QString agentId; // empty for tenant totals
    qint64 sessions = 0;
    qint64 messages = 0;
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 totalTokens() const { return promptTokens + completionTokens; }
};

// A tenant's MCP server. The values of env and headers are secrets: they live in the
// SecretStore under "mcp/<id>", only their names here.
struct McpServerRow
{
    QString id;
    QString tenantId;
    QString name;
    QString transport; // "stdio" | "http"
    QString command;
    QStringList args;
    QString url;
    QStringList envNames;
    QStringList headerNames;
    int timeoutMs = 120000;
    QDateTime createdAt;
    QDateTime updatedAt;
};

// A stored file (an upload, an image a tool returned): its bytes kept once per SHA-256.
struct FileRow
{
    QString id;
    QString tenantId;
    QString userId;
    QString sessionId; // empty until a message uses it (an upload)
    QString sha256;
    QString mediaType;
    QString name;
    qint64 size = 0;
    // A document's text as the model gets it (PDF pages extracted, text decoded); empty for images.
    QString text;
    int pages = 0; // a PDF's
    int width = 0; // an image's, in pixels
    int height = 0;
    QDateTime createdAt;

    bool isImage() const { return mediaType.startsWith(QLatin1String("image/")); }
};

struct ProviderRow
{
    QString id;
    QString tenantId;
    QString name;
    QString kind;
    QString baseUrl;
    QString model;
    int connectTimeoutMs = 15000;
    int stallTimeoutMs = 120000;
    bool isDefault = false;
    QString vision = QStringLiteral("auto"); // whether its models take images: auto, yes, no
    QStringList allowedModels;               // the models agents and chats may use; empty: any
    // The API key is not here: it lives in a SecretStore under key "provider/<id>".
};
