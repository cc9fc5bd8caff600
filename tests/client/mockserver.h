#pragma once

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

// A small stand-in for the AgentDesk server (docs/api.md) for the client's tests: agents,
// sessions, messages, providers, health, and the chat stream as SSE written a token at a time
// (each event cut in two writes, so the client must reassemble them). It can go away and come
// back on the same port to test the offline state.
class MockServer : public QObject
{
    Q_OBJECT

public:
    explicit MockServer(QObject *parent = nullptr);
    ~MockServer() override;

    bool listen(quint16 port = 0);
    void stop(); // stops listening and drops every connection
    quint16 port() const { return m_port; }
    QString baseUrl() const;

    QString addAgent(const QString &name, const QString &greeting = {}, const QString &model = {});
    QString addSession(const QString &agentId, const QString &title, const QString &updatedAt);
    void addMessage(const QString &sessionId, const QString &role, const QString &content);

    // Behaviour of the next streams.
    QStringList replyTokens; // one content chunk each
    int tokenDelayMs = 15;
    bool failStream = false;    // answer the stream with an `error` chunk after two tokens
    int streamHttpStatus = 200; // e.g. 409 to answer session_busy
    QString requiredToken = QStringLiteral("test-token");
    bool splitEvents = true;

    int cancelCount = 0;
    int streamCount = 0;
    int regenerateCount = 0;
    QString lastMessage;
    QList<QByteArray> requests; // "VERB /path"

    QJsonArray sessionsJson() const;
    QJsonArray messagesJson(const QString &sessionId) const;

private:
    struct Stream;
    void onConnection();
    void onReadyRead(QTcpSocket *socket);
    void handle(QTcpSocket *socket, const QByteArray &verb, const QString &path, const QString &query,
                const QHash<QByteArray, QByteArray> &headers, const QByteArray &body);
    void reply(QTcpSocket *socket, int status, const QJsonValue &body);
    void replyError(QTcpSocket *socket, int status, const QString &code, const QString &message);
    // `existingUserId`: a regenerate, answering that stored message again.
    void startStream(QTcpSocket *socket, const QString &agentId, const QJsonObject &request,
                     const QString &existingUserId = {});
    void writeChunk(QTcpSocket *socket, const QJsonObject &chunk);
    static QJsonObject chunk(const QString &type);

    QTcpServer m_server;
    quint16 m_port = 0;
    QList<QPointer<QTcpSocket>> m_sockets;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QJsonArray m_agents;
    QList<QJsonObject> m_sessions;
    QHash<QString, QJsonArray> m_messages;
    QHash<QString, bool> m_cancel; // session id -> cancel requested
    QJsonArray m_providers;
};
