// Hostile clients over real sockets: oversized and endless requests, slow-loris, connection
// floods, malformed bytes, path tricks, SQL in every field and other tenants' tokens. Each case
// must get a 4xx (or a close, where no request ever arrived), the server must keep answering
// everyone else meanwhile, and nothing may pile up: connections, descriptors, memory.
#include "../backend/http/apifixture.h"
#include "dbcheck.h"
#include "procstats.h"
#include "rawclient.h"
#include "streamclient.h"

#include "http/apiserver.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>
#include <QTimer>
#include <QUrl>

#include <sys/resource.h>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 maxBody = 256 * 1024;
constexpr int requestTimeoutMs = 1000;
constexpr int idleTimeoutMs = 1500;
} // namespace

class HostileInputTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void hugeContentLengthIsRefusedAtOnce();
    void oversizedBodyIsRefusedBeforeItArrives();
    void oversizedChunkedBodyIsRefused();
    void expectContinueOverLimitGetsNoContinue();
    void endlessRequestLineAndHeaders_data();
    void endlessRequestLineAndHeaders();
    void headersJustUnderTheLimitPass();
    void slowLorisIsCutWhileOthersAreServed();
    void silentConnectionsAreClosed();
    void idleKeepAliveIsClosedBusyOneIsNot();
    void pipelinedRequestsAreAnswered();
    void pipelinedPartialRequestKeepsItsFraming();
    void thousandsOfConnectionsLeaveNothingBehind();
    void malformedRequests_data();
    void malformedRequests();
    void sqlMetacharactersInEveryTextField();
    void otherTenantsTokensSeeNothing();

private:
    quint16 port() const { return f->server->port(); }
    const ConnectionGuard::Shared &guards() const { return f->server->http()->connectionStats(); }
    // The server answers a normal client, promptly, right now.
    void verifyServerHealthy();
    QString startSession(const QString &token, const QString &agent, const QString &message);

    ApiFixture *f = nullptr;
    QString agentId;
    QString sessionId;
    QString otherTenantToken; // globex/mallory
    QString otherUserToken;   // acme/bob
    int casesTried = 0;
};

void HostileInputTest::initTestCase()
{
    // A flood opens a few thousand sockets on each side, all in this process.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    f = new ApiFixture;
    QVERIFY(f->start([](Server::Options &o) {
        o.maxBodyBytes = maxBody;
        o.requestTimeoutMs = requestTimeoutMs;
        o.idleTimeoutMs = idleTimeoutMs;
    }));
    agentId = f->createAgent(u"fake:tokens=3"_s);
    QVERIFY(!agentId.isEmpty());
    sessionId = startSession(f->token, agentId, u"alice's private words"_s);
    QVERIFY(!sessionId.isEmpty());
    otherTenantToken = f->newToken(u"globex"_s, u"mallory"_s);
    otherUserToken = f->newToken(u"acme"_s, u"bob"_s);
    QVERIFY(!otherTenantToken.isEmpty() && !otherUserToken.isEmpty());
}

void HostileInputTest::cleanupTestCase()
{
    qInfo("hostile cases tried: %d; requests refused by the connection guard: %lld", casesTried,
          guards().refused);
    delete f;
}

void HostileInputTest::cleanup()
{
    verifyServerHealthy();
}

// Answered at all (within the test client's 10 s): how fast is the benchmark's business.
void HostileInputTest::verifyServerHealthy()
{
    const HttpResult health = f->client().get(u"/api/health"_s);
    QCOMPARE(health.status, 200);
}

QString HostileInputTest::startSession(const QString &token, const QString &agent, const QString &message)
{
    const auto result = f->client(token).stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent),
                                                ApiFixture::chatBody(message));
    if (result.events.isEmpty())
        return {};
    return result.events.last().json.value(u"session_id"_s).toString();
}

void HostileInputTest::hugeContentLengthIsRefusedAtOnce()
{
    ++casesTried;
    RawClient client(port());
    QVERIFY(client.connectToServer());
    client.send("POST /api/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f->token.toUtf8() +
                "\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{\"name\":");
    // Answered though the body never comes (a server that waited for it would time out with 408).
    const RawClient::Response response = client.readResponse(requestTimeoutMs + 3000);
    QCOMPARE(response.status, 413);
    QCOMPARE(response.code(), QByteArray("payload_too_large"));
    QCOMPARE(response.headers.value("connection"), QByteArray("close"));
    QVERIFY(client.waitClosed(5000));
}

void HostileInputTest::oversizedBodyIsRefusedBeforeItArrives()
{
    ++casesTried;
    const qint64 refusedBefore = guards().refused;
    const QByteArray body = "{\"name\":\"" + QByteArray(16 * 1024 * 1024, 'a') + "\"}";
    RawClient client(port());
    QVERIFY(client.connectToServer());
    const qint64 written =
        client.sendWhileReading(rawHttp("POST", "/api/agents", body, f->token.toUtf8()), 64 * 1024);
    const RawClient::Response response = client.readResponse(3000);
    QCOMPARE(response.status, 413);
    QCOMPARE(response.code(), QByteArray("payload_too_large"));
    QVERIFY2(written < body.size() / 2,
             qPrintable(u"the server read %1 of %2 bytes before refusing"_s.arg(written).arg(body.size())));
    QVERIFY(client.waitClosed(5000));
    QCOMPARE(guards().refused, refusedBefore + 1);
}

void HostileInputTest::oversizedChunkedBodyIsRefused()
{
    ++casesTried;
    RawClient client(port());
    QVERIFY(client.connectToServer());
    QByteArray request = "POST /api/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                         f->token.toUtf8() + "\r\nTransfer-Encoding: chunked\r\n\r\n";
    const QByteArray chunk = "8000\r\n" + QByteArray(0x8000, ' ') + "\r\n";
    request += chunk.repeated(64); // 2 MiB of chunks, no last chunk
    client.sendWhileReading(request, 16 * 1024);
    const RawClient::Response response = client.readResponse(3000);
    QCOMPARE(response.status, 413);
    QVERIFY(client.waitClosed(5000));
}

void HostileInputTest::expectContinueOverLimitGetsNoContinue()
{
    ++casesTried;
    RawClient client(port());
    QVERIFY(client.connectToServer());
    client.send("PUT /api/agents/" + agentId.toUtf8() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                f->token.toUtf8() + "\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n");
    const RawClient::Response response = client.readResponse(3000);
    QCOMPARE(response.status, 413);
    QVERIFY(!client.received().contains("100 Continue"));
}

void HostileInputTest::endlessRequestLineAndHeaders_data()
{
    QTest::addColumn<QByteArray>("start");
    QTest::addColumn<QByteArray>("filler");
    QTest::newRow("request line") << QByteArray("GET /api/health?") << QByteArray("a");
    QTest::newRow("one header") << QByteArray("GET /api/health HTTP/1.1\r\nX-Long: ") << QByteArray("b");
    QTest::newRow("many headers") << QByteArray("GET /api/health HTTP/1.1\r\n") << QByteArray("X-H: v\r\n");
    QTest::newRow("token header") << QByteArray("GET /api/agents HTTP/1.1\r\nAuthorization: Bearer ")
                                  << QByteArray("adk_");
}

void HostileInputTest::endlessRequestLineAndHeaders()
{
    QFETCH(QByteArray, start);
    QFETCH(QByteArray, filler);
    ++casesTried;
    RawClient client(port());
    QVERIFY(client.connectToServer());
    const QByteArray endless = start + filler.repeated(8 * 1024 * 1024 / filler.size());
    const qint64 written = client.sendWhileReading(endless, 16 * 1024);
    const RawClient::Response response = client.readResponse(3000);
    QCOMPARE(response.status, 431);
    QCOMPARE(response.code(), QByteArray("header_too_large"));
    QVERIFY2(written < 1024 * 1024, qPrintable(u"%1 bytes went in before the refusal"_s.arg(written)));
    QVERIFY(client.waitClosed(5000));
}

void HostileInputTest::headersJustUnderTheLimitPass()
{
    // The limit must not refuse what real clients send: 60 KiB of headers still get an answer.
    QList<QPair<QByteArray, QByteArray>> headers;
    for (int i = 0; i < 60; ++i)
        headers.append({"X-Filler-" + QByteArray::number(i), QByteArray(1000, 'x')});
    RawClient client(port());
    QVERIFY(client.connectToServer());
    client.send(rawHttp("GET", "/api/agents", {}, f->token.toUtf8(), true, headers));
    QCOMPARE(client.readResponse().status, 200);
}

void HostileInputTest::slowLorisIsCutWhileOthersAreServed()
{
    // Fifty clients that drip a header one byte at a time and never finish it.
    constexpr int lorises = 50;
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < lorises; ++i) {
        slow.push_back(std::make_unique<RawClient>(port()));
        QVERIFY(slow.back()->connectToServer());
        slow.back()->send("GET /api/agents HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    }
    casesTried += lorises;
    QElapsedTimer timer;
    timer.start();
    QTimer drip;
    connect(&drip, &QTimer::timeout, this, [&] {
        for (auto &client : slow) {
            if (client->isOpen())
                client->send("z");
        }
    });
    drip.start(100);

    // Meanwhile everyone else is served as usual, a streamed chat included.
    verifyServerHealthy();
    const auto stream = f->client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                           ApiFixture::chatBody(u"during the attack"_s));
    QCOMPARE(stream.head.status, 200);
    QCOMPARE(stream.events.last().json.value(u"type"_s).toString(), u"done"_s);

    for (auto &client : slow) {
        const RawClient::Response response = client->readResponse(requestTimeoutMs + 3000);
        QCOMPARE(response.status, 408);
        QCOMPARE(response.code(), QByteArray("request_timeout"));
        QVERIFY(client->waitClosed(3000));
    }
    QVERIFY2(timer.elapsed() >= requestTimeoutMs - 100, "cut before its time-out");
    drip.stop();
}

void HostileInputTest::silentConnectionsAreClosed()
{
    constexpr int silent = 100;
    casesTried += silent;
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < silent; ++i) {
        clients.push_back(std::make_unique<RawClient>(port()));
        QVERIFY(clients.back()->connectToServer());
    }
    QTRY_VERIFY_WITH_TIMEOUT(guards().open >= silent, 2000);
    verifyServerHealthy();
    for (auto &client : clients) {
        QVERIFY(client->waitClosed(requestTimeoutMs + 3000));
        QVERIFY(client->received().isEmpty()); // nothing was asked, nothing is answered
    }
}

void HostileInputTest::idleKeepAliveIsClosedBusyOneIsNot()
{
    ++casesTried;
    RawClient client(port());
    QVERIFY(client.connectToServer());
    // Requests closer together than the idle time-out keep the connection.
    for (int i = 0; i < 4; ++i) {
        client.send(rawHttp("GET", "/api/health", {}, {}, false));
        QCOMPARE(client.readResponse().status, 200);
        QTest::qWait(idleTimeoutMs / 2);
        QVERIFY(client.isOpen());
    }
    QElapsedTimer idle;
    idle.start();
    QVERIFY(client.waitClosed(idleTimeoutMs + 3000));
    QVERIFY2(idle.elapsed() >= idleTimeoutMs / 2 - 100, qPrintable(QString::number(idle.elapsed())));
}

void HostileInputTest::pipelinedRequestsAreAnswered()
{
    // Requests back to back in one write: the guard must follow their boundaries exactly (a
    // miscount would refuse the second as malformed or time it out).
    RawClient client(port());
    QVERIFY(client.connectToServer());
    const QByteArray agentBody = QJsonDocument(QJsonObject{{u"name"_s, u"Pipelined"_s}}).toJson();
    client.send(rawHttp("GET", "/api/health", {}, {}, false) +
                rawHttp("POST", "/api/agents", agentBody, f->token.toUtf8(), false) +
                rawHttp("GET", "/api/agents", {}, f->token.toUtf8(), true));
    // Answered in order, each one: the guard follows all three (a miscount would refuse or time out one).
    QCOMPARE(client.readResponse().status, 200);
    QCOMPARE(client.readResponse(requestTimeoutMs + 2000).status, 201);
    QCOMPARE(client.readResponse(requestTimeoutMs + 2000).status, 200);
}

void HostileInputTest::pipelinedPartialRequestKeepsItsFraming()
{
    // A whole request and the start of the next (part of its body too) in one write: Qt 6.4 reads
    // the first and leaves the rest unread until more bytes come. The guard must not count those
    // bytes twice: its framing would slip, and a later request would be refused or timed out.
    RawClient client(port());
    QVERIFY(client.connectToServer());
    const QByteArray body =
        QJsonDocument(QJsonObject{{u"name"_s, u"Split"_s}}).toJson(QJsonDocument::Compact);
    const QByteArray second = rawHttp("POST", "/api/agents", body, f->token.toUtf8(), false);
    const qsizetype cut = second.size() - 4; // inside the body
    const QByteArray first = rawHttp("GET", "/api/health", {}, {}, false);
    const qint64 framedBefore = guards().bytesFramed;
    client.send(first + second.left(cut));
    QCOMPARE(client.readResponse().status, 200);
    QTest::qWait(300);
    client.send(second.mid(cut));
    QCOMPARE(client.readResponse().status, 201);
    // Past the request time-out: a guard that lost the framing would think a request is still
    // arriving and answer 408. Within the idle time-out (when the scheduler kept us that
    // punctual) a third request is simply answered.
    const qint64 timedOutBefore = guards().timedOut;
    const qint64 idleBefore = guards().idleClosed;
    QTest::qWait(requestTimeoutMs + 200);
    QCOMPARE(guards().timedOut, timedOutBefore);
    if (guards().idleClosed == idleBefore) {
        QVERIFY(client.isOpen());
        client.send(first);
        QCOMPARE(client.readResponse().status, 200);
    } else {
        qInfo("the idle time-out came first; the third request is not tried");
    }
    // Every byte followed exactly once, though Qt read the second request in two goes.
    const qint64 thirds = guards().idleClosed == idleBefore ? 2 : 1;
    QCOMPARE(guards().bytesFramed - framedBefore, qint64(thirds * first.size() + second.size()));
}

void HostileInputTest::thousandsOfConnectionsLeaveNothingBehind()
{
    const int rounds = qEnvironmentVariableIntValue("AGENTDESK_FLOOD_ROUNDS") > 0
                           ? qEnvironmentVariableIntValue("AGENTDESK_FLOOD_ROUNDS")
                           : 6;
    constexpr int perRound = 500;
    const int fdsBefore = openDescriptors();
    qint64 rssAfterWarmUp = 0;
    QRandomGenerator random(42);
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::unique_ptr<QTcpSocket>> sockets;
        sockets.reserve(perRound);
        for (int i = 0; i < perRound; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            socket->connectToHost(QHostAddress::LocalHost, port());
            sockets.push_back(std::move(socket));
        }
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(sockets.begin(), sockets.end(),
                        [](const auto &s) { return s->state() == QAbstractSocket::ConnectedState; }),
            10000);
        for (auto &socket : sockets) {
            switch (random.bounded(4)) {
            case 0: // connect and vanish
                break;
            case 1: // half a request
                socket->write("POST /api/agents HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"na");
                break;
            case 2: // a whole request, gone before the answer
                socket->write(rawHttp("GET", "/api/agents", {}, f->token.toUtf8()));
                break;
            default: // garbage
                socket->write(QByteArray(random.bounded(1, 2000), char(random.bounded(256))));
                break;
            }
            socket->flush();
        }
        QTest::qWait(20);
        if (round == 2)
            verifyServerHealthy(); // in the middle of the flood
        for (auto &socket : sockets)
            socket->abort();
        sockets.clear();
        casesTried += perRound;
        // Every one of them is gone on the server side too.
        QTRY_VERIFY_WITH_TIMEOUT(guards().open == 0, 10000);
        QTest::qWait(50);
        trimHeap();
        if (round == 1)
            rssAfterWarmUp = residentKiB();
        if (qEnvironmentVariableIsSet("AGENTDESK_FLOOD_ROUNDS"))
            qInfo("round %d: RSS %lld KiB", round, residentKiB());
    }
    const qint64 rssAtEnd = residentKiB();
    qInfo("connections opened and dropped: %d; RSS after warm-up %lld KiB, at the end %lld KiB",
          rounds * perRound, rssAfterWarmUp, rssAtEnd);
    QTRY_VERIFY_WITH_TIMEOUT(openDescriptors() <= fdsBefore + 2, 5000);
    if (!underAddressSanitizer()) // ASan holds freed memory in quarantine; LeakSanitizer checks instead
        // 2 MiB over 2,000 connections: a leak of 1 KiB per connection fails this.
        QVERIFY2(rssAtEnd - rssAfterWarmUp < 2 * 1024,
                 qPrintable(u"RSS grew by %1 KiB after warm-up"_s.arg(rssAtEnd - rssAfterWarmUp)));
}

void HostileInputTest::malformedRequests_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    const QByteArray token = "Bearer TOKEN";
    const QByteArray agentPath = "/api/agents/AGENT";
    const auto chat = [&](const QByteArray &body) {
        return rawHttp("POST", agentPath + "/chat/stream", body, "TOKEN");
    };
    // Invalid UTF-8, overlong forms, lone surrogates.
    QTest::newRow("utf8 chat body") << chat("{\"message\":\"\xff\xfe\xfd\"}") << 400;
    QTest::newRow("utf8 overlong slash") << chat("{\"message\":\"\xc0\xaf\"}") << 400;
    QTest::newRow("utf8 surrogate") << chat("{\"message\":\"\xed\xa0\x80\"}") << 400;
    QTest::newRow("utf8 truncated") << chat("{\"message\":\"\xe4\xbd\"}") << 400;
    QTest::newRow("utf8 agent name") << rawHttp("POST", "/api/agents", "{\"name\":\"\xff\"}", "TOKEN") << 400;
    QTest::newRow("utf8 in path") << rawHttp("GET", "/api/agents/\xff\xfe\xfd", {}, "TOKEN") << 400;
    QTest::newRow("utf8 in token") << rawHttp("GET", "/api/agents", {}, "adk_\xff\xfe\x80") << 401;
    QTest::newRow("nul in token") << rawHttp("GET", "/api/agents", {}, QByteArray("adk_\0x", 6)) << 401;
    QTest::newRow("utf8 session query")
        << rawHttp("GET", agentPath + "/chat/stream?message=hi&session_id=%FF%FE&access_token=TOKEN") << 400;
    // Deep nesting: Qt's parser stops at 1024 levels; below that, the field checks refuse it.
    QTest::newRow("nesting 100k arrays") << chat("{\"message\":" + QByteArray(100000, '[')) << 400;
    QTest::newRow("nesting closed arrays")
        << chat("{\"message\":" + QByteArray(5000, '[') + QByteArray(5000, ']') + "}") << 400;
    QTest::newRow("nesting objects") << rawHttp("POST", "/api/agents",
                                                QByteArray("{\"a\":").repeated(20000) + "1" +
                                                    QByteArray(20000, '}'),
                                                "TOKEN")
                                     << 400;
    QTest::newRow("nesting under the limit")
        << rawHttp("POST", "/api/agents", "{\"name\":" + QByteArray(1000, '[') + QByteArray(1000, ']') + "}",
                   "TOKEN")
        << 400;
    QTest::newRow("huge number") << chat("{\"message\":1e999999}") << 400;
    QTest::newRow("nul in json") << chat(QByteArray("{\"message\":\"a\0b\"}", 17)) << 400;
    QTest::newRow("json not object") << chat("\"just a string\"") << 400;
    // Path traversal and other things that are no id.
    QTest::newRow("traversal encoded")
        << rawHttp("GET", "/api/agents/..%2F..%2Fetc%2Fpasswd", {}, "TOKEN") << 400;
    QTest::newRow("traversal plain") << rawHttp("GET", "/api/agents/../../etc/passwd", {}, "TOKEN") << 404;
    QTest::newRow("traversal dots") << rawHttp("GET", "/api/sessions/%2e%2e/messages", {}, "TOKEN") << 400;
    QTest::newRow("traversal backslash") << rawHttp("GET", "/api/sessions/..%5C..%5Cx", {}, "TOKEN") << 400;
    QTest::newRow("id with nul") << rawHttp("GET", agentPath + "%00", {}, "TOKEN") << 400;
    QTest::newRow("id with suffix") << rawHttp("GET", agentPath + "%2F..", {}, "TOKEN") << 400;
    QTest::newRow("id braces") << rawHttp("GET", "/api/agents/%7BAGENT%7D", {}, "TOKEN") << 400;
    QTest::newRow("id sql") << rawHttp("DELETE", "/api/sessions/1'%20OR%20'1'='1", {}, "TOKEN") << 400;
    QTest::newRow("provider traversal") << rawHttp("PUT", "/api/providers/..%2F..%2Fsecrets",
                                                   "{\"base_url\":\"http://127.0.0.1:1/v1\"}", "TOKEN")
                                        << 400;
    QTest::newRow("provider test traversal")
        << rawHttp("POST", "/api/providers/..%2Fsecrets.json/test", {}, "TOKEN") << 404;
    QTest::newRow("agent filter sql")
        << rawHttp("GET", "/api/sessions?agent_id=%27%20OR%201=1--", {}, "TOKEN") << 400;
    QTest::newRow("unknown method") << rawHttp("BREW", "/api/agents", {}, "TOKEN") << 405;
    QTest::newRow("absolute form elsewhere")
        << rawHttp("GET", "http://evil.example/api/nothing", {}, "TOKEN") << 404;
    QTest::newRow("bad base url") << rawHttp("PUT", "/api/providers/p1",
                                             "{\"base_url\":\"file:///etc/passwd\"}", "TOKEN")
                                  << 400;
    QTest::newRow("content-length garbage")
        << QByteArray(
               "POST /api/agents HTTP/1.1\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 5x\r\n\r\n{}")
        << 400;
    QTest::newRow("content-length twice")
        << QByteArray("POST /api/agents HTTP/1.1\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 2\r\n"
                      "Content-Length: 40\r\n\r\n{}")
        << 400;
    QTest::newRow("chunk size garbage") << QByteArray("POST /api/agents HTTP/1.1\r\nAuthorization: Bearer "
                                                      "TOKEN\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                      "zz\r\n{}\r\n0\r\n\r\n")
                                        << 400;
}

void HostileInputTest::malformedRequests()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    ++casesTried;
    request.replace("TOKEN", f->token.toUtf8());
    request.replace("AGENT", agentId.toUtf8());
    RawClient client(port());
    QVERIFY(client.connectToServer());
    client.send(request);
    const RawClient::Response response = client.readResponse(5000);
    QVERIFY2(response.status >= 400 && response.status < 500,
             qPrintable(u"status %1, body %2"_s.arg(response.status).arg(QString::fromUtf8(response.body))));
    QCOMPARE(response.status, status);
    QVERIFY2(!response.code().isEmpty(), response.body.constData()); // a JSON error with a code
}

void HostileInputTest::sqlMetacharactersInEveryTextField()
{
    const QStringList payloads{
        u"'; DROP TABLE messages; --"_s,
        u"\" OR 1=1 --"_s,
        u"%' OR '1'='1"_s,
        u"x'); DELETE FROM agent_stats; SELECT ('"_s,
        u"\\'; ATTACH DATABASE '/tmp/pwn.db' AS p; --"_s,
        u"_%!\\[]^"_s,
        u"NUL\u0000inside"_s,
        u"😀 \u202e RTL 你好"_s,
    };
    ApiTestClient client = f->client();
    for (const QString &payload : payloads) {
        ++casesTried;
        const QJsonObject fields{{u"name"_s, payload},
                                 {u"description"_s, payload},
                                 {u"system_prompt"_s, payload},
                                 {u"greeting"_s, payload},
                                 {u"model"_s, u"fake:tokens=2"_s}};
        const HttpResult created = client.post(u"/api/agents"_s, fields);
        QCOMPARE(created.status, 201);
        const QJsonObject agent = created.json();
        for (const char *field : {"name", "description", "system_prompt", "greeting"})
            QCOMPARE(agent.value(QLatin1String(field)).toString(), payload.trimmed());
        const QString id = agent.value(u"id"_s).toString();
        // The provider field takes the payload too (it names no provider, so chats fail cleanly).
        const HttpResult updated =
            client.request("PUT", u"/api/agents/%1"_s.arg(id),
                           QJsonDocument(QJsonObject{{u"provider"_s, payload.left(200)}}).toJson());
        QCOMPARE(updated.status, 200);
        QCOMPARE(updated.json().value(u"provider"_s).toString(), payload.left(200));
        QCOMPARE(client.request("PUT", u"/api/agents/%1"_s.arg(id), R"({"provider":null})").status, 200);
        // A chat whose message is the payload, a session titled with it, a search for it.
        const auto stream =
            client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(id), ApiFixture::chatBody(payload));
        QCOMPARE(stream.events.last().json.value(u"type"_s).toString(), u"done"_s);
        const QString session = stream.events.last().json.value(u"session_id"_s).toString();
        const QJsonArray messages =
            client.get(u"/api/sessions/%1/messages"_s.arg(session)).json().value(u"messages"_s).toArray();
        QCOMPARE(messages.at(0).toObject().value(u"content"_s).toString(), payload);
        const HttpResult renamed = client.request("PATCH", u"/api/sessions/%1"_s.arg(session),
                                                  QJsonDocument(QJsonObject{{u"title"_s, payload}}).toJson());
        QCOMPARE(renamed.status, 200);
        QCOMPARE(renamed.json().value(u"title"_s).toString(), payload.trimmed());
        const HttpResult search =
            client.get(u"/api/sessions?q=%1"_s.arg(QString::fromLatin1(QUrl::toPercentEncoding(payload))));
        QCOMPARE(search.status, 200);
        const QJsonArray found = search.json().value(u"sessions"_s).toArray();
        QVERIFY(!found.isEmpty());
        for (const QJsonValue &s : found) // a LIKE wildcard must not widen the search
            QVERIFY(
                s.toObject().value(u"title"_s).toString().contains(payload.trimmed(), Qt::CaseInsensitive));
    }
    // Everything is still there, and sound.
    QVERIFY(client.get(u"/api/agents"_s).json().value(u"agents"_s).toArray().size() >= payloads.size());
    QCOMPARE(client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).status, 200);
    ReadOnlyDb db(f->dir.filePath(u"agentdesk.db"_s));
    QVERIFY2(db.isOpen(), qPrintable(db.errorString()));
    QCOMPARE(db.integrityCheck(), u"ok"_s);
    QVERIFY(db.statisticsMismatches().isEmpty());
    QVERIFY(!QFile::exists(u"/tmp/pwn.db"_s));
}

void HostileInputTest::otherTenantsTokensSeeNothing()
{
    // mallory (another tenant) and bob (alice's tenant, another user) try alice's things by id.
    const QString agent = u"/api/agents/%1"_s.arg(agentId);
    const QString session = u"/api/sessions/%1"_s.arg(sessionId);
    struct Case
    {
        QByteArray method;
        QString path;
        QByteArray body;
        bool tenantScoped; // agents are shared in a tenant; sessions belong to their user
    };
    const QList<Case> cases{
        {"GET", agent, {}, true},
        {"PUT", agent, R"({"name":"owned"})", true},
        {"PATCH", agent, R"({"system_prompt":"leak everything"})", true},
        {"GET", agent + u"/stats"_s, {}, true},
        {"POST", agent + u"/chat/stream"_s, R"({"message":"hi"})", true},
        {"POST", agent + u"/chat"_s, R"({"message":"hi"})", true},
        {"GET", agent + u"/chat/stream?message=hi"_s, {}, true},
        {"DELETE", agent, {}, true},
        {"GET", session, {}, false},
        {"GET", session + u"/messages"_s, {}, false},
        {"PATCH", session, R"({"title":"owned"})", false},
        {"POST", session + u"/cancel"_s, {}, false},
        {"DELETE", session, {}, false},
        {"POST", agent + u"/chat/stream"_s, R"({"message":"hi","session_id":"SESSION"})", false},
    };
    // Each intruder's own agent, to aim alice's session at.
    ApiTestClient mallory = f->client(otherTenantToken);
    const QString malloryAgent =
        mallory.post(u"/api/agents"_s, {{u"name"_s, u"M"_s}, {u"model"_s, u"fake:tokens=1"_s}})
            .json()
            .value(u"id"_s)
            .toString();
    QVERIFY(!malloryAgent.isEmpty());
    for (const QString &token : {otherTenantToken, otherUserToken}) {
        ApiTestClient intruder = f->client(token);
        for (const Case &c : cases) {
            if (!c.tenantScoped || token == otherTenantToken) {
                ++casesTried;
                QByteArray body = c.body;
                body.replace("SESSION", sessionId.toUtf8());
                QString path = c.path;
                if (body.contains("session_id") && token == otherTenantToken)
                    path = u"/api/agents/%1/chat/stream"_s.arg(malloryAgent);
                HttpResult result;
                if (c.method == "GET" && path.contains(u"chat/stream"_s))
                    path += u"&access_token="_s + token;
                result = intruder.request(c.method, path, body);
                QVERIFY2(result.status == 404,
                         qPrintable(u"%1 %2 as %3: %4 %5"_s
                                        .arg(QString::fromLatin1(c.method), path,
                                             token == otherTenantToken ? u"mallory"_s : u"bob"_s)
                                        .arg(result.status)
                                        .arg(QString::fromUtf8(result.body))));
                // An id comes back only in an error that repeats what the intruder sent.
                QVERIFY(!result.body.contains(sessionId.toUtf8()) || c.path.contains(sessionId) ||
                        body.contains(sessionId.toUtf8()));
                QVERIFY(!result.body.contains("alice's private words"));
            }
        }
        // Lists show nothing of alice's.
        const QByteArray sessions = intruder.get(u"/api/sessions"_s).body;
        QVERIFY(!sessions.contains(sessionId.toUtf8()));
        QVERIFY(!sessions.contains("alice"));
        const QByteArray filtered = intruder.get(u"/api/sessions?agent_id=%1"_s.arg(agentId)).body;
        QVERIFY(!filtered.contains(sessionId.toUtf8()));
    }
    const QByteArray agents = mallory.get(u"/api/agents"_s).body;
    QVERIFY(!agents.contains(agentId.toUtf8()));
    QCOMPARE(mallory.get(u"/api/stats"_s).json().value(u"sessions"_s).toInt(), 0);
    // Alice's things are untouched.
    ApiTestClient alice = f->client();
    QCOMPARE(alice.get(agent).json().value(u"name"_s).toString(), u"Helper"_s);
    const QJsonArray messages = alice.get(session + u"/messages"_s).json().value(u"messages"_s).toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).toObject().value(u"content"_s).toString(), u"alice's private words"_s);
}

QTEST_GUILESS_MAIN(HostileInputTest)
#include "tst_hostileinput.moc"
