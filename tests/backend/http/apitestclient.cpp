#include "apitestclient.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QProcess>
#include <QTest>

namespace {

// Splits "HTTP/1.1 200 OK\r\nA: b\r\n\r\n" into status and headers; -1 until complete.
qsizetype parseHead(const QByteArray &buffer, HttpResult *result)
{
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return -1;
    const QList<QByteArray> lines = buffer.left(end).split('\n');
    const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
    result->status = statusLine.value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            result->headers.insert(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
    }
    return end + 4;
}

} // namespace

QByteArray ChunkedDecoder::feed(const QByteArray &bytes)
{
    QByteArray out;
    m_pending += bytes;
    while (!m_complete && !m_malformed) {
        if (m_left < 0) {
            const qsizetype eol = m_pending.indexOf("\r\n");
            if (eol < 0)
                break;
            bool ok = false;
            const qint64 size = m_pending.left(eol).split(';').value(0).trimmed().toLongLong(&ok, 16);
            m_pending.remove(0, eol + 2);
            if (!ok || size < 0) {
                m_malformed = true;
                break;
            }
            if (size == 0) {
                m_complete = true;
                break;
            }
            m_left = size;
        }
        if (m_pending.size() < m_left + 2)
            break;
        out += m_pending.left(m_left);
        if (m_pending.mid(m_left, 2) != "\r\n")
            m_malformed = true;
        m_pending.remove(0, m_left + 2);
        m_left = -1;
    }
    return out;
}

QJsonObject HttpResult::json() const
{
    return QJsonDocument::fromJson(body).object();
}

QByteArray HttpResult::errorCode() const
{
    return json().value(QLatin1String("error")).toObject().value(QLatin1String("code")).toString().toUtf8();
}

QByteArray ApiTestClient::rawRequest(const QByteArray &method, const QString &path, const QByteArray &body,
                                     const QByteArray &token,
                                     const QList<QPair<QByteArray, QByteArray>> &extra)
{
    QByteArray raw = method + ' ' + path.toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!token.isEmpty())
        raw += "Authorization: Bearer " + token + "\r\n";
    bool typed = false;
    for (const auto &header : extra) {
        raw += header.first + ": " + header.second + "\r\n";
        typed |= header.first.toLower() == "content-type";
    }
    if (!body.isNull() || method == "POST" || method == "PUT" || method == "PATCH") {
        if (!typed)
            raw += "Content-Type: application/json\r\n";
        raw += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    raw += "\r\n" + body;
    return raw;
}

HttpResult ApiTestClient::request(const QByteArray &method, const QString &path, const QByteArray &body,
                                  const QList<QPair<QByteArray, QByteArray>> &extraHeaders, int timeoutMs)
{
    HttpResult result;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_port);
    if (!socket.waitForConnected(timeoutMs))
        return result;
    socket.write(rawRequest(method, path, body, m_token, extraHeaders));
    QByteArray buffer;
    qsizetype bodyStart = -1;
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        buffer += socket.readAll();
        if (bodyStart < 0)
            bodyStart = parseHead(buffer, &result);
        if (bodyStart >= 0) {
            const qint64 length = result.headers.value("content-length", "-1").toLongLong();
            if (length >= 0 && buffer.size() - bodyStart >= length) {
                result.body = buffer.mid(bodyStart, length);
                return result;
            }
            if (result.status == 204 || result.status == 304) // no body by definition
                return result;
        }
        if (socket.state() != QAbstractSocket::ConnectedState) {
            if (bodyStart >= 0)
                result.body = buffer.mid(bodyStart);
            return result;
        }
        // Spin the loop: the server under test lives in this thread.
        QTest::qWait(1);
    }
    result.status = -1; // timed out
    return result;
}

bool ApiTestClient::waitForHealth(quint16 port, const QProcess *process, int timeoutMs)
{
    ApiTestClient client(port);
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (client.request("GET", QStringLiteral("/api/health"), {}, {}, 5000).status == 200)
            return true;
        if (process && process->state() != QProcess::Running)
            return false;
        QTest::qWait(25);
    }
    return false;
}

HttpResult ApiTestClient::post(const QString &path, const QJsonObject &body)
{
    return request("POST", path, QJsonDocument(body).toJson(QJsonDocument::Compact));
}

ApiTestClient::StreamResult ApiTestClient::stream(const QByteArray &method, const QString &path,
                                                  const QByteArray &body,
                                                  const std::function<bool(const SseEventRecord &)> &onEvent,
                                                  int timeoutMs, bool sendToken,
                                                  const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    StreamResult result;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_port);
    if (!socket.waitForConnected(timeoutMs))
        return result;
    socket.write(rawRequest(method, path, body, sendToken ? m_token : QByteArray(), extraHeaders));
    QByteArray buffer;
    qsizetype pos = -1;
    QDeadlineTimer deadline(timeoutMs);
    bool keepGoing = true;
    ChunkedDecoder chunks;
    while (keepGoing && !deadline.hasExpired()) {
        const QByteArray incoming = socket.readAll();
        result.raw += incoming;
        if (pos >= 0)
            buffer += result.chunked ? chunks.feed(incoming) : incoming;
        else
            buffer += incoming;
        if (pos < 0) {
            pos = parseHead(buffer, &result.head);
            if (pos >= 0) {
                buffer.remove(0, pos);
                result.chunked = result.head.headers.value("transfer-encoding").toLower() == "chunked";
                if (result.chunked)
                    buffer = chunks.feed(buffer);
                if (result.head.status == 204)
                    return result; // no body by definition
                if (!result.head.headers.value("content-type").startsWith("text/event-stream")) {
                    // An error answer: read the JSON body to its end.
                    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
                        const qint64 length = result.head.headers.value("content-length", "-1").toLongLong();
                        if (length >= 0 && buffer.size() >= length)
                            break;
                        QTest::qWait(1);
                        buffer += socket.readAll();
                    }
                    result.head.body = buffer;
                    return result;
                }
            }
        }
        if (pos >= 0) {
            qsizetype end;
            while (keepGoing && (end = buffer.indexOf("\n\n")) >= 0) {
                SseEventRecord event;
                event.raw = buffer.left(end);
                buffer.remove(0, end + 2);
                bool hasData = false;
                for (const QByteArray &line : event.raw.split('\n')) {
                    if (line.startsWith(':')) {
                        event.comment = true;
                        ++result.comments;
                    } else if (line.startsWith("data: ")) {
                        event.data += (hasData ? "\n" : "") + line.mid(6);
                        hasData = true;
                    } else if (line.startsWith("id: ")) {
                        event.id = line.mid(4);
                    } else if (line.startsWith("retry: ")) {
                        event.retry = line.mid(7).toInt();
                    }
                }
                if (!hasData) {
                    ++result.emptyBlocks;
                    continue;
                }
                event.json = QJsonDocument::fromJson(event.data).object();
                result.events.append(event);
                if (onEvent && !onEvent(event))
                    keepGoing = false;
            }
        }
        if (!keepGoing)
            break;
        result.lastChunk = chunks.complete();
        if (socket.state() != QAbstractSocket::ConnectedState && socket.bytesAvailable() == 0) {
            result.closedByServer = true;
            // Comment lines after the last event (keep-alives with no blank line after them).
            for (const QByteArray &line : buffer.split('\n'))
                result.comments += line.startsWith(':') ? 1 : 0;
            break;
        }
        QTest::qWait(1);
    }
    socket.abort();
    return result;
}
