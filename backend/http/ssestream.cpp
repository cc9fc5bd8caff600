#include "ssestream.h"

#include <QTcpSocket>
#include <QTimer>

SseStream::SseStream(QHttpServerResponder &&responder, int keepAliveMs, QObject *parent)
    : QObject(parent), m_responder(std::move(responder)), m_socket(m_responder.socket())
{
    if (!m_socket) {
        m_finished = true;
        return;
    }
    connect(m_socket, &QTcpSocket::disconnected, this, &SseStream::onDisconnected);
    connect(m_socket, &QObject::destroyed, this, &SseStream::onDisconnected);

    m_responder.writeStatusLine(QHttpServerResponder::StatusCode::Ok);
    m_responder.writeHeader("Content-Type", "text/event-stream; charset=utf-8");
    m_responder.writeHeader("Cache-Control", "no-cache");
    m_responder.writeHeader("X-Accel-Buffering", "no");
    m_responder.writeHeader("Connection", "close");
    // Headers go out now, so a client sees the stream open before the first token.
    m_responder.writeBody(QByteArray(": stream open\n\n"));
    m_socket->flush();

    if (keepAliveMs > 0) {
        m_keepAlive = new QTimer(this);
        m_keepAlive->setInterval(keepAliveMs);
        connect(m_keepAlive, &QTimer::timeout, this, [this] { send(QByteArrayLiteral(": keep-alive\n\n")); });
        m_keepAlive->start();
    }
}

SseStream::~SseStream() = default;

bool SseStream::isOpen() const
{
    return !m_finished && m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
}

void SseStream::send(const QByteArray &event)
{
    if (!isOpen())
        return;
    m_responder.writeBody(event);
    // Hand the bytes to the kernel now rather than at the next event-loop turn.
    m_socket->flush();
}

void SseStream::finish()
{
    if (m_keepAlive)
        m_keepAlive->stop();
    if (!m_finished) {
        m_finished = true;
        if (m_socket)
            m_socket->disconnectFromHost(); // after the pending bytes are written
    }
    deleteLater();
}

void SseStream::onDisconnected()
{
    if (m_finished)
        return;
    m_finished = true;
    if (m_keepAlive)
        m_keepAlive->stop();
    Q_EMIT clientGone();
}
