// Agents that act (protocol v2, sections 4-5), over real sockets: MCP servers configured through
// the API (admins only), the tool loop with a real MCP server (@modelcontextprotocol/server-everything,
// from tests/js) behind and the fake upstream streaming tool calls as OpenAI does: the exact chunk
// sequence, parallel calls, progress, approvals, the step limit, unknown tools, images, history on
// the next turn, and the replay of it all.
#include "apifixture.h"
#include "streamclient.h"

#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {

const QString node = QStringLiteral(AGENTDESK_NODE);
const QString scripted = QStringLiteral(AGENTDESK_SOURCE_DIR "/tests/mcp/scripted-server.mjs");

// The fake's model string for a model that calls these tools ("function|{json}") first.
QString callsModel(const QStringList &calls, const QString &extra = {})
{
    return u"fake:calls="_s + QString::fromLatin1(QUrl::toPercentEncoding(calls.join(u';'))) +
           (extra.isEmpty() ? QString() : u","_s + extra);
}

QStringList types(const QList<SseEventRecord> &events)
{
    QStringList out;
    for (const SseEventRecord &e : events)
        out.append(e.json.value("type"_L1).toString());
    return out;
}

QList<QJsonObject> ofType(const QList<SseEventRecord> &events, const QString &type)
{
    QList<QJsonObject> out;
    for (const SseEventRecord &e : events) {
        if (e.json.value("type"_L1).toString() == type)
            out.append(e.json);
    }
    return out;
}

QJsonObject meta(const QJsonObject &chunk)
{
    return chunk.value("metadata"_L1).toObject();
}

} // namespace

class ToolsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void serversApiIsForAdmins();
    void oneRoundChunkSequence();
    void parallelCallsWithIndexReuse();
    void longToolReportsProgress();
    void approval_data();
    void approval();
    void decisionsThatCannotBe();
    void cancelWhileWaiting();
    void stepLimit();
    void unknownToolAndBadArguments();
    void imageBecomesAnAttachment();
    void timeoutIsAnErrorResult();
    void historyAndReplay();

private:
    QString toolAgent(ApiFixture &f, const QString &model, const QString &approval,
                      const QJsonObject &extra = {});
    ApiTestClient::StreamResult chat(ApiFixture &f, const QString &agent, const QString &message,
                                     const QString &session = {});
};

void ToolsTest::initTestCase()
{
    QVERIFY2(QFile::exists(ApiFixture::everythingScript()),
             "server-everything is missing: run `npm ci --prefix tests/js` (scripts/test does)");
}

QString ToolsTest::toolAgent(ApiFixture &f, const QString &model, const QString &approval,
                             const QJsonObject &extra)
{
    QJsonObject body{{u"tools"_s, QJsonArray{u"everything/*"_s}}, {u"tool_approval"_s, approval}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        body.insert(it.key(), it.value());
    return f.createAgent(model, body);
}

ApiTestClient::StreamResult ToolsTest::chat(ApiFixture &f, const QString &agent, const QString &message,
                                            const QString &session)
{
    return f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent),
                             ApiFixture::chatBody(message, session), {}, 40000);
}

void ToolsTest::serversApiIsForAdmins()
{
    ApiFixture f;
    QVERIFY(f.start());
    auto admin = f.client();
    const QString member = f.newToken(u"acme"_s, u"bob"_s);
    auto bob = f.client(member);
    const QByteArray config =
        QJsonDocument(QJsonObject{{u"transport"_s, u"stdio"_s},
                                  {u"command"_s, node},
                                  {u"args"_s, QJsonArray{ApiFixture::everythingScript(), u"stdio"_s}},
                                  {u"env"_s, QJsonObject{{u"MCP_TEST_KEY"_s, u"sk-mcp-secret-4711"_s}}}})
            .toJson();
    // A member may look, not configure (a stdio server is a program run on the server's machine).
    const HttpResult refused = bob.request("PUT", u"/api/mcp/servers/everything"_s, config);
    QCOMPARE(refused.status, 403);
    QCOMPARE(refused.errorCode(), QByteArray("forbidden"));
    const QByteArray provider = "{\"base_url\":\"http:/"
                                "/127.0.0.1:1/v1\"}";
    QCOMPARE(bob.request("PUT", u"/api/providers/p"_s, provider).status, 403);

    const HttpResult put = admin.request("PUT", u"/api/mcp/servers/everything"_s, config, {}, 40000);
    QCOMPARE(put.status, 201);
    const QJsonObject server = put.json();
    QCOMPARE(server.value("status"_L1).toString(), u"connected"_s);
    QVERIFY(server.value("error"_L1).isNull());
    QCOMPARE(server.value("env"_L1).toObject().value("MCP_TEST_KEY"_L1).toString(), u"***"_s);
    QVERIFY(!put.body.contains("sk-mcp-secret-4711"));
    bool sum = false;
    for (const QJsonValue &tool : server.value("tools"_L1).toArray())
        sum = sum || (tool[u"name"_s] == u"get-sum"_s &&
                      tool[u"input_schema"_s].toObject().contains("properties"_L1));
    QVERIFY(sum);
    QCOMPARE(bob.get(u"/api/mcp/servers"_s).json().value("servers"_L1).toArray().size(), 1);
    QCOMPARE(bob.get(u"/api/mcp/servers/everything"_s).json().value("name"_L1).toString(), u"everything"_s);
    QCOMPARE(bob.request("DELETE", u"/api/mcp/servers/everything"_s).status, 403);

    // Sent back as "***", the secret stays; it is never in the database.
    QCOMPARE(admin
                 .request("PUT", u"/api/mcp/servers/everything"_s,
                          QJsonDocument(QJsonObject{{u"env"_s, QJsonObject{{u"MCP_TEST_KEY"_s, u"***"_s}}},
                                                    {u"timeout_ms"_s, 30000}})
                              .toJson(),
                          {}, 40000)
                 .status,
             200);
    QFile secrets(f.dir.filePath(u"secrets.json"_s));
    QVERIFY(secrets.open(QIODevice::ReadOnly));
    QVERIFY(secrets.readAll().contains("sk-mcp-secret-4711"));
    QDirIterator files(f.dir.path(), {u"agentdesk.db*"_s}, QDir::Files);
    while (files.hasNext()) {
        QFile file(files.next());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains("sk-mcp-secret-4711"), qPrintable(file.fileName()));
    }
    QCOMPARE(admin.get(u"/api/mcp/servers/everything"_s).json().value("timeout_ms"_L1).toInt(), 30000);

    // What is refused, and a server that cannot start.
    const QByteArrayList invalid{
        "{\"transport\":\"ftp\"}",
        "{\"transport\":\"stdio\"}",
        "{\"transport\":\"http\",\"url\":\"file:///x\"}",
        "{\"transport\":\"stdio\",\"command\":\"x\",\"env\":{\"A\":1}}",
    };
    for (const QByteArray &body : invalid) {
        const HttpResult bad = admin.request("PUT", u"/api/mcp/servers/other"_s, body);
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.errorCode(), QByteArray("invalid_field"));
    }
    QCOMPARE(admin.request("PUT", u"/api/mcp/servers/bad%20name"_s, R"({"transport":"stdio","command":"x"})")
                 .status,
             400);
    const HttpResult broken =
        admin.request("PUT", u"/api/mcp/servers/broken"_s,
                      R"({"transport":"stdio","command":"/nonexistent/mcp-server"})", {}, 40000);
    QCOMPARE(broken.status, 201);
    QCOMPARE(broken.json().value("status"_L1).toString(), u"error"_s);
    QVERIFY(broken.json().value("error"_L1).toString().contains(u"Cannot start"_s));

    QCOMPARE(admin.request("DELETE", u"/api/mcp/servers/everything"_s).status, 204);
    QCOMPARE(admin.get(u"/api/mcp/servers/everything"_s).errorCode(), QByteArray("mcp_server_not_found"));
    QVERIFY(!QFile::exists(f.dir.filePath(u"secrets.json"_s)) || [&] {
        QFile again(f.dir.filePath(u"secrets.json"_s));
        return again.open(QIODevice::ReadOnly) && !again.readAll().contains("sk-mcp-secret-4711");
    }());
}

void ToolsTest::oneRoundChunkSequence()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent =
        toolAgent(f, callsModel({u"everything__get-sum|{\"a\":2,\"b\":3}"_s}, u"argsplit=4"_s), u"auto"_s);
    const auto result = chat(f, agent, u"What is 2 + 3?"_s);
    QCOMPARE(result.events.last().json.value("type"_L1).toString(), u"done"_s);
    QStringList sequence = types(result.events);
    // content "" | tool_call_delta x4 ({"a":2,"b":3} in 4-character pieces) | tool_call running |
    // tool_result | progress thinking | the answer's content | done
    QCOMPARE(sequence.mid(0, 8),
             (QStringList{u"content"_s, u"tool_call_delta"_s, u"tool_call_delta"_s, u"tool_call_delta"_s,
                          u"tool_call_delta"_s, u"tool_call"_s, u"tool_result"_s, u"progress"_s}));
    sequence = sequence.mid(8);
    QCOMPARE(sequence.takeLast(), u"done"_s);
    QVERIFY(!sequence.isEmpty() && sequence.count(u"content"_s) == sequence.size());

    const QList<QJsonObject> deltas = ofType(result.events, u"tool_call_delta"_s);
    QString arguments;
    for (const QJsonObject &d : deltas) {
        arguments += d.value("content"_L1).toString();
        QCOMPARE(meta(d).value("tool_call_id"_L1), meta(deltas.first()).value("tool_call_id"_L1));
        QCOMPARE(meta(d).value("step"_L1).toInt(), 1);
        QCOMPARE(meta(d).value("index"_L1).toInt(), 0);
    }
    QCOMPARE(arguments, u"{\"a\":2,\"b\":3}"_s);
    QCOMPARE(meta(deltas.first()).value("name"_L1).toString(), u"everything__get-sum"_s);
    QVERIFY(!meta(deltas.at(1)).contains("name"_L1));
    const QJsonObject call = meta(ofType(result.events, u"tool_call"_s).first());
    QCOMPARE(call.value("status"_L1).toString(), u"running"_s);
    QCOMPARE(call.value("server"_L1).toString(), u"everything"_s);
    QCOMPARE(call.value("name"_L1).toString(), u"get-sum"_s);
    QCOMPARE(call.value("arguments"_L1).toObject(), (QJsonObject{{u"a"_s, 2}, {u"b"_s, 3}}));
    QCOMPARE(call.value("tool_call_id"_L1), meta(deltas.first()).value("tool_call_id"_L1));
    const QJsonObject resultChunk = ofType(result.events, u"tool_result"_s).first();
    QCOMPARE(resultChunk.value("content"_L1).toString(), u"The sum of 2 and 3 is 5."_s);
    QCOMPARE(meta(resultChunk).value("is_error"_L1).toBool(), false);
    QVERIFY(meta(resultChunk).value("duration_ms"_L1).toDouble() >= 0);
    QCOMPARE(meta(resultChunk).value("parts"_L1).toArray().at(0)[u"type"_s].toString(), u"text"_s);
    QCOMPARE(meta(ofType(result.events, u"progress"_s).first()).value("phase"_L1).toString(), u"thinking"_s);
    QString text;
    for (const QJsonObject &c : ofType(result.events, u"content"_s))
        text += c.value("content"_L1).toString();
    QCOMPARE(text, u"Results: The sum of 2 and 3 is 5."_s);
    const QJsonObject done = meta(result.events.last().json);
    QCOMPARE(done.value("steps"_L1).toInt(), 2);
    QCOMPARE(result.events.last().json.value("finish_reason"_L1).toString(), u"Stop"_s);
    // Every chunk keeps the reference's eight fields.
    for (const SseEventRecord &e : result.events)
        QCOMPARE(e.json.keys().size(), 8);

    // What the model was sent: the tools as functions, then the round.
    const QList<FakeRequest> requests = f.fake.requests();
    QCOMPARE(requests.size(), 2);
    const QJsonArray tools = requests.first().json.value("tools"_L1).toArray();
    QVERIFY(!tools.isEmpty());
    bool offered = false;
    for (const QJsonValue &tool : tools)
        offered = offered || tool[u"function"_s][u"name"_s] == u"everything__get-sum"_s;
    QVERIFY(offered);
    const QJsonArray second = requests.at(1).json.value("messages"_L1).toArray();
    const QJsonObject assistant = second.at(second.size() - 2).toObject();
    QCOMPARE(assistant.value("role"_L1).toString(), u"assistant"_s);
    QCOMPARE(assistant.value("tool_calls"_L1).toArray().at(0)[u"function"_s][u"arguments"_s].toString(),
             u"{\"a\":2,\"b\":3}"_s);
    QCOMPARE(second.last()[u"role"_s].toString(), u"tool"_s);
    QCOMPARE(second.last()[u"tool_call_id"_s], call.value("tool_call_id"_L1));
    QCOMPARE(second.last()[u"content"_s].toString(), u"The sum of 2 and 3 is 5."_s);
}

void ToolsTest::parallelCallsWithIndexReuse()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    // Both calls on index 0, told apart by their ids, as some OpenAI-compatible servers send them.
    const QString agent = toolAgent(
        f,
        callsModel({u"everything__get-sum|{\"a\":1,\"b\":1}"_s, u"everything__echo|{\"message\":\"二\"}"_s},
                   u"reuse=1,argsplit=5"_s),
        u"auto"_s);
    const auto result = chat(f, agent, u"two at once"_s);
    QCOMPARE(result.events.last().json.value("type"_L1).toString(), u"done"_s);
    const QList<QJsonObject> calls = ofType(result.events, u"tool_call"_s);
    QCOMPARE(calls.size(), 2);
    QVERIFY(meta(calls.at(0)).value("tool_call_id"_L1) != meta(calls.at(1)).value("tool_call_id"_L1));
    // Both ran before either answered: they run together.
    const QStringList sequence = types(result.events);
    QVERIFY(sequence.indexOf(u"tool_result"_s) > sequence.lastIndexOf(u"tool_call"_s));
    const QList<QJsonObject> results = ofType(result.events, u"tool_result"_s);
    QCOMPARE(results.size(), 2);
    QStringList texts{results.at(0).value("content"_L1).toString(),
                      results.at(1).value("content"_L1).toString()};
    texts.sort();
    QVERIFY(texts.join(u'|').contains(u"The sum of 1 and 1 is 2."_s));
    QVERIFY(texts.join(u'|').contains(u"Echo: 二"_s));
    const QJsonArray second = f.fake.requests().at(1).json.value("messages"_L1).toArray();
    QCOMPARE(second.at(second.size() - 3)[u"tool_calls"_s].toArray().size(), 2);
    QCOMPARE(second.at(second.size() - 1)[u"role"_s].toString(), u"tool"_s);
    QCOMPARE(second.at(second.size() - 2)[u"role"_s].toString(), u"tool"_s);
}

void ToolsTest::longToolReportsProgress()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(
        f, callsModel({u"everything__trigger-long-running-operation|{\"duration\":1,\"steps\":3}"_s}),
        u"auto"_s);
    const auto result = chat(f, agent, u"take your time"_s);
    const QString id =
        meta(ofType(result.events, u"tool_call"_s).first()).value("tool_call_id"_L1).toString();
    QList<double> seen;
    for (const QJsonObject &p : ofType(result.events, u"progress"_s)) {
        if (meta(p).value("phase"_L1).toString() != "tool"_L1)
            continue;
        QCOMPARE(meta(p).value("tool_call_id"_L1).toString(), id);
        QCOMPARE(meta(p).value("total"_L1).toDouble(), 3.0);
        seen.append(meta(p).value("progress"_L1).toDouble());
    }
    QCOMPARE(seen, (QList<double>{1, 2, 3}));
    const QStringList sequence = types(result.events);
    QVERIFY(sequence.indexOf(u"progress"_s) < sequence.indexOf(u"tool_result"_s));
    QVERIFY(meta(ofType(result.events, u"tool_result"_s).first()).value("duration_ms"_L1).toDouble() >= 900);
}

void ToolsTest::approval_data()
{
    QTest::addColumn<QString>("decision");
    QTest::newRow("allow") << u"allow"_s;
    QTest::newRow("deny") << u"deny"_s;
    QTest::newRow("always") << u"always"_s;
}

void ToolsTest::approval()
{
    QFETCH(QString, decision);
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(f, callsModel({u"everything__get-sum|{\"a\":4,\"b\":5}"_s}), u"ask"_s);
    AsyncStream stream(f.server->port(), chatStreamRequest(agent, f.token, u"may I?"_s));
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(!ofType(stream.record(), u"progress"_s).isEmpty(), 20000);
    const QJsonObject waiting = meta(ofType(stream.record(), u"tool_call"_s).first());
    QCOMPARE(waiting.value("status"_L1).toString(), u"awaiting_approval"_s);
    const QJsonObject asking = meta(ofType(stream.record(), u"progress"_s).first());
    QCOMPARE(asking.value("phase"_L1).toString(), u"awaiting_approval"_s);
    QCOMPARE(asking.value("tool_call_id"_L1), waiting.value("tool_call_id"_L1));
    QVERIFY(ofType(stream.record(), u"tool_result"_s).isEmpty()); // it waits
    const QString replyId = QString::fromLatin1(stream.record().ids.first().split(':').first());

    const HttpResult decided = f.client().request(
        "POST", u"/api/replies/%1/tool-calls/%2"_s.arg(replyId, waiting.value("tool_call_id"_L1).toString()),
        QJsonDocument(QJsonObject{{u"decision"_s, decision}}).toJson());
    QCOMPARE(decided.status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(stream.isFinished(), 20000);
    QCOMPARE(stream.record().terminal, u"done"_s);
    const QList<QJsonObject> calls = ofType(stream.record(), u"tool_call"_s);
    QCOMPARE(calls.size(), 2);
    QCOMPARE(meta(calls.last()).value("status"_L1).toString(),
             decision == "deny"_L1 ? u"denied"_s : u"running"_s);
    const QJsonObject result = ofType(stream.record(), u"tool_result"_s).first();
    if (decision == "deny"_L1) {
        QCOMPARE(result.value("content"_L1).toString(), u"The user declined to run this tool call."_s);
        QVERIFY(f.fake.requests()
                    .last()
                    .json.value("messages"_L1)
                    .toArray()
                    .last()[u"content"_s]
                    .toString()
                    .contains(u"declined"_s));
    } else {
        QCOMPARE(result.value("content"_L1).toString(), u"The sum of 4 and 5 is 9."_s);
    }
    QVERIFY(stream.record().content.startsWith(u"Results: "_s)); // the reply went on

    const QJsonObject stored = f.client().get(u"/api/agents/%1"_s.arg(agent)).json();
    if (decision == "always"_L1) {
        QCOMPARE(stored.value("allowed_tools"_L1).toArray(), QJsonArray{u"everything/get-sum"_s});
        // From then on it runs without asking.
        const auto again = chat(f, agent, u"and again"_s);
        QCOMPARE(meta(ofType(again.events, u"tool_call"_s).first()).value("status"_L1).toString(),
                 u"running"_s);
        QCOMPARE(ofType(again.events, u"tool_call"_s).size(), 1);
    } else {
        QVERIFY(stored.value("allowed_tools"_L1).toArray().isEmpty());
    }
    // The decision is kept with the reply.
    const QJsonArray rows = f.client()
                                .get(u"/api/sessions/%1/messages"_s.arg(stream.record().sessionId))
                                .json()[u"messages"_s]
                                .toArray();
    const QJsonObject part = rows.at(1)[u"parts"_s].toArray().at(0).toObject();
    QCOMPARE(part.value("type"_L1).toString(), u"tool_call"_s);
    QCOMPARE(part.value("decision"_L1).toString(), decision);
    QCOMPARE(part.value("status"_L1).toString(), decision == "deny"_L1 ? u"denied"_s : u"done"_s);
}

void ToolsTest::decisionsThatCannotBe()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    // Two rounds, each with a call that waits: a decision on the first once it ran finds it decided.
    const QString agent =
        toolAgent(f, callsModel({u"everything__get-sum|{\"a\":1,\"b\":2}"_s}, u"rounds=2"_s), u"ask"_s);
    AsyncStream stream(f.server->port(), chatStreamRequest(agent, f.token, u"wait"_s));
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(!ofType(stream.record(), u"progress"_s).isEmpty(), 20000);
    const QString replyId = QString::fromLatin1(stream.record().ids.first().split(':').first());
    const QString callId =
        meta(ofType(stream.record(), u"tool_call"_s).first()).value("tool_call_id"_L1).toString();
    const QString path = u"/api/replies/%1/tool-calls/%2"_s.arg(replyId, callId);
    auto client = f.client();
    QCOMPARE(client.request("POST", path, R"({"decision":"maybe"})").errorCode(),
             QByteArray("invalid_decision"));
    QCOMPARE(
        client.request("POST", u"/api/replies/%1/tool-calls/nope"_s.arg(replyId), R"({"decision":"allow"})")
            .status,
        404);
    QCOMPARE(
        f.client(f.newToken(u"acme"_s, u"bob"_s)).request("POST", path, R"({"decision":"allow"})").status,
        404);
    QCOMPARE(client.request("POST", path, R"({"decision":"allow"})").status, 200);
    QCOMPARE(client.request("POST", path, R"({"decision":"deny"})").errorCode(),
             QByteArray("tool_call_decided"));
    // The second round's call waits; the first has run, and is still decided, not unknown.
    QTRY_VERIFY_WITH_TIMEOUT(ofType(stream.record(), u"progress"_s).size() >= 3, 20000);
    const HttpResult late = client.request("POST", path, R"({"decision":"deny"})");
    QCOMPARE(late.status, 409);
    QCOMPARE(late.errorCode(), QByteArray("tool_call_decided"));
    const QList<QJsonObject> calls = ofType(stream.record(), u"tool_call"_s);
    const QString secondId = meta(calls.last()).value("tool_call_id"_L1).toString();
    QVERIFY(secondId != callId);
    QCOMPARE(client
                 .request("POST", u"/api/replies/%1/tool-calls/%2"_s.arg(replyId, secondId),
                          R"({"decision":"deny"})")
                 .status,
             200);
    QTRY_VERIFY_WITH_TIMEOUT(stream.isFinished(), 20000);
    QCOMPARE(client.request("POST", path, R"({"decision":"deny"})").status, 409); // the reply has ended
}

void ToolsTest::cancelWhileWaiting()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(f, callsModel({u"everything__get-sum|{\"a\":1,\"b\":2}"_s}), u"ask"_s);
    AsyncStream stream(f.server->port(), chatStreamRequest(agent, f.token, u"never mind"_s));
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(!ofType(stream.record(), u"progress"_s).isEmpty(), 20000);
    const QString replyId = QString::fromLatin1(stream.record().ids.first().split(':').first());
    QCOMPARE(f.client()
                 .request("POST", u"/api/replies/%1/cancel"_s.arg(replyId), "{}")
                 .json()
                 .value("cancelled"_L1),
             QJsonValue(true));
    QTRY_VERIFY(stream.isFinished());
    QCOMPARE(stream.record().finishReason, u"Cancelled"_s);
    const QJsonArray rows = f.client()
                                .get(u"/api/sessions/%1/messages"_s.arg(stream.record().sessionId))
                                .json()[u"messages"_s]
                                .toArray();
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"cancelled"_s);
    QCOMPARE(rows.at(1)[u"parts"_s].toArray().at(0)[u"status"_s].toString(), u"cancelled"_s);
    // The next turn sends the model the call and an answer for it: a call without one is refused.
    const auto next = chat(f, agent, u"go on"_s, stream.record().sessionId);
    QCOMPARE(next.events.last().json.value("type"_L1).toString(), u"done"_s);
    const QJsonArray sent = f.fake.requests().last().json.value("messages"_L1).toArray();
    bool answered = false;
    for (const QJsonValue &m : sent)
        answered = answered ||
                   (m[u"role"_s] == u"tool"_s && m[u"content"_s].toString().contains(u"did not finish"_s));
    QVERIFY(answered);
}

void ToolsTest::stepLimit()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent =
        toolAgent(f, callsModel({u"everything__get-sum|{\"a\":1,\"b\":1}"_s}, u"rounds=5"_s), u"auto"_s,
                  {{u"max_steps"_s, 2}});
    const auto result = chat(f, agent, u"keep going"_s);
    QCOMPARE(result.events.last().json.value("finish_reason"_L1).toString(), u"ToolCalls"_s);
    QCOMPARE(meta(result.events.last().json).value("steps"_L1).toInt(), 2);
    QCOMPARE(ofType(result.events, u"tool_result"_s).size(), 2);
    QCOMPARE(f.fake.requests().size(), 2);
    QCOMPARE(f.client().post(u"/api/agents"_s, {{u"name"_s, u"x"_s}, {u"max_steps"_s, 0}}).status, 400);
}

void ToolsTest::unknownToolAndBadArguments()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(
        f, callsModel({u"everything__no-such-tool|{}"_s, u"everything__get-sum|not json"_s}), u"auto"_s);
    const auto result = chat(f, agent, u"try these"_s);
    QCOMPARE(result.events.last().json.value("type"_L1).toString(), u"done"_s);
    QCOMPARE(result.events.last().json.value("finish_reason"_L1).toString(), u"Stop"_s);
    const QList<QJsonObject> results = ofType(result.events, u"tool_result"_s);
    QCOMPARE(results.size(), 2);
    for (const QJsonObject &r : results)
        QVERIFY(meta(r).value("is_error"_L1).toBool());
    QVERIFY(results.at(0).value("content"_L1).toString().contains(u"no tool named"_s));
    QVERIFY2(results.at(1).value("content"_L1).toString().contains(u"not a JSON object"_s),
             qPrintable(results.at(1).value("content"_L1).toString()));
    // The model saw both errors and answered.
    QVERIFY(f.fake.requests()
                .last()
                .json.value("messages"_L1)
                .toArray()
                .last()[u"content"_s]
                .toString()
                .startsWith(u"Error: "_s));
}

void ToolsTest::imageBecomesAnAttachment()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(f, callsModel({u"everything__get-tiny-image|{}"_s}), u"auto"_s);
    const auto result = chat(f, agent, u"show me"_s);
    QVERIFY(!result.raw.contains("iVBOR")); // never base64 in the stream
    const QList<QJsonObject> attachments = ofType(result.events, u"attachment"_s);
    QCOMPARE(attachments.size(), 1);
    const QJsonObject a = meta(attachments.first());
    QCOMPARE(a.value("media_type"_L1).toString(), u"image/png"_s);
    QVERIFY(a.value("size"_L1).toInt() > 100);
    const QString url = a.value("url"_L1).toString();
    QCOMPARE(url, u"/api/files/"_s + a.value("attachment_id"_L1).toString());
    const QStringList sequence = types(result.events);
    QVERIFY(sequence.indexOf(u"attachment"_s) < sequence.indexOf(u"tool_result"_s));
    const QJsonArray parts =
        meta(ofType(result.events, u"tool_result"_s).first()).value("parts"_L1).toArray();
    bool image = false;
    for (const QJsonValue &p : parts) {
        if (p[u"type"_s] == u"image"_s) {
            image = true;
            QCOMPARE(p[u"attachment_id"_s], a.value("attachment_id"_L1));
            QVERIFY(!p.toObject().contains("data"_L1));
        }
    }
    QVERIFY(image);
    const HttpResult file = f.client().get(url);
    QCOMPARE(file.status, 200);
    QCOMPARE(file.headers.value("content-type"), QByteArray("image/png"));
    QVERIFY(file.body.startsWith("\x89PNG"));
    QCOMPARE(file.body.size(), a.value("size"_L1).toInt());
    QCOMPARE(f.client(f.newToken(u"acme"_s, u"bob"_s)).get(url).status, 404);
    QCOMPARE(f.client(f.newToken(u"globex"_s, u"eve"_s)).get(url).status, 404);
    // The session goes, its file with it.
    QCOMPARE(f.client()
                 .request("DELETE",
                          u"/api/sessions/%1"_s.arg(result.events.last().json[u"session_id"_s].toString()))
                 .status,
             204);
    QCOMPARE(f.client().get(url).status, 404);
}

void ToolsTest::timeoutIsAnErrorResult()
{
    ApiFixture f;
    QVERIFY(f.start());
    QCOMPARE(f.client()
                 .request("PUT", u"/api/mcp/servers/everything"_s,
                          QJsonDocument(QJsonObject{{u"transport"_s, u"stdio"_s},
                                                    {u"command"_s, node},
                                                    {u"args"_s, QJsonArray{scripted}},
                                                    {u"timeout_ms"_s, 1500}})
                              .toJson(),
                          {}, 40000)
                 .json()
                 .value("status"_L1)
                 .toString(),
             u"connected"_s);
    const QString agent = toolAgent(f, callsModel({u"everything__slow|{}"_s}), u"auto"_s);
    const auto result = chat(f, agent, u"slowly"_s);
    QCOMPARE(result.events.last().json.value("type"_L1).toString(), u"done"_s);
    const QJsonObject r = ofType(result.events, u"tool_result"_s).first();
    QVERIFY(meta(r).value("is_error"_L1).toBool());
    QVERIFY2(r.value("content"_L1).toString().contains(u"did not answer within 1 s"_s),
             qPrintable(r.value("content"_L1).toString()));
}

void ToolsTest::historyAndReplay()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(f, callsModel({u"everything__echo|{\"message\":\"回声\"}"_s}), u"auto"_s);
    AsyncStream live(f.server->port(), chatStreamRequest(agent, f.token, u"echo it"_s));
    live.start();
    QTRY_VERIFY(!live.record().ids.isEmpty());
    const QString replyId = QString::fromLatin1(live.record().ids.first().split(':').first());
    // A second window attached while it runs, and a client that asks after it ended: the same
    // events, tools included, from memory and from what is stored.
    AsyncStream follower(
        f.server->port(),
        ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, f.token.toUtf8(), {}));
    follower.start();
    QTRY_VERIFY_WITH_TIMEOUT(live.isFinished() && follower.isFinished(), 20000);
    QCOMPARE(follower.record().raw, live.record().raw);
    AsyncStream later(
        f.server->port(),
        ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, f.token.toUtf8(), {}));
    later.start();
    QTRY_VERIFY(later.isFinished());
    QCOMPARE(later.record().raw, live.record().raw);
    QVERIFY(ofType(later.record(), u"tool_result"_s).size() == 1);

    // The next turn sends the model the conversation with its tool round.
    const auto next = chat(f, agent, u"and now?"_s, live.record().sessionId);
    QCOMPARE(next.events.last().json.value("type"_L1).toString(), u"done"_s);
    const QJsonArray sent = f.fake.requests().last().json.value("messages"_L1).toArray();
    QStringList roles;
    for (const QJsonValue &m : sent)
        roles.append(m[u"role"_s].toString() +
                     (m.toObject().contains("tool_calls"_L1) ? u"+tool_calls"_s : QString()));
    QCOMPARE(roles, (QStringList{u"system"_s, u"assistant"_s, u"user"_s, u"assistant+tool_calls"_s, u"tool"_s,
                                 u"assistant"_s, u"user"_s}));
    QCOMPARE(sent.at(4)[u"content"_s].toString(), u"Echo: 回声"_s);
    QCOMPARE(sent.at(5)[u"content"_s].toString(), u"Results: Echo: 回声"_s);
}

QTEST_GUILESS_MAIN(ToolsTest)
#include "tst_tools.moc"
