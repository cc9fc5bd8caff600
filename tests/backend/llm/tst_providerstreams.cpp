// The three wire protocols against the fake upstream speaking each provider's dialect: text,
// reasoning, tool calls, usage, every fault (HTTP errors in the provider's shape, errors inside
// the stream, cuts, stalls, one byte per read), the request each encoder writes, and the model
// lists and vision knowledge of ModelCatalog.
#include "dispatchermain.h"
#include "fakeupstream.h"
#include "llm/anthropicstream.h"
#include "llm/llmclient.h"
#include "llm/modelcatalog.h"
#include "llm/ollamastream.h"
#include "llm/openaistream.h"
#include "streamoutcome.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>

using namespace Qt::StringLiterals;

class ProviderStreamsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void text_data();
    void text();
    void invalidUtf8ReadsAsReplacement_data();
    void invalidUtf8ReadsAsReplacement();
    void reasoning_data();
    void reasoning();
    void reasoningTokensFromOpenAiUsage();
    void toolCalls_data();
    void toolCalls();
    void httpErrors_data();
    void httpErrors();
    void errorsInsideTheStream_data();
    void errorsInsideTheStream();
    void cutAndStall_data();
    void cutAndStall();
    void oneByteReads_data();
    void oneByteReads();
    void abortStopsTheUpstream_data();
    void abortStopsTheUpstream();

    void openAiRequestWithImagesAndEcho();
    void anthropicRequest();
    void anthropicThinkingBudget();
    void ollamaRequest();
    void urls();

    void modelLists_data();
    void modelLists();
    void modelListFailureSaysWhy();
    void visionKnowledge_data();
    void visionKnowledge();
    void ollamaIsAskedAboutVision();

private:
    ProviderConfig provider(const QString &kind) const;
    ChatRequest request(const QString &model) const;
    LlmStream *start(const QString &kind, const QString &model, Outcome &out, ChatRequest r = {});
    static void addKinds();
    QJsonObject lastRequest() const { return m_fake.requests().last().json; }

    FakeUpstream m_fake;
    LlmClient m_client;
};

void ProviderStreamsTest::initTestCase()
{
    QVERIFY2(m_fake.listen(), qPrintable(m_fake.errorString()));
}

void ProviderStreamsTest::init()
{
    m_fake.setDefaultScenario(FakeScenario());
    m_fake.setRequiredApiKey(QString());
    m_fake.setModels({u"fake"_s});
    m_fake.clearRequests();
    QTRY_COMPARE(m_fake.activeStreams(), 0);
    m_fake.resetCounters();
}

ProviderConfig ProviderStreamsTest::provider(const QString &kind) const
{
    ProviderConfig p;
    p.name = kind;
    p.kind = kind;
    QUrl url = m_fake.baseUrl(); // .../v1: Anthropic's takes it as it is, Ollama's drops it
    p.baseUrl = url;
    p.model = u"fake"_s;
    p.apiKey = u"sk-test"_s;
    p.connectTimeoutMs = 3000;
    p.stallTimeoutMs = 1500;
    return p;
}

ChatRequest ProviderStreamsTest::request(const QString &model) const
{
    ChatRequest r;
    r.model = model;
    r.messages = {{u"system"_s, u"You are terse."_s}, {u"user"_s, u"Say hello."_s}};
    return r;
}

LlmStream *ProviderStreamsTest::start(const QString &kind, const QString &model, Outcome &out, ChatRequest r)
{
    if (r.messages.isEmpty())
        r = request(model);
    if (r.model.isEmpty())
        r.model = model;
    LlmStream *stream = m_client.startChat(provider(kind), r, this);
    out.watch(stream);
    return stream;
}

void ProviderStreamsTest::addKinds()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("openai") << u"openai"_s;
    QTest::newRow("anthropic") << u"anthropic"_s;
    QTest::newRow("ollama") << u"ollama"_s;
}

void ProviderStreamsTest::text_data()
{
    addKinds();
}

void ProviderStreamsTest::text()
{
    QFETCH(QString, kind);
    Outcome out;
    start(kind, u"fake:text=你好，世界! Hello 🌍,tokens=6"_s, out);
    QVERIFY(out.wait());
    QVERIFY2(out.completion, out.error ? qPrintable(out.error->message) : "no terminal");
    QCOMPARE(out.deltas.join(QString()), u"你好，世界! Hello 🌍"_s);
    QCOMPARE(out.terminals, 1);
    QCOMPARE(out.afterTerminal, 0);
    QCOMPARE(out.completion->finishReason, u"stop"_s);
    QVERIFY(!out.completion->usageEstimated);
    QCOMPARE(out.completion->completionTokens, 6);
    QVERIFY(out.completion->promptTokens > 0);
    QVERIFY(out.reasoning.isEmpty());
    const QByteArray path = m_fake.requests().last().path;
    QCOMPARE(path, kind == "anthropic"_L1 ? QByteArray("/v1/messages")
                   : kind == "ollama"_L1  ? QByteArray("/api/chat")
                                          : QByteArray("/v1/chat/completions"));
}

void ProviderStreamsTest::invalidUtf8ReadsAsReplacement_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("events");
    QTest::newRow("openai")
        << u"openai"_s
        << QByteArray("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\xff b\"}}]}\n\n"
                      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                      "data: [DONE]\n\n");
    QTest::newRow("anthropic")
        << u"anthropic"_s
        << QByteArray("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\","
                      "\"usage\":{\"input_tokens\":3}}}\n\n"
                      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
                      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                      "\"delta\":{\"type\":\"text_delta\",\"text\":\"a\xff b\"}}\n\n"
                      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                      "\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n"
                      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

void ProviderStreamsTest::invalidUtf8ReadsAsReplacement()
{
    // A byte that is no UTF-8 inside an event's JSON: the text goes on with U+FFFD in its place
    // (Qt's JSON parser refuses such a document; the event must not be skipped for it).
    QFETCH(QString, kind);
    QFETCH(QByteArray, events);
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    connect(&server, &QTcpServer::newConnection, this, [&server, events] {
        QTcpSocket *socket = server.nextPendingConnection();
        connect(socket, &QTcpSocket::readyRead, socket, [socket, events] {
            socket->readAll();
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" +
                          events);
            socket->disconnectFromHost();
        });
    });
    ProviderConfig p = provider(kind);
    p.baseUrl = QUrl(u"http://127.0.0.1:%1/v1"_s.arg(server.serverPort()));
    Outcome out;
    out.watch(m_client.startChat(p, request(u"fake"_s), this));
    QVERIFY(out.wait());
    QVERIFY2(out.completion, out.error ? qPrintable(out.error->message) : "no terminal");
    QCOMPARE(out.deltas.join(QString()), u"a\uFFFD b"_s);
}

void ProviderStreamsTest::reasoning_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("effort");
    QTest::addColumn<bool>("echo"); // sent back in a tool loop (a <think> block never is)
    QTest::newRow("deepseek reasoning_content")
        << u"openai"_s << u"fake:reasoning=Two plus two,text=Four"_s << QString() << true;
    QTest::newRow("openrouter reasoning")
        << u"openai"_s << u"fake:reasoning=Two plus two,text=Four,rfield=reasoning"_s << QString() << true;
    QTest::newRow("think tags") << u"openai"_s
                                << u"fake:reasoning=Two plus two,text=Four,rfield=think,tokens=3"_s
                                << QString() << false;
    QTest::newRow("anthropic thinking")
        << u"anthropic"_s << u"fake:reasoning=Two plus two,text=Four"_s << u"low"_s << false;
    QTest::newRow("ollama thinking") << u"ollama"_s << u"fake:reasoning=Two plus two,text=Four"_s << QString()
                                     << true;
    QTest::newRow("ollama before 0.12.5")
        << u"ollama"_s << u"fake:reasoning=Two plus two,text=Four,rfield=think"_s << QString() << false;
}

void ProviderStreamsTest::reasoning()
{
    QFETCH(QString, kind);
    QFETCH(QString, model);
    QFETCH(QString, effort);
    QFETCH(bool, echo);
    ChatRequest r = request(model);
    r.reasoningEffort = effort;
    Outcome out;
    start(kind, model, out, r);
    QVERIFY(out.wait());
    QVERIFY2(out.completion, out.error ? qPrintable(out.error->message) : "no terminal");
    QCOMPARE(out.reasoning.join(QString()), u"Two plus two"_s);
    QCOMPARE(out.deltas.join(QString()), u"Four"_s);
    if (kind == "anthropic"_L1) {
        // The thinking block comes back with its signature, for the next round of a tool loop.
        QCOMPARE(out.completion->thinkingBlocks.size(), 1);
        const QJsonObject block = out.completion->thinkingBlocks.first().toObject();
        QCOMPARE(block.value("thinking"_L1).toString(), u"Two plus two"_s);
        QVERIFY(block.value("signature"_L1).toString().startsWith("EqQB"_L1));
    }
    // A reasoning field is sent back in a tool loop (Anthropic's goes as its blocks).
    QCOMPARE(out.completion->reasoningContent, echo ? u"Two plus two"_s : QString());
    QCOMPARE(out.completion->reasoningField,
             model.contains("rfield=reasoning"_L1) ? u"reasoning"_s : QString());
}

void ProviderStreamsTest::reasoningTokensFromOpenAiUsage()
{
    Outcome out;
    start(u"openai"_s, u"fake:reasoning=a b c d,rtokens=4,text=Yes"_s, out);
    QVERIFY(out.wait());
    QVERIFY(out.completion);
    QCOMPARE(out.completion->reasoningTokens, 4);
    QCOMPARE(out.completion->completionTokens, 4 + 3); // the answer's pieces: "Yes" in three
    // Anthropic and Ollama do not count reasoning apart.
    Outcome anthropic;
    ChatRequest r = request(u"fake:reasoning=x"_s);
    r.reasoningEffort = u"medium"_s;
    start(u"anthropic"_s, u"fake:reasoning=x"_s, anthropic, r);
    QVERIFY(anthropic.wait());
    QCOMPARE(anthropic.completion->reasoningTokens, -1);
}

void ProviderStreamsTest::toolCalls_data()
{
    addKinds();
}

void ProviderStreamsTest::toolCalls()
{
    QFETCH(QString, kind);
    const QString model =
        u"fake:pre=Let me look.,calls="_s +
        QString::fromLatin1(QUrl::toPercentEncoding(u"get_weather|{\"city\":\"上海\"};get_time|{}"_s));
    Outcome out;
    start(kind, model, out);
    QVERIFY(out.wait());
    QVERIFY2(out.completion, out.error ? qPrintable(out.error->message) : "no terminal");
    QCOMPARE(out.completion->finishReason, u"tool_calls"_s); // Ollama says "stop": told by the calls
    QCOMPARE(out.deltas.join(QString()), u"Let me look."_s);
    const QList<ToolCall> calls = out.completion->toolCalls;
    QCOMPARE(calls.size(), 2);
    QCOMPARE(calls.at(0).name, u"get_weather"_s);
    QCOMPARE(QJsonDocument::fromJson(calls.at(0).arguments.toUtf8()).object().value("city"_L1).toString(),
             u"上海"_s);
    QCOMPARE(calls.at(1).name, u"get_time"_s);
    QVERIFY(!calls.at(0).id.isEmpty() && calls.at(0).id != calls.at(1).id);
    // The first fragment of each call names it.
    QCOMPARE(std::get<2>(out.toolDeltas.first()), u"get_weather"_s);
}

void ProviderStreamsTest::httpErrors_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");
    QTest::newRow("openai 429") << u"openai"_s << 429 << u"Rate limit reached"_s;
    QTest::newRow("anthropic 401") << u"anthropic"_s << 401 << u"invalid x-api-key"_s;
    QTest::newRow("anthropic 529") << u"anthropic"_s << 529 << u"Overloaded"_s;
    QTest::newRow("anthropic 404") << u"anthropic"_s << 404 << u"model: fake:status=404"_s;
    QTest::newRow("ollama 404") << u"ollama"_s << 404 << u"not found, try pulling it first"_s;
    QTest::newRow("ollama 500") << u"ollama"_s << 500 << u"The server had an error"_s;
}

void ProviderStreamsTest::httpErrors()
{
    QFETCH(QString, kind);
    QFETCH(int, status);
    QFETCH(QString, message);
    Outcome out;
    start(kind, u"fake:status=%1"_s.arg(status), out);
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Http);
    QCOMPARE(out.error->httpStatus, status);
    QCOMPARE(out.error->code, u"upstream_http_%1"_s.arg(status));
    QVERIFY2(out.error->message.contains(message), qPrintable(out.error->message));
}

void ProviderStreamsTest::errorsInsideTheStream_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("openai") << u"openai"_s << u"The server had an error"_s;
    QTest::newRow("anthropic overloaded") << u"anthropic"_s << u"Overloaded (overloaded_error)"_s;
    QTest::newRow("ollama") << u"ollama"_s << u"an error was encountered while running the model"_s;
}

void ProviderStreamsTest::errorsInsideTheStream()
{
    QFETCH(QString, kind);
    QFETCH(QString, message);
    Outcome out;
    start(kind, u"fake:inband=2,tokens=5"_s, out);
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->code, u"upstream_error"_s);
    QVERIFY2(out.error->message.contains(message), qPrintable(out.error->message));
    QCOMPARE(out.deltas.size(), 2); // what came before the error was relayed
}

void ProviderStreamsTest::cutAndStall_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("code");
    for (const QString &kind : {u"openai"_s, u"anthropic"_s, u"ollama"_s}) {
        QTest::addRow("%s cut", qPrintable(kind))
            << kind << u"fake:cut=2,tokens=5"_s << u"upstream_disconnected"_s;
        QTest::addRow("%s stall", qPrintable(kind))
            << kind << u"fake:stall=2,tokens=5"_s << u"upstream_timeout"_s;
    }
}

void ProviderStreamsTest::cutAndStall()
{
    QFETCH(QString, kind);
    QFETCH(QString, model);
    QFETCH(QString, code);
    Outcome out;
    start(kind, model, out);
    QVERIFY(out.wait(6000));
    QVERIFY(out.error);
    QCOMPARE(out.error->code, code);
    QCOMPARE(out.deltas.join(QString()), u"Hello from"_s);
}

void ProviderStreamsTest::oneByteReads_data()
{
    addKinds();
}

void ProviderStreamsTest::oneByteReads()
{
    // Every byte its own read: events, lines and UTF-8 characters cut anywhere.
    QFETCH(QString, kind);
    ChatRequest r =
        request(u"fake:split=1,text=思考之后：答案 ✅,reasoning=先想一想🤔,tokens=4"_s);
    r.reasoningEffort = u"low"_s;
    Outcome out;
    start(kind, r.model, out, r);
    QVERIFY(out.wait(15000));
    QVERIFY2(out.completion, out.error ? qPrintable(out.error->message) : "no terminal");
    QCOMPARE(out.deltas.join(QString()), u"思考之后：答案 ✅"_s);
    QCOMPARE(out.reasoning.join(QString()), u"先想一想🤔"_s);
}

void ProviderStreamsTest::abortStopsTheUpstream_data()
{
    addKinds();
}

void ProviderStreamsTest::abortStopsTheUpstream()
{
    QFETCH(QString, kind);
    Outcome out;
    LlmStream *stream = start(kind, u"fake:tokens=200,delay=20"_s, out);
    QVERIFY(waitUntil([&] { return out.deltas.size() >= 2; }, 5000));
    stream->abort();
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Aborted);
    QTRY_COMPARE(m_fake.clientAborts(), 1); // the connection closed: the upstream stops generating
}

void ProviderStreamsTest::openAiRequestWithImagesAndEcho()
{
    ChatRequest r = request(u"fake"_s);
    r.messages[1].images = {{u"image/png"_s, QByteArray("\x89PNG\r\n\x1a\nxyz")}};
    ChatMessage assistant;
    assistant.role = u"assistant"_s;
    assistant.reasoningContent = u"I should call it"_s;
    assistant.toolCalls =
        QJsonArray{QJsonObject{{u"id"_s, u"call_1"_s},
                               {u"type"_s, u"function"_s},
                               {u"function"_s, QJsonObject{{u"name"_s, u"f"_s}, {u"arguments"_s, u"{}"_s}}}}};
    r.messages.append(assistant);
    r.messages.append({u"tool"_s, u"result"_s, {}, {}, u"call_1"_s});
    r.reasoningEffort = u"high"_s;
    const QJsonObject body =
        QJsonDocument::fromJson(OpenAiStream::requestBody(provider(u"openai"_s), r)).object();
    const QJsonArray messages = body.value("messages"_L1).toArray();
    const QJsonArray parts = messages.at(1).toObject().value("content"_L1).toArray();
    QCOMPARE(parts.size(), 2);
    QCOMPARE(parts.at(0).toObject().value("text"_L1).toString(), u"Say hello."_s);
    QCOMPARE(parts.at(1).toObject().value("image_url"_L1).toObject().value("url"_L1).toString(),
             u"data:image/png;base64,"_s +
                 QString::fromLatin1(QByteArray("\x89PNG\r\n\x1a\nxyz").toBase64()));
    QCOMPARE(messages.at(2).toObject().value("reasoning_content"_L1).toString(), u"I should call it"_s);
    QVERIFY(messages.at(2).toObject().value("content"_L1).isNull());
    QCOMPARE(messages.at(3).toObject().value("tool_call_id"_L1).toString(), u"call_1"_s);
    QCOMPARE(body.value("reasoning_effort"_L1).toString(), u"high"_s);
    QVERIFY(!messages.at(0).toObject().contains("reasoning_content"_L1));
    // A server that said `reasoning` (OpenRouter, vLLM) gets it back under that name.
    r.messages[2].reasoningField = u"reasoning"_s;
    const QJsonObject again =
        QJsonDocument::fromJson(OpenAiStream::requestBody(provider(u"openai"_s), r)).object();
    const QJsonObject echoed = again.value("messages"_L1).toArray().at(2).toObject();
    QCOMPARE(echoed.value("reasoning"_L1).toString(), u"I should call it"_s);
    QVERIFY(!echoed.contains("reasoning_content"_L1));
}

void ProviderStreamsTest::anthropicRequest()
{
    ChatRequest r;
    r.model = u"claude-x"_s;
    r.temperature = 1.5;
    r.maxTokens = 300;
    r.tools = QJsonArray{
        QJsonObject{{u"type"_s, u"function"_s},
                    {u"function"_s, QJsonObject{{u"name"_s, u"srv__echo"_s},
                                                {u"description"_s, u"Echoes"_s},
                                                {u"parameters"_s, QJsonObject{{u"type"_s, u"object"_s}}}}}}};
    ChatMessage user{u"user"_s, u"What is in it?"_s};
    user.images = {{u"image/jpeg"_s, QByteArray("\xff\xd8\xff jpeg")}};
    ChatMessage assistant{u"assistant"_s, u"Checking."_s};
    assistant.thinkingBlocks = QJsonArray{
        QJsonObject{{u"type"_s, u"thinking"_s}, {u"thinking"_s, u"hmm"_s}, {u"signature"_s, u"sig"_s}}};
    assistant.toolCalls = QJsonArray{QJsonObject{
        {u"id"_s, u"toolu_1"_s},
        {u"type"_s, u"function"_s},
        {u"function"_s, QJsonObject{{u"name"_s, u"srv__echo"_s}, {u"arguments"_s, u"{\"text\":\"hi\"}"_s}}}}};
    ChatMessage result{u"tool"_s, u"Error: nope"_s, {}, {}, u"toolu_1"_s};
    result.toolError = true;
    r.messages = {
        {u"system"_s, u"Be brief."_s}, {u"assistant"_s, u"Hi! I'm the helper."_s}, user, assistant, result};
    const QJsonObject body =
        QJsonDocument::fromJson(AnthropicStream::requestBody(provider(u"anthropic"_s), r)).object();
    QCOMPARE(body.value("model"_L1).toString(), u"claude-x"_s);
    QCOMPARE(body.value("max_tokens"_L1).toInt(), 300);
    QCOMPARE(body.value("temperature"_L1).toDouble(), 1.0); // Anthropic's range ends at 1
    QVERIFY(body.value("stream"_L1).toBool());
    // The greeting cannot open the conversation: it is told in the system prompt.
    QCOMPARE(body.value("system"_L1).toString(),
             u"Be brief.\n\nYou opened this conversation by saying: Hi! I'm the helper."_s);
    const QJsonArray messages = body.value("messages"_L1).toArray();
    QCOMPARE(messages.size(), 3);
    const QJsonArray userBlocks = messages.at(0).toObject().value("content"_L1).toArray();
    QCOMPARE(userBlocks.at(0).toObject().value("type"_L1).toString(), u"image"_s); // images first
    QCOMPARE(userBlocks.at(0).toObject().value("source"_L1).toObject().value("media_type"_L1).toString(),
             u"image/jpeg"_s);
    QCOMPARE(userBlocks.at(1).toObject().value("text"_L1).toString(), u"What is in it?"_s);
    const QJsonArray assistantBlocks = messages.at(1).toObject().value("content"_L1).toArray();
    QCOMPARE(assistantBlocks.at(0).toObject().value("type"_L1).toString(), u"thinking"_s);
    QCOMPARE(assistantBlocks.at(0).toObject().value("signature"_L1).toString(), u"sig"_s);
    QCOMPARE(assistantBlocks.at(1).toObject().value("text"_L1).toString(), u"Checking."_s);
    const QJsonObject toolUse = assistantBlocks.at(2).toObject();
    QCOMPARE(toolUse.value("type"_L1).toString(), u"tool_use"_s);
    QCOMPARE(toolUse.value("input"_L1).toObject().value("text"_L1).toString(), u"hi"_s);
    const QJsonObject toolResult = messages.at(2).toObject().value("content"_L1).toArray().first().toObject();
    QCOMPARE(messages.at(2).toObject().value("role"_L1).toString(), u"user"_s);
    QCOMPARE(toolResult.value("tool_use_id"_L1).toString(), u"toolu_1"_s);
    QVERIFY(toolResult.value("is_error"_L1).toBool());
    const QJsonObject tool = body.value("tools"_L1).toArray().first().toObject();
    QCOMPARE(tool.value("name"_L1).toString(), u"srv__echo"_s);
    QCOMPARE(tool.value("input_schema"_L1).toObject().value("type"_L1).toString(), u"object"_s);
}

void ProviderStreamsTest::anthropicThinkingBudget()
{
    ChatRequest r = request(u"claude"_s);
    r.reasoningEffort = u"medium"_s;
    r.temperature = 0.2;
    const QJsonObject body =
        QJsonDocument::fromJson(AnthropicStream::requestBody(provider(u"anthropic"_s), r)).object();
    QCOMPARE(body.value("thinking"_L1).toObject().value("budget_tokens"_L1).toInt(), 4096);
    // The budget counts against max_tokens, so the answer still has its own; no temperature.
    QCOMPARE(body.value("max_tokens"_L1).toInt(), 4096 + AnthropicStream::defaultMaxTokens);
    QVERIFY(!body.contains("temperature"_L1));
    r.reasoningEffort = u"off"_s;
    QVERIFY(!QJsonDocument::fromJson(AnthropicStream::requestBody(provider(u"anthropic"_s), r))
                 .object()
                 .contains("thinking"_L1));
}

void ProviderStreamsTest::ollamaRequest()
{
    ChatRequest r = request(u"llama3.2-vision"_s);
    r.messages[1].images = {{u"image/png"_s, QByteArray("png!")}};
    ChatMessage assistant{u"assistant"_s, QString()};
    assistant.reasoningContent = u"Look it up."_s;
    assistant.toolCalls = QJsonArray{QJsonObject{
        {u"id"_s, u"call_9"_s},
        {u"type"_s, u"function"_s},
        {u"function"_s, QJsonObject{{u"name"_s, u"lookup"_s}, {u"arguments"_s, u"{\"q\":1}"_s}}}}};
    r.messages.append(assistant);
    r.messages.append({u"tool"_s, u"42"_s, {}, {}, u"call_9"_s});
    r.temperature = 0.3;
    r.maxTokens = 99;
    r.reasoningEffort = u"off"_s;
    const QJsonObject body =
        QJsonDocument::fromJson(OllamaStream::requestBody(provider(u"ollama"_s), r)).object();
    const QJsonArray messages = body.value("messages"_L1).toArray();
    QCOMPARE(messages.at(1).toObject().value("images"_L1).toArray().first().toString(),
             QString::fromLatin1(QByteArray("png!").toBase64())); // base64 alone, no data: URL
    const QJsonObject call = messages.at(2).toObject().value("tool_calls"_L1).toArray().first().toObject();
    QCOMPARE(call.value("function"_L1).toObject().value("arguments"_L1).toObject().value("q"_L1).toInt(), 1);
    QCOMPARE(messages.at(3).toObject().value("tool_name"_L1).toString(), u"lookup"_s);
    QCOMPARE(messages.at(2).toObject().value("thinking"_L1).toString(), u"Look it up."_s); // with its calls
    QCOMPARE(body.value("options"_L1).toObject().value("temperature"_L1).toDouble(), 0.3);
    QCOMPARE(body.value("options"_L1).toObject().value("num_predict"_L1).toInt(), 99);
    QCOMPARE(body.value("think"_L1), QJsonValue(false));
    QVERIFY(body.value("stream"_L1).toBool());
    QVERIFY(!body.value("options"_L1).toObject().contains("num_ctx"_L1)); // fits Ollama's default

    // A long prompt asks for the context it needs (Ollama would cut its start without a word), in
    // steps the model need not be reloaded for at every turn, up to what any model has.
    const auto contextFor = [this](qsizetype chars, int window = 0, const QJsonArray &tools = {}) {
        ChatRequest big = request(u"qwen3"_s);
        big.messages[1].content = QString(chars, u'x');
        big.contextWindow = window;
        big.tools = tools;
        const QJsonObject options =
            QJsonDocument::fromJson(OllamaStream::requestBody(provider(u"ollama"_s), big))
                .object()
                .value("options"_L1)
                .toObject();
        return options.value("num_ctx"_L1).toInt();
    };
    const int context = contextFor(40000);
    QVERIFY2(context >= 8192 && context % 8192 == 0, qPrintable(QString::number(context)));
    QCOMPARE(contextFor(40100), context);
    QVERIFY(contextFor(200000) > context);
    QCOMPARE(contextFor(5000000), 131072);
    QCOMPARE(contextFor(5000000, 32768), 32768); // what /api/show said the model has
    // The tools' schemas take room too.
    QCOMPARE(contextFor(100), 0);
    const QJsonArray tools{QJsonObject{
        {u"type"_s, u"function"_s},
        {u"function"_s, QJsonObject{{u"name"_s, u"f"_s}, {u"description"_s, QString(30000, u'd')}}}}};
    QVERIFY(contextFor(100, 0, tools) >= 8192);
}

void ProviderStreamsTest::urls()
{
    QCOMPARE(AnthropicStream::messagesUrl(QUrl(u"https://api.anthropic.com"_s)).toString(),
             u"https://api.anthropic.com/v1/messages"_s);
    QCOMPARE(AnthropicStream::messagesUrl(QUrl(u"https://proxy.example/anthropic/v1/"_s)).toString(),
             u"https://proxy.example/anthropic/v1/messages"_s);
    QCOMPARE(AnthropicStream::modelsUrl(QUrl(u"https://api.anthropic.com/"_s)).toString(),
             u"https://api.anthropic.com/v1/models"_s);
    QCOMPARE(OllamaStream::apiUrl(QUrl(u"http://localhost:11434"_s), "chat"_L1).toString(),
             u"http://localhost:11434/api/chat"_s);
    QCOMPARE(OllamaStream::apiUrl(QUrl(u"http://localhost:11434/v1"_s), "tags"_L1).toString(),
             u"http://localhost:11434/api/tags"_s);
    QCOMPARE(OllamaStream::apiUrl(QUrl(u"http://gpu:11434/api/"_s), "show"_L1).toString(),
             u"http://gpu:11434/api/show"_s);
}

void ProviderStreamsTest::modelLists_data()
{
    addKinds();
}

void ProviderStreamsTest::modelLists()
{
    QFETCH(QString, kind);
    m_fake.setModels({u"zeta"_s, u"alpha-vision"_s, u"mid"_s});
    ModelCatalog catalog(m_client);
    std::optional<ModelCatalog::Listing> listing;
    catalog.models(provider(kind), this, [&](const ModelCatalog::Listing &l) { listing = l; });
    QVERIFY(waitUntil([&] { return listing.has_value(); }, 5000));
    QVERIFY2(listing->ok(), qPrintable(listing->error.message));
    QCOMPARE(listing->models.size(), 3);
    QCOMPARE(listing->models.first().id, u"alpha-vision"_s); // sorted
    QVERIFY(!listing->cached);
    if (kind == "anthropic"_L1)
        QCOMPARE(listing->models.first().name, u"Fake alpha-vision"_s);
    const int requests = m_fake.requestsReceived();
    // Asked again within a minute: from the cache; two at once: one request.
    std::optional<ModelCatalog::Listing> again;
    catalog.models(provider(kind), this, [&](const ModelCatalog::Listing &l) { again = l; });
    QVERIFY(waitUntil([&] { return again.has_value(); }, 5000));
    QVERIFY(again->cached);
    QCOMPARE(m_fake.requestsReceived(), requests);
    catalog.clear();
    int answers = 0;
    for (int i = 0; i < 3; ++i)
        catalog.models(provider(kind), this, [&](const ModelCatalog::Listing &l) { answers += l.ok(); });
    QVERIFY(waitUntil([&] { return answers == 3; }, 5000));
    QCOMPARE(m_fake.requestsReceived(), requests + 1);
}

void ProviderStreamsTest::modelListFailureSaysWhy()
{
    m_fake.setRequiredApiKey(u"the-right-key"_s);
    ModelCatalog catalog(m_client);
    std::optional<ModelCatalog::Listing> listing;
    catalog.models(provider(u"anthropic"_s), this, [&](const ModelCatalog::Listing &l) { listing = l; });
    QVERIFY(waitUntil([&] { return listing.has_value(); }, 5000));
    QVERIFY(!listing->ok());
    QCOMPARE(listing->error.httpStatus, 401);
    QCOMPARE(listing->error.message, u"invalid x-api-key"_s);
    ProviderConfig gone = provider(u"openai"_s);
    gone.baseUrl = QUrl(u"http://127.0.0.1:1/v1"_s);
    listing.reset();
    catalog.models(gone, this, [&](const ModelCatalog::Listing &l) { listing = l; });
    QVERIFY(waitUntil([&] { return listing.has_value(); }, 5000));
    QCOMPARE(listing->error.code, u"upstream_unreachable"_s);
}

void ProviderStreamsTest::visionKnowledge_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("vision"); // 1, 0, -1 unknown
    QTest::newRow("gpt-4o") << u"openai"_s << u"gpt-4o-mini"_s << 1;
    QTest::newRow("gpt-4.1") << u"openai"_s << u"gpt-4.1"_s << 1;
    QTest::newRow("o3-mini") << u"openai"_s << u"o3-mini"_s << 0;
    QTest::newRow("gpt-3.5") << u"openai"_s << u"gpt-3.5-turbo"_s << 0;
    QTest::newRow("deepseek-chat") << u"openai"_s << u"deepseek-chat"_s << 0;
    QTest::newRow("deepseek-reasoner") << u"openai"_s << u"deepseek-reasoner"_s << 0;
    QTest::newRow("qwen-vl") << u"openai"_s << u"qwen-vl-max"_s << 1;
    QTest::newRow("qwen-plus") << u"openai"_s << u"qwen-plus"_s << 0;
    QTest::newRow("openrouter claude") << u"openai"_s << u"anthropic/claude-3.5-sonnet"_s << 1;
    QTest::newRow("unknown openai-compatible") << u"openai"_s << u"my-finetune"_s << 1; // may try
    QTest::newRow("claude") << u"anthropic"_s << u"claude-sonnet-4-20250514"_s << 1;
    QTest::newRow("claude-2") << u"anthropic"_s << u"claude-2.1"_s << 0;
    QTest::newRow("ollama") << u"ollama"_s << u"llava"_s << -1; // Ollama is asked
    QTest::newRow("demo") << u"demo"_s << u"demo"_s << 0;
}

void ProviderStreamsTest::visionKnowledge()
{
    QFETCH(QString, kind);
    QFETCH(QString, model);
    QFETCH(int, vision);
    ModelCatalog catalog(m_client);
    ProviderConfig p = provider(kind);
    const std::optional<bool> known = catalog.vision(p, model);
    QCOMPARE(known ? int(*known) : -1, vision);
    // Shown in a model list only when it is known.
    if (model == "my-finetune"_L1)
        QCOMPARE(catalog.knownVision(p, model), std::nullopt);
    // The provider's own setting wins.
    p.vision = u"no"_s;
    QCOMPARE(catalog.vision(p, model), std::optional<bool>(false));
    p.vision = u"yes"_s;
    QCOMPARE(catalog.vision(p, model), std::optional<bool>(true));
}

void ProviderStreamsTest::ollamaIsAskedAboutVision()
{
    m_fake.setModels({u"llava-vision"_s, u"qwen3"_s});
    ModelCatalog catalog(m_client);
    const ProviderConfig p = provider(u"ollama"_s);
    int done = 0;
    catalog.learnModel(p, u"llava-vision"_s, this, [&] { ++done; });
    catalog.learnModel(p, u"qwen3"_s, this, [&] { ++done; });
    catalog.learnModel(p, u"missing"_s, this, [&] { ++done; });
    QVERIFY(waitUntil([&] { return done == 3; }, 5000));
    QCOMPARE(catalog.vision(p, u"llava-vision"_s), std::optional<bool>(true));
    QCOMPARE(catalog.vision(p, u"qwen3"_s), std::optional<bool>(false));
    QCOMPARE(catalog.vision(p, u"missing"_s), std::nullopt); // a 404 leaves it unknown
    QCOMPARE(m_fake.requests().last().path, QByteArray("/api/show"));
    // Its context length too; asked, answered or not, so a turn does not wait for it again.
    QCOMPARE(catalog.contextLength(p, u"qwen3"_s), 32768);
    QVERIFY(catalog.asked(p, u"qwen3"_s) && catalog.asked(p, u"missing"_s) && !catalog.asked(p, u"other"_s));
    QVERIFY2(catalog.learnError(p, u"missing"_s).contains("not found"_L1),
             qPrintable(catalog.learnError(p, u"missing"_s)));
}

AGENTDESK_TEST_MAIN_EITHER_LOOP(ProviderStreamsTest)
#include "tst_providerstreams.moc"
