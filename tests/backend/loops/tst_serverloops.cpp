// The server with several event loops (--threads), on the headless server's epoll dispatcher: new
// replies spread over the loops with their connections, and everything about a reply that arrives
// on the first loop (cancel, resume and attach, tool decisions, deleting its session, statistics,
// shutdown) reaches the loop that runs it.
#include "apifixture.h"
#include "chat/chatservice.h"
#include "eventloop/epolleventdispatcher.h"
#include "http/apiserver.h"
#include "streamclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace {
constexpr int loops = 4;
const QString node = QStringLiteral(AGENTDESK_NODE);

bool startLoops(ApiFixture &f, int graceMs = 30000)
{
    return f.start([graceMs](Server::Options &o) {
        o.threads = loops;
        o.resumeGraceMs = graceMs;
    });
}

QString replyOf(const QByteArray &id)
{
    return QString::fromLatin1(id.left(id.indexOf(':')));
}

// Which loop runs the reply (0: the first), -1 when none does.
int loopOf(ApiFixture &f, const QString &replyId)
{
    const ChatService *owner = f.server->chat().directory().replyOwner(replyId);
    return owner ? int(f.server->loopServices().indexOf(owner)) : -1;
}

QString callsModel(const QString &call)
{
    return u"fake:calls="_s + QString::fromLatin1(QUrl::toPercentEncoding(call));
}
} // namespace

class ServerLoopsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void repliesSpreadOverTheLoops();
    void oneLoopMovesAStreamOffQHttpServer();
    void cancelReachesTheReplysLoop();
    void resumeAndAttachOnTheReplysLoop();
    void oneReplyPerSessionAcrossLoops();
    void toolCallsAndDecisionsCrossLoops();
    void deletingASessionStopsItsReplyFirst_data();
    void deletingASessionStopsItsReplyFirst();
    void answersOnAHandedOverConnection();
    void simultaneousStartsInOneSession();
    void repeatedIdempotencyKeyAttaches();
    void pipelinedAnswerGoesFirst();
    void shutdownInterruptsEveryLoop();
};

void ServerLoopsTest::repliesSpreadOverTheLoops()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    QCOMPARE(f.server->loops(), loops);
    const QString agentId = f.createAgent(u"fake:tokens=40,delay=10"_s);
    std::vector<std::unique_ptr<AsyncStream>> streams;
    for (int i = 0; i < 2 * loops; ++i) {
        streams.push_back(std::make_unique<AsyncStream>(
            f.server->port(), chatStreamRequest(agentId, f.token, u"question %1"_s.arg(i))));
        streams.back()->start();
    }
    QList<int> perLoop(loops, 0);
    for (const auto &stream : streams) {
        QTRY_VERIFY_WITH_TIMEOUT(stream->record().ids.size() > 2, 10000);
        const int loop = loopOf(f, replyOf(stream->record().ids.first()));
        QVERIFY(loop >= 0);
        ++perLoop[loop];
    }
    QCOMPARE(perLoop, QList<int>(loops, 2)); // every loop runs two of them
    for (const auto &stream : streams) {
        QTRY_VERIFY_WITH_TIMEOUT(stream->isFinished(), 20000);
        QCOMPARE(stream->record().terminal, u"done"_s);
        QVERIFY(stream->record().lastChunk); // the chunked body ended properly
        QCOMPARE(stream->record().events.size(), 42);
    }
    QTRY_COMPARE(f.server->chat().directory().running(), 0);

    // Every loop's commits are the server's: statistics and the database count them all.
    const QJsonObject stats = f.client().get(u"/api/stats"_s).json();
    QCOMPARE(stats.value(u"sessions"_s).toInt(), 2 * loops);
    QCOMPARE(stats.value(u"messages"_s).toInt(), 4 * loops);
    QVERIFY(stats.value(u"completion_tokens"_s).toInt() >= 40 * 2 * loops);
    QSqlQuery query(f.server->database().connection());
    QVERIFY(query.exec(u"SELECT COUNT(*) FROM messages WHERE role = 'assistant' AND status = 'complete'"_s));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toInt(), 2 * loops);
}

void ServerLoopsTest::oneLoopMovesAStreamOffQHttpServer()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) { o.threads = 1; }));
    const QString agentId = f.createAgent(u"fake:tokens=30,delay=50"_s);
    const auto servers = [&f] {
        int connected = 0;
        for (const QTcpSocket *socket : f.server->http()->findChildren<QTcpSocket *>())
            connected += socket->state() == QAbstractSocket::ConnectedState;
        return connected;
    };
    // A stream, also on one loop, answers from a socket of its own: QHttpServer's keeps a 16 KiB
    // read block for as long as the connection lives.
    AsyncStream stream(f.server->port(), chatStreamRequest(agentId, f.token, u"hello"_s));
    int chunks = 0;
    connect(&stream, &AsyncStream::chunk, this, [&chunks] { ++chunks; });
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(chunks >= 3, 10000);
    QCOMPARE(servers(), 0);
    QVERIFY(!stream.isFinished());
    QTRY_VERIFY_WITH_TIMEOUT(stream.isFinished(), 10000);
    QCOMPARE(stream.record().terminal, u"done"_s);
    QCOMPARE(stream.record().events.size(), 30 + 2); // the opener, every token, done
    const QJsonArray stored = f.client()
                                  .get(u"/api/sessions/%1/messages"_s.arg(stream.record().sessionId))
                                  .json()[u"messages"_s]
                                  .toArray();
    QCOMPARE(stored.size(), 2);
    QCOMPARE(stored.at(1)[u"content"_s].toString(), stream.record().content);
    // A refusal before the stream keeps the connection for the next request, as before.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, f.server->port());
    QVERIFY(socket.waitForConnected(5000));
    const QByteArray json = ApiFixture::chatBody(u"hi"_s);
    const QByteArray request =
        "POST /api/agents/" + QUuid::createUuid().toByteArray(QUuid::WithoutBraces) +
        "/chat/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f.token.toLatin1() +
        "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(json.size()) +
        "\r\n\r\n" + json;
    socket.write(request);
    QTRY_VERIFY(socket.bytesAvailable() > 0 && socket.peek(4096).contains("agent_not_found"));
    socket.readAll();
    socket.write("GET /api/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f.token.toLatin1() +
                 "\r\n\r\n");
    QTRY_VERIFY(socket.peek(1 << 16).contains(agentId.toLatin1()));
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
}

void ServerLoopsTest::cancelReachesTheReplysLoop()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    const QString agentId = f.createAgent(u"fake:tokens=400,delay=20"_s);
    for (const QString &what : {u"reply"_s, u"session"_s}) {
        AsyncStream stream(f.server->port(), chatStreamRequest(agentId, f.token, u"long"_s));
        stream.start();
        QTRY_VERIFY_WITH_TIMEOUT(stream.record().ids.size() > 3, 10000);
        const QString replyId = replyOf(stream.record().ids.first());
        QVERIFY(loopOf(f, replyId) > 0);
        const QString path = what == "reply"_L1 ? u"/api/replies/%1/cancel"_s.arg(replyId)
                                                : u"/api/sessions/%1/cancel"_s.arg(stream.record().sessionId);
        const HttpResult cancelled = f.client().request("POST", path);
        QCOMPARE(cancelled.status, 200);
        QCOMPARE(cancelled.json().value(u"cancelled"_s).toBool(), true);
        QTRY_VERIFY_WITH_TIMEOUT(stream.isFinished(), 10000);
        QCOMPARE(stream.record().finishReason, u"Cancelled"_s);
        QCOMPARE(f.server->chat().directory().running(), 0);
        // Nothing left to cancel.
        const HttpResult again = f.client().request("POST", path);
        QCOMPARE(again.json().value(u"cancelled"_s).toBool(), false);
    }
    QTRY_COMPARE(f.fake.clientAborts(), 2); // each upstream was stopped on its own loop
    // Another user's cancel finds nothing, on whichever loop the reply runs.
    AsyncStream stream(f.server->port(), chatStreamRequest(agentId, f.token, u"mine"_s));
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(stream.record().ids.size() > 3, 10000);
    const QString replyId = replyOf(stream.record().ids.first());
    QVERIFY(loopOf(f, replyId) > 0);
    const QString bob = f.newToken(u"acme"_s, u"bob"_s);
    QCOMPARE(f.client(bob).request("POST", u"/api/replies/%1/cancel"_s.arg(replyId)).status, 404);
    QCOMPARE(
        f.client(bob).request("POST", u"/api/sessions/%1/cancel"_s.arg(stream.record().sessionId)).status,
        404);
    QVERIFY(!stream.isFinished());
    stream.abort();
}

void ServerLoopsTest::resumeAndAttachOnTheReplysLoop()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    const QString model = u"fake:tokens=60,delay=20"_s;
    const QString agentId = f.createAgent(model);
    auto client = f.client();
    const QString path = u"/api/agents/%1/chat/stream"_s.arg(agentId);
    const QByteArray body = ApiFixture::chatBody(u"tell me"_s);
    int events = 0;
    const auto first =
        client.stream("POST", path, body, [&](const SseEventRecord &) { return ++events < 5; });
    QCOMPARE(first.events.size(), 5);
    const QByteArray lastId = first.events.last().id;
    const QString replyId = replyOf(lastId);
    QVERIFY(loopOf(f, replyId) > 0); // not the loop that reads requests

    // A second window follows from the start while the first client resumes where it left.
    AsyncStream follower(
        f.server->port(),
        ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, f.token.toUtf8(), {}));
    follower.start();
    const auto rest = client.stream("POST", path, body, {}, 20000, true, {{"Last-Event-ID", lastId}});
    QCOMPARE(rest.head.status, 200);
    QVERIFY(rest.closedByServer);
    QCOMPARE(rest.events.first().id, replyId.toLatin1() + ":6");
    QCOMPARE(rest.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QString text;
    for (const auto &e : first.events)
        text += e.json.value(u"content"_s).toString();
    for (const auto &e : rest.events)
        text += e.json.value(u"content"_s).toString();
    QTRY_VERIFY_WITH_TIMEOUT(follower.isFinished(), 20000);
    QCOMPARE(follower.record().terminal, u"done"_s);
    QCOMPARE(follower.record().content, text); // the same words, once
    QCOMPARE(f.fake.requestsReceived(), 1);

    // Ended: served from storage by the first loop, 204 once the end was seen.
    const auto stored = client.stream("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, {}, 20000, true,
                                      {{"Last-Event-ID", lastId}});
    QCOMPARE(stored.events.size(), rest.events.size());
    const QByteArray endId = rest.events.last().id;
    QCOMPARE(client.request("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, {{"Last-Event-ID", endId}})
                 .status,
             204);
    // Someone else's reply is not found while it runs elsewhere either.
    AsyncStream running(f.server->port(), chatStreamRequest(agentId, f.token, u"again"_s));
    running.start();
    QTRY_VERIFY_WITH_TIMEOUT(running.record().ids.size() > 2, 10000);
    const QString bob = f.newToken(u"acme"_s, u"bob"_s);
    const QString other = replyOf(running.record().ids.first());
    QVERIFY(loopOf(f, other) > 0);
    QCOMPARE(f.client(bob).request("GET", u"/api/replies/%1/stream"_s.arg(other)).status, 404);
    running.abort();
}

void ServerLoopsTest::oneReplyPerSessionAcrossLoops()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    const QString agentId = f.createAgent(u"fake:tokens=300,delay=20"_s);
    AsyncStream stream(f.server->port(), chatStreamRequest(agentId, f.token, u"first"_s));
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(stream.record().ids.size() > 2, 10000);
    const QString sessionId = stream.record().sessionId;
    QVERIFY(loopOf(f, replyOf(stream.record().ids.first())) > 0);
    // The next requests go to the other loops in turn: each finds the session busy.
    for (int i = 0; i < loops; ++i) {
        const HttpResult busy = f.client().request("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                                   ApiFixture::chatBody(u"second"_s, sessionId));
        QCOMPARE(busy.status, 409);
        QCOMPARE(busy.errorCode(), QByteArray("session_busy"));
    }
    const QJsonObject session = f.client().get(u"/api/sessions/%1"_s.arg(sessionId)).json();
    QCOMPARE(session.value(u"streaming"_s).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(stream.isFinished(), 20000);
    QTRY_COMPARE(f.server->chat().directory().running(), 0);
    // Free again, on whichever loop comes next.
    const auto next = f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                        ApiFixture::chatBody(u"second"_s, sessionId));
    QCOMPARE(next.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QCOMPARE(
        f.client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size(),
        4);
}

void ServerLoopsTest::toolCallsAndDecisionsCrossLoops()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    QVERIFY(f.addEverything()); // its process belongs to the first loop
    const QString agent =
        f.createAgent(callsModel(u"everything__get-sum|{\"a\":4,\"b\":5}"_s),
                      {{u"tools"_s, QJsonArray{u"everything/*"_s}}, {u"tool_approval"_s, u"ask"_s}});
    for (int i = 0; i < loops; ++i) { // one on each loop
        AsyncStream stream(f.server->port(), chatStreamRequest(agent, f.token, u"may I?"_s));
        stream.start();
        QTRY_VERIFY_WITH_TIMEOUT(!ofType(stream.record(), u"tool_call"_s).isEmpty(), 20000);
        const QString replyId = replyOf(stream.record().ids.first());
        QCOMPARE(loopOf(f, replyId), (i + 1) % loops);
        const QJsonObject waiting = ofType(stream.record(), u"tool_call"_s).first()[u"metadata"_s].toObject();
        QCOMPARE(waiting.value("status"_L1).toString(), u"awaiting_approval"_s);
        const QString path =
            u"/api/replies/%1/tool-calls/%2"_s.arg(replyId, waiting.value("tool_call_id"_L1).toString());
        QCOMPARE(f.client().request("POST", path, R"({"decision":"maybe"})").errorCode(),
                 QByteArray("invalid_decision"));
        const HttpResult decided = f.client().request("POST", path, R"({"decision":"allow"})");
        QCOMPARE(decided.status, 200);
        QCOMPARE(decided.json().value(u"decision"_s).toString(), u"allow"_s);
        QTRY_VERIFY_WITH_TIMEOUT(stream.isFinished(), 20000);
        QCOMPARE(stream.record().terminal, u"done"_s);
        // The call ran in the first loop's MCP server and its result came back to this loop.
        QCOMPARE(ofType(stream.record(), u"tool_result"_s).first().value("content"_L1).toString(),
                 u"The sum of 4 and 5 is 9."_s);
        QCOMPARE(f.client().request("POST", path, R"({"decision":"allow"})").status, 409);
    }
}

void ServerLoopsTest::deletingASessionStopsItsReplyFirst_data()
{
    // The reply's end is stored with a pass's others (GroupCommit); the delete must find it
    // stored and the session free, on the reply's own loop and from another.
    QTest::addColumn<int>("threads");
    QTest::newRow("one loop") << 1;
    QTest::newRow("another loop") << loops;
}

void ServerLoopsTest::deletingASessionStopsItsReplyFirst()
{
    QFETCH(int, threads);
    ApiFixture f;
    QVERIFY(f.start([threads](Server::Options &o) { o.threads = threads; }));
    const QString agentId = f.createAgent(u"fake:tokens=400,delay=20"_s);
    AsyncStream stream(f.server->port(), chatStreamRequest(agentId, f.token, u"doomed"_s));
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(stream.record().ids.size() > 3, 10000);
    QCOMPARE(loopOf(f, replyOf(stream.record().ids.first())) > 0, threads > 1);
    const QString sessionId = stream.record().sessionId;
    QCOMPARE(f.client().request("DELETE", u"/api/sessions/%1"_s.arg(sessionId)).status, 204);
    QTRY_VERIFY_WITH_TIMEOUT(stream.isFinished(), 10000);
    QCOMPARE(stream.record().finishReason, u"Cancelled"_s); // stopped (and saved) before the delete
    QCOMPARE(f.server->chat().directory().running(), 0);
    QCOMPARE(f.client().get(u"/api/sessions/%1"_s.arg(sessionId)).status, 404);
    QSqlQuery query(f.server->database().connection());
    QVERIFY(query.exec(u"SELECT COUNT(*) FROM messages"_s));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toInt(), 0);
}

void ServerLoopsTest::answersOnAHandedOverConnection()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) {
        o.threads = loops;
        o.corsOrigins = {u"https://app.example.com"_s};
    }));
    const QString agentId = f.createAgent(u"fake:tokens=3"_s);
    // A refusal written by the loop the request was handed to: JSON, CORS, and the connection closed.
    const HttpResult missing = f.client().request(
        "POST", u"/api/agents/%1/chat/stream"_s.arg(QUuid::createUuid().toString(QUuid::WithoutBraces)),
        ApiFixture::chatBody(u"hi"_s), {{"Origin", "https://app.example.com"}});
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.errorCode(), QByteArray("agent_not_found"));
    QCOMPARE(missing.headers.value("access-control-allow-origin"), QByteArray("https://app.example.com"));
    QCOMPARE(missing.headers.value("connection"), QByteArray("close"));
    // The whole-reply route and HTTP/1.0 (no chunks), each on every loop (the first answers through
    // QHttpServer's responder, the others on the socket handed to them).
    for (int i = 0; i < 2 * loops + 1; ++i) {
        const HttpResult whole = f.client().request("POST", u"/api/agents/%1/chat"_s.arg(agentId),
                                                    ApiFixture::chatBody(u"all at once"_s));
        QCOMPARE(whole.status, 200);
        QCOMPARE(whole.json().value(u"finish_reason"_s).toString(), u"Stop"_s);
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, f.server->port());
        QVERIFY(socket.waitForConnected(5000));
        const QByteArray json = ApiFixture::chatBody(u"old client"_s);
        socket.write("POST /api/agents/" + agentId.toLatin1() +
                     "/chat/stream HTTP/1.0\r\nAuthorization: Bearer " + f.token.toLatin1() +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     QByteArray::number(json.size()) + "\r\n\r\n" + json);
        QTRY_VERIFY_WITH_TIMEOUT(socket.state() == QAbstractSocket::UnconnectedState, 10000);
        const QByteArray answer = socket.readAll();
        QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.constData());
        QVERIFY(!answer.contains("Transfer-Encoding"));
        QVERIFY2(answer.contains("\"type\":\"done\""), answer.constData());
    }
}

void ServerLoopsTest::simultaneousStartsInOneSession()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    const QString agentId = f.createAgent(u"fake:tokens=20,delay=10"_s);
    const auto first = f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                         ApiFixture::chatBody(u"hello"_s));
    const QString sessionId = first.events.last().json.value(u"session_id"_s).toString();
    // All at once, so they meet on several loops: one gets the session, the others hear it is busy.
    std::vector<std::unique_ptr<AsyncStream>> streams;
    for (int i = 0; i < 2 * loops; ++i) {
        streams.push_back(std::make_unique<AsyncStream>(
            f.server->port(), chatStreamRequest(agentId, f.token, u"race %1"_s.arg(i), sessionId)));
        streams.back()->start();
    }
    int started = 0;
    int busy = 0;
    for (const auto &stream : streams) {
        QTRY_VERIFY_WITH_TIMEOUT(stream->isFinished(), 20000);
        if (stream->record().status == 200 && stream->record().terminal == "done"_L1)
            ++started;
        else if (stream->record().status == 409 && stream->record().errorBody.contains("session_busy"))
            ++busy;
    }
    QCOMPARE(started, 1);
    QCOMPARE(busy, 2 * loops - 1);
    QCOMPARE(
        f.client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size(),
        4);
}

void ServerLoopsTest::repeatedIdempotencyKeyAttaches()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    const QString agentId = f.createAgent(u"fake:tokens=30,delay=20"_s);
    const QString path = u"/api/agents/%1/chat/stream"_s.arg(agentId);
    // The retry leaves before the first request's reply is committed on the loop it went to.
    const QByteArray request = ApiTestClient::rawRequest(
        "POST", path, ApiFixture::chatBody(u"once"_s), f.token.toUtf8(), {{"Idempotency-Key", "retry-4711"}});
    AsyncStream first(f.server->port(), request);
    AsyncStream retry(f.server->port(), request);
    first.start();
    retry.start();
    QTRY_VERIFY_WITH_TIMEOUT(first.isFinished() && retry.isFinished(), 20000);
    QCOMPARE(first.record().terminal, u"done"_s);
    QVERIFY2(retry.record().terminal == "done"_L1, qPrintable(QString::number(retry.record().status) + u' ' +
                                                              QString::fromUtf8(retry.record().errorBody)));
    QCOMPARE(retry.record().replyId, first.record().replyId);
    QCOMPARE(retry.record().content, first.record().content);
    QCOMPARE(f.fake.requestsReceived(), 1);
}

void ServerLoopsTest::pipelinedAnswerGoesFirst()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    const QString agentId = f.createAgent(u"fake:tokens=5"_s);
    f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId), ApiFixture::chatBody(u"warm"_s));
    // Two requests in one write: the first is answered on the first loop, the second is handed on.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, f.server->port());
    QVERIFY(socket.waitForConnected(5000));
    const QByteArray json = ApiFixture::chatBody(u"second"_s);
    const QByteArray auth = "Authorization: Bearer " + f.token.toLatin1() + "\r\n";
    socket.write("GET /api/agents HTTP/1.1\r\nHost: x\r\n" + auth + "\r\nPOST /api/agents/" +
                 agentId.toLatin1() + "/chat/stream HTTP/1.1\r\nHost: x\r\n" + auth +
                 "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(json.size()) +
                 "\r\n\r\n" + json);
    QTRY_VERIFY_WITH_TIMEOUT(socket.state() == QAbstractSocket::UnconnectedState, 10000);
    const QByteArray answer = socket.readAll();
    QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.left(200).constData());
    const qsizetype stream = answer.indexOf("Content-Type: text/event-stream");
    QVERIFY2(stream > answer.indexOf("\"agents\""), answer.constData()); // the list, whole, then the stream
    QVERIFY2(answer.contains("\"type\":\"done\""), answer.constData());
}

void ServerLoopsTest::shutdownInterruptsEveryLoop()
{
    ApiFixture f;
    QVERIFY(startLoops(f));
    const QString agentId = f.createAgent(u"fake:tokens=400,delay=20"_s);
    std::vector<std::unique_ptr<AsyncStream>> streams;
    QSet<int> used;
    for (int i = 0; i < loops; ++i) {
        streams.push_back(std::make_unique<AsyncStream>(
            f.server->port(), chatStreamRequest(agentId, f.token, u"cut %1"_s.arg(i))));
        streams.back()->start();
        QTRY_VERIFY_WITH_TIMEOUT(streams.back()->record().ids.size() > 3, 10000);
        used.insert(loopOf(f, replyOf(streams.back()->record().ids.first())));
    }
    QCOMPARE(used.size(), loops);
    f.stopServer(); // as on SIGTERM: every loop saves its replies before the process goes
    for (const auto &stream : streams) {
        QTRY_VERIFY_WITH_TIMEOUT(stream->isFinished(), 10000);
        QCOMPARE(stream->record().finishReason, u"Interrupted"_s);
    }
    QVERIFY(startLoops(f));
    for (const auto &stream : streams) {
        const QJsonArray rows = f.client()
                                    .get(u"/api/sessions/%1/messages"_s.arg(stream->record().sessionId))
                                    .json()[u"messages"_s]
                                    .toArray();
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Interrupted"_s);
        QVERIFY(rows.at(1)[u"content"_s].toString().startsWith(stream->record().content));
        QVERIFY(!stream->record().content.isEmpty());
    }
}

int main(int argc, char **argv)
{
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher); // as the headless server runs
    QCoreApplication app(argc, argv);
    ServerLoopsTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_serverloops.moc"
