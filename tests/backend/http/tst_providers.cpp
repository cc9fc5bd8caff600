// Each native protocol end to end over real sockets: an agent on an OpenAI-compatible, an
// Anthropic and an Ollama provider (the fake upstream speaking each dialect) × text, reasoning,
// an image in, a tool round through a real MCP server (@modelcontextprotocol/server-everything),
// cancel and an upstream error; then what only some providers need: the model lists, the vision
// check before a turn starts (Ollama asked through /api/show), per-session models.
#include "apifixture.h"
#include "testfiles.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {

QList<QJsonObject> ofType(const QList<SseEventRecord> &events, const QString &type)
{
    QList<QJsonObject> out;
    for (const SseEventRecord &e : events) {
        if (e.json.value("type"_L1).toString() == type)
            out.append(e.json);
    }
    return out;
}

QString joined(const QList<SseEventRecord> &events, const QString &type)
{
    QString text;
    for (const QJsonObject &e : ofType(events, type))
        text += e.value("content"_L1).toString();
    return text;
}

QJsonObject terminal(const ApiTestClient::StreamResult &stream)
{
    return stream.events.isEmpty() ? QJsonObject() : stream.events.last().json;
}
} // namespace

class ProvidersTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void text_data();
    void text();
    void reasoning_data();
    void reasoning();
    void imageIn_data();
    void imageIn();
    void toolRound_data();
    void toolRound();
    void cancel_data();
    void cancel();
    void upstreamError_data();
    void upstreamError();

    void modelLists();
    void noVisionRefusedBeforeAnythingStarts();
    void visionIsLearnedFromTheModel();
    void perSessionModel();
    void providerKindsAreChecked();
    void adminLimitsTheModels();

private:
    static void addKinds();
    // A provider of `kind` named after it, pointing at the fake; an agent on it.
    QString agentOn(ApiFixture &f, const QString &kind, const QString &model, const QJsonObject &extra = {});
    ApiTestClient::StreamResult chat(ApiFixture &f, const QString &agent, const QJsonObject &body);
    QString upload(ApiFixture &f, const QByteArray &bytes, const QString &type, const QString &name);
};

void ProvidersTest::initTestCase()
{
    QVERIFY2(QFile::exists(ApiFixture::everythingScript()),
             "server-everything is missing: run `npm ci --prefix tests/js` (scripts/test does)");
}

void ProvidersTest::addKinds()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("openai") << u"openai"_s;
    QTest::newRow("anthropic") << u"anthropic"_s;
    QTest::newRow("ollama") << u"ollama"_s;
}

QString ProvidersTest::agentOn(ApiFixture &f, const QString &kind, const QString &model,
                               const QJsonObject &extra)
{
    QUrl base = f.fake.baseUrl();
    if (kind != "openai"_L1)
        base.setPath(QString()); // https://api.anthropic.com and http://localhost:11434 are given bare
    const HttpResult put = f.client().request("PUT", u"/api/providers/"_s + kind,
                                              QJsonDocument(QJsonObject{{u"kind"_s, kind},
                                                                        {u"base_url"_s, base.toString()},
                                                                        {u"model"_s, u"fake"_s},
                                                                        {u"api_key"_s, u"sk-provider"_s},
                                                                        {u"stall_timeout_ms"_s, 2000}})
                                                  .toJson());
    if (put.status != 200)
        qWarning() << "provider" << kind << put.status << put.body;
    QJsonObject agent{{u"provider"_s, kind}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        agent.insert(it.key(), it.value());
    return f.createAgent(model, agent);
}

ApiTestClient::StreamResult ProvidersTest::chat(ApiFixture &f, const QString &agent, const QJsonObject &body)
{
    return f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent),
                             QJsonDocument(body).toJson());
}

QString ProvidersTest::upload(ApiFixture &f, const QByteArray &bytes, const QString &type,
                              const QString &name)
{
    const HttpResult r = f.client().request(
        "POST", u"/api/files"_s, bytes, {{"Content-Type", type.toUtf8()}, {"X-File-Name", name.toUtf8()}});
    if (r.status != 201)
        qWarning() << "upload" << r.status << r.body;
    return r.json().value("id"_L1).toString();
}

void ProvidersTest::text_data()
{
    addKinds();
}

void ProvidersTest::text()
{
    QFETCH(QString, kind);
    ApiFixture f;
    QVERIFY(f.start());
    const QString agent = agentOn(f, kind, u"fake:text=你好！Hello from %1.,tokens=5"_s.arg(kind));
    const auto stream = chat(f, agent, {{u"message"_s, u"Hi"_s}});
    QCOMPARE(stream.head.status, 200);
    QCOMPARE(joined(stream.events, u"content"_s), u"你好！Hello from %1."_s.arg(kind));
    const QJsonObject done = terminal(stream);
    QCOMPARE(done.value("type"_L1).toString(), u"done"_s);
    const QJsonObject usage = done.value("metadata"_L1).toObject().value("usage"_L1).toObject();
    QCOMPARE(usage.value("completion_tokens"_L1).toInt(), 5);
    QVERIFY(!done.value("metadata"_L1).toObject().value("tokens_estimated"_L1).toBool());
    // The system prompt went the provider's way: Anthropic's top-level `system`.
    const QJsonObject sent = f.fake.requests().last().json;
    if (kind == "anthropic"_L1)
        QCOMPARE(sent.value("system"_L1).toString().left(17), u"You are helpful.\n"_s);
    else
        QCOMPARE(sent.value("messages"_L1).toArray().first().toObject().value("role"_L1).toString(),
                 u"system"_s);
}

void ProvidersTest::reasoning_data()
{
    addKinds();
}

void ProvidersTest::reasoning()
{
    QFETCH(QString, kind);
    ApiFixture f;
    QVERIFY(f.start());
    const QString agent =
        agentOn(f, kind, u"fake:reasoning=先想：2+2 is 4.,rtokens=4,text=Four.,tokens=2,delay=5"_s,
                {{u"reasoning_effort"_s, u"low"_s}});
    const auto stream = chat(f, agent, {{u"message"_s, u"2+2?"_s}});
    QCOMPARE(stream.head.status, 200);
    QCOMPARE(joined(stream.events, u"reasoning"_s), u"先想：2+2 is 4."_s);
    QCOMPARE(joined(stream.events, u"content"_s), u"Four."_s);
    // All reasoning before the answer; a client that knows only content still gets all of it.
    int lastReasoning = -1, firstContent = -1;
    for (int i = 0; i < stream.events.size(); ++i) {
        const QString type = stream.events.at(i).json.value("type"_L1).toString();
        const QString content = stream.events.at(i).json.value("content"_L1).toString();
        if (type == "reasoning"_L1)
            lastReasoning = i;
        else if (type == "content"_L1 && !content.isEmpty() && firstContent < 0)
            firstContent = i;
        QCOMPARE(stream.events.at(i).json.keys().size(), 8); // the reference's eight fields on every chunk
    }
    QVERIFY(lastReasoning > 0 && lastReasoning < firstContent);
    const QJsonObject done = terminal(stream);
    const QJsonObject usage = done.value("metadata"_L1).toObject().value("usage"_L1).toObject();
    // Only OpenAI's usage counts reasoning apart.
    QCOMPARE(usage.contains("reasoning_tokens"_L1), kind == "openai"_L1);
    if (kind == "openai"_L1)
        QCOMPARE(usage.value("reasoning_tokens"_L1).toInt(), 4);
    if (kind == "anthropic"_L1) // extended thinking was asked for, with a budget
        QCOMPARE(
            f.fake.requests().last().json.value("thinking"_L1).toObject().value("budget_tokens"_L1).toInt(),
            1024);

    // Stored apart from the answer, and replayed exactly as it streamed.
    const QString session = done.value("session_id"_L1).toString();
    const QString reply = done.value("reply_id"_L1).toString();
    const QJsonObject stored = f.client()
                                   .get(u"/api/sessions/%1/messages"_s.arg(session))
                                   .json()
                                   .value("messages"_L1)
                                   .toArray()
                                   .last()
                                   .toObject();
    QCOMPARE(stored.value("content"_L1).toString(), u"Four."_s);
    QCOMPARE(stored.value("reasoning"_L1).toString(), u"先想：2+2 is 4."_s);
    const auto replay = f.client().stream("GET", u"/api/replies/%1/stream"_s.arg(reply), {}, {}, 10000, true,
                                          {{"Last-Event-ID", reply.toLatin1() + ":1"}});
    QCOMPARE(replay.events.size(), stream.events.size() - 1);
    for (int i = 0; i < replay.events.size(); ++i) {
        QByteArray raw = replay.events.at(i).raw;
        if (i == 0 && raw.startsWith("retry: 3000\n")) // each response's first event
            raw.remove(0, 12);
        QCOMPARE(raw, stream.events.at(i + 1).raw);
    }
    // The next turn does not send the reasoning back.
    const auto next = chat(f, agent, {{u"message"_s, u"And 3+3?"_s}, {u"session_id"_s, session}});
    QCOMPARE(terminal(next).value("type"_L1).toString(), u"done"_s);
    const QByteArray sent =
        QJsonDocument(f.fake.requests().last().json.value("messages"_L1).toArray()).toJson();
    QVERIFY(sent.contains("Four.") && !sent.contains("2+2 is 4"));
}

void ProvidersTest::imageIn_data()
{
    addKinds();
}

void ProvidersTest::imageIn()
{
    QFETCH(QString, kind);
    ApiFixture f;
    QVERIFY(f.start());
    f.fake.setModels({u"fake"_s, u"fake-vision"_s});
    // Ollama is asked whether the model sees (/api/show): "vision" in its name says yes.
    const QString agent = agentOn(f, kind, u"fake-vision"_s);
    const QByteArray png = TestFiles::image(40, 30, "png");
    const QString file = upload(f, png, u"image/png"_s, u"chart.png"_s);
    QVERIFY(!file.isEmpty());
    const auto stream =
        chat(f, agent, {{u"message"_s, u"What is this?"_s}, {u"attachments"_s, QJsonArray{file}}});
    QCOMPARE(stream.head.status, 200);
    QCOMPARE(joined(stream.events, u"content"_s), u"I see 1 image (PNG %1 bytes)."_s.arg(png.size()));
    // In the provider's own shape.
    const QJsonObject sent = f.fake.requests().last().json;
    const QJsonObject user = sent.value("messages"_L1).toArray().last().toObject();
    if (kind == "openai"_L1)
        QVERIFY(user.value("content"_L1)
                    .toArray()
                    .at(1)
                    .toObject()
                    .value("image_url"_L1)
                    .toObject()
                    .value("url"_L1)
                    .toString()
                    .startsWith("data:image/png;base64,iVBOR"_L1));
    else if (kind == "anthropic"_L1)
        QCOMPARE(user.value("content"_L1)
                     .toArray()
                     .first()
                     .toObject()
                     .value("source"_L1)
                     .toObject()
                     .value("media_type"_L1)
                     .toString(),
                 u"image/png"_s);
    else
        QCOMPARE(QByteArray::fromBase64(user.value("images"_L1).toArray().first().toString().toLatin1()),
                 png);
    // The message keeps its file, the file its session.
    const QString session = terminal(stream).value("session_id"_L1).toString();
    const QJsonObject stored = f.client()
                                   .get(u"/api/sessions/%1/messages"_s.arg(session))
                                   .json()
                                   .value("messages"_L1)
                                   .toArray()
                                   .at(0)
                                   .toObject();
    const QJsonObject attachment = stored.value("attachments"_L1).toArray().first().toObject();
    QCOMPARE(attachment.value("id"_L1).toString(), file);
    QCOMPARE(attachment.value("name"_L1).toString(), u"chart.png"_s);
    QCOMPARE(attachment.value("width"_L1).toInt(), 40);
    QCOMPARE(attachment.value("url"_L1).toString(), u"/api/files/"_s + file);
    // Regenerating shows the model the image again.
    const auto again =
        f.client().stream("POST", u"/api/messages/%1/regenerate"_s.arg(stored.value("id"_L1).toString()), {});
    QCOMPARE(joined(again.events, u"content"_s), u"I see 1 image (PNG %1 bytes)."_s.arg(png.size()));
}

void ProvidersTest::toolRound_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("field"); // the OpenAI-compatible server's reasoning field
    QTest::newRow("openai") << u"openai"_s << u"reasoning_content"_s;
    QTest::newRow("openai, reasoning") << u"openai"_s << u"reasoning"_s; // OpenRouter, vLLM
    QTest::newRow("anthropic") << u"anthropic"_s << QString();
    QTest::newRow("ollama") << u"ollama"_s << QString();
}

void ProvidersTest::toolRound()
{
    // With reasoning on: DeepSeek needs its reasoning_content back with the calls (echo=1 refuses
    // a request without it) and Anthropic its signed thinking block first; the fake checks both.
    QFETCH(QString, kind);
    QFETCH(QString, field);
    ApiFixture f;
    QVERIFY(f.start());
    QVERIFY(f.addEverything());
    const QString calls =
        QString::fromLatin1(QUrl::toPercentEncoding(u"everything__echo|{\"message\":\"你好\"}"_s));
    const QString agent = agentOn(f, kind,
                                  u"fake:calls=%1,reasoning=I should echo it.,echo=1%2"_s.arg(
                                      calls, field.isEmpty() ? QString() : u",rfield="_s + field),
                                  {{u"tools"_s, QJsonArray{u"everything/echo"_s}},
                                   {u"tool_approval"_s, u"auto"_s},
                                   {u"reasoning_effort"_s, u"low"_s}});
    const auto stream = chat(f, agent, {{u"message"_s, u"Echo 你好"_s}});
    QCOMPARE(stream.head.status, 200);
    const QJsonObject done = terminal(stream);
    QVERIFY2(done.value("type"_L1) == "done"_L1, QJsonDocument(done).toJson().constData());
    QCOMPARE(done.value("metadata"_L1).toObject().value("steps"_L1).toInt(), 2);
    const QList<QJsonObject> results = ofType(stream.events, u"tool_result"_s);
    QCOMPARE(results.size(), 1);
    QCOMPARE(results.first().value("content"_L1).toString(), u"Echo: 你好"_s);
    QVERIFY2(joined(stream.events, u"content"_s).contains(u"Results: Echo: 你好"_s),
             qPrintable(joined(stream.events, u"content"_s)));
    // Both rounds, a paragraph apart.
    QCOMPARE(joined(stream.events, u"reasoning"_s), u"I should echo it.\n\nI should echo it."_s);
    // The second round carried what the provider needs back.
    const QJsonObject second = f.fake.requests().last().json;
    const QJsonArray messages = second.value("messages"_L1).toArray();
    if (kind == "openai"_L1) {
        QCOMPARE(messages.at(messages.size() - 2).toObject().value(field).toString(), u"I should echo it."_s);
    } else if (kind == "anthropic"_L1) {
        const QJsonArray blocks = messages.at(messages.size() - 2).toObject().value("content"_L1).toArray();
        QCOMPARE(blocks.first().toObject().value("type"_L1).toString(), u"thinking"_s);
        QVERIFY(!blocks.first().toObject().value("signature"_L1).toString().isEmpty());
        QCOMPARE(messages.last()
                     .toObject()
                     .value("content"_L1)
                     .toArray()
                     .first()
                     .toObject()
                     .value("type"_L1)
                     .toString(),
                 u"tool_result"_s);
    } else {
        QCOMPARE(messages.last().toObject().value("role"_L1).toString(), u"tool"_s);
        QCOMPARE(messages.last().toObject().value("tool_name"_L1).toString(), u"everything__echo"_s);
        QCOMPARE(messages.at(messages.size() - 2).toObject().value("thinking"_L1).toString(),
                 u"I should echo it."_s);
    }
    // DeepSeek wants it in every later turn too: the next one carries the stored reasoning.
    const QString session = done.value("session_id"_L1).toString();
    // The API shows the reasoning as a part, without whom it goes back to.
    const QJsonArray stored = f.client()
                                  .get(u"/api/sessions/%1/messages"_s.arg(session))
                                  .json()
                                  .value("messages"_L1)
                                  .toArray()
                                  .last()
                                  .toObject()
                                  .value("parts"_L1)
                                  .toArray();
    QCOMPARE(stored.first().toObject(),
             (QJsonObject{{u"type"_s, u"reasoning"_s}, {u"text"_s, u"I should echo it."_s}}));
    const auto next = chat(f, agent, {{u"message"_s, u"Again"_s}, {u"session_id"_s, session}});
    QVERIFY2(terminal(next).value("type"_L1) == "done"_L1,
             QJsonDocument(terminal(next)).toJson().constData());
    // Another model in the same chat gets none of it: it may refuse a field or a signature not its own.
    const auto other = chat(
        f, agent,
        {{u"message"_s, u"Once more"_s}, {u"session_id"_s, session}, {u"model"_s, u"fake:text=Other"_s}});
    QVERIFY2(terminal(other).value("type"_L1) == "done"_L1,
             QJsonDocument(terminal(other)).toJson().constData());
    const QJsonArray sent = f.fake.requests().last().json.value("messages"_L1).toArray();
    const QByteArray text = QJsonDocument(sent).toJson(QJsonDocument::Compact);
    QVERIFY2(!text.contains("reasoning_content") && !text.contains("\"thinking\"") &&
                 !text.contains("signature"),
             text.constData());
    QVERIFY(text.contains("Echo: 你好")); // the tool round itself stays
}

void ProvidersTest::cancel_data()
{
    addKinds();
}

void ProvidersTest::cancel()
{
    QFETCH(QString, kind);
    ApiFixture f;
    QVERIFY(f.start());
    const QString agent = agentOn(f, kind, u"fake:tokens=500,delay=20"_s);
    QString reply;
    int contents = 0;
    const auto stream =
        f.client().stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent),
                          ApiFixture::chatBody(u"Long story please"_s), [&](const SseEventRecord &e) {
                              if (e.json.value("type"_L1) == "content"_L1 && ++contents == 3) {
                                  reply = QString::fromLatin1(e.id.left(e.id.indexOf(':')));
                                  ApiTestClient canceller = f.client();
                                  const HttpResult r =
                                      canceller.request("POST", u"/api/replies/%1/cancel"_s.arg(reply));
                                  if (r.json().value("cancelled"_L1) != QJsonValue(true))
                                      qWarning() << "cancel" << r.status << r.body;
                              }
                              return true;
                          });
    const QJsonObject done = terminal(stream);
    QCOMPARE(done.value("type"_L1).toString(), u"done"_s);
    QCOMPARE(done.value("finish_reason"_L1).toString(), u"Cancelled"_s);
    QTRY_COMPARE(f.fake.clientAborts(), 1); // the upstream request was dropped, not read to its end
    QVERIFY(f.fake.completedStreams() == 0);
}

void ProvidersTest::upstreamError_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("says");
    QTest::newRow("openai 429") << u"openai"_s << 429 << u"Rate limit reached"_s;
    QTest::newRow("anthropic 529") << u"anthropic"_s << 529 << u"Overloaded"_s;
    QTest::newRow("ollama 404") << u"ollama"_s << 404 << u"try pulling it first"_s;
}

void ProvidersTest::upstreamError()
{
    QFETCH(QString, kind);
    QFETCH(int, status);
    QFETCH(QString, says);
    ApiFixture f;
    QVERIFY(f.start());
    const QString agent = agentOn(f, kind, u"fake:status=%1"_s.arg(status));
    const auto stream = chat(f, agent, {{u"message"_s, u"Hi"_s}});
    QCOMPARE(stream.head.status, 200);
    const QJsonObject error = terminal(stream);
    QCOMPARE(error.value("type"_L1).toString(), u"error"_s);
    const QString text = error.value("error"_L1).toString();
    QVERIFY2(text.contains(u"\u201c%1\u201d"_s.arg(kind)) && text.contains(QString::number(status)) &&
                 text.contains(says),
             qPrintable(text));
    // The user's message is kept, and the failed reply with it.
    const QString session = error.value("session_id"_L1).toString();
    const QJsonArray messages =
        f.client().get(u"/api/sessions/%1/messages"_s.arg(session)).json().value("messages"_L1).toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(1).toObject().value("status"_L1).toString(), u"error"_s);
}

void ProvidersTest::modelLists()
{
    ApiFixture f;
    QVERIFY(f.start());
    f.fake.setModels({u"fake"_s, u"fake-vision"_s, u"big-model"_s});
    for (const QString kind : {u"openai"_s, u"anthropic"_s, u"ollama"_s}) {
        agentOn(f, kind, u"fake"_s);
        const HttpResult r = f.client().get(u"/api/providers/%1/models"_s.arg(kind));
        QCOMPARE(r.status, 200);
        const QJsonArray models = r.json().value("models"_L1).toArray();
        QCOMPARE(models.size(), 3);
        QCOMPARE(models.first().toObject().value("id"_L1).toString(), u"big-model"_s);
        QCOMPARE(r.json().value("kind"_L1).toString(), kind);
        QCOMPARE(r.json().value("default_model"_L1).toString(), u"fake"_s);
        QVERIFY(!r.json().value("cached"_L1).toBool());
        QVERIFY(f.client().get(u"/api/providers/%1/models"_s.arg(kind)).json().value("cached"_L1).toBool());
    }
    // The environment's provider and the demo list theirs too; an unknown one is 404.
    QCOMPARE(f.client().get(u"/api/providers/env/models"_s).status, 200);
    QCOMPARE(f.client()
                 .get(u"/api/providers/demo/models"_s)
                 .json()
                 .value("models"_L1)
                 .toArray()
                 .first()
                 .toObject()
                 .value("id"_L1)
                 .toString(),
             u"demo"_s);
    QCOMPARE(f.client().get(u"/api/providers/nope/models"_s).errorCode(), QByteArray("provider_not_found"));
    // A refused key: 502, saying so.
    f.fake.setRequiredApiKey(u"another"_s);
    QCOMPARE(f.client().request("PUT", u"/api/providers/ollama"_s, "{\"api_key\":\"sk-wrong\"}").status, 200);
    const HttpResult refused = f.client().get(u"/api/providers/ollama/models"_s);
    QCOMPARE(refused.status, 502);
    QVERIFY2(
        refused.json().value("error"_L1).toObject().value("message"_L1).toString().contains("API key"_L1),
        refused.body.constData());
}

void ProvidersTest::noVisionRefusedBeforeAnythingStarts()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString png = upload(f, TestFiles::image(10, 10), u"image/png"_s, u"a.png"_s);
    // Ollama says the model sees nothing: 400, and no chat request went upstream.
    const QString ollama = agentOn(f, u"ollama"_s, u"fake"_s);
    f.fake.clearRequests();
    auto stream = chat(f, ollama, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(stream.head.status, 400);
    QCOMPARE(stream.head.errorCode(), QByteArray("model_no_vision"));
    QCOMPARE(f.fake.requests().size(), 1);
    QCOMPARE(f.fake.requests().first().path, QByteArray("/api/show"));
    // Asked once: the second time needs no question.
    stream = chat(f, ollama, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(stream.head.errorCode(), QByteArray("model_no_vision"));
    QCOMPARE(f.fake.requests().size(), 1);
    // A model known to be blind, a provider set so, and the demo.
    const QString deepseek = agentOn(f, u"openai"_s, u"deepseek-chat"_s);
    QCOMPARE(
        chat(f, deepseek, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}}).head.errorCode(),
        QByteArray("model_no_vision"));
    QCOMPARE(f.client()
                 .request("PUT", u"/api/providers/anthropic"_s,
                          "{\"kind\":\"anthropic\",\"base_url\":\"http://127.0.0.1:9\",\"vision\":\"no\"}")
                 .status,
             200);
    const QString claude = f.createAgent(u"claude-sonnet-4"_s, {{u"provider"_s, u"anthropic"_s}});
    QCOMPARE(
        chat(f, claude, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}}).head.errorCode(),
        QByteArray("model_no_vision"));
    const QString demo = f.createAgent(u"demo"_s, {{u"provider"_s, u"demo"_s}});
    const auto refused = chat(f, demo, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(refused.head.errorCode(), QByteArray("model_no_vision"));
    QVERIFY(
        refused.head.json().value("error"_L1).toObject().value("message"_L1).toString().contains("demo"_L1));
    // Nothing was stored by any of them.
    QVERIFY(f.client().get(u"/api/sessions"_s).json().value("sessions"_L1).toArray().isEmpty());
    // A document needs no vision.
    const QString notes = upload(f, "plain notes", u"text/plain"_s, u"notes.txt"_s);
    stream = chat(f, deepseek, {{u"message"_s, u"Read"_s}, {u"attachments"_s, QJsonArray{notes}}});
    QCOMPARE(stream.head.status, 200);
}

void ProvidersTest::visionIsLearnedFromTheModel()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString png = upload(f, TestFiles::image(10, 10), u"image/png"_s, u"a.png"_s);
    // A model of an OpenAI-compatible server nobody knows is tried, refuses the image, and is
    // known not to see from then on.
    const QString blind = agentOn(f, u"openai"_s, u"fake:blind=1"_s);
    auto stream = chat(f, blind, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(stream.head.status, 200);
    QCOMPARE(terminal(stream).value("type"_L1).toString(), u"error"_s);
    const QString session = f.client()
                                .get(u"/api/sessions"_s)
                                .json()
                                .value("sessions"_L1)
                                .toArray()
                                .first()
                                .toObject()
                                .value("id"_L1)
                                .toString();
    f.fake.clearRequests();
    stream = chat(f, blind, {{u"message"_s, u"Look again"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(stream.head.errorCode(), QByteArray("model_no_vision"));
    QVERIFY(f.fake.requests().isEmpty());
    // The chat goes on in words: the image in it is named, not sent (the fake refuses any).
    stream = chat(f, blind, {{u"message"_s, u"Words then"_s}, {u"session_id"_s, session}});
    QVERIFY2(terminal(stream).value("type"_L1) == "done"_L1,
             QJsonDocument(terminal(stream)).toJson().constData());
    const QByteArray sent = QJsonDocument(f.fake.requests().last().json).toJson(QJsonDocument::Compact);
    QVERIFY2(sent.contains("[Image a.png not shown: this model cannot see images.]"), sent.constData());
    QVERIFY(!sent.contains("image_url"));

    // One that took an image is known to see: later turns show it again.
    const QString sees = f.createAgent(u"fake:text=Seen"_s, {{u"provider"_s, u"openai"_s}});
    stream = chat(f, sees, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(terminal(stream).value("type"_L1).toString(), u"done"_s);
    const QString seen = terminal(stream).value("session_id"_L1).toString();
    stream = chat(f, sees, {{u"message"_s, u"And now?"_s}, {u"session_id"_s, seen}});
    QCOMPARE(terminal(stream).value("type"_L1).toString(), u"done"_s);
    const QJsonArray messages = f.fake.requests().last().json.value("messages"_L1).toArray();
    QVERIFY(QJsonDocument(messages).toJson().contains("image_url"));
    // A refusal for something else (a bad parameter, a prompt too long) teaches nothing.
    const QString other = f.createAgent(u"fake:status=400"_s, {{u"provider"_s, u"openai"_s}});
    stream = chat(f, other, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(terminal(stream).value("type"_L1).toString(), u"error"_s);
    stream = chat(f, other, {{u"message"_s, u"Look"_s}, {u"attachments"_s, QJsonArray{png}}});
    QCOMPARE(stream.head.status, 200); // tried again, not refused as blind
}

void ProvidersTest::perSessionModel()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agent = agentOn(f, u"ollama"_s, u"fake:text=Agent model"_s);
    auto stream = chat(f, agent, {{u"message"_s, u"One"_s}, {u"model"_s, u"fake:text=Session model"_s}});
    QCOMPARE(joined(stream.events, u"content"_s), u"Session model"_s);
    const QString session = terminal(stream).value("session_id"_L1).toString();
    QCOMPARE(f.client().get(u"/api/sessions/"_s + session).json().value("model"_L1).toString(),
             u"fake:text=Session model"_s);
    // Kept for the next turn, in the reply's metadata too.
    stream = chat(f, agent, {{u"message"_s, u"Two"_s}, {u"session_id"_s, session}});
    QCOMPARE(joined(stream.events, u"content"_s), u"Session model"_s);
    QCOMPARE(terminal(stream).value("metadata"_L1).toObject().value("model"_L1).toString(),
             u"fake:text=Session model"_s);
    // EventSource's GET keeps it too.
    stream = f.client().stream(
        "GET", u"/api/agents/%1/chat/stream?message=Hi&session_id=%2"_s.arg(agent, session), {});
    QCOMPARE(joined(stream.events, u"content"_s), u"Session model"_s);
    // Cleared through PATCH: the agent's model again.
    QCOMPARE(f.client().request("PATCH", u"/api/sessions/"_s + session, "{\"model\":null}").status, 200);
    stream = chat(f, agent, {{u"message"_s, u"Three"_s}, {u"session_id"_s, session}});
    QCOMPARE(joined(stream.events, u"content"_s), u"Agent model"_s);
    QCOMPARE(f.client().request("PATCH", u"/api/sessions/"_s + session, "{\"model\":42}").errorCode(),
             QByteArray("invalid_field"));
}

void ProvidersTest::providerKindsAreChecked()
{
    ApiFixture f;
    QVERIFY(f.start());
    HttpResult r =
        f.client().request("PUT", u"/api/providers/x"_s, "{\"kind\":\"gemini\",\"base_url\":\"http://a\"}");
    QCOMPARE(r.status, 400);
    QVERIFY(r.json().value("error"_L1).toObject().value("message"_L1).toString().contains("anthropic"_L1));
    r = f.client().request("PUT", u"/api/providers/x"_s,
                           "{\"kind\":\"ollama\",\"base_url\":\"http://a\",\"vision\":\"maybe\"}");
    QCOMPARE(r.errorCode(), QByteArray("invalid_field"));
    r = f.client().request("PUT", u"/api/providers/x"_s,
                           "{\"kind\":\"ollama\",\"base_url\":\"http://a:11434\",\"vision\":\"yes\"}");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value("kind"_L1).toString(), u"ollama"_s);
    QCOMPARE(r.json().value("vision"_L1).toString(), u"yes"_s);
    r = f.client().request("PUT", u"/api/agents/x"_s, "{}");
    const QString agent = f.createAgent(u"m"_s);
    r = f.client().request("PATCH", u"/api/agents/"_s + agent, "{\"reasoning_effort\":\"extreme\"}");
    QCOMPARE(r.errorCode(), QByteArray("invalid_field"));
    r = f.client().request("PATCH", u"/api/agents/"_s + agent, "{\"reasoning_effort\":\"high\"}");
    QCOMPARE(r.json().value("reasoning_effort"_L1).toString(), u"high"_s);
}

void ProvidersTest::adminLimitsTheModels()
{
    ApiFixture f;
    QVERIFY(f.start());
    f.fake.setModels({u"fake:text=Cheap"_s, u"fake:text=Fine"_s, u"fake:text=Costly"_s});
    const QString agent = agentOn(f, u"openai"_s, u"fake:text=Cheap"_s);
    HttpResult r = f.client().request(
        "PUT", u"/api/providers/openai"_s,
        R"({"allowed_models":["fake:text=Cheap"," fake:text=Fine ","fake:text=Cheap","fake:text=Gone"]})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value("allowed_models"_L1).toArray(),
             (QJsonArray{u"fake:text=Cheap"_s, u"fake:text=Fine"_s, u"fake:text=Gone"_s}));
    QCOMPARE(f.client().request("PUT", u"/api/providers/openai"_s, R"({"allowed_models":"all"})").errorCode(),
             QByteArray("invalid_field"));
    // A model on the list: as ever.
    auto stream = chat(f, agent, {{u"message"_s, u"Hi"_s}, {u"model"_s, u"fake:text=Fine"_s}});
    QCOMPARE(joined(stream.events, u"content"_s), u"Fine"_s);
    const QString session = terminal(stream).value("session_id"_L1).toString();
    // Any other, chosen for a chat or for the agent: refused before anything starts.
    f.fake.clearRequests();
    stream = chat(f, agent, {{u"message"_s, u"Hi"_s}, {u"model"_s, u"fake:text=Costly"_s}});
    QCOMPARE(stream.head.status, 403);
    QCOMPARE(stream.head.errorCode(), QByteArray("model_not_allowed"));
    QVERIFY(f.fake.requests().isEmpty());
    r = f.client().request("PATCH", u"/api/sessions/"_s + session, R"({"model":"fake:text=Costly"})");
    QCOMPARE(r.status, 403);
    QVERIFY(
        r.json().value("error"_L1).toObject().value("message"_L1).toString().contains("fake:text=Fine"_L1));
    const QString costly = f.createAgent(u"fake:text=Costly"_s, {{u"provider"_s, u"openai"_s}});
    QCOMPARE(chat(f, costly, {{u"message"_s, u"Hi"_s}}).head.errorCode(), QByteArray("model_not_allowed"));
    // The picker offers what is allowed, the provider's details where it listed them.
    const QJsonArray models =
        f.client().get(u"/api/providers/openai/models"_s).json().value("models"_L1).toArray();
    QStringList ids;
    for (const QJsonValue &m : models)
        ids.append(m.toObject().value("id"_L1).toString());
    QCOMPARE(ids, (QStringList{u"fake:text=Cheap"_s, u"fake:text=Fine"_s, u"fake:text=Gone"_s}));
    // Cleared: any model again.
    QCOMPARE(f.client().request("PUT", u"/api/providers/openai"_s, R"({"allowed_models":null})").status, 200);
    QCOMPARE(joined(chat(f, costly, {{u"message"_s, u"Hi"_s}}).events, u"content"_s), u"Costly"_s);
}

QTEST_GUILESS_MAIN(ProvidersTest)
#include "tst_providers.moc"
