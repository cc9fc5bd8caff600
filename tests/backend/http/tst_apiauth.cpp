// Authentication, tenant and user scoping, and every kind of bad input, over real sockets.
#include "apifixture.h"
#include "storage/authstore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;

class ApiAuthTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void healthNeedsNoToken();
    void missingOrBadTokens_data();
    void missingOrBadTokens();
    void revokedTokenIsRefused();
    void otherTenantSeesNothing();
    void otherUserSeesNoSessions();
    void badInput_data();
    void badInput();
    void bodyOverLimit();
    void unknownRouteAndMethod();
    void sqlMetacharactersAreData();

private:
    ApiFixture *f = nullptr;
    QString agentId;
    QString sessionId;
};

void ApiAuthTest::initTestCase()
{
    f = new ApiFixture;
    QVERIFY(f->start([](Server::Options &o) { o.maxBodyBytes = 64 * 1024; }));
    agentId = f->createAgent(u"fake:tokens=2"_s);
    QVERIFY(!agentId.isEmpty());
    const auto result = f->client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                           ApiFixture::chatBody(u"alice's secret"_s));
    sessionId = result.events.last().json.value(u"session_id"_s).toString();
    QVERIFY(!sessionId.isEmpty());
}

void ApiAuthTest::cleanupTestCase()
{
    delete f;
}

void ApiAuthTest::healthNeedsNoToken()
{
    ApiTestClient anonymous(f->server->port());
    const HttpResult result = anonymous.get(u"/api/health"_s);
    QCOMPARE(result.status, 200);
    QCOMPARE(result.json().value(u"status"_s).toString(), u"ok"_s);
}

void ApiAuthTest::missingOrBadTokens_data()
{
    QTest::addColumn<QByteArray>("authorization");
    QTest::newRow("none") << QByteArray();
    QTest::newRow("unknown") << QByteArray("Bearer adk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    QTest::newRow("garbage") << QByteArray("Bearer ' OR 1=1 --");
    QTest::newRow("basic scheme") << QByteArray("Basic YWxpY2U6c2VjcmV0");
    QTest::newRow("empty bearer") << QByteArray("Bearer ");
}

void ApiAuthTest::missingOrBadTokens()
{
    QFETCH(QByteArray, authorization);
    ApiTestClient anonymous(f->server->port());
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!authorization.isEmpty())
        headers.append({"Authorization", authorization});
    const QList<QPair<QByteArray, QString>> routes{
        {"GET", u"/api/agents"_s},
        {"GET", u"/api/sessions"_s},
        {"GET", u"/api/stats"_s},
        {"GET", u"/api/sessions/%1/messages"_s.arg(sessionId)},
        {"POST", u"/api/agents/%1/chat/stream"_s.arg(agentId)},
        {"POST", u"/api/agents/%1/chat"_s.arg(agentId)},
        {"POST", u"/api/sessions/%1/cancel"_s.arg(sessionId)},
        {"DELETE", u"/api/agents/%1"_s.arg(agentId)},
    };
    for (const auto &[method, path] : routes) {
        const HttpResult result = anonymous.request(method, path, ApiFixture::chatBody(u"hi"_s), headers);
        QCOMPARE(result.status, 401);
        QCOMPARE(result.errorCode(), "unauthorized");
        QCOMPARE(result.headers.value("www-authenticate"), "Bearer");
    }
    // Nothing was deleted or written by the refused calls.
    QCOMPARE(f->client().get(u"/api/agents/%1"_s.arg(agentId)).status, 200);
}

void ApiAuthTest::revokedTokenIsRefused()
{
    const QString token = f->newToken(u"acme"_s, u"carol"_s);
    QCOMPARE(f->client(token).get(u"/api/agents"_s).status, 200);
    AuthStore auth(f->server->database());
    QVERIFY(auth.revokeToken(token.mid(4, 8)));
    const HttpResult result = f->client(token).get(u"/api/agents"_s);
    QCOMPARE(result.status, 401);
    QCOMPARE(result.errorCode(), "unauthorized");
}

void ApiAuthTest::otherTenantSeesNothing()
{
    auto eve = f->client(f->newToken(u"evil-corp"_s, u"eve"_s));
    QCOMPARE(eve.get(u"/api/agents"_s).json().value(u"agents"_s).toArray().size(), 0);
    QCOMPARE(eve.get(u"/api/sessions"_s).json().value(u"sessions"_s).toArray().size(), 0);
    QCOMPARE(eve.get(u"/api/stats"_s).json().value(u"messages"_s).toInt(), 0);

    const QList<QPair<QByteArray, QString>> routes{
        {"GET", u"/api/agents/%1"_s.arg(agentId)},
        {"PUT", u"/api/agents/%1"_s.arg(agentId)},
        {"DELETE", u"/api/agents/%1"_s.arg(agentId)},
        {"GET", u"/api/agents/%1/stats"_s.arg(agentId)},
        {"POST", u"/api/agents/%1/chat/stream"_s.arg(agentId)},
        {"POST", u"/api/agents/%1/chat"_s.arg(agentId)},
        {"GET", u"/api/sessions/%1"_s.arg(sessionId)},
        {"GET", u"/api/sessions/%1/messages"_s.arg(sessionId)},
        {"PATCH", u"/api/sessions/%1"_s.arg(sessionId)},
        {"DELETE", u"/api/sessions/%1"_s.arg(sessionId)},
        {"POST", u"/api/sessions/%1/cancel"_s.arg(sessionId)},
    };
    const QByteArray body = R"({"message":"hi","name":"stolen","title":"stolen"})";
    for (const auto &[method, path] : routes) {
        const HttpResult result = eve.request(method, path, body);
        QVERIFY2(result.status == 404, qPrintable(QString::fromLatin1(method) + u' ' + path + u' ' +
                                                  QString::number(result.status)));
        QVERIFY(result.errorCode().endsWith("not_found"));
    }
    // Using alice's session id with eve's own agent does not reach alice's session either.
    const QString evesAgent = eve.post(u"/api/agents"_s, {{u"name"_s, u"mine"_s}, {u"model"_s, u"fake"_s}})
                                  .json()[u"id"_s]
                                  .toString();
    const HttpResult crossed = eve.request("POST", u"/api/agents/%1/chat/stream"_s.arg(evesAgent),
                                           ApiFixture::chatBody(u"x"_s, sessionId));
    QCOMPARE(crossed.status, 404);
    QCOMPARE(crossed.errorCode(), "session_not_found");

    // Alice's data is untouched.
    const HttpResult agent = f->client().get(u"/api/agents/%1"_s.arg(agentId));
    QCOMPARE(agent.json().value(u"name"_s).toString(), u"Helper"_s);
    QCOMPARE(
        f->client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size(),
        2);
}

void ApiAuthTest::otherUserSeesNoSessions()
{
    auto bob = f->client(f->newToken(u"acme"_s, u"bob"_s));
    // Agents are shared within the tenant...
    QCOMPARE(bob.get(u"/api/agents/%1"_s.arg(agentId)).status, 200);
    // ...sessions are not.
    QCOMPARE(bob.get(u"/api/sessions"_s).json().value(u"sessions"_s).toArray().size(), 0);
    QCOMPARE(bob.get(u"/api/sessions/%1"_s.arg(sessionId)).status, 404);
    QCOMPARE(bob.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).status, 404);
    QCOMPARE(bob.request("DELETE", u"/api/sessions/%1"_s.arg(sessionId)).status, 404);
    const HttpResult hijack = bob.request("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                          ApiFixture::chatBody(u"let me in"_s, sessionId));
    QCOMPARE(hijack.status, 404);
    QCOMPARE(
        f->client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size(),
        2);
}

void ApiAuthTest::badInput_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("pathTemplate"); // %1 = agent id, %2 = session id
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("code");
    const QString stream = u"/api/agents/%1/chat/stream"_s;
    QTest::newRow("not json") << QByteArray("POST") << stream << QByteArray("{message: hi") << 400
                              << QByteArray("invalid_json");
    QTest::newRow("empty body") << QByteArray("POST") << stream << QByteArray("") << 400
                                << QByteArray("invalid_json");
    QTest::newRow("json array") << QByteArray("POST") << stream << QByteArray("[1,2]") << 400
                                << QByteArray("invalid_json");
    QTest::newRow("missing message") << QByteArray("POST") << stream << QByteArray(R"({"stream":true})")
                                     << 400 << QByteArray("missing_message");
    QTest::newRow("null message") << QByteArray("POST") << stream << QByteArray(R"({"message":null})") << 400
                                  << QByteArray("missing_message");
    QTest::newRow("empty message") << QByteArray("POST") << stream << QByteArray(R"({"message":"   \n"})")
                                   << 400 << QByteArray("empty_message");
    QTest::newRow("number message") << QByteArray("POST") << stream << QByteArray(R"({"message":42})") << 400
                                    << QByteArray("invalid_field");
    QTest::newRow("bad session uuid")
        << QByteArray("POST") << stream << QByteArray(R"({"message":"hi","session_id":"1234"})") << 400
        << QByteArray("invalid_uuid");
    QTest::newRow("braced session uuid")
        << QByteArray("POST") << stream
        << QByteArray(R"({"message":"hi","session_id":"{00000000-0000-0000-0000-000000000001}"})") << 400
        << QByteArray("invalid_uuid");
    QTest::newRow("unknown session")
        << QByteArray("POST") << stream
        << QByteArray(R"({"message":"hi","session_id":"6f1d7a4e-1b2c-4d5e-8f90-123456789abc"})") << 404
        << QByteArray("session_not_found");
    QTest::newRow("stream not bool") << QByteArray("POST") << stream
                                     << QByteArray(R"({"message":"hi","stream":"yes"})") << 400
                                     << QByteArray("invalid_field");
    QTest::newRow("bad agent uuid") << QByteArray("POST") << u"/api/agents/not-a-uuid/chat/stream"_s
                                    << QByteArray(R"({"message":"hi"})") << 400 << QByteArray("invalid_uuid");
    QTest::newRow("traversal agent id") << QByteArray("GET") << u"/api/agents/..%2F..%2Fetc%2Fpasswd"_s
                                        << QByteArray() << 400 << QByteArray("invalid_uuid");
    QTest::newRow("unknown agent") << QByteArray("POST")
                                   << u"/api/agents/6f1d7a4e-1b2c-4d5e-8f90-123456789abc/chat"_s
                                   << QByteArray(R"({"message":"hi"})") << 404
                                   << QByteArray("agent_not_found");
    QTest::newRow("agent without name")
        << QByteArray("POST") << u"/api/agents"_s << QByteArray(R"({"model":"x"})") << 400
        << QByteArray("invalid_field");
    QTest::newRow("agent bad temperature")
        << QByteArray("POST") << u"/api/agents"_s << QByteArray(R"({"name":"a","temperature":"hot"})") << 400
        << QByteArray("invalid_field");
    QTest::newRow("agent bad max_tokens")
        << QByteArray("PUT") << u"/api/agents/%1"_s << QByteArray(R"({"max_tokens":-5})") << 400
        << QByteArray("invalid_field");
    QTest::newRow("rename empty title")
        << QByteArray("PATCH") << u"/api/sessions/%2"_s << QByteArray(R"({"title":""})") << 400
        << QByteArray("invalid_field");
    QTest::newRow("sessions bad agent filter") << QByteArray("GET") << u"/api/sessions?agent_id=zzz"_s
                                               << QByteArray() << 400 << QByteArray("invalid_uuid");
    QTest::newRow("provider bad url")
        << QByteArray("PUT") << u"/api/providers/mine"_s << QByteArray(R"({"base_url":"ftp://x"})") << 400
        << QByteArray("invalid_field");
    QTest::newRow("provider reserved name")
        << QByteArray("PUT") << u"/api/providers/demo"_s << QByteArray(R"({"base_url":"http://x"})") << 400
        << QByteArray("invalid_field");
}

void ApiAuthTest::badInput()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, pathTemplate);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QByteArray, code);
    QString path = pathTemplate;
    path.replace(u"%1"_s, agentId).replace(u"%2"_s, sessionId);
    const int before =
        f->client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size();
    const HttpResult result = f->client().request(method, path, body);
    QCOMPARE(result.status, status);
    QCOMPARE(result.errorCode(), code);
    QVERIFY(!result.json()[u"error"_s][u"message"_s].toString().isEmpty());
    QVERIFY(result.headers.value("content-type").startsWith("application/json"));
    // Bad input loses nothing already written.
    QCOMPARE(
        f->client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size(),
        before);
}

void ApiAuthTest::bodyOverLimit()
{
    const QByteArray huge = "{\"message\":\"" + QByteArray(70 * 1024, 'a') + "\"}";
    const HttpResult result = f->client().request("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId), huge);
    QCOMPARE(result.status, 413);
    QCOMPARE(result.errorCode(), "payload_too_large");
    // The server is still fine.
    QCOMPARE(f->client().get(u"/api/agents"_s).status, 200);
}

void ApiAuthTest::unknownRouteAndMethod()
{
    const HttpResult missing = f->client().get(u"/api/nothing/here"_s);
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.errorCode(), "not_found");

    const HttpResult wrongMethod =
        f->client().request("DELETE", u"/api/agents/%1/chat/stream"_s.arg(agentId));
    QCOMPARE(wrongMethod.status, 405);
    QCOMPARE(wrongMethod.errorCode(), "method_not_allowed");
    QCOMPARE(wrongMethod.headers.value("allow"), "POST, GET");

    const HttpResult putHealth = f->client().request("PUT", u"/api/health"_s, "{}");
    QCOMPARE(putHealth.status, 405);
}

void ApiAuthTest::sqlMetacharactersAreData()
{
    const QString nasty = u"Robert'); DROP TABLE messages;-- %_\\ \"quoted\" 😀"_s;
    auto client = f->client();
    const HttpResult created = client.post(u"/api/agents"_s, {{u"name"_s, nasty},
                                                              {u"system_prompt"_s, nasty},
                                                              {u"greeting"_s, nasty},
                                                              {u"model"_s, u"fake:tokens=1"_s}});
    QCOMPARE(created.status, 201);
    const QString id = created.json()[u"id"_s].toString();
    QCOMPARE(client.get(u"/api/agents/%1"_s.arg(id)).json()[u"name"_s].toString(), nasty);
    const auto streamed =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(id), ApiFixture::chatBody(nasty));
    const QString session = streamed.events.last().json[u"session_id"_s].toString();
    QCOMPARE(client.get(u"/api/sessions/%1/messages"_s.arg(session))
                 .json()[u"messages"_s][0][u"content"_s]
                 .toString(),
             nasty);
    const HttpResult search =
        client.get(u"/api/sessions?q="_s + QString::fromLatin1(QUrl::toPercentEncoding(u"%_"_s)));
    QCOMPARE(search.status, 200);
    QCOMPARE(search.json()[u"sessions"_s].toArray().size(), 1);
    QCOMPARE(client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size(),
             2);
}

QTEST_GUILESS_MAIN(ApiAuthTest)
#include "tst_apiauth.moc"
