#include "rawclient.h"

#include <QDeadlineTimer>
#include <QHostAddress>
#include <QJsonDocument>
#include <QTest>

QJsonObject RawClient::Response::json() const
{
    return QJsonDocument::fromJson(body).object();
}

QByteArray RawClient::Response::code() const
{
    return json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString().toUtf8();
}

RawClient::RawClient(quint16 port) : m_port(port) {}

RawClient::~RawClient()
{
    m_socket.abort();
}

bool RawClient::connectToServer(int timeoutMs)
{
    m_socket.connectToHost(QHostAddress::LocalHost, m_port);
    QDeadlineTimer deadline(timeoutMs);
    while (m_socket.state() != QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        if (m_socket.state() == QAbstractSocket::UnconnectedState)
            return false;
        QTest::qWait(1);
    }
    return m_socket.state() == QAbstractSocket::ConnectedState;
}

void RawClient::send(const QByteArray &bytes)
{
    m_socket.write(bytes);
    m_socket.flush();
}

void RawClient::pump()
{
    const QByteArray incoming = m_socket.readAll();
    m_buffer += incoming;
    m_all += incoming;
}

qint64 RawClient::sendWhileReading(const QByteArray &bytes, qint64 piece, int timeoutMs)
{
    qint64 written = 0;
    QDeadlineTimer deadline(timeoutMs);
    while (written < bytes.size() && !deadline.hasExpired() && isOpen()) {
        pump();
        if (!m_buffer.isEmpty())
            break; // the server answered before the end
        if (m_socket.bytesToWrite() < 4 * piece) {
            const qint64 n = qMin(piece, bytes.size() - written);
            m_socket.write(bytes.constData() + written, n);
            written += n;
        }
        QTest::qWait(1);
    }
    return written;
}

std::optional<RawClient::Response> RawClient::takeResponse()
{
    const qsizetype end = m_buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return std::nullopt;
    Response response;
    const QList<QByteArray> lines = m_buffer.left(end).split('\n');
    response.status = lines.value(0).trimmed().split(' ').value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            response.headers.insert(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
    }
    const qint64 length = response.headers.value("content-length", "0").toLongLong();
    if (m_buffer.size() - end - 4 < length)
        return std::nullopt;
    response.body = m_buffer.mid(end + 4, length);
    m_buffer.remove(0, end + 4 + length);
    return response;
}

RawClient::Response RawClient::readResponse(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        pump();
        if (auto response = takeResponse())
            return *response;
        if (!isOpen() && m_socket.bytesAvailable() == 0)
            break;
        QTest::qWait(1);
    }
    pump();
    return takeResponse().value_or(Response{});
}

bool RawClient::waitClosed(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        pump();
        if (m_socket.state() == QAbstractSocket::UnconnectedState)
            return true;
        QTest::qWait(2);
    }
    return false;
}

QByteArray rawHttp(const QByteArray &method, const QByteArray &target, const QByteArray &body,
                   const QByteArray &token, bool close,
                   const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    QByteArray raw = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (close)
        raw += "Connection: close\r\n";
    if (!token.isEmpty())
        raw += "Authorization: Bearer " + token + "\r\n";
    for (const auto &header : extraHeaders)
        raw += header.first + ": " + header.second + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        raw +=
            "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    return raw + "\r\n" + body;
}
