#include "mockserver.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QTimer>
#include <QUrlQuery>
#include <QUuid>

using namespace Qt::StringLiterals;

static QString newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

static QString now()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

MockServer::MockServer(QObject *parent) : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &MockServer::onConnection);
    replyTokens = {u"Hello"_s, u"! "_s, u"这是"_s, u"一个"_s, u"**streamed**"_s, u" reply"_s, u"。"_s};
}

MockServer::~MockServer()
{
    stop();
}

bool MockServer::listen(quint16 port)
{
    if (!m_server.listen(QHostAddress::LocalHost, port))
        return false;
    m_port = m_server.serverPort();
    return true;
}

void MockServer::stop()
{
    m_server.close();
    for (const QPointer<QTcpSocket> &s : std::as_const(m_sockets)) {
        if (s)
            s->abort();
    }
    m_sockets.clear();
    m_buffers.clear();
}

QString MockServer::baseUrl() const
{
    return u"http://127.0.0.1:%1"_s.arg(m_port);
}

QString MockServer::addAgent(const QString &name, const QString &greeting, const QString &model)
{
    const QString id = newId();
    m_agents.append(QJsonObject{{u"id"_s, id},
                                {u"name"_s, name},
                                {u"description"_s, u""_s},
                                {u"system_prompt"_s, u"You are helpful."_s},
                                {u"greeting"_s, greeting},
                                {u"provider"_s, QJsonValue::Null},
                                {u"model"_s, model},
                                {u"temperature"_s, QJsonValue::Null},
                                {u"max_tokens"_s, QJsonValue::Null},
                                {u"created_at"_s, now()},
                                {u"updated_at"_s, now()}});
    return id;
}

QString MockServer::addSession(const QString &agentId, const QString &title, const QString &updatedAt)
{
    const QString id = newId();
    m_sessions.append(QJsonObject{{u"id"_s, id},
                                  {u"agent_id"_s, agentId},
                                  {u"title"_s, title},
                                  {u"message_count"_s, 0},
                                  {u"created_at"_s, updatedAt},
                                  {u"updated_at"_s, updatedAt},
                                  {u"streaming"_s, false}});
    return id;
}

void MockServer::addMessage(const QString &sessionId, const QString &role, const QString &content)
{
    m_messages[sessionId].append(
        QJsonObject{{u"id"_s, newId()},
                    {u"session_id"_s, sessionId},
                    {u"role"_s, role},
                    {u"content"_s, content},
                    {u"status"_s, u"complete"_s},
                    {u"finish_reason"_s, role == "assistant"_L1 ? u"Stop"_s : QString()},
                    {u"model"_s, u"mock-model"_s},
                    {u"error"_s, QJsonValue::Null},
                    {u"prompt_tokens"_s, 10},
                    {u"completion_tokens"_s, 20},
                    {u"tokens_estimated"_s, false},
                    {u"created_at"_s, now()}});
}

QJsonArray MockServer::sessionsJson() const
{
    QList<QJsonObject> sorted = m_sessions;
    std::sort(sorted.begin(), sorted.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value("updated_at"_L1).toString() > b.value("updated_at"_L1).toString();
    });
    QJsonArray arr;
    for (const QJsonObject &s : sorted)
        arr.append(s);
    return arr;
}

QJsonArray MockServer::messagesJson(const QString &sessionId) const
{
    return m_messages.value(sessionId);
}

void MockServer::onConnection()
{
    while (QTcpSocket *s = m_server.nextPendingConnection()) {
        m_sockets.append(s);
        connect(s, &QTcpSocket::readyRead, this, [this, s] { onReadyRead(s); });
        connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        connect(s, &QObject::destroyed, this, [this, s] { m_buffers.remove(s); });
    }
}

void MockServer::onReadyRead(QTcpSocket *socket)
{
    QByteArray &buf = m_buffers[socket];
    buf += socket->readAll();
    for (;;) {
        const qsizetype headerEnd = buf.indexOf("\r\n\r\n");
        if (headerEnd < 0)
            return;
        const QList<QByteArray> lines = buf.left(headerEnd).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        QHash<QByteArray, QByteArray> headers;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0)
                headers.insert(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
        }
        const qsizetype length = headers.value("content-length").toLongLong();
        if (buf.size() < headerEnd + 4 + length)
            return;
        const QByteArray body = buf.mid(headerEnd + 4, length);
        buf.remove(0, headerEnd + 4 + length);
        const QByteArray target = requestLine.value(1);
        const qsizetype q = target.indexOf('?');
        const QString path = QString::fromUtf8(q < 0 ? target : target.left(q));
        const QString query = q < 0 ? QString() : QString::fromUtf8(target.mid(q + 1));
        requests.append(requestLine.value(0) + ' ' + path.toUtf8());
        handle(socket, requestLine.value(0), path, query, headers, body);
    }
}

void MockServer::reply(QTcpSocket *socket, int status, const QJsonValue &body)
{
    QByteArray data;
    if (body.isObject())
        data = QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact);
    else if (body.isArray())
        data = QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact);
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + " X\r\n";
    if (!data.isEmpty())
        head += "Content-Type: application/json\r\n";
    head += "Content-Length: " + QByteArray::number(data.size()) + "\r\n\r\n";
    socket->write(head + data);
}

void MockServer::replyError(QTcpSocket *socket, int status, const QString &code, const QString &message)
{
    reply(socket, status, QJsonObject{{u"error"_s, QJsonObject{{u"code"_s, code}, {u"message"_s, message}}}});
}

void MockServer::handle(QTcpSocket *socket, const QByteArray &verb, const QString &path, const QString &query,
                        const QHash<QByteArray, QByteArray> &headers, const QByteArray &body)
{
    Q_UNUSED(query);
    if (path == "/api/health"_L1) {
        reply(socket, 200, QJsonObject{{u"status"_s, u"ok"_s}, {u"version"_s, u"mock"_s}});
        return;
    }
    if (headers.value("authorization") != "Bearer " + requiredToken.toUtf8()) {
        replyError(socket, 401, u"unauthorized"_s, u"Missing or unknown token"_s);
        return;
    }
    const QStringList parts = path.split(u'/', Qt::SkipEmptyParts); // api, ...
    const QJsonObject json = QJsonDocument::fromJson(body).object();
    // Another answer to a user message: like the real route, no second copy of the message.
    if (parts.value(1) == "messages"_L1 && parts.size() == 4 && parts.at(3) == "regenerate"_L1 &&
        verb == "POST") {
        for (auto it = m_messages.cbegin(); it != m_messages.cend(); ++it) {
            for (const QJsonValue &m : it.value()) {
                if (m.toObject().value("id"_L1).toString() != parts.at(2) ||
                    m.toObject().value("role"_L1) != "user"_L1)
                    continue;
                QString agentId;
                for (const QJsonObject &s : std::as_const(m_sessions))
                    if (s.value("id"_L1).toString() == it.key())
                        agentId = s.value("agent_id"_L1).toString();
                ++regenerateCount;
                startStream(socket, agentId,
                            {{u"message"_s, m.toObject().value("content"_L1)}, {u"session_id"_s, it.key()}},
                            parts.at(2));
                return;
            }
        }
        replyError(socket, 404, u"message_not_found"_s, u"No such message"_s);
        return;
    }
    if (parts.value(1) == "agents"_L1) {
        if (parts.size() == 2 && verb == "GET") {
            reply(socket, 200, QJsonObject{{u"agents"_s, m_agents}});
            return;
        }
        if (parts.size() == 2 && verb == "POST") {
            QJsonObject a = json;
            a.insert(u"id"_s, newId());
            a.insert(u"created_at"_s, now());
            a.insert(u"updated_at"_s, now());
            m_agents.append(a);
            reply(socket, 201, a);
            return;
        }
        const QString id = parts.value(2);
        for (int i = 0; i < m_agents.size(); ++i) {
            QJsonObject a = m_agents.at(i).toObject();
            if (a.value("id"_L1).toString() != id)
                continue;
            if (parts.size() == 5 && parts.at(3) == "chat"_L1 && parts.at(4) == "stream"_L1 &&
                verb == "POST") {
                startStream(socket, id, json);
                return;
            }
            if (verb == "PUT") {
                for (auto it = json.begin(); it != json.end(); ++it)
                    a.insert(it.key(), it.value());
                a.insert(u"updated_at"_s, now());
                m_agents.replace(i, a);
                reply(socket, 200, a);
                return;
            }
            if (verb == "DELETE") {
                m_agents.removeAt(i);
                reply(socket, 204, QJsonValue());
                return;
            }
            reply(socket, 200, a);
            return;
        }
        replyError(socket, 404, u"agent_not_found"_s, u"No such agent"_s);
        return;
    }
    if (parts.value(1) == "sessions"_L1) {
        if (parts.size() == 2) {
            reply(socket, 200, QJsonObject{{u"sessions"_s, sessionsJson()}});
            return;
        }
        const QString id = parts.value(2);
        for (int i = 0; i < m_sessions.size(); ++i) {
            QJsonObject s = m_sessions.at(i);
            if (s.value("id"_L1).toString() != id)
                continue;
            if (parts.value(3) == "messages"_L1) {
                reply(socket, 200, QJsonObject{{u"messages"_s, messagesJson(id)}});
            } else if (parts.value(3) == "cancel"_L1) {
                ++cancelCount;
                const bool running = s.value("streaming"_L1).toBool();
                if (running)
                    m_cancel.insert(id, true);
                reply(socket, 200, QJsonObject{{u"cancelled"_s, running}});
            } else if (verb == "PATCH") {
                s.insert(u"title"_s, json.value("title"_L1));
                m_sessions.replace(i, s);
                reply(socket, 200, s);
            } else if (verb == "DELETE") {
                m_sessions.removeAt(i);
                m_messages.remove(id);
                reply(socket, 204, QJsonValue());
            } else {
                reply(socket, 200, s);
            }
            return;
        }
        replyError(socket, 404, u"session_not_found"_s, u"No such session"_s);
        return;
    }
    if (parts.value(1) == "providers"_L1) {
        if (parts.size() == 2) {
            reply(socket, 200, QJsonObject{{u"providers"_s, m_providers}});
            return;
        }
        const QString name = parts.value(2);
        if (parts.value(3) == "test"_L1) {
            reply(socket, 200,
                  QJsonObject{{u"ok"_s, true}, {u"model"_s, u"mock-model"_s}, {u"latency_ms"_s, 12}});
            return;
        }
        QJsonArray kept;
        for (const QJsonValue &v : std::as_const(m_providers)) {
            QJsonObject p = v.toObject();
            if (p.value("name"_L1).toString() == name)
                continue;
            if (verb == "PUT" && json.value("is_default"_L1).toBool())
                p.insert(u"is_default"_s, false);
            kept.append(p);
        }
        if (verb == "PUT") {
            QJsonObject p{{u"name"_s, name},
                          {u"kind"_s, u"openai"_s},
                          {u"base_url"_s, json.value("base_url"_L1)},
                          {u"model"_s, json.value("model"_L1)},
                          {u"is_default"_s, json.value("is_default"_L1).toBool() || kept.isEmpty()},
                          {u"has_api_key"_s, json.contains("api_key"_L1)},
                          {u"connect_timeout_ms"_s, 15000},
                          {u"stall_timeout_ms"_s, 120000}};
            kept.append(p);
            m_providers = kept;
            reply(socket, 200, p);
        } else {
            m_providers = kept;
            reply(socket, 204, QJsonValue());
        }
        return;
    }
    replyError(socket, 404, u"not_found"_s, u"No such route"_s);
}

QJsonObject MockServer::chunk(const QString &type)
{
    return QJsonObject{{u"type"_s, type},
                       {u"content"_s, QJsonValue::Null},
                       {u"session_id"_s, QJsonValue::Null},
                       {u"message_id"_s, QJsonValue::Null},
                       {u"reply_id"_s, QJsonValue::Null},
                       {u"metadata"_s, QJsonValue::Null},
                       {u"finish_reason"_s, QJsonValue::Null},
                       {u"error"_s, QJsonValue::Null}};
}

void MockServer::writeChunk(QTcpSocket *socket, const QJsonObject &c)
{
    const QByteArray event = "data: " + QJsonDocument(c).toJson(QJsonDocument::Compact) + "\n\n";
    if (!splitEvents) {
        socket->write(event);
        socket->flush();
        return;
    }
    // Cut inside the JSON, inside a multi-byte character where there is one.
    qsizetype cut = event.size() / 2;
    for (qsizetype i = 6; i < event.size(); ++i) {
        if (uchar(event.at(i)) >= 0x80) {
            cut = i + 1;
            break;
        }
    }
    socket->write(event.left(cut));
    socket->flush();
    socket->write(event.mid(cut));
    socket->flush();
}

void MockServer::startStream(QTcpSocket *socket, const QString &agentId, const QJsonObject &request,
                             const QString &existingUserId)
{
    ++streamCount;
    lastMessage = request.value("message"_L1).toString();
    if (streamHttpStatus != 200) {
        replyError(socket, streamHttpStatus, u"session_busy"_s, u"A reply is already streaming"_s);
        return;
    }
    QString sessionId = request.value("session_id"_L1).toString();
    int sessionRow = -1;
    for (int i = 0; i < m_sessions.size(); ++i) {
        if (m_sessions.at(i).value("id"_L1).toString() == sessionId)
            sessionRow = i;
    }
    if (sessionRow < 0) {
        sessionId = addSession(agentId, lastMessage.left(40), now());
        sessionRow = int(m_sessions.size()) - 1;
    }
    QJsonObject s = m_sessions.at(sessionRow);
    s.insert(u"streaming"_s, true);
    s.insert(u"updated_at"_s, now());
    m_sessions.replace(sessionRow, s);
    if (existingUserId.isEmpty())
        addMessage(sessionId, u"user"_s, lastMessage);
    const QString messageId = existingUserId.isEmpty()
                                  ? m_messages[sessionId].last().toObject().value("id"_L1).toString()
                                  : existingUserId;

    socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                  "Cache-Control: no-cache\r\nConnection: close\r\n\r\n: keep-alive\n\n");
    socket->flush();

    auto *timer = new QTimer(socket);
    auto state = std::make_shared<int>(0);
    auto content = std::make_shared<QString>();
    QPointer<QTcpSocket> sock(socket);
    const QStringList tokens = replyTokens;
    const bool fail = failStream;
    auto finish = [this, sessionId, content, sock, messageId](const QString &finishReason,
                                                              const QString &error) {
        QJsonObject base = chunk(error.isEmpty() ? u"done"_s : u"error"_s);
        base.insert(u"session_id"_s, sessionId);
        base.insert(u"message_id"_s, messageId);
        addMessage(sessionId, u"assistant"_s, *content);
        QJsonArray &msgs = m_messages[sessionId];
        QJsonObject last = msgs.last().toObject();
        last.insert(u"status"_s, error.isEmpty()
                                     ? (finishReason == "Cancelled"_L1 ? u"cancelled"_s : u"complete"_s)
                                     : u"error"_s);
        last.insert(u"finish_reason"_s, finishReason);
        last.insert(u"error"_s, error.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(error));
        msgs.replace(msgs.size() - 1, last);
        if (error.isEmpty()) {
            base.insert(u"reply_id"_s, last.value("id"_L1));
            base.insert(u"finish_reason"_s, finishReason);
            base.insert(u"metadata"_s, QJsonObject{{u"model"_s, u"mock-model"_s},
                                                   {u"tokens_used"_s, 30},
                                                   {u"finish_reason"_s, finishReason}});
        } else {
            base.insert(u"error"_s, error);
        }
        for (int i = 0; i < m_sessions.size(); ++i) {
            QJsonObject s = m_sessions.at(i);
            if (s.value("id"_L1).toString() == sessionId) {
                s.insert(u"streaming"_s, false);
                s.insert(u"message_count"_s, msgs.size());
                m_sessions.replace(i, s);
            }
        }
        m_cancel.remove(sessionId);
        if (sock) {
            writeChunk(sock, base);
            sock->disconnectFromHost();
        }
    };
    connect(timer, &QTimer::timeout, this, [=, this] {
        if (!sock) {
            timer->stop();
            return;
        }
        if (m_cancel.value(sessionId)) {
            timer->stop();
            finish(u"Cancelled"_s, {});
            return;
        }
        if (fail && *state == 2) {
            timer->stop();
            finish({}, u"upstream_error: the model went away"_s);
            return;
        }
        if (*state >= tokens.size()) {
            timer->stop();
            finish(u"Stop"_s, {});
            return;
        }
        QJsonObject c = chunk(u"content"_s);
        c.insert(u"content"_s, tokens.at(*state));
        c.insert(u"session_id"_s, sessionId);
        c.insert(u"message_id"_s, messageId);
        *content += tokens.at(*state);
        ++*state;
        writeChunk(sock, c);
    });
    timer->start(tokenDelayMs);
}
