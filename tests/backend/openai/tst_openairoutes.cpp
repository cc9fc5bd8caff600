// The OpenAI-compatible routes over real sockets: the agent's own tools (a real MCP server,
// @modelcontextprotocol/server-everything from tests/js) run on the server beside the caller's,
// which come back to the caller; an agent that asks before its tools run declines them here; the
// caller's settings reach each provider's protocol; errors keep OpenAI's shape everywhere on /v1.
#include "apifixture.h"
#include "llm/anthropicstream.h"
#include "llm/ollamastream.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {

QString callsModel(const QStringList &calls)
{
    return u"fake:calls="_s + QString::fromLatin1(QUrl::toPercentEncoding(calls.join(u';')));
}

const QJsonArray lookupTool{QJsonObject{
    {u"type"_s, u"function"_s},
    {u"function"_s,
     QJsonObject{
         {u"name"_s, u"lookup"_s},
         {u"parameters"_s,
          QJsonObject{{u"type"_s, u"object"_s},
                      {u"properties"_s, QJsonObject{{u"q"_s, QJsonObject{{u"type"_s, u"string"_s}}}}}}}}}}};

QByteArray completion(const QString &agent, const QString &words, const QJsonObject &extra = {})
{
    QJsonObject body{{u"model"_s, agent},
                     {u"messages"_s, QJsonArray{QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, words}}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        body.insert(it.key(), it.value());
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QStringList functionNames(const QJsonArray &tools)
{
    QStringList names;
    for (const QJsonValue &tool : tools)
        names.append(tool[u"function"_s][u"name"_s].toString());
    return names;
}
} // namespace

class OpenAiRoutesTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void agentToolsRunBesideTheCallers();
    void aMixedRoundHandsOverTheCallersOnly();
    void toolsThatAskAreDeclined();
    void settingsReachTheProvider();
    void settingsInTheOtherProtocols();
    void errorsInOpenAisShape();

private:
    QString toolAgent(ApiFixture &f, const QString &model, const QString &approval);
};

void OpenAiRoutesTest::initTestCase()
{
    QVERIFY2(QFile::exists(ApiFixture::everythingScript()),
             "server-everything is missing: run `npm ci --prefix tests/js` (scripts/test does)");
}

QString OpenAiRoutesTest::toolAgent(ApiFixture &f, const QString &model, const QString &approval)
{
    return f.createAgent(model, {{u"tools"_s, QJsonArray{u"everything/*"_s}},
                                 {u"tool_approval"_s, approval},
                                 {u"system_prompt"_s, u"You are the agent."_s}});
}

void OpenAiRoutesTest::agentToolsRunBesideTheCallers()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(f, callsModel({u"everything__get-sum|{\"a\":2,\"b\":3}"_s}), u"auto"_s);
    const HttpResult r =
        f.client().request("POST", u"/v1/chat/completions"_s,
                           completion(agent, u"2 + 3?"_s, {{u"tools"_s, lookupTool}}), {}, 40000);
    QCOMPARE(r.status, 200);
    const QJsonObject choice = r.json().value("choices"_L1).toArray().at(0).toObject();
    QCOMPARE(choice.value("finish_reason"_L1).toString(), u"stop"_s);
    QCOMPARE(choice[u"message"_s][u"content"_s].toString(), u"Results: The sum of 2 and 3 is 5."_s);
    QVERIFY(!choice[u"message"_s].toObject().contains("tool_calls"_L1));

    const QList<FakeRequest> requests = f.fake.requests();
    QCOMPARE(requests.size(), 2); // the server ran the agent's tool and asked again
    const QStringList offered = functionNames(requests.first().json.value("tools"_L1).toArray());
    QVERIFY(offered.contains(u"everything__get-sum"_s));
    QVERIFY(offered.contains(u"lookup"_s));
    const QJsonArray sent = requests.first().json.value("messages"_L1).toArray();
    QCOMPARE(sent.at(0)[u"role"_s].toString(), u"system"_s);
    QCOMPARE(sent.at(0)[u"content"_s].toString(), u"You are the agent."_s);
    QCOMPARE(sent.at(1)[u"content"_s].toString(), u"2 + 3?"_s);
}

void OpenAiRoutesTest::aMixedRoundHandsOverTheCallersOnly()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent =
        toolAgent(f,
                  callsModel({u"everything__echo|{\"message\":\"x\"}"_s, u"lookup|{\"q\":\"智能\"}"_s,
                              u"lookup|{\"q\":\"second\"}"_s}),
                  u"auto"_s);
    const auto stream =
        f.client().stream("POST", u"/v1/chat/completions"_s,
                          completion(agent, u"look it up"_s,
                                     {{u"tools"_s, lookupTool},
                                      {u"stream"_s, true},
                                      {u"stream_options"_s, QJsonObject{{u"include_usage"_s, true}}}}),
                          {}, 40000);
    QCOMPARE(stream.head.status, 200);
    QCOMPARE(stream.events.last().data, QByteArray("[DONE]"));
    // The caller's two calls, indexed 0 and 1 whatever the provider numbered them (1 and 2).
    QMap<int, QString> arguments;
    QMap<int, QString> ids;
    QString finish;
    QStringList names;
    for (const SseEventRecord &e : stream.events.mid(0, stream.events.size() - 2)) {
        QCOMPARE(e.json.value("object"_L1).toString(), u"chat.completion.chunk"_s);
        QVERIFY(e.json.contains("usage"_L1) && e.json.value("usage"_L1).isNull());
        const QJsonObject choice = e.json.value("choices"_L1).toArray().at(0).toObject();
        if (choice.value("finish_reason"_L1).isString())
            finish = choice.value("finish_reason"_L1).toString();
        for (const QJsonValue &call : choice[u"delta"_s][u"tool_calls"_s].toArray()) {
            const int index = call[u"index"_s].toInt();
            if (call[u"function"_s].toObject().contains("name"_L1)) {
                names.append(call[u"function"_s][u"name"_s].toString());
                ids.insert(index, call[u"id"_s].toString());
                QCOMPARE(call[u"type"_s].toString(), u"function"_s);
            }
            arguments[index] += call[u"function"_s][u"arguments"_s].toString();
        }
    }
    QCOMPARE(names, (QStringList{u"lookup"_s, u"lookup"_s}));
    QCOMPARE(ids.keys(), (QList<int>{0, 1}));
    QVERIFY(!ids.value(0).isEmpty() && !ids.value(1).isEmpty() && ids.value(0) != ids.value(1));
    QCOMPARE(arguments.value(0), u"{\"q\":\"智能\"}"_s);
    QCOMPARE(arguments.value(1), u"{\"q\":\"second\"}"_s);
    QCOMPARE(finish, u"tool_calls"_s);
    // The usage chunk has no choices.
    const QJsonObject usage = stream.events.at(stream.events.size() - 2).json;
    QCOMPARE(usage.value("choices"_L1).toArray().size(), 0);
    QVERIFY(usage[u"usage"_s][u"total_tokens"_s].toInt() > 0);
    QCOMPARE(f.fake.requests().size(), 1); // the agent's echo did not run: its result would be lost

    // The reply is kept with the caller's call in it.
    const QString session = QString::fromLatin1(stream.head.headers.value("x-agentdesk-session"));
    const QJsonArray messages =
        f.client().get(u"/api/sessions/%1/messages"_s.arg(session)).json().value("messages"_L1).toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(1)[u"finish_reason"_s].toString(), u"ToolCalls"_s);
}

void OpenAiRoutesTest::toolsThatAskAreDeclined()
{
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString agent = toolAgent(f, callsModel({u"everything__get-sum|{\"a\":1,\"b\":1}"_s}), u"ask"_s);
    const HttpResult r =
        f.client().request("POST", u"/v1/chat/completions"_s, completion(agent, u"1 + 1?"_s), {}, 40000);
    QCOMPARE(r.status, 200);
    const QString content = r.json()[u"choices"_s][0][u"message"_s][u"content"_s].toString();
    QVERIFY2(content.contains(u"asks the user before it runs"_s), qPrintable(content));
    QVERIFY(!content.contains(u"The sum"_s));
}

void OpenAiRoutesTest::settingsReachTheProvider()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agent =
        f.createAgent(u"fake:tokens=2"_s, {{u"system_prompt"_s, u"Agent prompt"_s}, {u"temperature"_s, 0.9}});
    QJsonObject body = QJsonDocument::fromJson(completion(agent, u"hi"_s)).object();
    body.insert(u"messages"_s, QJsonArray{QJsonObject{{u"role"_s, u"developer"_s}, {u"content"_s, u"Mine"_s}},
                                          QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, u"hi"_s}}});
    body.insert(u"temperature"_s, 0.1);
    body.insert(u"max_completion_tokens"_s, 33);
    body.insert(u"stop"_s, QJsonArray{u"END"_s});
    body.insert(u"seed"_s, 42);
    body.insert(u"tools"_s, lookupTool);
    body.insert(u"tool_choice"_s, u"required"_s);
    body.insert(u"parallel_tool_calls"_s, false);
    const HttpResult r =
        f.client().request("POST", u"/api/v1/chat/completions"_s, QJsonDocument(body).toJson());
    QCOMPARE(r.status, 200);
    const QJsonObject sent = f.fake.requests().first().json;
    QCOMPARE(sent.value("temperature"_L1).toDouble(), 0.1); // the caller's over the agent's
    QCOMPARE(sent.value("max_tokens"_L1).toInt(), 33);
    QCOMPARE(sent.value("stop"_L1).toArray(), QJsonArray{u"END"_s});
    QCOMPARE(sent.value("seed"_L1).toInt(), 42);
    QCOMPARE(sent.value("tool_choice"_L1).toString(), u"required"_s);
    QCOMPARE(sent.value("parallel_tool_calls"_L1).toBool(true), false);
    const QJsonArray messages = sent.value("messages"_L1).toArray();
    QCOMPARE(messages.size(), 3);
    QCOMPARE(messages.at(0)[u"content"_s].toString(), u"Agent prompt"_s);
    QCOMPARE(messages.at(1)[u"role"_s].toString(), u"system"_s);
    QCOMPARE(messages.at(1)[u"content"_s].toString(), u"Mine"_s);
}

void OpenAiRoutesTest::settingsInTheOtherProtocols()
{
    ChatRequest request;
    request.messages.append({u"user"_s, u"hi"_s});
    request.tools = lookupTool;
    request.stop = {u"END"_s};
    request.seed = 5;
    request.toolChoice =
        QJsonObject{{u"type"_s, u"function"_s}, {u"function"_s, QJsonObject{{u"name"_s, u"lookup"_s}}}};
    request.parallelToolCalls = false;
    ProviderConfig provider;
    provider.model = u"m"_s;
    const QJsonObject anthropic =
        QJsonDocument::fromJson(AnthropicStream::requestBody(provider, request)).object();
    QCOMPARE(anthropic.value("stop_sequences"_L1).toArray(), QJsonArray{u"END"_s});
    QCOMPARE(anthropic.value("tool_choice"_L1).toObject(),
             (QJsonObject{
                 {u"type"_s, u"tool"_s}, {u"name"_s, u"lookup"_s}, {u"disable_parallel_tool_use"_s, true}}));
    QVERIFY(!anthropic.contains("seed"_L1)); // Anthropic has none
    request.toolChoice = u"required"_s;
    QCOMPARE(
        QJsonDocument::fromJson(AnthropicStream::requestBody(provider, request))[u"tool_choice"_s][u"type"_s]
            .toString(),
        u"any"_s);

    const QJsonObject ollama = QJsonDocument::fromJson(OllamaStream::requestBody(provider, request)).object();
    QCOMPARE(ollama[u"options"_s][u"stop"_s].toArray(), QJsonArray{u"END"_s});
    QCOMPARE(ollama[u"options"_s][u"seed"_s].toInt(), 5);
    QVERIFY(ollama.contains("tools"_L1));
    request.toolChoice = u"none"_s; // Ollama has no tool_choice: no tools at all
    QVERIFY(
        !QJsonDocument::fromJson(OllamaStream::requestBody(provider, request)).object().contains("tools"_L1));
}

void OpenAiRoutesTest::errorsInOpenAisShape()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agent = f.createAgent(u"fake:tokens=2"_s);
    const auto expectError = [](const HttpResult &r, int status, const QString &code, const QString &type) {
        const QJsonObject error = r.json().value("error"_L1).toObject();
        if (r.status != status || error.value("code"_L1).toString() != code ||
            error.value("type"_L1).toString() != type || !error.contains("param"_L1) ||
            error.value("message"_L1).toString().isEmpty()) {
            qWarning() << r.status << r.body;
            return false;
        }
        return true;
    };
    ApiTestClient anonymous = f.client();
    anonymous.setToken({});
    QVERIFY(expectError(anonymous.request("GET", u"/v1/models"_s, {}, {}, 10000), 401, u"invalid_api_key"_s,
                        u"authentication_error"_s));
    QVERIFY(expectError(f.client().get(u"/v1/chat/completions"_s), 405, u"method_not_allowed"_s,
                        u"invalid_request_error"_s));
    QVERIFY(expectError(f.client().get(u"/api/v1/embeddings"_s), 404, u"unknown_url"_s,
                        u"invalid_request_error"_s));
    QVERIFY(expectError(f.client().get(u"/v1/models/nobody"_s), 404, u"model_not_found"_s,
                        u"invalid_request_error"_s));
    QVERIFY(expectError(f.client().request("POST", u"/v1/chat/completions"_s, completion(agent, u"x"_s),
                                           {{"X-AgentDesk-Session", "not-a-uuid"}}),
                        400, u"invalid_session"_s, u"invalid_request_error"_s));
    QVERIFY(expectError(f.client().request("POST", u"/v1/chat/completions"_s, completion(agent, u"x"_s),
                                           {{"X-AgentDesk-Session", "0b0c9c4e-27e1-4a53-9f6f-1b1e3f0b7c11"}}),
                        404, u"session_not_found"_s, u"invalid_request_error"_s));
    f.createAgent(u"fake:tokens=2"_s, {{u"name"_s, u"twin"_s}});
    f.createAgent(u"fake:tokens=2"_s, {{u"name"_s, u"twin"_s}});
    const HttpResult twins =
        f.client().request("POST", u"/v1/chat/completions"_s, completion(u"twin"_s, u"x"_s));
    QVERIFY(expectError(twins, 400, u"ambiguous_model"_s, u"invalid_request_error"_s));
    QCOMPARE(twins.json()[u"error"_s][u"param"_s].toString(), u"model"_s);
    // The rest of the API keeps its own shape.
    QCOMPARE(f.client().get(u"/api/nothing"_s).json().value("error"_L1).toObject().keys(),
             (QStringList{u"code"_s, u"message"_s}));
    // Another tenant's agent is no model of this one.
    ApiTestClient other = f.client(f.newToken(u"globex"_s, u"eve"_s));
    QVERIFY(expectError(other.request("POST", u"/v1/chat/completions"_s, completion(agent, u"x"_s)), 404,
                        u"model_not_found"_s, u"invalid_request_error"_s));
    QCOMPARE(other.get(u"/v1/models"_s).json().value("data"_L1).toArray().size(), 0);

    // A call whose start cannot be stored: OpenAI's shape, nothing of it left, the server goes on.
    const int sessionsBefore = f.client().get(u"/api/sessions"_s).json()[u"sessions"_s].toArray().size();
    QVERIFY(f.refuseMessages(u"refuse me"_s));
    for (const bool stream : {false, true}) {
        QVERIFY(expectError(f.client().request("POST", u"/v1/chat/completions"_s,
                                               completion(agent, u"refuse me"_s, {{u"stream"_s, stream}})),
                            500, u"storage_error"_s, u"server_error"_s));
    }
    QCOMPARE(f.client().get(u"/api/sessions"_s).json()[u"sessions"_s].toArray().size(), sessionsBefore);
    QCOMPARE(f.client().request("POST", u"/v1/chat/completions"_s, completion(agent, u"fine"_s)).status, 200);
}

QTEST_GUILESS_MAIN(OpenAiRoutesTest)
#include "tst_openairoutes.moc"
