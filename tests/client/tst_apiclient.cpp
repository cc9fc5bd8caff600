#include "apiclient.h"
#include "chatstream.h"
#include "filenetworkfactory.h"
#include "mockserver.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace Qt::StringLiterals;

// A server that answers the chat stream with whatever bytes a test gives it.
class CannedServer : public QObject
{
public:
    QByteArray response;
    bool closeAfter = true;

    bool listen()
    {
        connect(&server, &QTcpServer::newConnection, this, [this] {
            QTcpSocket *s = server.nextPendingConnection();
            connect(s, &QTcpSocket::readyRead, s, [this, s] {
                s->readAll();
                if (s->property("answered").toBool())
                    return;
                s->setProperty("answered", true);
                s->write(response);
                s->flush();
                if (closeAfter)
                    s->disconnectFromHost();
            });
        });
        return server.listen(QHostAddress::LocalHost);
    }
    QUrl url() const { return QUrl(u"http://127.0.0.1:%1"_s.arg(server.serverPort())); }
    QTcpServer server;
};

class ApiClientTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fileImagesCarryTheTokenOnlyToTheServer()
    {
        // Images of tool results load through the QML engine: the token goes in a header, only
        // to the server's file route, and never into the URL (a failed load logs the URL).
        FileNetworkFactory files;
        ApiClient api;
        api.setFileNetworkFactory(&files);
        api.setServer(QUrl(u"http://127.0.0.1:8080/agentdesk/"_s), u"tok-1"_s);
        const QUrl image = api.fileUrl(u"/api/files/f1"_s);
        QCOMPARE(image, QUrl(u"http://127.0.0.1:8080/agentdesk/api/files/f1"_s));
        QVERIFY(!image.toString().contains(u"tok"_s));
        QCOMPARE(files.authorizationFor(image), QByteArray("Bearer tok-1"));
        QVERIFY(files.authorizationFor(QUrl(u"http://127.0.0.1:8080/agentdesk/api/agents"_s)).isEmpty());
        QVERIFY(files.authorizationFor(QUrl(u"http://127.0.0.1:9090/agentdesk/api/files/f1"_s)).isEmpty());
        QVERIFY(files.authorizationFor(QUrl(u"http://evil.example/agentdesk/api/files/f1"_s)).isEmpty());
        QVERIFY(files.authorizationFor(QUrl(u"https://127.0.0.1:8080/agentdesk/api/files/f1"_s)).isEmpty());
        QVERIFY(api.fileUrl(u"https://elsewhere/x.png"_s).isEmpty());
        api.setServer(api.baseUrl(), u"tok-2"_s); // a new token from Settings
        QCOMPARE(files.authorizationFor(image), QByteArray("Bearer tok-2"));
        // A QML Image's request gets the header from the engine's manager.
        std::unique_ptr<QNetworkAccessManager> nam(files.create(nullptr));
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        api.setServer(QUrl(u"http://127.0.0.1:%1"_s.arg(server.serverPort())), u"tok-3"_s);
        std::unique_ptr<QNetworkReply> reply(nam->get(QNetworkRequest(api.fileUrl(u"/api/files/f2"_s))));
        QVERIFY(QTest::qWaitFor([&] { return server.hasPendingConnections(); }, 5000));
        QTcpSocket *socket = server.nextPendingConnection();
        QByteArray head;
        QVERIFY(QTest::qWaitFor(
            [&] {
                head += socket->readAll();
                return head.contains("\r\n\r\n");
            },
            5000));
        QVERIFY(head.startsWith("GET /api/files/f2 "));
        QVERIFY(head.contains("Authorization: Bearer tok-3\r\n"));
    }
    void crud()
    {
        MockServer mock;
        QVERIFY(mock.listen());
        const QString agent = mock.addAgent(u"助手"_s, u"你好！"_s);
        mock.addSession(agent, u"Old chat"_s, u"2024-01-01T00:00:00Z"_s);
        ApiClient api;
        api.setServer(QUrl(mock.baseUrl()), u"test-token"_s);

        ApiResult got;
        bool done = false;
        api.listAgents(this, [&](const ApiResult &r) {
            got = r;
            done = true;
        });
        QTRY_VERIFY(done);
        QVERIFY(got.ok());
        QCOMPARE(got.json.value("agents"_L1).toArray().at(0).toObject().value("name"_L1).toString(),
                 u"助手"_s);

        done = false;
        api.listSessions({}, {}, {}, this, [&](const ApiResult &r) {
            got = r;
            done = true;
        });
        QTRY_VERIFY(done);
        QCOMPARE(got.json.value("sessions"_L1).toArray().size(), 1);

        done = false;
        api.deleteSession(u"00000000-0000-0000-0000-000000000000"_s, this, [&](const ApiResult &r) {
            got = r;
            done = true;
        });
        QTRY_VERIFY(done);
        QCOMPARE(got.status, 404);
        QCOMPARE(got.code, u"session_not_found"_s);
        QVERIFY(!got.message.isEmpty());
    }

    void unauthorizedIsSignalled()
    {
        MockServer mock;
        QVERIFY(mock.listen());
        ApiClient api;
        api.setServer(QUrl(mock.baseUrl()), u"wrong"_s);
        QSignalSpy spy(&api, &ApiClient::unauthorized);
        bool done = false;
        api.listAgents(this, [&](const ApiResult &r) {
            QCOMPARE(r.status, 401);
            QCOMPARE(r.code, u"unauthorized"_s);
            done = true;
        });
        QTRY_VERIFY(done);
        QCOMPARE(spy.count(), 1);
        QVERIFY(api.isOnline());
    }

    void streamFromMock()
    {
        MockServer mock;
        QVERIFY(mock.listen());
        const QString agent = mock.addAgent(u"A"_s);
        ApiClient api;
        api.setServer(QUrl(mock.baseUrl()), u"test-token"_s);
        ChatStream *stream = api.chatStream(agent, u"你好"_s, {}, {}, this);
        QSignalSpy content(stream, &ChatStream::contentReceived);
        QSignalSpy closed(stream, &ChatStream::closed);
        QSignalSpy failed(stream, &ChatStream::failed);
        QTRY_COMPARE(closed.count(), 1);
        QCOMPARE(failed.count(), 0);
        QString text;
        for (const QList<QVariant> &args : std::as_const(content))
            text += args.at(0).toString();
        QCOMPARE(text, mock.replyTokens.join(QString()));
        const ChatChunk done = closed.at(0).at(0).value<ChatChunk>();
        QCOMPARE(done.type, ChatChunk::Type::Done);
        QCOMPARE(done.finishReason, u"Stop"_s);
        QCOMPARE(done.tokensUsed(), 30);
        QVERIFY(!done.replyId.isEmpty());
        QCOMPARE(mock.lastMessage, u"你好"_s);
    }

    void cancelEndsWithCancelled()
    {
        MockServer mock;
        QVERIFY(mock.listen());
        mock.tokenDelayMs = 60;
        mock.replyTokens = QStringList(50, u"tok "_s);
        const QString agent = mock.addAgent(u"A"_s);
        ApiClient api;
        api.setServer(QUrl(mock.baseUrl()), u"test-token"_s);
        ChatStream *stream = api.chatStream(agent, u"long"_s, {}, {}, this);
        QSignalSpy content(stream, &ChatStream::contentReceived);
        QSignalSpy closed(stream, &ChatStream::closed);
        QTRY_VERIFY(content.count() >= 3);
        bool cancelled = false;
        api.cancel(stream->sessionId(), this,
                   [&](const ApiResult &r) { cancelled = r.json.value("cancelled"_L1).toBool(); });
        QTRY_COMPARE(closed.count(), 1);
        QVERIFY(cancelled);
        QCOMPARE(closed.at(0).at(0).value<ChatChunk>().finishReason, u"Cancelled"_s);
        QVERIFY(content.count() < 50);
    }

    void httpErrorBeforeTheStream()
    {
        MockServer mock;
        QVERIFY(mock.listen());
        mock.streamHttpStatus = 409;
        const QString agent = mock.addAgent(u"A"_s);
        ApiClient api;
        api.setServer(QUrl(mock.baseUrl()), u"test-token"_s);
        ChatStream *stream = api.chatStream(agent, u"x"_s, {}, {}, this);
        QSignalSpy failed(stream, &ChatStream::failed);
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(0).toString(), u"session_busy"_s);
        QCOMPARE(failed.at(0).at(2).toBool(), false);
    }

    void streamCutWithoutClosingChunk()
    {
        CannedServer canned;
        canned.response =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            "data: {\"type\":\"content\",\"content\":\"part\",\"session_id\":\"s\",\"message_id\":\"m\","
            "\"reply_id\":null,\"metadata\":null,\"finish_reason\":null,\"error\":null}\n\n";
        QVERIFY(canned.listen());
        ApiClient api;
        api.setServer(canned.url(), u"t"_s);
        ChatStream *stream = api.chatStream(u"a"_s, u"x"_s, {}, {}, this);
        QSignalSpy content(stream, &ChatStream::contentReceived);
        QSignalSpy failed(stream, &ChatStream::failed);
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(content.count(), 1);
        QCOMPARE(failed.at(0).at(0).toString(), u"stream_interrupted"_s);
    }

    void lastEventWithoutBlankLineStillCounts()
    {
        CannedServer canned;
        canned.response =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            ": keep-alive\n\n"
            "data: {\"type\":\"done\",\"content\":null,\"session_id\":\"s\",\"message_id\":\"m\","
            "\"reply_id\":\"r\",\"metadata\":{\"model\":\"m\",\"tokens_used\":5,\"finish_reason\":\"Stop\"},"
            "\"finish_reason\":\"Stop\",\"error\":null}";
        QVERIFY(canned.listen());
        ApiClient api;
        api.setServer(canned.url(), u"t"_s);
        ChatStream *stream = api.chatStream(u"a"_s, u"x"_s, {}, {}, this);
        QSignalSpy closed(stream, &ChatStream::closed);
        QTRY_COMPARE(closed.count(), 1);
    }

    void silenceTimesOut()
    {
        CannedServer canned;
        canned.closeAfter = false;
        canned.response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n: keep-alive\n\n";
        QVERIFY(canned.listen());
        ApiClient api;
        api.setStallTimeout(400);
        api.setServer(canned.url(), u"t"_s);
        ChatStream *stream = api.chatStream(u"a"_s, u"x"_s, {}, {}, this);
        QSignalSpy failed(stream, &ChatStream::failed);
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(0).toString(), u"stream_stalled"_s);
    }

    void offlineAndRecovery()
    {
        MockServer mock;
        QVERIFY(mock.listen());
        const quint16 port = mock.port();
        ApiClient api;
        api.setServer(QUrl(mock.baseUrl()), u"test-token"_s);
        api.setHealthIntervals(300, 100);
        api.startHealthChecks();
        QSignalSpy online(&api, &ApiClient::onlineChanged);
        QSignalSpy reconnected(&api, &ApiClient::reconnected);
        QVERIFY(api.isOnline());

        mock.stop();
        ApiResult got;
        bool done = false;
        api.listAgents(this, [&](const ApiResult &r) {
            got = r;
            done = true;
        });
        QTRY_VERIFY(done);
        QVERIFY(got.offline);
        QCOMPARE(got.code, u"network_error"_s);
        QVERIFY(!api.isOnline());
        QVERIFY(!api.offlineReason().isEmpty());

        // A stream cannot start either, and says the server is unreachable.
        ChatStream *stream = api.chatStream(u"a"_s, u"x"_s, {}, {}, this);
        QSignalSpy failed(stream, &ChatStream::failed);
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(2).toBool(), true);

        QVERIFY(mock.listen(port));
        QTRY_COMPARE_WITH_TIMEOUT(reconnected.count(), 1, 5000);
        QVERIFY(api.isOnline());
        QVERIFY(api.offlineReason().isEmpty());
    }

    void healthNoticesAServerGoneWhileIdle()
    {
        MockServer mock;
        QVERIFY(mock.listen());
        ApiClient api;
        api.setServer(QUrl(mock.baseUrl()), u"test-token"_s);
        api.setHealthIntervals(100, 100);
        api.startHealthChecks();
        mock.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!api.isOnline(), 5000);
    }
};

QTEST_GUILESS_MAIN(ApiClientTest)
#include "tst_apiclient.moc"
