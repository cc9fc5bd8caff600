#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QString>
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

    static SessionItem fromJson(const QJsonObject &o);
    QJsonObject toJson() const;
};

struct MessageItem
{
    QString id; // server id, or a "local-" id until the server names it
    QString sessionId;
    QString role; // "user" | "assistant" | "greeting" (the agent's greeting, never stored)
    QString content;
    QString status; // complete, streaming, cancelled, error, interrupted; client-only: typing, sending
    QString finishReason;
    QString model;
    QString error;
    int promptTokens = 0;
    int completionTokens = 0;
    int tokensUsed = 0;
    bool tokensEstimated = false;
    double tokensPerSecond = 0; // measured by the client while the reply streamed
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
    int connectTimeoutMs = 0;
    int stallTimeoutMs = 0;

    static ProviderItem fromJson(const QJsonObject &o);
};

namespace JsonUtil {
QString string(const QJsonObject &o, QLatin1String key);
QDateTime dateTime(const QJsonObject &o, QLatin1String key);
QJsonValue dateTimeValue(const QDateTime &dt);
} // namespace JsonUtil
