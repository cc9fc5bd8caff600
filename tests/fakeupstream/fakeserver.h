#pragma once

#include <QTcpServer>

// Accepts connections as unbuffered sockets: a write goes straight to the kernel instead of
// arming a write notifier per write, which costs O(connections) in the glib event dispatcher.
class FakeServer : public QTcpServer
{
    Q_OBJECT
public:
    using QTcpServer::QTcpServer;

protected:
    void incomingConnection(qintptr socketDescriptor) override;
};
