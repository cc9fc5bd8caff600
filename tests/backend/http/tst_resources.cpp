// Agents, sessions, providers and statistics through the HTTP API.
#include "apifixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;

class ResourcesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void agentCrud();
    void sessionsListRenameDelete();
    void deletingAgentRemovesItsSessions();
    void providersApi();
    void agentWithUnknownProvider();
};

void ResourcesTest::agentCrud()
{
    ApiFixture f;
    QVERIFY(f.start());
    auto client = f.client();
    const HttpResult created =
        client.post(u"/api/agents"_s, {{u"name"_s, u"  翻译助手 "_s},
                                       {u"description"_s, u"Translates"_s},
                                       {u"system_prompt"_s, u"Translate to English."_s},
                                       {u"greeting"_s, u"请输入要翻译的文字"_s},
                                       {u"model"_s, u"fake"_s},
                                       {u"temperature"_s, 0.3},
                                       {u"max_tokens"_s, 512}});
    QCOMPARE(created.status, 201);
    const QJsonObject agent = created.json();
    const QString id = agent.value(u"id"_s).toString();
    QCOMPARE(id.size(), 36);
    QCOMPARE(agent.value(u"name"_s).toString(), u"翻译助手"_s);
    QCOMPARE(agent.value(u"temperature"_s).toDouble(), 0.3);
    QCOMPARE(agent.value(u"max_tokens"_s).toInt(), 512);
    QVERIFY(agent.value(u"provider"_s).isNull());
    for (const char *key : {"id", "name", "description", "system_prompt", "greeting", "provider", "model",
                            "temperature", "max_tokens", "created_at", "updated_at"})
        QVERIFY2(agent.contains(QLatin1String(key)), key);

    const HttpResult updated = client.request("PUT", u"/api/agents/%1"_s.arg(id),
                                              R"({"temperature":null,"greeting":"Hello","max_tokens":1000})");
    QCOMPARE(updated.status, 200);
    QVERIFY(updated.json().value(u"temperature"_s).isNull());
    QCOMPARE(updated.json().value(u"greeting"_s).toString(), u"Hello"_s);
    QCOMPARE(updated.json().value(u"name"_s).toString(), u"翻译助手"_s); // untouched

    const HttpResult listed = client.get(u"/api/agents"_s);
    QCOMPARE(listed.json().value(u"agents"_s).toArray().size(), 1);
    QCOMPARE(client.get(u"/api/agents/%1"_s.arg(id)).json().value(u"max_tokens"_s).toInt(), 1000);

    QCOMPARE(client.request("DELETE", u"/api/agents/%1"_s.arg(id)).status, 204);
    QCOMPARE(client.get(u"/api/agents/%1"_s.arg(id)).status, 404);
    QCOMPARE(client.request("DELETE", u"/api/agents/%1"_s.arg(id)).status, 404);
}

void ResourcesTest::sessionsListRenameDelete()
{
    ApiFixture f;
    QVERIFY(f.start());
    auto client = f.client();
    const QString a = f.createAgent(u"fake:tokens=1"_s);
    const QString b = f.createAgent(u"fake:tokens=1"_s);
    QStringList ids;
    for (const auto &[agent, text] : {std::pair{a, u"Apples and pears"_s}, std::pair{b, u"香蕉的价格"_s},
                                      std::pair{a, u"Cherry pie"_s}}) {
        const auto r =
            client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(text));
        ids.append(r.events.last().json.value(u"session_id"_s).toString());
        QTest::qWait(5); // distinct updated_at
    }
    const QJsonArray all = client.get(u"/api/sessions"_s).json().value(u"sessions"_s).toArray();
    QCOMPARE(all.size(), 3);
    QCOMPARE(all.at(0)[u"id"_s].toString(), ids.at(2)); // newest first
    QCOMPARE(all.at(2)[u"id"_s].toString(), ids.at(0));
    QCOMPARE(all.at(0)[u"streaming"_s].toBool(), false);
    QCOMPARE(all.at(0)[u"message_count"_s].toInt(), 2);

    const QJsonArray ofA = client.get(u"/api/sessions?agent_id="_s + a).json().value(u"sessions"_s).toArray();
    QCOMPARE(ofA.size(), 2);
    const QJsonArray found =
        client.get(u"/api/sessions?q="_s + QString::fromLatin1(QUrl::toPercentEncoding(u"香蕉"_s)))
            .json()
            .value(u"sessions"_s)
            .toArray();
    QCOMPARE(found.size(), 1);
    QCOMPARE(found.at(0)[u"id"_s].toString(), ids.at(1));

    const HttpResult renamed =
        client.request("PATCH", u"/api/sessions/%1"_s.arg(ids.at(0)), R"({"title":"Fruit"})");
    QCOMPARE(renamed.status, 200);
    QCOMPARE(renamed.json().value(u"title"_s).toString(), u"Fruit"_s);
    QCOMPARE(client.get(u"/api/sessions/%1"_s.arg(ids.at(0))).json().value(u"title"_s).toString(),
             u"Fruit"_s);

    QCOMPARE(client.request("DELETE", u"/api/sessions/%1"_s.arg(ids.at(0))).status, 204);
    QCOMPARE(client.get(u"/api/sessions/%1"_s.arg(ids.at(0))).status, 404);
    QCOMPARE(client.get(u"/api/sessions/%1/messages"_s.arg(ids.at(0))).status, 404);
    QCOMPARE(client.get(u"/api/sessions"_s).json().value(u"sessions"_s).toArray().size(), 2);
    // Statistics count usage: deleting a session does not un-count it.
    QCOMPARE(client.get(u"/api/stats"_s).json().value(u"sessions"_s).toInt(), 3);
    QCOMPARE(client.get(u"/api/stats"_s).json().value(u"messages"_s).toInt(), 6);
}

void ResourcesTest::deletingAgentRemovesItsSessions()
{
    ApiFixture f;
    QVERIFY(f.start());
    auto client = f.client();
    const QString agent = f.createAgent(u"fake:tokens=1"_s);
    const auto r =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"x"_s));
    const QString session = r.events.last().json.value(u"session_id"_s).toString();
    QCOMPARE(client.request("DELETE", u"/api/agents/%1"_s.arg(agent)).status, 204);
    QCOMPARE(client.get(u"/api/sessions/%1"_s.arg(session)).status, 404);
}

void ResourcesTest::providersApi()
{
    ApiFixture f;
    QVERIFY(f.start());
    auto client = f.client();
    // The environment provider shows, read-only, with its key hidden.
    QJsonArray providers = client.get(u"/api/providers"_s).json().value(u"providers"_s).toArray();
    QCOMPARE(providers.size(), 1);
    QCOMPARE(providers.at(0)[u"name"_s].toString(), u"env"_s);
    QVERIFY(!client.get(u"/api/providers"_s).body.contains("sk-test-upstream-key"));

    const QByteArray body = QJsonDocument(QJsonObject{{u"base_url"_s, f.fake.baseUrl().toString()},
                                                      {u"model"_s, u"fake:tokens=2,text=via%20named"_s},
                                                      {u"api_key"_s, u"sk-named-secret"_s},
                                                      {u"is_default"_s, true}})
                                .toJson();
    const HttpResult put = client.request("PUT", u"/api/providers/local-fake"_s, body);
    QCOMPARE(put.status, 200);
    QCOMPARE(put.json().value(u"has_api_key"_s).toBool(), true);
    QVERIFY(!put.body.contains("sk-named-secret"));
    providers = client.get(u"/api/providers"_s).json().value(u"providers"_s).toArray();
    QCOMPARE(providers.size(), 2);

    // An agent with no provider now uses the tenant default, with its stored key.
    const QString agent = client.post(u"/api/agents"_s, {{u"name"_s, u"d"_s}}).json()[u"id"_s].toString();
    const auto r =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"x"_s));
    QCOMPARE(r.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QCOMPARE(f.fake.requests().last().header("authorization"), "Bearer sk-named-secret");
    QCOMPARE(r.events.at(1).json.value(u"content"_s).toString() +
                 r.events.at(2).json.value(u"content"_s).toString(),
             u"via named"_s);

    const HttpResult test = client.request("POST", u"/api/providers/local-fake/test"_s, "{}");
    QCOMPARE(test.status, 200);
    QCOMPARE(test.json().value(u"ok"_s).toBool(), true);

    // The key is not in the database file.
    QFile db(f.dir.filePath(u"agentdesk.db"_s));
    QVERIFY(db.open(QIODevice::ReadOnly));
    QVERIFY(!db.readAll().contains("sk-named-secret"));
    QFile secrets(f.dir.filePath(u"secrets.json"_s));
    QVERIFY(secrets.exists());
    QCOMPARE(secrets.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
             QFileDevice::Permissions());

    QCOMPARE(client.request("DELETE", u"/api/providers/local-fake"_s).status, 204);
    QCOMPARE(client.request("DELETE", u"/api/providers/local-fake"_s).status, 404);
}

void ResourcesTest::agentWithUnknownProvider()
{
    ApiFixture f;
    QVERIFY(f.start());
    auto client = f.client();
    const QString agent = client.post(u"/api/agents"_s, {{u"name"_s, u"x"_s}, {u"provider"_s, u"nowhere"_s}})
                              .json()[u"id"_s]
                              .toString();
    const HttpResult r =
        client.request("POST", u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"hello"_s));
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), "provider_not_found");
}

QTEST_GUILESS_MAIN(ResourcesTest)
#include "tst_resources.moc"
