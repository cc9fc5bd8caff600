#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

// What a reply needs of tools, and nothing of how they are reached: the tools an agent may use
// and "call this one, tell me its progress and result". The MCP registry (backend/mcp) is the
// implementation; the chat service never sees JSON-RPC.

struct ToolInfo
{
    QString server;
    QString name;
    QString description;
    QJsonObject inputSchema;
    QString function; // what the model calls it: "<server>__<tool>", made safe for function names
};

struct ToolOutcome
{
    bool isError = false;
    QJsonArray content; // MCP content blocks: {type: "text", text}, {type: "image", data, mimeType}, ...
};

// One running call; deleted by whoever asked for it once it finished (or was cancelled).
class ToolCallJob : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    // Stops it (the server is told); `finished` does not come after this.
    virtual void cancel() = 0;

Q_SIGNALS:
    void progress(double progress, double total, const QString &message); // total 0: unknown
    void finished(const ToolOutcome &outcome);
};

class ToolHost
{
public:
    virtual ~ToolHost() = default;
    // The tenant's tools that match any of `patterns` ("server/tool", "server/*"), of the servers
    // that are connected.
    virtual QList<ToolInfo> tools(const QString &tenantId, const QStringList &patterns) const = 0;
    // Never null; a server that is missing or down finishes the job with an error result.
    virtual ToolCallJob *call(const QString &tenantId, const QString &server, const QString &tool,
                              const QJsonObject &arguments, QObject *parent) = 0;
};
