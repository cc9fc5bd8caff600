// The SSE contract of POST/GET /api/agents/{id}/chat/stream and the whole-reply route, over real
// sockets against a real server and the fake upstream.
#include "apifixture.h"
#include "chat/streamchunk.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;

class ChatStreamTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void contentChunksThenDone();
    void multiTurnHistoryAndPersistence();
    void chineseSplitInsideCharacters();
    void eventSourceGet();
    void keepAliveComments();
    void wholeReplyRoute();
    void wholeReplyUpstreamErrors();
    void sessionBusy();

private:
    static void verifyEightFields(const QJsonObject &chunk);
};

void ChatStreamTest::verifyEightFields(const QJsonObject &chunk)
{
    const QStringList expected{u"type"_s,     u"content"_s,  u"session_id"_s,    u"message_id"_s,
                               u"reply_id"_s, u"metadata"_s, u"finish_reason"_s, u"error"_s};
    QCOMPARE(chunk.keys().size(), expected.size());
    for (const QString &key : expected)
        QVERIFY2(chunk.contains(key), qPrintable(key));
}

void ChatStreamTest::contentChunksThenDone()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=4,text=Hello%20brave%20new%20world"_s);
    QVERIFY(!agentId.isEmpty());
    auto client = f.client();
    const auto result =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId), ApiFixture::chatBody(u"Hi"_s));

    QCOMPARE(result.head.status, 200);
    QCOMPARE(result.head.headers.value("content-type"), "text/event-stream; charset=utf-8");
    QCOMPARE(result.head.headers.value("cache-control"), "no-cache");
    QCOMPARE(result.head.headers.value("x-accel-buffering"), "no");
    QVERIFY(result.closedByServer);
    // Chunked, ending with the last chunk: a client can tell this end from a cut connection.
    QCOMPARE(result.head.headers.value("transfer-encoding"), "chunked");
    QVERIFY(result.lastChunk);
    QVERIFY(result.events.size() >= 3);
    QCOMPARE(result.emptyBlocks, 0); // nothing a client would deliver as an empty message

    const QJsonObject last = result.events.last().json;
    const QString replyId = last.value(u"reply_id"_s).toString();
    // Protocol v2: `retry` before the first event, and every event numbered <reply_id>:1, 2, 3 …
    QVERIFY(result.events.first().raw.startsWith("retry: 3000\nid: "));
    QCOMPARE(result.events.first().retry, 3000);
    for (qsizetype i = 0; i < result.events.size(); ++i) {
        QCOMPARE(result.events.at(i).id, (replyId + u':' + QString::number(i + 1)).toLatin1());
        QVERIFY(result.events.at(i).raw.contains("\ndata: {"));
        QVERIFY(i == 0 || result.events.at(i).retry == -1);
    }
    // The first event opens the reply before the model's first token: content "" (not null).
    QVERIFY(result.events.first().json.value(u"content"_s).isString());
    QCOMPARE(result.events.first().json.value(u"content"_s).toString(), QString());
    QString text;
    QString sessionId;
    QString messageId;
    for (qsizetype i = 0; i + 1 < result.events.size(); ++i) {
        const SseEventRecord &event = result.events.at(i);
        const QJsonObject chunk = event.json;
        verifyEightFields(chunk);
        QCOMPARE(chunk.value(u"type"_s).toString(), u"content"_s);
        QVERIFY(chunk.value(u"reply_id"_s).isNull());
        QVERIFY(chunk.value(u"metadata"_s).isNull());
        QVERIFY(chunk.value(u"finish_reason"_s).isNull());
        QVERIFY(chunk.value(u"error"_s).isNull());
        if (i == 0) {
            sessionId = chunk.value(u"session_id"_s).toString();
            messageId = chunk.value(u"message_id"_s).toString();
        }
        QCOMPARE(chunk.value(u"session_id"_s).toString(), sessionId);
        QCOMPARE(chunk.value(u"message_id"_s).toString(), messageId);
        // Byte for byte what StreamChunk writes (the stream builds content chunks its own faster way).
        StreamChunk reference;
        reference.content = chunk.value(u"content"_s).toString();
        reference.sessionId = sessionId;
        reference.messageId = messageId;
        QCOMPARE(event.data, reference.toJson());
        text += chunk.value(u"content"_s).toString();
    }
    QCOMPARE(text, u"Hello brave new world"_s);
    QCOMPARE(sessionId.size(), 36);
    QCOMPARE(messageId.size(), 36);

    verifyEightFields(last);
    QCOMPARE(last.value(u"type"_s).toString(), u"done"_s);
    QVERIFY(last.value(u"content"_s).isNull());
    QCOMPARE(last.value(u"session_id"_s).toString(), sessionId);
    QCOMPARE(last.value(u"message_id"_s).toString(), messageId);
    QCOMPARE(last.value(u"reply_id"_s).toString().size(), 36);
    QCOMPARE(last.value(u"finish_reason"_s).toString(), u"Stop"_s);
    QVERIFY(last.value(u"error"_s).isNull());
    const QJsonObject metadata = last.value(u"metadata"_s).toObject();
    QCOMPARE(metadata.keys(), (QStringList{u"finish_reason"_s, u"model"_s, u"steps"_s, u"tokens_estimated"_s,
                                           u"tokens_used"_s, u"usage"_s}));
    const QJsonObject usage = metadata.value(u"usage"_s).toObject();
    QCOMPARE(metadata.value(u"tokens_used"_s).toInt(),
             usage.value(u"prompt_tokens"_s).toInt() + usage.value(u"completion_tokens"_s).toInt());
    QCOMPARE(usage.value(u"completion_tokens"_s).toInt(), 4); // as the fake reports it
    QCOMPARE(metadata.value(u"tokens_estimated"_s).toBool(), false);
    QCOMPARE(metadata.value(u"steps"_s).toInt(), 1);
    QCOMPARE(metadata.value(u"finish_reason"_s).toString(), u"Stop"_s);
    QVERIFY(metadata.value(u"model"_s).toString().startsWith(u"fake"_s));
    // The fake reports usage; tokens_used is prompt + completion, so at least the 4 streamed tokens.
    QVERIFY(metadata.value(u"tokens_used"_s).toInt() >= 4);
}

void ChatStreamTest::multiTurnHistoryAndPersistence()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=3,text=First%20answer."_s);
    auto client = f.client();
    const QString path = u"/api/agents/%1/chat/stream"_s.arg(agentId);

    const auto first = client.stream("POST", path, ApiFixture::chatBody(u"第一个问题"_s));
    QCOMPARE(first.events.last().json.value(u"type"_s).toString(), u"done"_s);
    const QString sessionId = first.events.last().json.value(u"session_id"_s).toString();

    const auto second = client.stream("POST", path, ApiFixture::chatBody(u"Second question"_s, sessionId));
    QCOMPARE(second.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QCOMPARE(second.events.last().json.value(u"session_id"_s).toString(), sessionId);

    // What went upstream the second time: system prompt, greeting, turn one, then the new message.
    const QList<FakeRequest> requests = f.fake.requests();
    QCOMPARE(requests.size(), 2);
    const QJsonArray messages = requests.last().json.value(u"messages"_s).toArray();
    QCOMPARE(messages.size(), 5);
    const QList<QPair<QString, QString>> expected{{u"system"_s, u"You are helpful."_s},
                                                  {u"assistant"_s, u"你好！我是助手。"_s},
                                                  {u"user"_s, u"第一个问题"_s},
                                                  {u"assistant"_s, u"First answer."_s},
                                                  {u"user"_s, u"Second question"_s}};
    for (int i = 0; i < expected.size(); ++i) {
        QCOMPARE(messages.at(i)[u"role"_s].toString(), expected.at(i).first);
        QCOMPARE(messages.at(i)[u"content"_s].toString(), expected.at(i).second);
    }
    QVERIFY(requests.last().json.value(u"stream"_s).toBool());
    QCOMPARE(requests.last().header("authorization"), "Bearer sk-test-upstream-key");

    // Stored: four messages in order, ids matching the chunks.
    const HttpResult stored = client.get(u"/api/sessions/%1/messages"_s.arg(sessionId));
    QCOMPARE(stored.status, 200);
    const QJsonArray rows = stored.json().value(u"messages"_s).toArray();
    QCOMPARE(rows.size(), 4);
    QCOMPARE(rows.at(0)[u"id"_s].toString(), first.events.last().json.value(u"message_id"_s).toString());
    QCOMPARE(rows.at(1)[u"id"_s].toString(), first.events.last().json.value(u"reply_id"_s).toString());
    QCOMPARE(rows.at(1)[u"content"_s].toString(), u"First answer."_s);
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"complete"_s);
    QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Stop"_s);
    QCOMPARE(rows.at(3)[u"id"_s].toString(), second.events.last().json.value(u"reply_id"_s).toString());
    QCOMPARE(rows.at(2)[u"content"_s].toString(), u"Second question"_s);

    const HttpResult session = client.get(u"/api/sessions/%1"_s.arg(sessionId));
    QCOMPARE(session.json().value(u"title"_s).toString(), u"第一个问题"_s);
    QCOMPARE(session.json().value(u"message_count"_s).toInt(), 4);

    const HttpResult stats = client.get(u"/api/agents/%1/stats"_s.arg(agentId));
    QCOMPARE(stats.json().value(u"sessions"_s).toInt(), 1);
    QCOMPARE(stats.json().value(u"messages"_s).toInt(), 4);
    const qint64 tokens = first.events.last().json[u"metadata"_s][u"tokens_used"_s].toInteger() +
                          second.events.last().json[u"metadata"_s][u"tokens_used"_s].toInteger();
    QCOMPARE(stats.json().value(u"tokens_used"_s).toInteger(), tokens);
}

void ChatStreamTest::chineseSplitInsideCharacters()
{
    ApiFixture f;
    QVERIFY(f.start());
    // split=1 writes the upstream's bytes one at a time: every multi-byte character straddles reads.
    const QString reply = u"你好，世界！这是一个流式回答 🚀 with mixed text。"_s;
    const QString agentId =
        f.createAgent(u"fake:tokens=9,split=1,text="_s + QString::fromLatin1(QUrl::toPercentEncoding(reply)));
    auto client = f.client();
    const auto result = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                      ApiFixture::chatBody(u"说中文"_s));
    QString text;
    for (const auto &event : result.events) {
        QVERIFY2(!event.data.contains("\\ufffd") && !QString::fromUtf8(event.data).contains(QChar(0xfffd)),
                 event.data.constData());
        text += event.json.value(u"content"_s).toString();
    }
    QCOMPARE(result.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QCOMPARE(text, reply);
}

void ChatStreamTest::eventSourceGet()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=2,text=Hi%20there"_s);
    auto anonymous = f.client();
    anonymous.setToken({});
    const QString path = u"/api/agents/%1/chat/stream?message=%2"_s.arg(
        agentId, QString::fromLatin1(QUrl::toPercentEncoding(u"你好 there"_s)));

    const auto refused = anonymous.stream("GET", path, {}, {}, 5000, false);
    QCOMPARE(refused.head.status, 401);

    const auto result = anonymous.stream("GET", path + u"&access_token="_s + f.token, {}, {}, 10000, false);
    QCOMPARE(result.head.status, 200);
    QCOMPARE(result.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QCOMPARE(f.fake.requests().last().json[u"messages"_s].toArray().last()[u"content"_s].toString(),
             u"你好 there"_s);

    // The query token is only for the EventSource route.
    const HttpResult agents = anonymous.get(u"/api/agents?access_token="_s + f.token);
    QCOMPARE(agents.status, 401);
}

void ChatStreamTest::keepAliveComments()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) { o.keepAliveMs = 100; }));
    const QString agentId = f.createAgent(u"fake:tokens=2,first=700"_s);
    auto client = f.client();
    const auto result =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId), ApiFixture::chatBody(u"wait"_s));
    QVERIFY2(result.comments >= 4, qPrintable(QString::number(result.comments)));
    // One comment line each, never followed by a blank line of its own (an empty message to some
    // clients): keep-alives ride in front of the next event.
    QVERIFY(result.raw.contains(": keep-alive\n"));
    QVERIFY(!result.raw.contains(": keep-alive\n\n"));
    QCOMPARE(result.emptyBlocks, 0);
    // Keep-alives are comments, never data events: every data event is chunk JSON.
    for (const auto &event : result.events)
        QVERIFY(!event.json.value(u"type"_s).toString().isEmpty());
    QCOMPARE(result.events.last().json.value(u"type"_s).toString(), u"done"_s);
}

void ChatStreamTest::wholeReplyRoute()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=3,text=One%20two%20three"_s);
    auto client = f.client();
    const HttpResult result =
        client.request("POST", u"/api/agents/%1/chat"_s.arg(agentId), ApiFixture::chatBody(u"count"_s));
    QCOMPARE(result.status, 200);
    QVERIFY(result.headers.value("content-type").startsWith("application/json"));
    const QJsonObject body = result.json();
    QCOMPARE(body.value(u"content"_s).toString(), u"One two three"_s);
    QCOMPARE(body.value(u"finish_reason"_s).toString(), u"Stop"_s);
    QCOMPARE(body.value(u"session_id"_s).toString().size(), 36);
    QCOMPARE(body.value(u"message_id"_s).toString().size(), 36);
    QCOMPARE(body.value(u"reply_id"_s).toString().size(), 36);
    QCOMPARE(body[u"metadata"_s][u"finish_reason"_s].toString(), u"Stop"_s);
    QVERIFY(body[u"metadata"_s][u"tokens_used"_s].toInt() > 0);

    // Continue the same session through the whole-reply route.
    const HttpResult next =
        client.request("POST", u"/api/agents/%1/chat"_s.arg(agentId),
                       ApiFixture::chatBody(u"again"_s, body[u"session_id"_s].toString()));
    QCOMPARE(next.status, 200);
    QCOMPARE(next.json()[u"session_id"_s].toString(), body[u"session_id"_s].toString());
    const HttpResult stored =
        client.get(u"/api/sessions/%1/messages"_s.arg(body[u"session_id"_s].toString()));
    QCOMPARE(stored.json()[u"messages"_s].toArray().size(), 4);
}

void ChatStreamTest::wholeReplyUpstreamErrors()
{
    ApiFixture f;
    QVERIFY(f.start());
    auto client = f.client();
    struct Case
    {
        QString model;
        int status;
        QByteArray code;
    };
    const QList<Case> cases{{u"fake:status=500"_s, 502, "upstream_http_500"},
                            {u"fake:status=429"_s, 502, "upstream_http_429"},
                            {u"fake:tokens=5,cut=2"_s, 502, "upstream_disconnected"},
                            {u"fake:tokens=5,stall=2"_s, 504, "upstream_timeout"}};
    for (const Case &c : cases) {
        const QString agentId = f.createAgent(c.model);
        const HttpResult result =
            client.request("POST", u"/api/agents/%1/chat"_s.arg(agentId), ApiFixture::chatBody(u"x"_s));
        QCOMPARE(result.status, c.status);
        QCOMPARE(result.errorCode(), c.code);
        QVERIFY(!result.json()[u"error"_s][u"message"_s].toString().isEmpty());
        // The user's message is kept, and so is the failed reply with its reason.
        const QString sessionId = result.json()[u"session_id"_s].toString();
        const QJsonArray rows =
            client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray();
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows.at(0)[u"content"_s].toString(), u"x"_s);
        QCOMPARE(rows.at(1)[u"status"_s].toString(), u"error"_s);
        QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Error"_s);
    }
}

void ChatStreamTest::sessionBusy()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=20,delay=50"_s);
    auto client = f.client();
    const QString path = u"/api/agents/%1/chat/stream"_s.arg(agentId);
    QString sessionId;
    HttpResult busy;
    client.stream("POST", path, ApiFixture::chatBody(u"long"_s), [&](const SseEventRecord &event) {
        if (sessionId.isEmpty()) {
            sessionId = event.json.value(u"session_id"_s).toString();
            busy = f.client().request("POST", path, ApiFixture::chatBody(u"overlap"_s, sessionId));
        }
        return true;
    });
    QCOMPARE(busy.status, 409);
    QCOMPARE(busy.errorCode(), "session_busy");
    const QJsonArray rows =
        client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray();
    QCOMPARE(rows.size(), 2); // the refused message was not stored
}

QTEST_GUILESS_MAIN(ChatStreamTest)
#include "tst_chatstream.moc"
