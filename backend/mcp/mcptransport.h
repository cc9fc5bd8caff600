#pragma once

#include <QJsonObject>
#include <QObject>

// How JSON-RPC messages travel to and from one MCP server: a child process's stdio, or
// Streamable HTTP. McpClient speaks the protocol on top and never sees which.
class McpTransport : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    // Connects (starts the process); `opened` or `failed` follows from the event loop.
    virtual void open() = 0;
    virtual void send(const QJsonObject &message) = 0;
    // Ends the connection politely (may take a moment: `closed` follows).
    virtual void close() = 0;
    // After the server's initialize answer: the session header and protocol version, for the
    // transports that carry them.
    virtual void setNegotiated(const QString &protocolVersion) { Q_UNUSED(protocolVersion); }

Q_SIGNALS:
    void opened();
    void message(const QJsonObject &message);
    // It cannot go on (the process died, the server refused): the client may open again later.
    void failed(const QString &error);
    void closed();
};
