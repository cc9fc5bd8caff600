#pragma once

#include <QDateTime>
#include <QList>
#include <QString>

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
    int messageCount = 0;
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
    QString role; // "user" | "assistant"
    QString content;
    QString status = QStringLiteral("complete");
    QString finishReason; // "Stop", "Length", "Cancelled", "Error", ... (empty for user messages)
    QString model;
    QString error;
    int promptTokens = 0;
    int completionTokens = 0;
    bool tokensEstimated = false;
    QDateTime createdAt;
    QDateTime updatedAt;
};

// A reply as a stream replays it: the message, what it answers, and its content events.
struct StoredReply
{
    Message reply;
    QString userMessageId;   // the message it answers
    QList<int> chunkLengths; // each content event's length in UTF-16 units, in order
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
    // The API key is not here: it lives in a SecretStore under key "provider/<id>".
};
