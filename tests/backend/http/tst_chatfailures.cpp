// Nothing the user typed or saw is lost: upstream failures, client disconnects, cancel, and many
// concurrent streams, checked over real sockets and in the database.
#include "apifixture.h"
#include "chat/chatservice.h"
#include "storage/sessionstore.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

class ChatFailuresTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void upstreamFailureKeepsPartialReply_data();
    void upstreamFailureKeepsPartialReply();
    void malformedUpstreamLinesAreSkipped();
    void unreachableProviderIsNamed();
    void clientDisconnectAbortsUpstream();
    void cancelStopsReply();
    void cancelScopes();
    void failedCommitWithdrawsTheRequest();
    void startsOfOnePassFailAlone();
    void sameKeyInOnePassIsOneReply();
    void hundredConcurrentStreams();
    void restartMarksInterruptedReplies();

private:
    static QJsonArray messages(ApiFixture &f, const QString &sessionId)
    {
        return f.client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray();
    }
    // Chat requests on fresh connections, all written before the server's loop runs again, so that it
    // reads them in one pass; what each connection received once `done(bytes)` says it is complete.
    static QList<QByteArray> inOnePass(ApiFixture &f, const QString &agentId, const QList<QByteArray> &bodies,
                                       const QByteArray &extraHeaders,
                                       const std::function<bool(const QByteArray &)> &done);
};

QList<QByteArray> ChatFailuresTest::inOnePass(ApiFixture &f, const QString &agentId,
                                              const QList<QByteArray> &bodies, const QByteArray &extraHeaders,
                                              const std::function<bool(const QByteArray &)> &done)
{
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    // Connected by the kernel and written before the server accepts: it reads them all in one pass.
    for (const QByteArray &body : bodies) {
        auto socket = std::make_unique<QTcpSocket>();
        socket->connectToHost(QHostAddress::LocalHost, f.server->port());
        if (!socket->waitForConnected(5000))
            return {};
        socket->write("POST /api/agents/" + agentId.toLatin1() + "/chat/stream HTTP/1.1\r\nHost: test\r\n" +
                      "Authorization: Bearer " + f.token.toLatin1() +
                      "\r\nContent-Type: application/json\r\n" + extraHeaders +
                      "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        if (!socket->waitForBytesWritten(5000))
            return {};
        sockets.push_back(std::move(socket));
    }
    QList<QByteArray> received(bodies.size());
    const auto complete = [&] {
        for (qsizetype i = 0; i < received.size(); ++i) {
            received[i] += sockets[i]->readAll();
            if (!done(received.at(i)))
                return false;
        }
        return true;
    };
    for (QDeadlineTimer deadline(15000); !complete();) {
        if (deadline.hasExpired())
            return {};
        QTest::qWait(10);
    }
    return received;
}

void ChatFailuresTest::upstreamFailureKeepsPartialReply_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("partial"); // what the user saw before the failure
    QTest::addColumn<QString>("errorPart");
    // The text names the provider, says what happened and, for a key, what to do.
    QTest::newRow("http 500") << u"fake:status=500"_s << QString()
                              << u"model provider \u201cenv\u201d answered HTTP 500"_s;
    QTest::newRow("http 401") << u"fake:status=401"_s << QString()
                              << u"\u201cenv\u201d refused the API key (HTTP 401"_s;
    QTest::newRow("http 429") << u"fake:status=429"_s << QString() << u"429"_s;
    QTest::newRow("cut mid-stream") << u"fake:tokens=6,cut=3,text=aa%20bb%20cc%20dd%20ee%20ff"_s
                                    << u"aa bb cc"_s
                                    << u"model provider \u201cenv\u201d at http://127.0.0.1:"_s;
    QTest::newRow("stall mid-stream")
        << u"fake:tokens=6,stall=2,text=aa%20bb%20cc%20dd%20ee%20ff"_s << u"aa bb"_s << QString();
    QTest::newRow("stall before headers") << u"fake:stall=0"_s << QString() << QString();
}

void ChatFailuresTest::upstreamFailureKeepsPartialReply()
{
    QFETCH(QString, model);
    QFETCH(QString, partial);
    QFETCH(QString, errorPart);
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(model);
    auto client = f.client();
    const auto result = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                      ApiFixture::chatBody(u"请保存我的消息"_s));
    QCOMPARE(result.head.status, 200);
    QVERIFY(result.closedByServer);
    QString seen;
    for (qsizetype i = 0; i + 1 < result.events.size(); ++i) {
        QCOMPARE(result.events.at(i).json.value(u"type"_s).toString(), u"content"_s);
        seen += result.events.at(i).json.value(u"content"_s).toString();
    }
    QCOMPARE(seen, partial);
    const QJsonObject last = result.events.last().json;
    QCOMPARE(last.value(u"type"_s).toString(), u"error"_s);
    QVERIFY(last.value(u"reply_id"_s).isNull());
    QVERIFY(!last.value(u"error"_s).toString().isEmpty());
    if (!errorPart.isEmpty())
        QVERIFY2(last.value(u"error"_s).toString().contains(errorPart),
                 qPrintable(last.value(u"error"_s).toString()));

    const QJsonArray rows = messages(f, last.value(u"session_id"_s).toString());
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(0)[u"role"_s].toString(), u"user"_s);
    QCOMPARE(rows.at(0)[u"content"_s].toString(), u"请保存我的消息"_s);
    QCOMPARE(rows.at(0)[u"id"_s].toString(), last.value(u"message_id"_s).toString());
    QCOMPARE(rows.at(1)[u"role"_s].toString(), u"assistant"_s);
    QCOMPARE(rows.at(1)[u"content"_s].toString(), partial);
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"error"_s);
    QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Error"_s);
    QVERIFY(!rows.at(1)[u"error"_s].toString().isEmpty());
}

void ChatFailuresTest::unreachableProviderIsNamed()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) {
        // Nothing listens on port 9; a key in the URL must not be shown.
        o.environmentProvider->baseUrl = QUrl(u"http://user:secret@127.0.0.1:9/v1?key=abc"_s);
    }));
    const QString agent = f.createAgent(u"fake"_s);
    const auto result =
        f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"hi"_s));
    const QString error = result.events.last().json.value("error"_L1).toString();
    QVERIFY2(
        error.startsWith(u"Cannot reach the model provider \u201cenv\u201d at http://127.0.0.1:9/v1: "_s),
        qPrintable(error));
    QVERIFY(!error.contains(u"secret"_s) && !error.contains(u"abc"_s));
}

void ChatFailuresTest::malformedUpstreamLinesAreSkipped()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=4,malformed=1,text=one%20two%20three%20four"_s);
    const auto result = f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                          ApiFixture::chatBody(u"go"_s));
    QString text;
    for (const auto &event : result.events)
        text += event.json.value(u"content"_s).toString();
    QCOMPARE(text, u"one two three four"_s);
    QCOMPARE(result.events.last().json.value(u"type"_s).toString(), u"done"_s);
}

void ChatFailuresTest::clientDisconnectAbortsUpstream()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) { o.resumeGraceMs = 0; })); // stop-on-disconnect
    const QString agentId = f.createAgent(u"fake:tokens=200,delay=30"_s);
    auto client = f.client();
    QString seen;
    QString sessionId;
    int chunks = 0;
    client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId), ApiFixture::chatBody(u"long one"_s),
                  [&](const SseEventRecord &event) {
                      sessionId = event.json.value(u"session_id"_s).toString();
                      seen += event.json.value(u"content"_s).toString();
                      return ++chunks < 3; // then drop the connection
                  });
    QCOMPARE(chunks, 3);
    // The upstream request is aborted when the client leaves, long before its 6 s reply ends.
    QTRY_COMPARE_WITH_TIMEOUT(f.fake.clientAborts(), 1, 30000);
    QCOMPARE(f.fake.completedStreams(), 0);
    QTRY_COMPARE(f.server->chat().directory().running(), 0);

    const QJsonArray rows = messages(f, sessionId);
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"cancelled"_s);
    QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Disconnected"_s);
    // Everything the user saw is kept (the server may have received a little more).
    QVERIFY2(rows.at(1)[u"content"_s].toString().startsWith(seen),
             qPrintable(rows.at(1)[u"content"_s].toString()));
    QVERIFY(!seen.isEmpty());
}

void ChatFailuresTest::failedCommitWithdrawsTheRequest()
{
    // The upstream request goes out before the user's message is committed (ChatService::start);
    // when the commit fails, the client gets a plain 500 before any stream opens, the request is
    // withdrawn (its connection closed, never reused) and nothing of it is left in the database.
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=40,delay=20"_s);
    auto client = f.client();
    const QString path = u"/api/agents/%1/chat/stream"_s.arg(agentId);
    // A first chat leaves a kept-alive upstream connection, so the next request is written at once.
    // Each loop (--threads) has its own connections, and new replies go to the loops in turn.
    const int loops = f.server->loops();
    for (int i = 0; i < loops; ++i) {
        QCOMPARE(
            client.stream("POST", path, ApiFixture::chatBody(u"warm up"_s)).events.last().json[u"type"_s],
            u"done"_s);
    }
    QTRY_COMPARE(f.fake.openConnections(), loops);
    const int requestsBefore = f.fake.requestsReceived();
    QVERIFY(f.refuseMessages(u"refuse me"_s));

    const HttpResult refused = client.request("POST", path, ApiFixture::chatBody(u"refuse me"_s));
    QCOMPARE(refused.status, 500);
    QCOMPARE(refused.errorCode(), QByteArray("storage_error"));
    QTRY_COMPARE(f.fake.requestsReceived(), requestsBefore + 1); // it did go out...
    QTRY_COMPARE(f.fake.openConnections(), loops - 1);           // ...and its connection was closed
    QTRY_COMPARE(f.server->chat().directory().running(), 0);
    const QJsonArray sessions = client.get(u"/api/sessions"_s).json()[u"sessions"_s].toArray();
    QCOMPARE(sessions.size(), loops); // only the warm-ups

    // The server goes on normally.
    QCOMPARE(client.stream("POST", path, ApiFixture::chatBody(u"after"_s)).events.last().json[u"type"_s],
             u"done"_s);
}

void ChatFailuresTest::startsOfOnePassFailAlone()
{
    // The starts of the replies a loop reads in one pass are stored in one commit. One that cannot be
    // stored fails alone: the others stream, it gets a plain 500, and nothing of it is left.
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &options) { options.threads = 1; }));
    const QString agentId = f.createAgent(u"fake:tokens=3"_s);
    QVERIFY(f.refuseMessages(u"refuse me"_s));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"A group of 3 writes failed"_s));
    const QList<QByteArray> received =
        inOnePass(f, agentId,
                  {ApiFixture::chatBody(u"first"_s), ApiFixture::chatBody(u"refuse me"_s),
                   ApiFixture::chatBody(u"third"_s)},
                  {}, [](const QByteArray &bytes) {
                      return bytes.contains("\"type\":\"done\"") || bytes.contains("storage_error");
                  });
    QCOMPARE(received.size(), 3);
    for (const int good : {0, 2}) {
        QVERIFY2(received.at(good).startsWith("HTTP/1.1 200 "), received.at(good).constData());
        QVERIFY(received.at(good).contains("\"finish_reason\":\"Stop\""));
    }
    QVERIFY2(received.at(1).startsWith("HTTP/1.1 500 "), received.at(1).constData());
    QVERIFY(!received.at(1).contains("text/event-stream"));

    const QJsonArray sessions = f.client().get(u"/api/sessions"_s).json()[u"sessions"_s].toArray();
    QCOMPARE(sessions.size(), 2);
    for (const QJsonValue &session : sessions) {
        const QJsonArray rows = messages(f, session[u"id"_s].toString());
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows.at(1)[u"status"_s].toString(), u"complete"_s);
    }
    QTRY_COMPARE(f.server->chat().directory().running(), 0);
}

void ChatFailuresTest::sameKeyInOnePassIsOneReply()
{
    // A retry with the same Idempotency-Key that comes in the same pass as the first request, before
    // its start is committed, still follows that reply instead of starting another.
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &options) { options.threads = 1; }));
    const QString agentId = f.createAgent(u"fake:tokens=5,delay=20"_s);
    const int before = f.fake.requestsReceived();
    const QByteArray body = ApiFixture::chatBody(u"only once"_s);
    const QList<QByteArray> received =
        inOnePass(f, agentId, {body, body}, "Idempotency-Key: same-pass-1\r\n",
                  [](const QByteArray &bytes) { return bytes.contains("\"type\":\"done\""); });
    QCOMPARE(received.size(), 2);
    const auto replyIdIn = [](const QByteArray &bytes) {
        const qsizetype at = bytes.indexOf("\"reply_id\":\"");
        return at < 0 ? QByteArray() : bytes.mid(at + 12, 36);
    };
    QVERIFY(!replyIdIn(received.at(0)).isEmpty());
    QCOMPARE(replyIdIn(received.at(1)), replyIdIn(received.at(0)));
    QCOMPARE(f.fake.requestsReceived(), before + 1);
    QCOMPARE(f.client().get(u"/api/sessions"_s).json()[u"sessions"_s].toArray().size(), 1);
}

void ChatFailuresTest::cancelStopsReply()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=200,delay=30"_s);
    auto client = f.client();
    QString sessionId;
    QString seen;
    HttpResult cancel;
    const auto result = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                      ApiFixture::chatBody(u"stop me"_s), [&](const SseEventRecord &event) {
                                          sessionId = event.json.value(u"session_id"_s).toString();
                                          seen += event.json.value(u"content"_s).toString();
                                          if (cancel.status == 0 && seen.size() > 5)
                                              cancel = f.client().request(
                                                  "POST", u"/api/sessions/%1/cancel"_s.arg(sessionId), "{}");
                                          return true;
                                      });
    QCOMPARE(cancel.status, 200);
    QCOMPARE(cancel.json().value(u"cancelled"_s).toBool(), true);
    QVERIFY(result.closedByServer);
    const QJsonObject last = result.events.last().json;
    QCOMPARE(last.value(u"type"_s).toString(), u"done"_s);
    QCOMPARE(last.value(u"finish_reason"_s).toString(), u"Cancelled"_s);
    QCOMPARE(last[u"metadata"_s][u"finish_reason"_s].toString(), u"Cancelled"_s);
    QCOMPARE(last.value(u"reply_id"_s).toString().size(), 36);
    QTRY_COMPARE_WITH_TIMEOUT(f.fake.clientAborts(), 1, 1000);
    QVERIFY(result.events.size() < 100); // it really stopped

    const QJsonArray rows = messages(f, sessionId);
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(1)[u"id"_s].toString(), last.value(u"reply_id"_s).toString());
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"cancelled"_s);
    QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Cancelled"_s);
    QCOMPARE(rows.at(1)[u"content"_s].toString(), seen);

    // Nothing is running any more.
    const HttpResult again = f.client().request("POST", u"/api/sessions/%1/cancel"_s.arg(sessionId), "{}");
    QCOMPARE(again.status, 200);
    QCOMPARE(again.json().value(u"cancelled"_s).toBool(), false);
}

void ChatFailuresTest::cancelScopes()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=2"_s);
    const auto result = f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                          ApiFixture::chatBody(u"mine"_s));
    const QString sessionId = result.events.last().json.value(u"session_id"_s).toString();
    const QString bob = f.newToken(u"acme"_s, u"bob"_s);
    const QString eve = f.newToken(u"evil"_s, u"eve"_s);
    for (const QString &other : {bob, eve}) {
        const HttpResult r =
            f.client(other).request("POST", u"/api/sessions/%1/cancel"_s.arg(sessionId), "{}");
        QCOMPARE(r.status, 404);
        QCOMPARE(r.errorCode(), "session_not_found");
    }
    QCOMPARE(f.client().request("POST", u"/api/sessions/not-a-uuid/cancel"_s, "{}").status, 400);
    QCOMPARE(f.client().request("POST", u"/api/sessions/%1/cancel"_s.arg(sessionId), "{}").status, 200);
}

void ChatFailuresTest::hundredConcurrentStreams()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=10,delay=20"_s);
    constexpr int streams = 100;

    struct Stream
    {
        QTcpSocket *socket = nullptr;
        QByteArray buffer;
        QList<QJsonObject> chunks;
        bool closed = false;
    };
    QList<Stream> all(streams);
    const QByteArray path = "/api/agents/" + agentId.toUtf8() + "/chat/stream";
    for (int i = 0; i < streams; ++i) {
        Stream &s = all[i];
        s.socket = new QTcpSocket(this);
        connect(s.socket, &QTcpSocket::readyRead, this, [&s] {
            s.buffer += s.socket->readAll();
            qsizetype end;
            while ((end = s.buffer.indexOf("\n\n")) >= 0) {
                const QByteArray event = s.buffer.left(end);
                s.buffer.remove(0, end + 2);
                const qsizetype data = event.indexOf("data: ");
                if (data >= 0)
                    s.chunks.append(QJsonDocument::fromJson(event.mid(data + 6)).object());
            }
        });
        connect(s.socket, &QTcpSocket::disconnected, this, [&s] { s.closed = true; });
        s.socket->connectToHost(QHostAddress::LocalHost, f.server->port());
        s.socket->write(ApiTestClient::rawRequest("POST", QString::fromUtf8(path),
                                                  ApiFixture::chatBody(u"stream %1"_s.arg(i)),
                                                  f.token.toUtf8(), {}));
    }
    const auto allClosed = [&] {
        return std::all_of(all.begin(), all.end(), [](const Stream &s) { return s.closed; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(allClosed(), 30000);
    QVERIFY2(f.fake.maxConcurrentStreams() >= streams / 2,
             qPrintable(QString::number(f.fake.maxConcurrentStreams())));

    QSet<QString> sessions;
    QSet<QString> replies;
    for (int i = 0; i < streams; ++i) {
        const Stream &s = all.at(i);
        QVERIFY2(!s.chunks.isEmpty(), qPrintable(QString::number(i)));
        QCOMPARE(s.chunks.last().value(u"type"_s).toString(), u"done"_s);
        QCOMPARE(s.chunks.size(), 12); // the opener, 10 content, done
        sessions.insert(s.chunks.last().value(u"session_id"_s).toString());
        replies.insert(s.chunks.last().value(u"reply_id"_s).toString());
        s.socket->deleteLater();
    }
    QCOMPARE(sessions.size(), streams);
    QCOMPARE(replies.size(), streams);

    // Every message stored exactly once: one user message and one reply per session.
    QSqlQuery query(f.server->database().connection());
    QVERIFY(
        query.exec(u"SELECT COUNT(*), COUNT(DISTINCT session_id), SUM(CASE WHEN role = 'user' THEN 1 ELSE 0 "
                   "END), SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END) FROM messages"_s));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toInt(), 2 * streams);
    QCOMPARE(query.value(1).toInt(), streams);
    QCOMPARE(query.value(2).toInt(), streams);
    QCOMPARE(query.value(3).toInt(), 2 * streams);
    QVERIFY(query.exec(u"SELECT COUNT(*) FROM (SELECT session_id, content, COUNT(*) AS n FROM messages WHERE "
                       "role = 'user' GROUP BY session_id, content) t WHERE n <> 1"_s));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toInt(), 0);
    const HttpResult stats = f.client().get(u"/api/stats"_s);
    QCOMPARE(stats.json().value(u"sessions"_s).toInt(), streams);
    QCOMPARE(stats.json().value(u"messages"_s).toInt(), 2 * streams);
}

void ChatFailuresTest::restartMarksInterruptedReplies()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=200,delay=30"_s);
    QString sessionId;
    QString seen;
    int chunks = 0;
    // Keep the stream open while the server goes down underneath it.
    f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId), ApiFixture::chatBody(u"crash"_s),
                      [&](const SseEventRecord &event) {
                          sessionId = event.json.value(u"session_id"_s).toString();
                          seen += event.json.value(u"content"_s).toString();
                          if (++chunks == 5)
                              f.stopServer();
                          return chunks < 5;
                      });
    QVERIFY(!f.server);
    QVERIFY(f.start());
    const QJsonArray rows = messages(f, sessionId);
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"interrupted"_s);
    QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Interrupted"_s);
    QVERIFY(rows.at(1)[u"content"_s].toString().startsWith(seen));
}

QTEST_GUILESS_MAIN(ChatFailuresTest)
#include "tst_chatfailures.moc"
