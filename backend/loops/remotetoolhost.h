#pragma once

#include "chat/toolhost.h"

#include <QMutex>
#include <QObject>

#include <memory>

// The tool host of the server's first loop (the MCP registry and its servers' processes live
// there), for a chat service on another loop: the tools are read where the registry publishes
// them, and a call runs on the host's thread and reports its progress and result back here.
// Lives on the loop that uses it.
class RemoteToolHost : public QObject, public ToolHost
{
    Q_OBJECT
public:
    // `hostContext`: a QObject on the host's thread that outlives this (the registry itself).
    RemoteToolHost(ToolHost *host, QObject *hostContext, QObject *parent = nullptr);
    ~RemoteToolHost() override;

    QList<ToolInfo> tools(const QString &tenantId, const QStringList &patterns) const override;
    ToolCallJob *call(const QString &tenantId, const QString &server, const QString &tool,
                      const QJsonObject &arguments, QObject *parent) override;

    // Where the host's thread posts what a call reports; empty once this is gone.
    struct Mailbox
    {
        QMutex lock;
        RemoteToolHost *receiver = nullptr;
    };

private:
    ToolHost *m_host;
    QObject *m_hostContext;
    std::shared_ptr<Mailbox> m_mailbox = std::make_shared<Mailbox>();
};
