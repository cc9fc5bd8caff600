#pragma once

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVariant>

// Plain values the client keeps for what the server answers (docs/api.md). Each knows how to
// read itself from the server's JSON and how to write itself back (the local cache stores that
// same JSON, so one format serves both).

struct AgentItem
{
    QString id;
    QString name;
    QString description;
    QString systemPrompt;
    QString greeting;
    QString provider; // empty = the server's default provider
    QString model;
    QVariant temperature; // null when unset
    QVariant maxTokens;   // null when unset
    QStringList tools;    // "server/tool" or "server/*"
    QString toolApproval = QStringLiteral("ask");
    int maxSteps = 8;
    QStringList allowedTools; // allowed for good ("always")
    QString reasoningEffort;  // low, medium, high, off; empty: the provider's default
    QDateTime createdAt;
    QDateTime updatedAt;

    static AgentItem fromJson(const QJsonObject &o);
    QJsonObject toJson() const;
};

struct SessionItem
{
    QString id;
    QString agentId;
    QString title;
    int messageCount = 0;
    QDateTime createdAt;
    QDateTime updatedAt;
    bool streaming = false;
    bool pinned = false;
    QString model;                           // this chat's model instead of its agent's (empty: the agent's)
    QString origin = QStringLiteral("chat"); // "api": a call of the OpenAI-compatible /v1

    static SessionItem fromJson(const QJsonObject &o);
    QJsonObject toJson() const;
};

// One tool call of a reply as the window shows it: what the model asked for, how it was decided,
// its progress while it runs and its result.
struct ToolCallItem
{
    QString id;
    QString function; // <server>__<tool>, as the model called it
    QString server;
    QString name;
    QString arguments; // JSON text, streamed in fragment by fragment
    // streaming (arguments still coming), awaiting_approval, running, denied, done, cancelled
    QString status;
    QString decision; // auto, allow, always, deny, or empty
    int step = 0;
    double progress = -1; // MCP progress while running; -1 when none was reported
    double total = -1;
    QString progressMessage;
    bool deciding = false; // the user chose; the server's answer is on its way
    bool hasResult = false;
    bool isError = false;
    qint64 durationMs = 0;
    QString resultText;
    QJsonArray resultParts; // MCP content blocks; images name a file (`url`)

    bool operator==(const ToolCallItem &o) const;
    bool operator!=(const ToolCallItem &o) const { return !(*this == o); }
};

// A reply with tools, in order: reasoning, text, then a call, more text... (docs/api.md, message
// `parts`).
struct ReplyPart
{
    bool isTool = false;
    bool isReasoning = false; // `text` is what the model reasoned in that round
    QString text;
    ToolCallItem call;

    bool operator==(const ReplyPart &o) const
    {
        return isTool == o.isTool && isReasoning == o.isReasoning && text == o.text &&
               (!isTool || call == o.call);
    }
    bool operator!=(const ReplyPart &o) const { return !(*this == o); }

    // The server's `parts`: text, tool_call and tool_result objects (a result joins its call).
    static QList<ReplyPart> listFromJson(const QJsonArray &parts);
    static QJsonArray listToJson(const QList<ReplyPart> &parts);
    // Streamed text of a reply that has parts goes into the last text part, or a new one after
    // a call (a reply without tools keeps no parts: its content is all there is).
    static void appendText(QList<ReplyPart> &parts, const QString &text);
    // ... and its reasoning into the last reasoning part of the round, or a new one.
    static void appendReasoning(QList<ReplyPart> &parts, const QString &text);
    // The latest call with this id (ids are unique only within a round), of that step if >= 0.
    static ToolCallItem *findCall(QList<ReplyPart> &parts, const QString &id, int step = -1);
};

// A file a user message carries (an upload: docs/api.md, POST /api/files).
struct AttachmentItem
{
    QString id;
    QString mediaType;
    QString name;
    qint64 size = 0;
    int width = 0; // an image's
    int height = 0;
    int pages = 0;     // a PDF's
    QString localPath; // client-only: the file it was sent from, shown until the server's copy is

    bool isImage() const { return mediaType.startsWith(QLatin1String("image/")); }
    bool operator==(const AttachmentItem &o) const
    {
        return id == o.id && name == o.name && size == o.size && localPath == o.localPath;
    }
    static AttachmentItem fromJson(const QJsonObject &o);
    QJsonObject toJson() const;
    static QList<AttachmentItem> listFromJson(const QJsonArray &list);
    static QJsonArray listToJson(const QList<AttachmentItem> &list);
};

struct MessageItem
{
    QString id; // server id, or a "local-" id until the server names it
    QString sessionId;
    QString parentId;
    // The versions of this turn on the server (oldest first, this one included): more than one
    // after a regenerate or an edit.
    QStringList siblingIds;
    QString role; // "user" | "assistant" | "greeting" (the agent's greeting, never stored)
    QString content;
    QString reasoning;                 // a reply's reasoning, all rounds
    int reasoningTokens = -1;          // when the provider counted them
    qint64 thoughtMs = -1;             // client-only: how long the model reasoned before answering
    QList<AttachmentItem> attachments; // a user message's files
    QString status; // complete, streaming, cancelled, error, interrupted; client-only: typing, sending
    QString finishReason;
    QString model;
    QString error;
    int promptTokens = 0;
    int completionTokens = 0;
    int tokensUsed = 0;
    bool tokensEstimated = false;
    double tokensPerSecond = 0; // measured by the client while the reply streamed
    int steps = 0;              // model rounds of a reply with tools
    QList<ReplyPart> parts;     // empty for a reply without tools
    bool thinking = false;      // client-only: the model is asked again after tool results
    QDateTime createdAt;

    static MessageItem fromJson(const QJsonObject &o);
    QJsonObject toJson() const;
    bool isLocal() const { return id.isEmpty() || id.startsWith(QLatin1String("local-")); }
};

struct ProviderItem
{
    QString name;
    QString kind;
    QString baseUrl;
    QString model;
    bool isDefault = false;
    bool hasApiKey = false;
    bool readOnly = false; // the server's OPENAI_* environment: not editable from here
    QString vision;        // whether its models take images: auto, yes, no
    int connectTimeoutMs = 0;
    int stallTimeoutMs = 0;

    static ProviderItem fromJson(const QJsonObject &o);
};

// A tenant's MCP server (GET /api/mcp/servers): how it is reached, whether it is up, its tools.
struct McpServerItem
{
    struct Tool
    {
        QString name;
        QString description;
    };

    QString name;
    QString transport; // stdio or http
    QString command;
    QStringList args;
    QStringList envNames; // values are secrets: the server shows "***"
    QString url;
    QStringList headerNames;
    int timeoutMs = 0;
    QString status; // connected, connecting, error, stopped
    QString error;
    QString protocolVersion;
    QList<Tool> tools;

    static McpServerItem fromJson(const QJsonObject &o);
    QString target() const; // the command line or the URL
};

namespace JsonUtil {
QString string(const QJsonObject &o, QLatin1String key);
QDateTime dateTime(const QJsonObject &o, QLatin1String key);
QJsonValue dateTimeValue(const QDateTime &dt);
QStringList stringList(const QJsonObject &o, QLatin1String key);
} // namespace JsonUtil
