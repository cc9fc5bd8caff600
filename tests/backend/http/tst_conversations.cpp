// Conversations as trees over real sockets: regenerate, edit, switching branches, fork and pins,
// on SQLite and (when AGENTDESK_TEST_PG is set) on PostgreSQL. The fake upstream records what
// the model was sent, so every test checks that it got exactly the active branch.
#include "apifixture.h"
#include "testbackend.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QUrl>

using namespace Qt::StringLiterals;

class ConversationsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase_data();
    void init();
    void regenerateMakesAVersion();
    void retryAfterAFailureSendsTheMessageOnce();
    void editMakesAVersion();
    void switchingBranches();
    void forkCopiesTheBranch();
    void pinnedSessionsComeFirst();
    void refusals();
    void regenerateIsIdempotent();
    void searchOpensTheBranchOfAHit();

private:
    bool start(ApiFixture &f);
    struct Turn
    {
        QString session;
        QString user;
        QString reply;
        QString finishReason;
        QString text;
    };
    static Turn read(const ApiTestClient::StreamResult &stream);
    Turn chat(ApiFixture &f, const QString &agent, const QString &message, const QString &session = {});
    Turn regenerate(ApiFixture &f, const QString &messageId);
    Turn edit(ApiFixture &f, const QString &messageId, const QString &message);
    static QJsonArray branch(ApiFixture &f, const QString &session, const QString &through = {});
    // What the model was sent last, as "role: content" lines (the agent's prompt and greeting too).
    static QStringList lastPrompt(ApiFixture &f);
    static QStringList contents(const QJsonArray &messages);

    TestBackend m_backend{u"tst_conversations"_s};
};

void ConversationsTest::initTestCase_data()
{
    TestBackend::addBackendRows();
}

void ConversationsTest::init()
{
    m_backend.startTest();
}

bool ConversationsTest::start(ApiFixture &f)
{
    const bool postgres = m_backend.isPostgres();
    const Database::Options options = m_backend.options();
    return f.start([&](Server::Options &o) {
        if (postgres)
            o.database = options;
    });
}

ConversationsTest::Turn ConversationsTest::read(const ApiTestClient::StreamResult &stream)
{
    Turn turn;
    for (const SseEventRecord &event : stream.events) {
        const QJsonObject chunk = event.json;
        if (chunk.value("session_id"_L1).isString())
            turn.session = chunk.value("session_id"_L1).toString();
        if (chunk.value("message_id"_L1).isString())
            turn.user = chunk.value("message_id"_L1).toString();
        // An error chunk has no reply_id (the reference's shape); its event id names the reply.
        if (!event.id.isEmpty())
            turn.reply = QString::fromLatin1(event.id.left(event.id.lastIndexOf(':')));
        const QString type = chunk.value("type"_L1).toString();
        if (type == "content"_L1)
            turn.text += chunk.value("content"_L1).toString();
        else if (type == "done"_L1 || type == "error"_L1)
            turn.finishReason = type == "error"_L1 ? u"error"_s : chunk.value("finish_reason"_L1).toString();
    }
    return turn;
}

ConversationsTest::Turn ConversationsTest::chat(ApiFixture &f, const QString &agent, const QString &message,
                                                const QString &session)
{
    return read(f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent),
                                  ApiFixture::chatBody(message, session)));
}

ConversationsTest::Turn ConversationsTest::regenerate(ApiFixture &f, const QString &messageId)
{
    return read(f.client().stream("POST", u"/api/messages/%1/regenerate"_s.arg(messageId), "{}"));
}

ConversationsTest::Turn ConversationsTest::edit(ApiFixture &f, const QString &messageId,
                                                const QString &message)
{
    return read(f.client().stream("POST", u"/api/messages/%1/edit"_s.arg(messageId),
                                  QJsonDocument(QJsonObject{{u"message"_s, message}}).toJson()));
}

QJsonArray ConversationsTest::branch(ApiFixture &f, const QString &session, const QString &through)
{
    const HttpResult result = f.client().get(u"/api/sessions/%1/messages%2"_s.arg(
        session, through.isEmpty() ? QString() : u"?branch="_s + through));
    if (result.status != 200)
        qWarning() << "messages:" << result.status << result.body;
    return result.json().value("messages"_L1).toArray();
}

QStringList ConversationsTest::lastPrompt(ApiFixture &f)
{
    QStringList lines;
    const QList<FakeRequest> requests = f.fake.requests();
    if (requests.isEmpty())
        return lines;
    for (const QJsonValue &value : requests.constLast().json.value("messages"_L1).toArray()) {
        const QJsonObject message = value.toObject();
        lines.append(message.value("role"_L1).toString() + u": "_s + message.value("content"_L1).toString());
    }
    return lines;
}

QStringList ConversationsTest::contents(const QJsonArray &messages)
{
    QStringList result;
    for (const QJsonValue &value : messages)
        result.append(value.toObject().value("content"_L1).toString());
    return result;
}

static const QStringList preamble{u"system: You are helpful."_s, u"assistant: 你好！我是助手。"_s};

void ConversationsTest::regenerateMakesAVersion()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=Answer 🙂 one."_s);
    const Turn first = chat(f, agent, u"第一个问题"_s);
    QCOMPARE(first.finishReason, u"Stop"_s);
    const Turn second = chat(f, agent, u"second question"_s, first.session);
    QCOMPARE(second.finishReason, u"Stop"_s);

    // Regenerating the first reply answers the first question again, with nothing after it.
    const Turn again = regenerate(f, first.reply);
    QCOMPARE(again.finishReason, u"Stop"_s);
    QCOMPARE(again.session, first.session);
    QCOMPARE(again.user, first.user); // the same user message, not a copy of it
    QVERIFY(again.reply != first.reply);
    QCOMPARE(again.text, u"Answer 🙂 one."_s);
    QCOMPARE(lastPrompt(f), (preamble + QStringList{u"user: 第一个问题"_s}));

    const QJsonArray active = branch(f, first.session);
    QCOMPARE(active.size(), 2);
    QCOMPARE(active.at(0).toObject().value("id"_L1).toString(), first.user);
    QCOMPARE(active.at(0).toObject().value("parent_id"_L1), QJsonValue());
    const QJsonObject reply = active.at(1).toObject();
    QCOMPARE(reply.value("id"_L1).toString(), again.reply);
    QCOMPARE(reply.value("parent_id"_L1).toString(), first.user);
    QCOMPARE(reply.value("sibling_ids"_L1).toArray(), (QJsonArray{first.reply, again.reply}));
    QCOMPARE(reply.value("content"_L1).toString(), u"Answer 🙂 one."_s);

    // The conversation goes on from the new version.
    const Turn third = chat(f, agent, u"third"_s, first.session);
    QCOMPARE(third.finishReason, u"Stop"_s);
    QCOMPARE(lastPrompt(f), (preamble + QStringList{u"user: 第一个问题"_s, u"assistant: Answer 🙂 one."_s,
                                                    u"user: third"_s}));
    QCOMPARE(branch(f, first.session).size(), 4);

    // The session counts every stored message, versions included; a user message can be
    // regenerated too (another answer to it).
    QCOMPARE(f.client().get(u"/api/sessions/"_s + first.session).json().value("message_count"_L1).toInt(), 7);
    const Turn fourth = regenerate(f, third.user);
    QCOMPARE(fourth.user, third.user);
    QCOMPARE(branch(f, first.session).last().toObject().value("sibling_ids"_L1).toArray().size(), 2);
}

void ConversationsTest::retryAfterAFailureSendsTheMessageOnce()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:status=500"_s);
    const Turn ok = chat(f, agent, u"hello"_s);
    const Turn failed = chat(f, agent, u"please answer"_s, ok.session);
    QCOMPARE(failed.finishReason, u"error"_s);
    // The upstream is fine again; Retry is a regenerate of the failed reply.
    QCOMPARE(f.client()
                 .request("PATCH", u"/api/agents/"_s + agent,
                          QJsonDocument(QJsonObject{{u"model"_s, u"fake:text=Fine."_s}}).toJson())
                 .status,
             200);
    QVERIFY(!failed.reply.isEmpty());
    const Turn retried = regenerate(f, failed.reply);
    QCOMPARE(retried.finishReason, u"Stop"_s);
    QCOMPARE(retried.user, failed.user);
    const QStringList prompt = lastPrompt(f);
    QCOMPARE(prompt.count(u"user: please answer"_s), 1);
    QCOMPARE(prompt.constLast(), u"user: please answer"_s);
    const QJsonArray active = branch(f, ok.session);
    QCOMPARE(contents(active).mid(2), (QStringList{u"please answer"_s, u"Fine."_s}));
    QCOMPARE(active.last().toObject().value("sibling_ids"_L1).toArray(),
             (QJsonArray{failed.reply, retried.reply}));
}

void ConversationsTest::editMakesAVersion()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=OK."_s);
    const Turn first = chat(f, agent, u"one"_s);
    const Turn second = chat(f, agent, u"two"_s, first.session);

    const Turn edited = edit(f, second.user, u"two, better"_s);
    QCOMPARE(edited.finishReason, u"Stop"_s);
    QCOMPARE(edited.session, first.session);
    QVERIFY(edited.user != second.user);
    QCOMPARE(lastPrompt(f),
             (preamble + QStringList{u"user: one"_s, u"assistant: OK."_s, u"user: two, better"_s}));
    QJsonArray active = branch(f, first.session);
    QCOMPARE(contents(active), (QStringList{u"one"_s, u"OK."_s, u"two, better"_s, u"OK."_s}));
    QCOMPARE(active.at(2).toObject().value("sibling_ids"_L1).toArray(),
             (QJsonArray{second.user, edited.user}));
    QCOMPARE(active.at(2).toObject().value("parent_id"_L1).toString(), first.reply);

    // The first message has versions too: they are roots of the tree.
    const Turn rooted = edit(f, first.user, u"一，重新问"_s);
    QCOMPARE(lastPrompt(f), (preamble + QStringList{u"user: 一，重新问"_s}));
    active = branch(f, first.session);
    QCOMPARE(contents(active), (QStringList{u"一，重新问"_s, u"OK."_s}));
    QCOMPARE(active.at(0).toObject().value("sibling_ids"_L1).toArray(),
             (QJsonArray{first.user, rooted.user}));
    QCOMPARE(active.at(0).toObject().value("parent_id"_L1), QJsonValue());
}

void ConversationsTest::switchingBranches()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=Sure."_s);
    const Turn first = chat(f, agent, u"a"_s);
    const Turn second = chat(f, agent, u"b"_s, first.session);
    const Turn edited = edit(f, second.user, u"b2"_s);
    chat(f, agent, u"c"_s, first.session);

    // Reading another branch does not switch to it; below the message it follows the newest versions.
    QCOMPARE(contents(branch(f, first.session, second.user)),
             (QStringList{u"a"_s, u"Sure."_s, u"b"_s, u"Sure."_s}));
    QCOMPARE(contents(branch(f, first.session)),
             (QStringList{u"a"_s, u"Sure."_s, u"b2"_s, u"Sure."_s, u"c"_s, u"Sure."_s}));
    // Through an ancestor of the active end: the active branch itself.
    QCOMPARE(branch(f, first.session, first.reply).size(), 6);

    HttpResult switched =
        f.client().post(u"/api/sessions/%1/branch"_s.arg(first.session), {{u"message_id"_s, second.user}});
    QCOMPARE(switched.status, 200);
    QCOMPARE(switched.json().value("leaf_id"_L1).toString(), second.reply);
    QCOMPARE(contents(switched.json().value("messages"_L1).toArray()),
             (QStringList{u"a"_s, u"Sure."_s, u"b"_s, u"Sure."_s}));
    // The next turn continues the branch switched to, and the model sees only it.
    chat(f, agent, u"d"_s, first.session);
    QCOMPARE(lastPrompt(f), (preamble + QStringList{u"user: a"_s, u"assistant: Sure."_s, u"user: b"_s,
                                                    u"assistant: Sure."_s, u"user: d"_s}));
    // And back: the edited branch still ends where it ended.
    switched =
        f.client().post(u"/api/sessions/%1/branch"_s.arg(first.session), {{u"message_id"_s, edited.user}});
    QCOMPARE(contents(switched.json().value("messages"_L1).toArray()),
             (QStringList{u"a"_s, u"Sure."_s, u"b2"_s, u"Sure."_s, u"c"_s, u"Sure."_s}));
    QCOMPARE(contents(branch(f, first.session)).size(), 6);

    // Another user's message, or none.
    const QString other = f.client()
                              .post(u"/api/agents/%1/chat"_s.arg(agent), {{u"message"_s, u"x"_s}})
                              .json()
                              .value("message_id"_L1)
                              .toString();
    QVERIFY(!other.isEmpty());
    QCOMPARE(
        f.client().post(u"/api/sessions/%1/branch"_s.arg(first.session), {{u"message_id"_s, other}}).status,
        404);
    QCOMPARE(f.client().get(u"/api/sessions/%1/messages?branch=%2"_s.arg(first.session, other)).status, 404);
    QCOMPARE(f.client().get(u"/api/sessions/%1/messages?branch=nope"_s.arg(first.session)).status, 400);
    QCOMPARE(f.client().post(u"/api/sessions/%1/branch"_s.arg(first.session), {}).errorCode(),
             QByteArray("missing_field"));
}

void ConversationsTest::forkCopiesTheBranch()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=Yes 好的."_s);
    const Turn first = chat(f, agent, u"start"_s);
    const Turn second = chat(f, agent, u"more"_s, first.session);

    HttpResult forked = f.client().post(u"/api/sessions/%1/fork"_s.arg(first.session),
                                        {{u"message_id"_s, first.reply}, {u"title"_s, u"分支"_s}});
    QCOMPARE(forked.status, 201);
    const QString copy = forked.json().value("id"_L1).toString();
    QVERIFY(copy != first.session);
    QCOMPARE(forked.json().value("title"_L1).toString(), u"分支"_s);
    QCOMPARE(forked.json().value("message_count"_L1).toInt(), 2);
    const QJsonArray copied = branch(f, copy);
    QCOMPARE(contents(copied), (QStringList{u"start"_s, u"Yes 好的."_s}));
    QVERIFY(copied.at(1).toObject().value("id"_L1).toString() != first.reply);
    QCOMPARE(copied.at(1).toObject().value("parent_id"_L1), copied.at(0).toObject().value("id"_L1));

    // The copy goes its own way; the original is untouched.
    chat(f, agent, u"elsewhere"_s, copy);
    QCOMPARE(lastPrompt(f),
             (preamble + QStringList{u"user: start"_s, u"assistant: Yes 好的."_s, u"user: elsewhere"_s}));
    QCOMPARE(contents(branch(f, first.session)),
             (QStringList{u"start"_s, u"Yes 好的."_s, u"more"_s, u"Yes 好的."_s}));
    // A copied reply replays like the original.
    const auto replay = f.client().stream(
        "GET", u"/api/replies/%1/stream"_s.arg(copied.at(1).toObject().value("id"_L1).toString()), {});
    QCOMPARE(read(replay).text, u"Yes 好的."_s);

    // Without a message: the whole active branch, under the same title.
    forked = f.client().post(u"/api/sessions/%1/fork"_s.arg(first.session), {});
    QCOMPARE(forked.status, 201);
    QCOMPARE(forked.json().value("message_count"_L1).toInt(), 4);
    QCOMPARE(forked.json().value("title"_L1).toString(), u"start"_s);
    QCOMPARE(f.client().get(u"/api/sessions"_s).json().value("sessions"_L1).toArray().size(), 3);

    QCOMPARE(f.client()
                 .post(u"/api/sessions/%1/fork"_s.arg(first.session), {{u"message_id"_s, second.session}})
                 .status,
             404);
    QCOMPARE(f.client().post(u"/api/sessions/%1/fork"_s.arg(first.session), {{u"title"_s, u""_s}}).status,
             400);
}

void ConversationsTest::pinnedSessionsComeFirst()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:tokens=2"_s);
    const Turn older = chat(f, agent, u"older"_s);
    chat(f, agent, u"newer"_s);
    const auto order = [&] {
        QStringList titles;
        for (const QJsonValue &s : f.client().get(u"/api/sessions"_s).json().value("sessions"_L1).toArray())
            titles.append(s.toObject().value("title"_L1).toString());
        return titles;
    };
    QCOMPARE(order(), (QStringList{u"newer"_s, u"older"_s}));
    const HttpResult pinned =
        f.client().request("PATCH", u"/api/sessions/"_s + older.session, "{\"pinned\": true}");
    QCOMPARE(pinned.status, 200);
    QCOMPARE(pinned.json().value("pinned"_L1).toBool(), true);
    QCOMPARE(pinned.json().value("title"_L1).toString(), u"older"_s);
    QCOMPARE(order(), (QStringList{u"older"_s, u"newer"_s}));
    QCOMPARE(f.client().request("PATCH", u"/api/sessions/"_s + older.session, "{\"pinned\": \"yes\"}").status,
             400);
    QCOMPARE(f.client().request("PATCH", u"/api/sessions/"_s + older.session, "{}").errorCode(),
             QByteArray("missing_field"));
    QCOMPARE(f.client().request("PATCH", u"/api/sessions/"_s + older.session, "{\"pinned\": false}").status,
             200);
    QCOMPARE(order(), (QStringList{u"newer"_s, u"older"_s}));
}

void ConversationsTest::refusals()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:tokens=40,delay=50"_s);
    const Turn first = chat(f, agent, u"q"_s);
    auto client = f.client();

    QCOMPARE(client.request("POST", u"/api/messages/nope/regenerate"_s, "{}").errorCode(),
             QByteArray("invalid_uuid"));
    const QString unknown = u"00000000-0000-4000-8000-000000000000"_s;
    QCOMPARE(client.request("POST", u"/api/messages/%1/regenerate"_s.arg(unknown), "{}").status, 404);
    QCOMPARE(client.request("POST", u"/api/messages/%1/edit"_s.arg(first.reply), "{\"message\":\"x\"}")
                 .errorCode(),
             QByteArray("not_a_user_message"));
    QCOMPARE(client.request("POST", u"/api/messages/%1/edit"_s.arg(first.user), "{\"message\":\"  \"}")
                 .errorCode(),
             QByteArray("empty_message"));
    QCOMPARE(client.request("POST", u"/api/messages/%1/edit"_s.arg(first.user), "[]").errorCode(),
             QByteArray("invalid_json"));
    // Another user of the same tenant cannot touch them.
    auto bob = f.client(f.newToken(u"acme"_s, u"bob"_s));
    QCOMPARE(bob.request("POST", u"/api/messages/%1/regenerate"_s.arg(first.reply), "{}").errorCode(),
             QByteArray("message_not_found"));
    QCOMPARE(bob.request("POST", u"/api/messages/%1/edit"_s.arg(first.user), "{\"message\":\"x\"}").status,
             404);
    QCOMPARE(bob.request("POST", u"/api/sessions/%1/fork"_s.arg(first.session), "{}").status, 404);

    // One reply per session at a time: while a regenerated reply runs, a second one waits.
    bool refusedWhileRunning = false;
    const auto running = client.stream(
        "POST", u"/api/messages/%1/regenerate"_s.arg(first.reply), "{}", [&](const SseEventRecord &event) {
            if (!refusedWhileRunning && event.json.value("type"_L1) == "content"_L1) {
                auto other = f.client();
                refusedWhileRunning =
                    other.request("POST", u"/api/messages/%1/edit"_s.arg(first.user), "{\"message\":\"y\"}")
                            .errorCode() == "session_busy" &&
                    other.post(u"/api/sessions/%1/branch"_s.arg(first.session),
                               {{u"message_id"_s, first.reply}})
                            .status == 409 &&
                    other.post(u"/api/sessions/%1/fork"_s.arg(first.session),
                               {{u"message_id"_s, event.json.value("reply_id"_L1)}})
                            .errorCode() == "reply_streaming";
            }
            return true;
        });
    QVERIFY(refusedWhileRunning);
    QCOMPARE(read(running).finishReason, u"Stop"_s);
    // Nothing was half-written by the refusals: one user message, two versions of the reply.
    const QJsonArray active = branch(f, first.session);
    QCOMPARE(active.size(), 2);
    QCOMPARE(active.at(1).toObject().value("sibling_ids"_L1).toArray().size(), 2);
}

void ConversationsTest::regenerateIsIdempotent()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:tokens=3"_s);
    const Turn first = chat(f, agent, u"q"_s);
    const int before = f.fake.requestsReceived();
    const QList<QPair<QByteArray, QByteArray>> key{{"Idempotency-Key", "regen-1"}};
    const Turn a = read(f.client().stream("POST", u"/api/messages/%1/regenerate"_s.arg(first.reply), "{}", {},
                                          20000, true, key));
    const Turn b = read(f.client().stream("POST", u"/api/messages/%1/regenerate"_s.arg(first.reply), "{}", {},
                                          20000, true, key));
    QCOMPARE(a.finishReason, u"Stop"_s);
    QCOMPARE(b.reply, a.reply);
    QCOMPARE(b.text, a.text);
    QCOMPARE(f.fake.requestsReceived(), before + 1);
    QCOMPARE(branch(f, first.session).at(1).toObject().value("sibling_ids"_L1).toArray().size(), 2);
}

void ConversationsTest::searchOpensTheBranchOfAHit()
{
    ApiFixture f;
    QVERIFY(start(f));
    const QString agent = f.createAgent(u"fake:text=北京今天晴 <b>sunny</b>."_s);
    const Turn weather = chat(f, agent, u"今天天气怎么样？"_s);
    // An old version of a reply is found too, and opens on its own branch.
    QCOMPARE(f.client()
                 .request("PATCH", u"/api/agents/"_s + agent,
                          QJsonDocument(QJsonObject{{u"model"_s, u"fake:text=多云 cloudy."_s}}).toJson())
                 .status,
             200);
    chat(f, agent, u"unrelated question"_s);
    const Turn again = regenerate(f, weather.reply);
    QCOMPARE(again.text, u"多云 cloudy."_s);

    HttpResult result =
        f.client().get(u"/api/search?q=%1"_s.arg(QString::fromLatin1(QUrl::toPercentEncoding(u"天气"_s))));
    QCOMPARE(result.status, 200);
    QJsonArray results = result.json().value("results"_L1).toArray();
    QCOMPARE(results.size(), 1);
    QJsonObject hit = results.at(0).toObject();
    QCOMPARE(hit.value("session_id"_L1).toString(), weather.session);
    QCOMPARE(hit.value("agent_id"_L1).toString(), agent);
    QCOMPARE(hit.value("title_html"_L1).toString(), u"今天<mark>天气</mark>怎么样？"_s);
    QJsonObject message = hit.value("hits"_L1).toArray().at(0).toObject();
    QCOMPARE(message.value("message_id"_L1).toString(), weather.user);
    QCOMPARE(message.value("snippet"_L1).toString(), u"今天<mark>天气</mark>怎么样？"_s);

    result = f.client().get(u"/api/search?q=SUNNY"_s);
    results = result.json().value("results"_L1).toArray();
    QCOMPARE(results.size(), 1);
    message = results.at(0).toObject().value("hits"_L1).toArray().at(0).toObject();
    QCOMPARE(message.value("message_id"_L1).toString(), weather.reply);
    QCOMPARE(message.value("role"_L1).toString(), u"assistant"_s);
    QCOMPARE(message.value("snippet"_L1).toString(), u"北京今天晴 &lt;b&gt;<mark>sunny</mark>&lt;/b&gt;."_s);
    const QJsonArray opened = branch(f, weather.session, weather.reply);
    QCOMPARE(opened.last().toObject().value("id"_L1).toString(), weather.reply);
    QCOMPARE(branch(f, weather.session).last().toObject().value("id"_L1).toString(), again.reply);

    // Only the caller's own, and clear refusals.
    auto bob = f.client(f.newToken(u"acme"_s, u"bob"_s));
    QCOMPARE(bob.get(u"/api/search?q=sunny"_s).json().value("results"_L1).toArray().size(), 0);
    QCOMPARE(f.client().get(u"/api/search"_s).errorCode(), QByteArray("missing_query"));
    QCOMPARE(f.client().get(u"/api/search?q=%20"_s).errorCode(), QByteArray("missing_query"));
    QCOMPARE(f.client().get(u"/api/search?q="_s + QString(201, u'x')).errorCode(),
             QByteArray("query_too_long"));
    QCOMPARE(f.client().get(u"/api/search?q=x&limit=0"_s).errorCode(), QByteArray("invalid_limit"));
    QCOMPARE(f.client().get(u"/api/search?q=x&limit=many"_s).status, 400);
    QCOMPARE(f.client(u"not-a-token"_s).get(u"/api/search?q=x"_s).status, 401);
}

QTEST_MAIN(ConversationsTest)
#include "tst_conversations.moc"
