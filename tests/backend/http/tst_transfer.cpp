// Export and import over sockets, on SQLite and (with AGENTDESK_TEST_PG) PostgreSQL: a session's
// whole tree survives export and import into another account, a ChatGPT export becomes
// sessions with their versions, re-imports add nothing, and a malformed file adds nothing.
#include "apifixture.h"
#include "testbackend.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QUrl>

using namespace Qt::StringLiterals;

class TransferTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase_data() { TestBackend::addBackendRows(); }
    void init() { m_backend.startTest(); }
    void treeSurvivesExportAndImport();
    void markdownAndExportAll();
    void reasoningAndFilesTravel();
    void chatGptExportBecomesSessions();
    void malformedImportAddsNothing();
    void importTakesLargerBodies();

private:
    bool start(ApiFixture &f, qint64 importLimit = 0);
    // One streamed turn; returns the chunk ids: session, user message, reply.
    QStringList chat(ApiFixture &f, const QString &path, const QByteArray &body);
    static QStringList branch(const ApiTestClient &client, const QString &session);
    static int sessionCount(ApiTestClient client);

    TestBackend m_backend{u"tst_transfer"_s};
};

bool TransferTest::start(ApiFixture &f, qint64 importLimit)
{
    const bool postgres = m_backend.isPostgres();
    const Database::Options options = m_backend.options();
    return f.start([&](Server::Options &o) {
        if (postgres)
            o.database = options;
        if (importLimit > 0)
            o.maxImportBodyBytes = importLimit;
    });
}

QStringList TransferTest::chat(ApiFixture &f, const QString &path, const QByteArray &body)
{
    QStringList ids(3);
    for (const SseEventRecord &event : f.client().stream("POST", path, body).events) {
        if (event.json.value("session_id"_L1).isString())
            ids[0] = event.json.value("session_id"_L1).toString();
        if (event.json.value("message_id"_L1).isString())
            ids[1] = event.json.value("message_id"_L1).toString();
        if (event.json.value("reply_id"_L1).isString())
            ids[2] = event.json.value("reply_id"_L1).toString();
    }
    return ids;
}

QStringList TransferTest::branch(const ApiTestClient &client, const QString &session)
{
    QStringList lines;
    ApiTestClient c = client;
    for (const QJsonValue &value :
         c.get(u"/api/sessions/%1/messages"_s.arg(session)).json().value("messages"_L1).toArray()) {
        const QJsonObject m = value.toObject();
        lines.append(u"%1 %2 (%3)"_s.arg(m.value("role"_L1).toString(), m.value("content"_L1).toString())
                         .arg(m.value("sibling_ids"_L1).toArray().size()));
    }
    return lines;
}

int TransferTest::sessionCount(ApiTestClient client)
{
    return int(client.get(u"/api/sessions"_s).json().value("sessions"_L1).toArray().size());
}

void TransferTest::treeSurvivesExportAndImport()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=好的 OK."_s);
    const QStringList first =
        chat(f, u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"第一"_s));
    const QStringList second =
        chat(f, u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"second"_s, first.at(0)));
    chat(f, u"/api/messages/%1/regenerate"_s.arg(first.at(2)), "{}");
    chat(f, u"/api/messages/%1/edit"_s.arg(first.at(1)), "{\"message\":\"第一 (edited)\"}");
    QCOMPARE(f.client().request("PATCH", u"/api/sessions/"_s + first.at(0), "{\"pinned\":true}").status, 200);
    const QStringList before = branch(f.client(), first.at(0));
    QCOMPARE(before, (QStringList{u"user 第一 (edited) (2)"_s, u"assistant 好的 OK. (1)"_s}));
    Q_UNUSED(second);

    HttpResult exported = f.client().get(u"/api/sessions/%1/export?format=json"_s.arg(first.at(0)));
    QCOMPARE(exported.status, 200);
    QVERIFY(exported.headers.value("content-type").startsWith("application/json"));
    QVERIFY(exported.headers.value("content-disposition").startsWith("attachment;"));
    QVERIFY(exported.headers.value("content-disposition").contains("filename*=UTF-8''"));
    const QJsonObject file = exported.json();
    QCOMPARE(file.value("format"_L1).toString(), u"agentdesk.sessions"_s);
    QCOMPARE(file.value("sessions"_L1).toArray().at(0).toObject().value("messages"_L1).toArray().size(), 7);

    // Bob of the same tenant: the agent is reused; every version comes along.
    auto bob = f.client(f.newToken(u"acme"_s, u"bob"_s));
    HttpResult imported = bob.request("POST", u"/api/import"_s, exported.body);
    QCOMPARE(imported.status, 200);
    QCOMPARE(imported.json().value("format"_L1).toString(), u"agentdesk"_s);
    QCOMPARE(imported.json().value("imported"_L1).toInt(), 1);
    const QJsonObject entry = imported.json().value("sessions"_L1).toArray().at(0).toObject();
    const QString copy = entry.value("id"_L1).toString();
    QCOMPARE(entry.value("agent_id"_L1).toString(), agent);
    QCOMPARE(entry.value("message_count"_L1).toInt(), 7);
    QCOMPARE(branch(bob, copy), before);
    QCOMPARE(bob.get(u"/api/sessions/"_s + copy).json().value("pinned"_L1).toBool(), true);
    // The older branch is there too.
    const QJsonArray versions = bob.get(u"/api/sessions/%1/messages"_s.arg(copy))
                                    .json()
                                    .value("messages"_L1)
                                    .toArray()
                                    .at(0)
                                    .toObject()
                                    .value("sibling_ids"_L1)
                                    .toArray();
    // Through the first question's older version: its newest answer, which was regenerated; through
    // the first of those answers, the conversation that went on from it.
    const QJsonArray older =
        bob.get(u"/api/sessions/%1/messages?branch=%2"_s.arg(copy, versions.at(0).toString()))
            .json()
            .value("messages"_L1)
            .toArray();
    QCOMPARE(older.size(), 2);
    const QJsonArray answers = older.at(1).toObject().value("sibling_ids"_L1).toArray();
    QCOMPARE(answers.size(), 2);
    QCOMPARE(bob.get(u"/api/sessions/%1/messages?branch=%2"_s.arg(copy, answers.at(0).toString()))
                 .json()
                 .value("messages"_L1)
                 .toArray()
                 .size(),
             4);
    // And it continues like any session.
    chat(f, u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"onwards"_s, copy));

    // Again: nothing new, for bob or for alice, whose session it is.
    imported = bob.request("POST", u"/api/import"_s, exported.body);
    QCOMPARE(imported.json().value("imported"_L1).toInt(), 0);
    QCOMPARE(imported.json().value("skipped"_L1).toInt(), 1);
    QCOMPARE(imported.json().value("sessions"_L1).toArray().at(0).toObject().value("status"_L1).toString(),
             u"skipped"_s);
    QCOMPARE(f.client().request("POST", u"/api/import"_s, exported.body).json().value("imported"_L1).toInt(),
             0);
    QCOMPARE(sessionCount(bob), 1);

    // Another tenant has no such agent: the sessions go to an "Imported" agent made for them.
    auto gina = f.client(f.newToken(u"globex"_s, u"gina"_s));
    imported = gina.request("POST", u"/api/import"_s, exported.body);
    QCOMPARE(imported.json().value("imported"_L1).toInt(), 1);
    const QString agentThere =
        imported.json().value("sessions"_L1).toArray().at(0).toObject().value("agent_id"_L1).toString();
    QCOMPARE(gina.get(u"/api/agents/"_s + agentThere).json().value("name"_L1).toString(), u"Imported"_s);
    QCOMPARE(f.client().get(u"/api/agents/"_s + agentThere).status, 404);
}

void TransferTest::markdownAndExportAll()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=Answer *one*."_s);
    const QStringList a =
        chat(f, u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"天气 question"_s));
    chat(f, u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"Other chat"_s));

    HttpResult markdown = f.client().get(u"/api/sessions/%1/export?format=markdown"_s.arg(a.at(0)));
    QCOMPARE(markdown.status, 200);
    QCOMPARE(markdown.headers.value("content-type"), QByteArray("text/markdown; charset=utf-8"));
    const QString text = QString::fromUtf8(markdown.body);
    QVERIFY2(text.startsWith(u"# 天气 question\n\n*Helper · "_s), qPrintable(text));
    QVERIFY(text.contains(u"\n## User\n\n天气 question\n\n## Assistant\n\nAnswer *one*.\n"_s));
    QVERIFY(markdown.headers.value("content-disposition")
                .contains(QUrl::toPercentEncoding(u"天气-question.md"_s)));

    const HttpResult all = f.client().get(u"/api/export"_s);
    QCOMPARE(all.json().value("sessions"_L1).toArray().size(), 2);
    const QString both = QString::fromUtf8(f.client().get(u"/api/export?format=markdown"_s).body);
    QCOMPARE(both.count(u"\n---\n"_s), 1);
    QVERIFY(both.contains(u"# Other chat"_s) && both.contains(u"# 天气 question"_s));
    QCOMPARE(f.client().get(u"/api/export?format=pdf"_s).errorCode(), QByteArray("invalid_format"));
    QCOMPARE(
        f.client().get(u"/api/sessions/%1/export"_s.arg(u"00000000-0000-4000-8000-000000000000"_s)).status,
        404);
    auto bob = f.client(f.newToken(u"acme"_s, u"bob"_s));
    QCOMPARE(bob.get(u"/api/sessions/%1/export"_s.arg(a.at(0))).status, 404);
    QCOMPARE(bob.get(u"/api/export"_s).json().value("sessions"_L1).toArray().size(), 0);
}

void TransferTest::reasoningAndFilesTravel()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:reasoning=Think first.,text=Done."_s);
    const HttpResult file =
        f.client().request("POST", u"/api/files"_s, "plain notes",
                           {{"Content-Type", "text/plain"}, {"X-File-Name", "notes.txt"}});
    QCOMPARE(file.status, 201);
    const QJsonObject body{{u"message"_s, u"Read it"_s},
                           {u"attachments"_s, QJsonArray{file.json().value("id"_L1)}}};
    const QStringList ids = chat(f, u"/api/agents/%1/chat/stream"_s.arg(agent),
                                 QJsonDocument(body).toJson(QJsonDocument::Compact));
    // Markdown: the reasoning folded away above the answer, the file named under the question.
    const QString markdown =
        QString::fromUtf8(f.client().get(u"/api/sessions/%1/export?format=markdown"_s.arg(ids.at(0))).body);
    QVERIFY2(markdown.contains(u"## User\n\nRead it\n\n📎 `notes.txt`\n"_s), qPrintable(markdown));
    QVERIFY2(
        markdown.contains(
            u"## Assistant\n\n<details>\n<summary>Reasoning</summary>\n\nThink first.\n\n</details>\n\nDone.\n"_s),
        qPrintable(markdown));
    // JSON: the reasoning comes back in with the import.
    const HttpResult exported = f.client().get(u"/api/sessions/%1/export?format=json"_s.arg(ids.at(0)));
    auto bob = f.client(f.newToken(u"acme"_s, u"bob"_s));
    const HttpResult imported = bob.request("POST", u"/api/import"_s, exported.body);
    QCOMPARE(imported.json().value("imported"_L1).toInt(), 1);
    const QString copy =
        imported.json().value("sessions"_L1).toArray().at(0).toObject().value("id"_L1).toString();
    const QJsonObject reply = bob.get(u"/api/sessions/%1/messages"_s.arg(copy))
                                  .json()
                                  .value("messages"_L1)
                                  .toArray()
                                  .last()
                                  .toObject();
    QCOMPARE(reply.value("reasoning"_L1).toString(), u"Think first."_s);
    QCOMPARE(reply.value("content"_L1).toString(), u"Done."_s);
}

void TransferTest::chatGptExportBecomesSessions()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=Sure."_s);
    QFile fixture(QStringLiteral(AGENTDESK_FIXTURES "/chatgpt-conversations.json"));
    QVERIFY(fixture.open(QIODevice::ReadOnly));
    const QByteArray body = fixture.readAll();

    HttpResult imported = f.client().request("POST", u"/api/import?agent_id="_s + agent, body);
    QCOMPARE(imported.status, 200);
    QCOMPARE(imported.json().value("format"_L1).toString(), u"chatgpt"_s);
    QCOMPARE(imported.json().value("imported"_L1).toInt(), 2);
    const QJsonObject rust = imported.json().value("sessions"_L1).toArray().at(0).toObject();
    QCOMPARE(rust.value("source_id"_L1).toString(), u"6733a1b2-0000-8000-9c1d-000000000001"_s);
    QCOMPARE(rust.value("agent_id"_L1).toString(), agent);
    const QString session = rust.value("id"_L1).toString();
    // The branch ChatGPT showed last, with the regenerated answer's two versions.
    QCOMPARE(
        branch(f.client(), session),
        (QStringList{
            u"user 什么是 Rust 的所有权？ (1)"_s,
            u"assistant Ownership: each value has one owner; when the owner goes out of scope, the value "
            u"is dropped. (2)"_s,
            u"user [image]\n\nCompute 2^10 for me (1)"_s, u"assistant 2^10 = **1024** 🎉 (1)"_s}));
    const QJsonObject sessionJson = f.client().get(u"/api/sessions/"_s + session).json();
    QCOMPARE(sessionJson.value("title"_L1).toString(), u"Rust 所有权"_s);
    QCOMPARE(sessionJson.value("created_at"_L1).toString(), u"2024-11-12T08:26:40.123Z"_s);
    // Imported messages are searchable and the conversation goes on with them as history.
    const QJsonArray found =
        f.client()
            .get(u"/api/search?q=%1"_s.arg(QString::fromLatin1(QUrl::toPercentEncoding(u"所有权"_s))))
            .json()
            .value("results"_L1)
            .toArray();
    QCOMPARE(found.size(), 1);
    QCOMPARE(found.at(0).toObject().value("session_id"_L1).toString(), session);
    chat(f, u"/api/agents/%1/chat/stream"_s.arg(agent), ApiFixture::chatBody(u"and 2^11?"_s, session));
    const QJsonArray prompt = f.fake.requests().constLast().json.value("messages"_L1).toArray();
    QCOMPARE(prompt.at(prompt.size() - 2).toObject().value("content"_L1).toString(), u"2^10 = **1024** 🎉"_s);
    QCOMPARE(prompt.size(), 2 + 4 + 1);

    // Idempotent.
    imported = f.client().request("POST", u"/api/import"_s, body);
    QCOMPARE(imported.json().value("imported"_L1).toInt(), 0);
    QCOMPARE(imported.json().value("skipped"_L1).toInt(), 2);
    QCOMPARE(sessionCount(f.client()), 2);
}

void TransferTest::malformedImportAddsNothing()
{
    ApiFixture f;
    QVERIFY(start(f));
    f.createAgent(u"fake:tokens=2"_s);
    // The first conversation is fine, the second is not: neither is imported.
    const QByteArray mixed =
        "[{\"id\":\"good\",\"title\":\"Good\",\"mapping\":{\"r\":{\"parent\":null,\"message\":{\"author\":"
        "{\"role\":\"user\"},\"content\":{\"content_type\":\"text\",\"parts\":[\"hi\"]}}}}},"
        "{\"id\":\"bad\",\"mapping\":{\"x\":{\"parent\":\"nowhere\"}}}]";
    HttpResult refused = f.client().request("POST", u"/api/import"_s, mixed);
    QCOMPARE(refused.status, 400);
    QCOMPARE(refused.errorCode(), QByteArray("invalid_import"));
    QVERIFY(refused.json()
                .value("error"_L1)
                .toObject()
                .value("message"_L1)
                .toString()
                .contains(u"conversations[1]"_s));
    QCOMPARE(sessionCount(f.client()), 0);
    QCOMPARE(f.client().request("POST", u"/api/import"_s, "not json").errorCode(),
             QByteArray("invalid_json"));
    QCOMPARE(f.client().request("POST", u"/api/import"_s, "{\"some\":\"thing\"}").errorCode(),
             QByteArray("unknown_import_format"));
    QCOMPARE(f.client()
                 .request("POST", u"/api/import?agent_id=00000000-0000-4000-8000-000000000000"_s, "[]")
                 .errorCode(),
             QByteArray("agent_not_found"));
    QCOMPARE(f.client().request("POST", u"/api/import"_s, "[]").json().value("imported"_L1).toInt(), 0);
    QCOMPARE(sessionCount(f.client()), 0);
    // The good one alone goes in.
    const QByteArray good = mixed.left(mixed.indexOf(",{\"id\":\"bad\"")) + "]";
    QCOMPARE(f.client().request("POST", u"/api/import"_s, good).json().value("imported"_L1).toInt(), 1);
    QCOMPARE(sessionCount(f.client()), 1);
}

void TransferTest::importTakesLargerBodies()
{
    ApiFixture f;
    QVERIFY(start(f, 4 * 1024 * 1024));
    const QString agent = f.createAgent(u"fake:tokens=2"_s);
    // 2 MiB: over the limit of every other route, under the import's.
    QJsonArray messages;
    const QString big = QString(u"长"_s).repeated(350000); // ~1 MiB of UTF-8 each
    messages.append(QJsonObject{{u"id"_s, u"m1"_s}, {u"role"_s, u"user"_s}, {u"content"_s, big}});
    messages.append(QJsonObject{
        {u"id"_s, u"m2"_s}, {u"parent_id"_s, u"m1"_s}, {u"role"_s, u"assistant"_s}, {u"content"_s, big}});
    const QByteArray file =
        QJsonDocument(QJsonObject{{u"format"_s, u"agentdesk.sessions"_s},
                                  {u"version"_s, 1},
                                  {u"sessions"_s, QJsonArray{QJsonObject{{u"id"_s, u"s"_s},
                                                                         {u"title"_s, u"Big"_s},
                                                                         {u"messages"_s, messages}}}}})
            .toJson(QJsonDocument::Compact);
    QVERIFY(file.size() > 2 * 1024 * 1024);
    const HttpResult imported = f.client().request("POST", u"/api/import"_s, file, {}, 30000);
    QCOMPARE(imported.status, 200);
    QCOMPARE(imported.json().value("imported"_L1).toInt(), 1);
    QCOMPARE(f.client().request("POST", u"/api/agents/%1/chat"_s.arg(agent), file).status, 413);
    const QByteArray tooBig = file + QByteArray(3 * 1024 * 1024, ' ');
    QCOMPARE(f.client().request("POST", u"/api/import"_s, tooBig, {}, 30000).status, 413);
}

QTEST_MAIN(TransferTest)
#include "tst_transfer.moc"
