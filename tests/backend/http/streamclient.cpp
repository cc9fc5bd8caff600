#include "streamclient.h"

#include "apitestclient.h"

#include <QHostAddress>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

AsyncStream::AsyncStream(quint16 port, const QByteArray &rawRequest, QObject *parent)
    : QObject(parent), m_port(port), m_request(rawRequest)
{
    connect(&m_socket, &QTcpSocket::connected, this, [this] { m_socket.write(m_request); });
    connect(&m_socket, &QTcpSocket::readyRead, this, &AsyncStream::onReadyRead);
    connect(&m_socket, &QTcpSocket::disconnected, this, &AsyncStream::onClosed);
    connect(&m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error != QAbstractSocket::RemoteHostClosedError)
            onClosed();
    });
}

void AsyncStream::start()
{
    m_socket.connectToHost(QHostAddress::LocalHost, m_port);
}

void AsyncStream::abort()
{
    m_socket.abort();
    onClosed();
}

void AsyncStream::onReadyRead()
{
    const QByteArray incoming = m_socket.readAll();
    m_buffer += m_headDone && m_chunked ? m_chunks.feed(incoming) : incoming;
    if (!m_headDone) {
        const qsizetype end = m_buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QList<QByteArray> lines = m_buffer.left(end).split('\n');
        m_record.status = lines.value(0).split(' ').value(1).toInt();
        for (const QByteArray &line : lines) {
            const QByteArray lower = line.trimmed().toLower();
            if (lower.startsWith("content-type:") && lower.contains("text/event-stream"))
                m_sse = true;
            if (lower.startsWith("content-length:"))
                m_contentLength = lower.mid(15).trimmed().toLongLong();
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked"))
                m_chunked = true;
        }
        m_buffer.remove(0, end + 4);
        m_headDone = true;
        if (m_chunked)
            m_buffer = m_chunks.feed(m_buffer);
    }
    m_record.lastChunk = m_chunks.complete();
    if (m_sse) {
        parseEvents();
    } else {
        m_record.errorBody = m_buffer;
        if (m_contentLength >= 0 && m_buffer.size() >= m_contentLength)
            abort();
    }
}

void AsyncStream::parseEvents()
{
    qsizetype end;
    while ((end = m_buffer.indexOf("\n\n")) >= 0) {
        const QByteArray raw = m_buffer.left(end);
        m_buffer.remove(0, end + 2);
        QByteArray data;
        QByteArray id;
        for (const QByteArray &line : raw.split('\n')) {
            if (line.startsWith("data: "))
                data += (data.isEmpty() ? "" : "\n") + line.mid(6);
            else if (line.startsWith("id: "))
                id = line.mid(4);
        }
        if (data.isEmpty())
            continue; // a comment (": keep-alive")
        const QJsonObject event = QJsonDocument::fromJson(data).object();
        m_record.events.append(event);
        m_record.ids.append(id);
        m_record.raw.append(raw);
        if (m_record.terminals > 0)
            m_record.chunkAfterTerminal = true;
        if (m_record.sessionId.isEmpty())
            m_record.sessionId = event.value(u"session_id"_s).toString();
        if (m_record.messageId.isEmpty())
            m_record.messageId = event.value(u"message_id"_s).toString();
        const QString type = event.value(u"type"_s).toString();
        if (type == u"content"_s) {
            m_record.content += event.value(u"content"_s).toString();
            if (++m_contentChunks == m_leaveAfter) {
                Q_EMIT chunk(event);
                m_record.left = true;
                abort();
                return;
            }
        } else if (type == u"done"_s || type == u"error"_s) {
            ++m_record.terminals;
            m_record.terminal = type;
            m_record.replyId = event.value(u"reply_id"_s).toString();
            m_record.error = event.value(u"error"_s).toString();
            m_record.finishReason = event.value(u"finish_reason"_s).toString();
        }
        Q_EMIT chunk(event);
    }
}

void AsyncStream::onClosed()
{
    if (m_finished)
        return;
    if (m_socket.bytesAvailable() > 0)
        onReadyRead();
    m_finished = true;
    m_record.closed = true;
    Q_EMIT finished();
}

QList<QJsonObject> ofType(const StreamRecord &record, const QString &type)
{
    QList<QJsonObject> out;
    for (const QJsonObject &e : record.events) {
        if (e.value("type"_L1).toString() == type)
            out.append(e);
    }
    return out;
}

QByteArray chatStreamRequest(const QString &agentId, const QString &token, const QString &message,
                             const QString &sessionId)
{
    QJsonObject body{{u"message"_s, message}, {u"stream"_s, true}};
    if (!sessionId.isEmpty())
        body.insert(u"session_id"_s, sessionId);
    return ApiTestClient::rawRequest("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                     QJsonDocument(body).toJson(QJsonDocument::Compact), token.toUtf8(), {});
}
