#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>

class QTcpSocket;

// A TCP proxy on loopback for tests of what crosses a network: forwards every connection to
// `target` until cut() drops them all and refuses new ones (the network is gone), then restore()
// listens on the same port again.
class TcpProxy : public QObject
{
    Q_OBJECT
public:
    explicit TcpProxy(quint16 targetPort, QObject *parent = nullptr);

    bool listen();
    quint16 port() const { return m_port; }
    void cut();
    bool restore();
    int connections() const { return m_connections; }

private:
    void onConnection();

    quint16 m_target;
    quint16 m_port = 0;
    QTcpServer m_server;
    QList<QPair<QPointer<QTcpSocket>, QPointer<QTcpSocket>>> m_pairs;
    int m_connections = 0;
};
