#include "fakeupstream.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

using namespace Qt::StringLiterals;

// Waits in a real event loop (QTest::qWaitFor would sleep between passes).
static bool waitUntil(const std::function<bool()> &done, int ms)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
    poll.start(2);
    deadline.start(ms);
    loop.exec();
    return done();
}

// A raw HTTP/1.1 exchange, with the response taken apart by hand.
struct Exchange
{
    QTcpSocket socket;
    QByteArray raw;
    int reads = 0;
    bool closed = false;
    QElapsedTimer clock;
    qint64 firstContentMs = -1;

    void send(const QByteArray &request, quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this] {
            raw += socket.readAll();
            ++reads;
            if (firstContentMs < 0 && raw.contains("\"content\":\"H"))
                firstContentMs = clock.elapsed();
        });
        QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [this] { closed = true; });
        clock.start();
        socket.connectToHost(QHostAddress::LocalHost, port);
        socket.write(request);
    }
    void sendMore(const QByteArray &request) // on the same connection
    {
        raw.clear();
        socket.write(request);
    }
    bool waitClosed(int ms = 5000)
    {
        return waitUntil([this] { return closed; }, ms);
    }
    // The response ended by its framing (the connection may stay open), or the connection closed.
    bool done() const
    {
        if (closed)
            return true;
        if (!raw.contains("\r\n\r\n"))
            return false;
        bool complete = false;
        if (header("transfer-encoding") == "chunked")
            body(&complete);
        else if (!header("content-length").isEmpty())
            complete = body().size() >= header("content-length").toInt();
        return complete;
    }
    bool waitDone(int ms = 5000)
    {
        return waitUntil([this] { return done(); }, ms);
    }

    QByteArray head() const { return raw.left(raw.indexOf("\r\n\r\n")); }
    int status() const { return raw.mid(9, 3).toInt(); }
    QByteArray header(const QByteArray &name) const
    {
        const QList<QByteArray> lines = head().split('\n');
        for (const QByteArray &line : lines) {
            if (line.toLower().startsWith(name + ':'))
                return line.mid(name.size() + 1).trimmed();
        }
        return {};
    }
    // The body with chunked framing removed; `complete` tells whether the last chunk came.
    QByteArray body(bool *complete = nullptr) const
    {
        const QByteArray rest = raw.mid(raw.indexOf("\r\n\r\n") + 4);
        if (header("transfer-encoding") != "chunked") {
            if (complete)
                *complete = true;
            return rest;
        }
        QByteArray out;
        qsizetype pos = 0;
        for (;;) {
            const qsizetype eol = rest.indexOf("\r\n", pos);
            if (eol < 0)
                break;
            const int size = rest.mid(pos, eol - pos).toInt(nullptr, 16);
            if (size == 0) {
                if (complete)
                    *complete = true;
                return out;
            }
            out += rest.mid(eol + 2, size);
            pos = eol + 2 + size + 2;
        }
        if (complete)
            *complete = false;
        return out;
    }
    QList<QByteArray> events() const // data of each SSE event
    {
        QByteArray b = body();
        b.replace("\r\n", "\n");
        QList<QByteArray> out;
        for (const QByteArray &block : b.split('\n')) {
            if (block.startsWith("data: "))
                out.append(block.mid(6));
        }
        return out;
    }
};

class FakeUpstreamTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void anthropicStream();
    void anthropicThinkingAndTools();
    void anthropicRefusesWhatTheApiRefuses();
    void anthropicErrorsAndModels();
    void ollamaStream();
    void ollamaToolsThinkingAndErrors();
    void ollamaTagsAndShow();
    void openAiReasoningFields();
    void imagesAreDescribed();
    void init();
    void scenarioFromModel();
    void pieces();
    void streamFormat();
    void noUsageChunkUnlessAsked();
    void usageInline();
    void nonStreaming();
    void models();
    void unknownPath();
    void statusError();
    void badScenario();
    void requiredKey();
    void cut();
    void stall();
    void stallBeforeHeaders();
    void malformed();
    void crlf();
    void noDone();
    void split();
    void stamp();
    void delays();
    void counters();
    void requestRecording();
    void keepAlive();
    void closeScenario();
    void clientAsksToClose();
    void closeDelimitedCloses();
    void idleTimeout();
    void closeOnNextReuse();
    void pipelined();
    void closingTheServerClosesIdleConnections();

private:
    QByteArray request(const QByteArray &json, const QByteArray &extraHeaders = {}) const;
    std::unique_ptr<Exchange> post(const QByteArray &json, const QByteArray &path = "/v1/chat/completions",
                                   const QByteArray &extraHeaders = {});
    static QByteArray body(const QString &model, bool stream = true, bool includeUsage = true);

    FakeUpstream m_fake;
};

void FakeUpstreamTest::initTestCase()
{
    QVERIFY(m_fake.listen());
    QCOMPARE(m_fake.baseUrl(), QUrl(u"http://127.0.0.1:%1/v1"_s.arg(m_fake.port())));
}

void FakeUpstreamTest::init()
{
    m_fake.setDefaultScenario(FakeScenario());
    m_fake.setRequiredApiKey(QString());
    m_fake.clearRequests();
    QVERIFY(waitUntil([this] { return m_fake.activeStreams() == 0; }, 2000));
    m_fake.resetCounters();
}

QByteArray FakeUpstreamTest::body(const QString &model, bool stream, bool includeUsage)
{
    QJsonObject o{
        {u"model"_s, model},
        {u"stream"_s, stream},
        {u"messages"_s, QJsonArray{QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, u"hi there"_s}}}}};
    if (includeUsage)
        o.insert(u"stream_options"_s, QJsonObject{{u"include_usage"_s, true}});
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray FakeUpstreamTest::request(const QByteArray &json, const QByteArray &extraHeaders) const
{
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           extraHeaders + "Content-Length: " + QByteArray::number(json.size()) + "\r\n\r\n" + json;
}

std::unique_ptr<Exchange> FakeUpstreamTest::post(const QByteArray &json, const QByteArray &path,
                                                 const QByteArray &extraHeaders)
{
    auto exchange = std::make_unique<Exchange>();
    const QByteArray method = json.isNull() ? "GET" : "POST";
    exchange->send(method + ' ' + path +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extraHeaders +
                       "Content-Length: " + QByteArray::number(json.size()) + "\r\n\r\n" + json,
                   m_fake.port());
    return exchange;
}

namespace {
// An OpenAI chunk's first choice's delta.
QJsonObject openAiDelta(const QByteArray &event)
{
    return QJsonDocument::fromJson(event)
        .object()
        .value("choices"_L1)
        .toArray()
        .first()
        .toObject()
        .value("delta"_L1)
        .toObject();
}

// The JSON of each Anthropic event, with its `event:` name checked against its type.
QList<QJsonObject> anthropicEvents(const Exchange &ex)
{
    QByteArray b = ex.body();
    QList<QJsonObject> out;
    QByteArray name;
    for (const QByteArray &line : b.split('\n')) {
        if (line.startsWith("event: ")) {
            name = line.mid(7);
        } else if (line.startsWith("data: ")) {
            const QJsonObject o = QJsonDocument::fromJson(line.mid(6)).object();
            if (o.value("type"_L1).toString().toLatin1() != name)
                qWarning() << "event name" << name << "for" << o.value("type"_L1);
            out.append(o);
        }
    }
    return out;
}

QList<QJsonObject> ndjson(const Exchange &ex)
{
    QList<QJsonObject> out;
    for (const QByteArray &line : ex.body().split('\n')) {
        if (!line.isEmpty())
            out.append(QJsonDocument::fromJson(line).object());
    }
    return out;
}

QByteArray anthropicBody(const QString &model, const QJsonObject &extra = {})
{
    QJsonObject o{{u"model"_s, model},
                  {u"max_tokens"_s, 5000},
                  {u"stream"_s, true},
                  {u"messages"_s, QJsonArray{QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, u"hi"_s}}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        o.insert(it.key(), it.value());
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
const QByteArray anthropicHeaders = "anthropic-version: 2023-06-01\r\nx-api-key: k\r\n";
} // namespace

void FakeUpstreamTest::anthropicStream()
{
    auto ex = post(anthropicBody(u"fake:text=Hello there,tokens=2"_s), "/v1/messages", anthropicHeaders);
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 200);
    QCOMPARE(ex->header("content-type"), QByteArray("text/event-stream; charset=utf-8"));
    const QList<QJsonObject> events = anthropicEvents(*ex);
    QStringList types;
    for (const QJsonObject &e : events)
        types.append(e.value("type"_L1).toString());
    QCOMPARE(types, (QStringList{u"message_start"_s, u"ping"_s, u"content_block_start"_s,
                                 u"content_block_delta"_s, u"content_block_delta"_s, u"content_block_stop"_s,
                                 u"message_delta"_s, u"message_stop"_s}));
    QCOMPARE(events.at(3).value("delta"_L1).toObject().value("text"_L1).toString(), u"Hello"_s);
    QCOMPARE(events.at(6).value("delta"_L1).toObject().value("stop_reason"_L1).toString(), u"end_turn"_s);
    QCOMPARE(events.at(6).value("usage"_L1).toObject().value("output_tokens"_L1).toInt(), 2);
    QVERIFY(events.first()
                .value("message"_L1)
                .toObject()
                .value("usage"_L1)
                .toObject()
                .value("input_tokens"_L1)
                .toInt() > 0);
}

void FakeUpstreamTest::anthropicThinkingAndTools()
{
    const QJsonObject thinking{
        {u"thinking"_s, QJsonObject{{u"type"_s, u"enabled"_s}, {u"budget_tokens"_s, 1024}}}};
    auto ex = post(
        anthropicBody(u"fake:reasoning=Think,rtokens=1,calls=f%7C%7B%22a%22:1%7D,argsplit=3"_s, thinking),
        "/v1/messages", anthropicHeaders);
    QVERIFY(ex->waitDone());
    const QList<QJsonObject> events = anthropicEvents(*ex);
    QCOMPARE(events.at(2).value("content_block"_L1).toObject().value("type"_L1).toString(), u"thinking"_s);
    QCOMPARE(events.at(3).value("delta"_L1).toObject().value("thinking"_L1).toString(), u"Think"_s);
    QCOMPARE(events.at(4).value("delta"_L1).toObject().value("type"_L1).toString(), u"signature_delta"_s);
    QCOMPARE(events.at(6).value("content_block"_L1).toObject().value("type"_L1).toString(), u"tool_use"_s);
    QCOMPARE(events.at(6).value("index"_L1).toInt(), 1);
    QString json;
    for (const QJsonObject &e : events) {
        if (e.value("delta"_L1).toObject().value("type"_L1) == "input_json_delta"_L1)
            json += e.value("delta"_L1).toObject().value("partial_json"_L1).toString();
    }
    QCOMPARE(json, u"{\"a\":1}"_s);
    QCOMPARE(events.at(events.size() - 2).value("delta"_L1).toObject().value("stop_reason"_L1).toString(),
             u"tool_use"_s);
    // Without thinking asked for, Claude does not think.
    ex = post(anthropicBody(u"fake:reasoning=Think"_s), "/v1/messages", anthropicHeaders);
    QVERIFY(ex->waitDone());
    QVERIFY(!ex->body().contains("thinking"));
}

void FakeUpstreamTest::anthropicRefusesWhatTheApiRefuses()
{
    const auto refusal = [this](const QByteArray &body, const QByteArray &headers = anthropicHeaders) {
        auto ex = post(body, "/v1/messages", headers);
        ex->waitDone();
        return QJsonDocument::fromJson(ex->body())
            .object()
            .value("error"_L1)
            .toObject()
            .value("message"_L1)
            .toString();
    };
    QVERIFY(refusal(anthropicBody(u"fake"_s), "x-api-key: k\r\n").contains("anthropic-version"_L1));
    QJsonObject body = QJsonDocument::fromJson(anthropicBody(u"fake"_s)).object();
    body.remove(u"max_tokens"_s);
    QVERIFY(refusal(QJsonDocument(body).toJson()).contains("max_tokens"_L1));
    const QJsonObject small{
        {u"thinking"_s, QJsonObject{{u"type"_s, u"enabled"_s}, {u"budget_tokens"_s, 500}}}};
    QVERIFY(refusal(anthropicBody(u"fake"_s, small)).contains("1024"_L1));
    // A tool loop under way whose assistant turn lost its thinking block.
    const QJsonObject loop{
        {u"thinking"_s, QJsonObject{{u"type"_s, u"enabled"_s}, {u"budget_tokens"_s, 1024}}},
        {u"messages"_s,
         QJsonArray{QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, u"hi"_s}},
                    QJsonObject{{u"role"_s, u"assistant"_s},
                                {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"tool_use"_s},
                                                                      {u"id"_s, u"t1"_s},
                                                                      {u"name"_s, u"f"_s},
                                                                      {u"input"_s, QJsonObject()}}}}},
                    QJsonObject{{u"role"_s, u"user"_s},
                                {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"tool_result"_s},
                                                                      {u"tool_use_id"_s, u"t1"_s},
                                                                      {u"content"_s, u"ok"_s}}}}}}}};
    QVERIFY(refusal(anthropicBody(u"fake"_s, loop)).contains("must start with a thinking block"_L1));
    // A tool_use never answered.
    QJsonObject unanswered = loop;
    QJsonArray messages = loop.value("messages"_L1).toArray();
    messages.replace(2, QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, u"what?"_s}});
    unanswered.insert(u"messages"_s, messages);
    unanswered.remove(u"thinking"_s);
    QVERIFY(refusal(anthropicBody(u"fake"_s, unanswered)).contains("without `tool_result`"_L1));
}

void FakeUpstreamTest::anthropicErrorsAndModels()
{
    m_fake.setRequiredApiKey(u"right"_s);
    auto ex = post(anthropicBody(u"fake"_s), "/v1/messages", anthropicHeaders);
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 401);
    QCOMPARE(
        QJsonDocument::fromJson(ex->body()).object().value("error"_L1).toObject().value("type"_L1).toString(),
        u"authentication_error"_s);
    m_fake.setRequiredApiKey(QString());
    ex = post(anthropicBody(u"fake:status=529"_s), "/v1/messages", anthropicHeaders);
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 529);
    QCOMPARE(QJsonDocument::fromJson(ex->body()).object().value("type"_L1).toString(), u"error"_s);
    ex = post(anthropicBody(u"fake:inband=1"_s), "/v1/messages", anthropicHeaders);
    QVERIFY(ex->waitDone());
    QVERIFY(ex->body().contains(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\""));
    m_fake.setModels({u"claude-b"_s, u"claude-a"_s});
    ex = post(QByteArray(), "/v1/models", anthropicHeaders);
    QVERIFY(ex->waitDone());
    const QJsonObject list = QJsonDocument::fromJson(ex->body()).object();
    QCOMPARE(list.value("data"_L1).toArray().first().toObject().value("type"_L1).toString(), u"model"_s);
    QCOMPARE(list.value("has_more"_L1), QJsonValue(false));
    m_fake.setModels({u"fake"_s});
}

void FakeUpstreamTest::ollamaStream()
{
    const QByteArray body =
        R"({"model":"fake:text=Hi you,tokens=2","messages":[{"role":"user","content":"hi"}]})"; // streams by
                                                                                                // default
    auto ex = post(body, "/api/chat");
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->header("content-type"), QByteArray("application/x-ndjson"));
    const QList<QJsonObject> lines = ndjson(*ex);
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines.at(0).value("message"_L1).toObject().value("content"_L1).toString(), u"Hi "_s);
    QCOMPARE(lines.at(0).value("done"_L1), QJsonValue(false));
    QCOMPARE(lines.at(2).value("done"_L1), QJsonValue(true));
    QCOMPARE(lines.at(2).value("done_reason"_L1).toString(), u"stop"_s);
    QCOMPARE(lines.at(2).value("eval_count"_L1).toInt(), 2);
    // stream: false is one JSON object.
    ex = post(R"({"model":"fake:text=Whole","stream":false,"messages":[{"role":"user","content":"hi"}]})",
              "/api/chat");
    QVERIFY(ex->waitDone());
    QCOMPARE(QJsonDocument::fromJson(ex->body())
                 .object()
                 .value("message"_L1)
                 .toObject()
                 .value("content"_L1)
                 .toString(),
             u"Whole"_s);
}

void FakeUpstreamTest::ollamaToolsThinkingAndErrors()
{
    auto ex = post(
        R"({"model":"fake:reasoning=Hmm,rtokens=1,calls=f%7C%7B%22a%22:1%7D","messages":[{"role":"user","content":"hi"}]})",
        "/api/chat");
    QVERIFY(ex->waitDone());
    const QList<QJsonObject> lines = ndjson(*ex);
    QCOMPARE(lines.at(0).value("message"_L1).toObject().value("thinking"_L1).toString(), u"Hmm"_s);
    const QJsonObject call =
        lines.at(1).value("message"_L1).toObject().value("tool_calls"_L1).toArray().first().toObject();
    QCOMPARE(call.value("function"_L1).toObject().value("arguments"_L1).toObject().value("a"_L1).toInt(), 1);
    QVERIFY(call.value("id"_L1).toString().startsWith("call_"_L1));
    QCOMPARE(lines.last().value("done_reason"_L1).toString(), u"stop"_s); // even after a call, as Ollama says
    // think: false, no thinking.
    ex = post(R"({"model":"fake:reasoning=Hmm","think":false,"messages":[{"role":"user","content":"hi"}]})",
              "/api/chat");
    QVERIFY(ex->waitDone());
    QVERIFY(!ex->body().contains("thinking"));
    ex = post(R"({"model":"fake:status=404","messages":[]})", "/api/chat");
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 404);
    QVERIFY(QJsonDocument::fromJson(ex->body())
                .object()
                .value("error"_L1)
                .toString()
                .contains("try pulling it"_L1));
    ex = post(R"({"model":"fake:inband=1","messages":[{"role":"user","content":"hi"}]})", "/api/chat");
    QVERIFY(ex->waitDone());
    QCOMPARE(ndjson(*ex).last().value("error"_L1).toString(),
             u"an error was encountered while running the model"_s);
}

void FakeUpstreamTest::ollamaTagsAndShow()
{
    m_fake.setModels({u"llava-vision"_s, u"qwen3-think"_s});
    auto ex = post(QByteArray(), "/api/tags");
    QVERIFY(ex->waitDone());
    const QJsonArray models = QJsonDocument::fromJson(ex->body()).object().value("models"_L1).toArray();
    QCOMPARE(models.size(), 2);
    QCOMPARE(models.first().toObject().value("name"_L1).toString(), u"llava-vision"_s);
    ex = post(R"({"model":"llava-vision"})", "/api/show");
    QVERIFY(ex->waitDone());
    QVERIFY(QJsonDocument::fromJson(ex->body())
                .object()
                .value("capabilities"_L1)
                .toArray()
                .contains(u"vision"_s));
    ex = post(R"({"model":"qwen3-think"})", "/api/show");
    QVERIFY(ex->waitDone());
    const QJsonArray capabilities =
        QJsonDocument::fromJson(ex->body()).object().value("capabilities"_L1).toArray();
    QVERIFY(!capabilities.contains(u"vision"_s) && capabilities.contains(u"thinking"_s));
    ex = post(R"({"model":"nope"})", "/api/show");
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 404);
    m_fake.setModels({u"fake"_s});
}

void FakeUpstreamTest::openAiReasoningFields()
{
    auto ex = post(body(u"fake:reasoning=ab,rtokens=2,text=X"_s));
    QVERIFY(ex->waitDone());
    QList<QByteArray> events = ex->events();
    QCOMPARE(openAiDelta(events.at(1)).value("reasoning_content"_L1).toString(), u"a"_s);
    const QJsonObject usage =
        QJsonDocument::fromJson(events.at(events.size() - 2)).object().value("usage"_L1).toObject();
    QCOMPARE(usage.value("completion_tokens_details"_L1).toObject().value("reasoning_tokens"_L1).toInt(), 2);
    ex = post(body(u"fake:reasoning=ab,rfield=reasoning"_s));
    QVERIFY(ex->waitDone());
    QVERIFY(ex->body().contains("\"reasoning\":\"a"));
    ex = post(body(u"fake:reasoning=ab,rfield=think,text=X,tokens=1"_s));
    QVERIFY(ex->waitDone());
    QString content;
    for (const QByteArray &e : ex->events())
        content += openAiDelta(e).value("content"_L1).toString();
    QCOMPARE(content, u"<think>ab</think>\n\nX"_s);
    // DeepSeek's thinking mode refuses a tool-call turn sent back without its reasoning.
    const QByteArray loop =
        R"({"model":"fake:echo=1","stream":true,"messages":[{"role":"user","content":"hi"},)"
        R"({"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},)"
        R"({"role":"tool","tool_call_id":"c","content":"ok"}]})";
    ex = post(loop);
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 400);
    QVERIFY(ex->body().contains("reasoning_content"));
}

void FakeUpstreamTest::imagesAreDescribed()
{
    const QByteArray png("\x89PNG\r\n\x1a\nfake", 12);
    const QByteArray openAi =
        R"({"model":"fake","stream":false,"messages":[{"role":"user","content":[{"type":"text","text":"?"},)"
        R"({"type":"image_url","image_url":{"url":"data:image/png;base64,)" +
        png.toBase64() + R"("}}]}]})";
    auto ex = post(openAi);
    QVERIFY(ex->waitDone());
    QCOMPARE(QJsonDocument::fromJson(ex->body())
                 .object()
                 .value("choices"_L1)
                 .toArray()
                 .first()
                 .toObject()
                 .value("message"_L1)
                 .toObject()
                 .value("content"_L1)
                 .toString(),
             u"I see 1 image (PNG 12 bytes)."_s);
    // A model that cannot see: OpenAI refuses, Ollama drops the image without a word.
    ex = post(QByteArray(openAi).replace("\"fake\"", "\"fake:vision=0\""));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 400);
    const QByteArray ollama =
        R"({"model":"fake:vision=0,text=Plain","stream":false,"messages":[{"role":"user","content":"?","images":[")" +
        png.toBase64() + R"("]}]})";
    ex = post(ollama, "/api/chat");
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 200);
    QCOMPARE(QJsonDocument::fromJson(ex->body())
                 .object()
                 .value("message"_L1)
                 .toObject()
                 .value("content"_L1)
                 .toString(),
             u"Plain"_s);
}

void FakeUpstreamTest::scenarioFromModel()
{
    FakeScenario s;
    QVERIFY(s.applyModel(u"fake:tokens=50,delay=20,split=3,usage=inline,nodone,text=a%2Cb"_s));
    QCOMPARE(s.tokens, 50);
    QCOMPARE(s.delayMs, 20);
    QCOMPARE(s.split, 3);
    QCOMPARE(s.usage, FakeScenario::Usage::Inline);
    QVERIFY(s.noDone);
    QCOMPARE(s.text, u"a,b"_s);

    FakeScenario plain;
    QVERIFY(plain.applyModel(u"gpt-4o-mini"_s));
    QVERIFY(plain.applyModel(u"fake"_s));
    QCOMPARE(plain.tokens, 5);

    QString error;
    QVERIFY(!plain.applyModel(u"fake:tokenz=5"_s, &error));
    QVERIFY(error.contains("tokenz"_L1));
    QVERIFY(!plain.applyModel(u"fake:tokens=many"_s, &error));
    QVERIFY(!plain.applyModel(u"fake:usage=2"_s, &error));
    QVERIFY(!plain.applyModel(u"fake:status=99"_s, &error));
}

void FakeUpstreamTest::pieces()
{
    FakeScenario s;
    QCOMPARE(s.pieces(), (QStringList{u"Hello"_s, u" from"_s, u" the"_s, u" fake"_s, u" upstream"_s}));
    s.text = u"你好😀世界"_s; // five characters, six UTF-16 units
    s.tokens = 3;
    QCOMPARE(s.pieces().size(), 3);
    QCOMPARE(s.replyText(), s.text);
    s.tokens = 100;
    QCOMPARE(s.pieces(), (QStringList{u"你"_s, u"好"_s, u"😀"_s, u"世"_s, u"界"_s}));
    s.tokens = 0;
    QVERIFY(s.pieces().isEmpty());
}

void FakeUpstreamTest::streamFormat()
{
    auto ex = post(body(u"fake:tokens=3"_s));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 200);
    QVERIFY(ex->header("content-type").startsWith("text/event-stream"));
    QVERIFY(ex->header("connection").isEmpty()); // kept alive, as HTTP/1.1 does by default
    QCOMPARE(ex->header("transfer-encoding"), QByteArray("chunked"));
    bool complete = false;
    ex->body(&complete);
    QVERIFY(complete);

    const QList<QByteArray> events = ex->events();
    QCOMPARE(events.size(), 1 + 3 + 1 + 1 + 1); // role, content, finish, usage, [DONE]
    QCOMPARE(events.last(), QByteArray("[DONE]"));
    QString id;
    QString text;
    for (qsizetype i = 0; i < events.size() - 1; ++i) {
        const QJsonObject chunk = QJsonDocument::fromJson(events.at(i)).object();
        QCOMPARE(chunk.value("object"_L1).toString(), u"chat.completion.chunk"_s);
        QCOMPARE(chunk.value("model"_L1).toString(), u"fake:tokens=3"_s);
        QVERIFY(chunk.value("created"_L1).toInteger() > 0);
        if (id.isEmpty())
            id = chunk.value("id"_L1).toString();
        QCOMPARE(chunk.value("id"_L1).toString(), id);
        const QJsonArray choices = chunk.value("choices"_L1).toArray();
        if (i == events.size() - 2) { // usage chunk
            QVERIFY(choices.isEmpty());
            const QJsonObject usage = chunk.value("usage"_L1).toObject();
            QCOMPARE(usage.value("completion_tokens"_L1).toInt(), 3);
            QVERIFY(usage.value("prompt_tokens"_L1).toInt() > 0);
            QCOMPARE(usage.value("total_tokens"_L1).toInt(),
                     usage.value("prompt_tokens"_L1).toInt() + usage.value("completion_tokens"_L1).toInt());
            continue;
        }
        QVERIFY(chunk.value("usage"_L1).isNull()); // "usage": null, as OpenAI sends it
        const QJsonObject choice = choices.first().toObject();
        const QJsonObject delta = choice.value("delta"_L1).toObject();
        if (i == 0) {
            QCOMPARE(delta, (QJsonObject{{u"role"_s, u"assistant"_s}, {u"content"_s, u""_s}}));
            QVERIFY(choice.value("finish_reason"_L1).isNull());
        } else if (i <= 3) {
            QVERIFY(choice.value("finish_reason"_L1).isNull());
            text += delta.value("content"_L1).toString();
        } else {
            QCOMPARE(choice.value("finish_reason"_L1).toString(), u"stop"_s);
            QVERIFY(delta.isEmpty());
        }
    }
    QCOMPARE(text, u"Hello from the"_s);
    QTRY_COMPARE(m_fake.completedStreams(), 1);
    QCOMPARE(m_fake.clientAborts(), 0);
}

void FakeUpstreamTest::noUsageChunkUnlessAsked()
{
    auto ex = post(body(u"fake"_s, true, false));
    QVERIFY(ex->waitDone());
    QVERIFY(!ex->body().contains("usage"));
    QCOMPARE(ex->events().size(), 1 + 5 + 1 + 1);
}

void FakeUpstreamTest::usageInline()
{
    auto ex = post(body(u"fake:usage=inline"_s, true, false));
    QVERIFY(ex->waitDone());
    const QList<QByteArray> events = ex->events();
    QCOMPARE(events.size(), 1 + 5 + 1 + 1);
    const QJsonObject last = QJsonDocument::fromJson(events.at(events.size() - 2)).object();
    QCOMPARE(last.value("choices"_L1).toArray().first().toObject().value("finish_reason"_L1).toString(),
             u"stop"_s);
    QCOMPARE(last.value("usage"_L1).toObject().value("completion_tokens"_L1).toInt(), 5);
}

void FakeUpstreamTest::nonStreaming()
{
    auto ex = post(body(u"fake:tokens=2"_s, false, false));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 200);
    QCOMPARE(ex->header("content-type"), QByteArray("application/json"));
    const QJsonObject o = QJsonDocument::fromJson(ex->body()).object();
    QCOMPARE(o.value("object"_L1).toString(), u"chat.completion"_s);
    const QJsonObject choice = o.value("choices"_L1).toArray().first().toObject();
    QCOMPARE(choice.value("message"_L1).toObject().value("content"_L1).toString(), u"Hello from"_s);
    QCOMPARE(choice.value("finish_reason"_L1).toString(), u"stop"_s);
    QCOMPARE(o.value("usage"_L1).toObject().value("completion_tokens"_L1).toInt(), 2);
}

void FakeUpstreamTest::models()
{
    for (const QByteArray path : {QByteArray("/v1/models"), QByteArray("/models")}) {
        auto ex = post(QByteArray(), path);
        QVERIFY(ex->waitDone());
        QCOMPARE(ex->status(), 200);
        const QJsonObject o = QJsonDocument::fromJson(ex->body()).object();
        QCOMPARE(o.value("data"_L1).toArray().first().toObject().value("id"_L1).toString(), u"fake"_s);
    }
}

void FakeUpstreamTest::unknownPath()
{
    auto ex = post(body(u"fake"_s), "/v1/completions");
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 404);
    QVERIFY(QJsonDocument::fromJson(ex->body()).object().value("error"_L1).isObject());
}

void FakeUpstreamTest::statusError()
{
    auto ex = post(body(u"fake:status=429"_s));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 429);
    QCOMPARE(ex->header("content-type"), QByteArray("application/json"));
    const QJsonObject error = QJsonDocument::fromJson(ex->body()).object().value("error"_L1).toObject();
    QVERIFY(error.value("message"_L1).toString().startsWith("Rate limit reached"_L1));
    QCOMPARE(error.value("type"_L1).toString(), u"requests"_s);
    QCOMPARE(error.value("code"_L1).toString(), u"rate_limit_exceeded"_s);
}

void FakeUpstreamTest::badScenario()
{
    auto ex = post(body(u"fake:bogus=1"_s));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 400);
    QVERIFY(ex->body().contains("bogus"));
}

void FakeUpstreamTest::requiredKey()
{
    m_fake.setRequiredApiKey(u"sk-fake"_s);
    auto denied = post(body(u"fake"_s));
    QVERIFY(denied->waitDone());
    QCOMPARE(denied->status(), 401);
    auto allowed = post(body(u"fake"_s), "/v1/chat/completions", "Authorization: Bearer sk-fake\r\n");
    QVERIFY(allowed->waitDone());
    QCOMPARE(allowed->status(), 200);
}

void FakeUpstreamTest::cut()
{
    auto ex = post(body(u"fake:tokens=5,cut=2"_s));
    QVERIFY(ex->waitClosed());
    bool complete = true;
    ex->body(&complete);
    QVERIFY(!complete); // no terminating chunk: the client can tell
    const QList<QByteArray> events = ex->events();
    QCOMPARE(events.size(), 1 + 2);
    QVERIFY(!ex->raw.contains("[DONE]"));
    QVERIFY(!ex->raw.contains("finish_reason\":\"stop"));
    QTRY_COMPARE(m_fake.completedStreams(), 1);
    QCOMPARE(m_fake.clientAborts(), 0);
}

void FakeUpstreamTest::stall()
{
    QSignalSpy aborted(&m_fake, &FakeUpstream::clientAborted);
    auto ex = post(body(u"fake:tokens=5,stall=1"_s));
    QVERIFY(waitUntil([&] { return ex->events().size() == 2; }, 2000));
    waitUntil([] { return false; }, 300);
    QVERIFY(!ex->closed);
    QCOMPARE(ex->events().size(), 2); // role chunk and one content chunk, then silence
    QCOMPARE(m_fake.activeStreams(), 1);
    ex->socket.abort();
    QVERIFY(waitUntil([&] { return aborted.size() == 1; }, 1000));
    QCOMPARE(m_fake.clientAborts(), 1);
    QCOMPARE(m_fake.activeStreams(), 0);
}

void FakeUpstreamTest::stallBeforeHeaders()
{
    auto ex = post(body(u"fake:stall=0"_s));
    QVERIFY(waitUntil([this] { return m_fake.activeStreams() == 1; }, 2000));
    waitUntil([] { return false; }, 300);
    QVERIFY(ex->raw.isEmpty());
    QVERIFY(!ex->closed);
    ex->socket.abort();
    QVERIFY(waitUntil([this] { return m_fake.clientAborts() == 1; }, 1000));
}

void FakeUpstreamTest::malformed()
{
    auto ex = post(body(u"fake:tokens=4,malformed=1"_s));
    QVERIFY(ex->waitDone());
    const QByteArray b = ex->body();
    QVERIFY(b.contains(": keep-alive\r\n"));
    QVERIFY(b.contains("event: ping\r\n"));
    QVERIFY(b.contains("this is not json"));
    QVERIFY(b.contains("\"object\":\"chat.completion.chunk\"}\r\n")); // a chunk without choices
    QCOMPARE(b.count("\n"), b.count("\r\n"));
    QVERIFY(b.endsWith("data: [DONE]\r\n\r\n"));
}

void FakeUpstreamTest::crlf()
{
    auto ex = post(body(u"fake:crlf=1"_s));
    QVERIFY(ex->waitDone());
    const QByteArray b = ex->body();
    QCOMPARE(b.count("\n"), b.count("\r\n"));
    QCOMPARE(ex->events().size(), 1 + 5 + 1 + 1 + 1);
}

void FakeUpstreamTest::noDone()
{
    auto ex = post(body(u"fake:nodone=1"_s));
    QVERIFY(ex->waitDone());
    QVERIFY(!ex->body().contains("[DONE]"));
    QVERIFY(ex->body().contains("\"finish_reason\":\"stop\""));
    bool complete = false;
    ex->body(&complete);
    QVERIFY(complete);
}

void FakeUpstreamTest::split()
{
    auto whole = post(body(u"fake:text=你好世界😀,tokens=3"_s));
    QVERIFY(whole->waitDone());
    auto pieces = post(body(u"fake:text=你好世界😀,tokens=3,split=3"_s));
    QVERIFY(pieces->waitDone());
    // same bytes apart from the model echo, the id and the time
    static const QRegularExpression varying(u"\"(model|id|created)\":(\"[^\"]*\"|\\d+)"_s);
    QString a = QString::fromUtf8(whole->body());
    QString b = QString::fromUtf8(pieces->body());
    QCOMPARE(b.replace(varying, QString()), a.replace(varying, QString()));
    QVERIFY2(pieces->reads > 20, qPrintable(QString::number(pieces->reads)));
}

void FakeUpstreamTest::stamp()
{
    auto ex = post(body(u"fake:tokens=4,stamp=1,delay=5"_s, true, false));
    QVERIFY(ex->waitDone());
    static const QRegularExpression pattern(u"^\\[(\\d+)@(\\d+)\\] $"_s);
    qint64 previous = 0;
    int seq = 0;
    for (const QByteArray &event : ex->events()) {
        const QString content = openAiDelta(event).value("content"_L1).toString();
        if (content.isEmpty())
            continue;
        const QRegularExpressionMatch m = pattern.match(content);
        QVERIFY2(m.hasMatch(), qPrintable(content));
        QCOMPARE(m.captured(1).toInt(), seq++);
        const qint64 ns = m.captured(2).toLongLong();
        QVERIFY(ns > previous + 4000000); // written at emit time, 5 ms apart
        previous = ns;
    }
    QCOMPARE(seq, 4);
}

void FakeUpstreamTest::delays()
{
    auto ex = post(body(u"fake:tokens=3,first=200,delay=50"_s));
    QVERIFY(ex->waitDone());
    QVERIFY2(ex->firstContentMs >= 190, qPrintable(QString::number(ex->firstContentMs)));
    QVERIFY2(ex->clock.elapsed() >= 200 + 3 * 50, qPrintable(QString::number(ex->clock.elapsed())));
}

void FakeUpstreamTest::counters()
{
    QSignalSpy accepted(&m_fake, &FakeUpstream::connectionAccepted);
    QSignalSpy completed(&m_fake, &FakeUpstream::streamCompleted);
    std::vector<std::unique_ptr<Exchange>> exchanges;
    for (int i = 0; i < 3; ++i)
        exchanges.push_back(post(body(u"fake:tokens=3,delay=100"_s)));
    for (auto &ex : exchanges)
        QVERIFY(ex->waitDone());
    QCOMPARE(accepted.size(), 3);
    QCOMPARE(m_fake.connectionsAccepted(), 3);
    QVERIFY(waitUntil([&] { return completed.size() == 3; }, 1000));
    QCOMPARE(m_fake.maxConcurrentStreams(), 3);
    QCOMPARE(m_fake.activeStreams(), 0);
    QCOMPARE(m_fake.completedStreams(), 3);
}

void FakeUpstreamTest::requestRecording()
{
    QSignalSpy received(&m_fake, &FakeUpstream::requestReceived);
    // a chunked request body with Expect: 100-continue, as curl sends big bodies
    const QByteArray json = body(u"fake:tokens=1"_s);
    auto ex = std::make_unique<Exchange>();
    ex->send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-1\r\n"
             "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" +
                 QByteArray::number(10, 16) + "\r\n" + json.left(10) + "\r\n" +
                 QByteArray::number(json.size() - 10, 16) + "\r\n" + json.mid(10) + "\r\n0\r\n\r\n",
             m_fake.port());
    QVERIFY(ex->waitDone());
    QVERIFY(ex->raw.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"));
    QVERIFY(ex->raw.contains("\r\nConnection: close\r\n")); // as the client asked
    QCOMPARE(received.size(), 1);
    QCOMPARE(m_fake.requests().size(), 1);
    const FakeRequest r = m_fake.requests().constFirst();
    QCOMPARE(r.method, QByteArray("POST"));
    QCOMPARE(r.path, QByteArray("/v1/chat/completions"));
    QCOMPARE(r.header("authorization"), QByteArray("Bearer sk-1"));
    QCOMPARE(r.body, json);
    QCOMPARE(r.json.value("model"_L1).toString(), u"fake:tokens=1"_s);
}

void FakeUpstreamTest::keepAlive()
{
    // Several requests, one after another, on one connection: a stream, an error with a JSON body
    // (Content-Length), a non-streamed answer, and a stream again.
    auto ex = post(body(u"fake:tokens=2"_s));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->events().size(), 1 + 2 + 1 + 1 + 1);
    ex->sendMore(request(body(u"fake:status=429"_s)));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->status(), 429);
    QVERIFY(ex->header("connection").isEmpty());
    QVERIFY(QJsonDocument::fromJson(ex->body()).object().value("error"_L1).isObject());
    ex->sendMore(request(body(u"fake:tokens=2"_s, false, false)));
    QVERIFY(ex->waitDone());
    QCOMPARE(QJsonDocument::fromJson(ex->body()).object().value("object"_L1).toString(),
             u"chat.completion"_s);
    ex->sendMore(request(body(u"fake:tokens=3"_s)));
    QVERIFY(ex->waitDone());
    QCOMPARE(ex->events().last(), QByteArray("[DONE]"));
    QVERIFY(!ex->closed);
    QCOMPARE(m_fake.connectionsAccepted(), 1);
    QCOMPARE(m_fake.requestsReceived(), 4);
    QCOMPARE(m_fake.openConnections(), 1);
    QTRY_COMPARE(m_fake.completedStreams(), 4); // the 429 to a completion request counts too
    QCOMPARE(m_fake.clientAborts(), 0);
    // The client closing an idle connection is no abort.
    ex->socket.disconnectFromHost();
    QVERIFY(waitUntil([this] { return m_fake.openConnections() == 0; }, 2000));
    QCOMPARE(m_fake.clientAborts(), 0);
}

void FakeUpstreamTest::closeScenario()
{
    for (const QString &model : {u"fake:tokens=2,close=1"_s, u"fake:status=500,close"_s}) {
        auto ex = post(body(model));
        QVERIFY(ex->waitClosed());
        QCOMPARE(ex->header("connection"), QByteArray("close"));
        bool complete = false;
        ex->body(&complete);
        QVERIFY(complete);
    }
    FakeScenario closing;
    closing.close = true;
    m_fake.setDefaultScenario(closing); // as `agentdesk-fake-upstream --close` does
    auto ex = post(body(u"fake"_s));
    QVERIFY(ex->waitClosed());
    QCOMPARE(ex->header("connection"), QByteArray("close"));
}

void FakeUpstreamTest::clientAsksToClose()
{
    auto ex = post(body(u"fake:tokens=2"_s), "/v1/chat/completions", "Connection: close\r\n");
    QVERIFY(ex->waitClosed());
    QCOMPARE(ex->header("connection"), QByteArray("close"));
    QCOMPARE(ex->events().last(), QByteArray("[DONE]"));
}

void FakeUpstreamTest::closeDelimitedCloses()
{
    auto ex = post(body(u"fake:tokens=2,chunked=0"_s));
    QVERIFY(ex->waitClosed()); // the close is what ends the body
    QCOMPARE(ex->header("connection"), QByteArray("close"));
    QVERIFY(ex->header("transfer-encoding").isEmpty());
    QCOMPARE(ex->events().last(), QByteArray("[DONE]"));
}

void FakeUpstreamTest::idleTimeout()
{
    auto ex = post(body(u"fake:tokens=1,idle=150"_s));
    QVERIFY(ex->waitDone());
    QElapsedTimer idle;
    idle.start();
    QVERIFY(!ex->closed);
    QVERIFY(ex->waitClosed(2000));
    QVERIFY2(idle.elapsed() >= 120, qPrintable(QString::number(idle.elapsed())));
    QCOMPARE(m_fake.clientAborts(), 0);
    QTRY_COMPARE(m_fake.openConnections(), 0);

    // A request in time restarts the wait: the connection serves it and then idles again.
    auto again = post(body(u"fake:tokens=1,idle=300"_s));
    QVERIFY(again->waitDone());
    waitUntil([] { return false; }, 100);
    again->sendMore(request(body(u"fake:tokens=1,idle=300"_s)));
    QVERIFY(again->waitDone());
    QVERIFY(!again->closed);
    QVERIFY(again->waitClosed(2000));
    QCOMPARE(m_fake.requestsReceived(), 3);
}

void FakeUpstreamTest::closeOnNextReuse()
{
    auto ex = post(body(u"fake:tokens=1"_s));
    QVERIFY(ex->waitDone());
    m_fake.closeOnNextReuse();
    ex->sendMore(request(body(u"fake:tokens=1"_s)));
    QVERIFY(ex->waitClosed());
    QVERIFY(ex->raw.isEmpty()); // not a byte of an answer
    QCOMPARE(m_fake.closedOnReuse(), 1);
    QCOMPARE(m_fake.requestsReceived(), 1);
    // Only reused connections, and only as many as asked: a new connection is served.
    m_fake.closeOnNextReuse();
    auto fresh = post(body(u"fake:tokens=1"_s));
    QVERIFY(fresh->waitDone());
    QCOMPARE(fresh->status(), 200);
    QCOMPARE(m_fake.closedOnReuse(), 1);
    m_fake.closeOnNextReuse(0);
}

void FakeUpstreamTest::pipelined()
{
    // Two requests in one write: answered in order, the second after the first.
    auto ex = std::make_unique<Exchange>();
    ex->send(request(body(u"fake:tokens=2,delay=20"_s)) + request(body(u"fake:status=404"_s)), m_fake.port());
    QVERIFY(waitUntil([&] { return ex->raw.contains("model_not_found"); }, 5000));
    const qsizetype second = ex->raw.indexOf("HTTP/1.1 404");
    QVERIFY(second > 0);
    QVERIFY(ex->raw.lastIndexOf("data: [DONE]", second) > 0);
    QCOMPARE(m_fake.requestsReceived(), 2);
    QCOMPARE(m_fake.connectionsAccepted(), 1);
}

void FakeUpstreamTest::closingTheServerClosesIdleConnections()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    auto idle = std::make_unique<Exchange>();
    idle->send(request(body(u"fake:tokens=1"_s)), fake.port());
    QVERIFY(idle->waitDone());
    auto busy = std::make_unique<Exchange>();
    busy->send(request(body(u"fake:tokens=3,delay=100"_s)), fake.port());
    QVERIFY(waitUntil([&] { return fake.activeStreams() == 1; }, 2000));
    fake.close();
    QVERIFY(idle->waitClosed(2000));
    QVERIFY(!busy->closed);
    QVERIFY(busy->waitDone()); // the response under way ends normally
    QCOMPARE(busy->events().last(), QByteArray("[DONE]"));
    QCOMPARE(fake.clientAborts(), 0);
}

QTEST_GUILESS_MAIN(FakeUpstreamTest)
#include "tst_fakeupstream.moc"
