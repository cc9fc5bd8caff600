#include "dispatchermain.h"
#include "fakeupstream.h"
#include "llm/demostream.h"
#include "llm/httpexchange.h"
#include "llm/llmclient.h"
#include "llm/llmstream.h"
#include "llm/openaistream.h"
#include "streamoutcome.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

using namespace Qt::StringLiterals;

// A stream fed by hand, to see what LlmStream makes of the deltas a decoder gives it.
class HandFedStream : public LlmStream
{
public:
    using LlmStream::emitDelta;
    using LlmStream::emitFailed;
    using LlmStream::emitFinished;
    void abort() override { emitFailed(LlmError{LlmError::Aborted, 0, u"aborted"_s, {}}); }
};

class LlmClientTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void normalStream_data();
    void normalStream();
    void chineseSplitIntoSingleBytes();
    void usageMissingIsEstimated();
    void usageInline();
    void httpErrors_data();
    void httpErrors();
    void httpErrorWithPlainBody();
    void apiKeyIsSent();
    void apiKeyNeverLoggedOrReturned();
    void cutKeepsPartialText_data();
    void cutKeepsPartialText();
    void stallTimeout();
    void slowStreamIsNotATotalTimeout();
    void headersTimeout();
    void unreachable();
    void malformedLinesAreSkipped();
    void finishLength();
    void missingDone();
    void serverIgnoringStreamFlag();
    void ollamaStyleStream();
    void inBandError();
    void htmlAnswerIsProtocolError();
    void httpErrorWithoutBodyNamesItsReason();
    void abortClosesUpstream();
    void abortFromDeltaHandler();
    void deletingStreamClosesUpstream();
    void destroyingClientAbortsItsStreams();
    void requestBody();
    void baseUrlVariants_data();
    void baseUrlVariants();
    void invalidBaseUrl();
    void providerFromEnvironment_data();
    void providerFromEnvironment();
    void demoStream();
    void demoAbort();
    void estimateTokens();
    void surrogateHalvesWaitForTheirPair();
    void fiftyConcurrentStreams_data();
    void fiftyConcurrentStreams();
    void sameOutcomeOverBothPaths_data();
    void sameOutcomeOverBothPaths();

private:
    ProviderConfig provider() const;
    ChatRequest request(const QString &model = u"fake"_s) const;
    // A one-shot server that answers any request with `response` and closes.
    QUrl rawServer(const QByteArray &response);

    FakeUpstream m_fake;
    std::unique_ptr<QObject> m_scratch; // per-test servers
};

void LlmClientTest::initTestCase()
{
    QVERIFY2(m_fake.listen(), qPrintable(m_fake.errorString()));
}

void LlmClientTest::init()
{
    m_fake.setDefaultScenario(FakeScenario());
    m_fake.setRequiredApiKey(QString());
    m_fake.clearRequests();
    QTRY_COMPARE(m_fake.activeStreams(), 0); // leftovers of the previous test are gone
    m_fake.resetCounters();
    m_scratch = std::make_unique<QObject>();
}

ProviderConfig LlmClientTest::provider() const
{
    ProviderConfig p;
    p.name = u"fake"_s;
    p.baseUrl = m_fake.baseUrl();
    p.model = u"fake"_s;
    p.connectTimeoutMs = 5000;
    p.stallTimeoutMs = 5000;
    return p;
}

ChatRequest LlmClientTest::request(const QString &model) const
{
    ChatRequest r;
    r.model = model;
    r.messages = {{u"system"_s, u"You are terse."_s}, {u"user"_s, u"Say hello."_s}};
    return r;
}

QUrl LlmClientTest::rawServer(const QByteArray &response)
{
    auto *server = new QTcpServer(m_scratch.get());
    if (!server->listen(QHostAddress::LocalHost))
        return {};
    connect(server, &QTcpServer::newConnection, server, [server, response] {
        QTcpSocket *socket = server->nextPendingConnection();
        connect(socket, &QTcpSocket::readyRead, socket, [socket, response] {
            if (socket->property("answered").toBool())
                return;
            socket->setProperty("request", socket->property("request").toByteArray() + socket->readAll());
            if (!socket->property("request").toByteArray().contains("\r\n\r\n"))
                return;
            socket->setProperty("answered", true);
            socket->write(response);
            socket->disconnectFromHost();
        });
    });
    return QUrl(u"http://127.0.0.1:%1/v1"_s.arg(server->serverPort()));
}

void LlmClientTest::normalStream_data()
{
    QTest::addColumn<QString>("options");
    QTest::newRow("plain") << QString();
    QTest::newRow("crlf") << u",crlf=1"_s;
    QTest::newRow("close-delimited") << u",chunked=0"_s;
    QTest::newRow("split=7") << u",split=7"_s;
    QTest::newRow("delayed") << u",first=50,delay=10"_s;
}

void LlmClientTest::normalStream()
{
    QFETCH(QString, options);
    LlmClient client;
    const QString model = u"fake:tokens=5"_s + options;
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request(model));
    out.watch(stream);
    QVERIFY(out.wait());
    QVERIFY2(!out.error, qPrintable(out.error ? out.error->message : QString()));
    QCOMPARE(out.terminals, 1);
    QCOMPARE(out.afterTerminal, 0);
    QCOMPARE(out.deltas, (QStringList{u"Hello"_s, u" from"_s, u" the"_s, u" fake"_s, u" upstream"_s}));
    QCOMPARE(stream->text(), u"Hello from the fake upstream"_s);
    QVERIFY(stream->isFinished());
    QCOMPARE(out.completion->finishReason, u"stop"_s);
    QCOMPARE(out.completion->model, model); // the fake echoes the requested model
    QCOMPARE(out.completion->usageEstimated, false);
    QCOMPARE(out.completion->completionTokens, 5);
    // the fake counts 3 + 4 per message + characters / 4: 3 + 8 + (14 + 10) / 4
    QCOMPARE(out.completion->promptTokens, 17);
}

void LlmClientTest::chineseSplitIntoSingleBytes()
{
    const QString text = u"你好，世界！😀 こんにちは、한국어 — ünïcödé 𠀀𠀁 完。"_s;
    FakeScenario scenario;
    scenario.text = text;
    scenario.tokens = 9;
    scenario.split = 1;
    m_fake.setDefaultScenario(scenario);
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request());
    out.watch(stream);
    QVERIFY(out.wait(10000));
    QVERIFY(out.completion);
    QCOMPARE(stream->text(), text);
    QCOMPARE(out.deltas, scenario.pieces());
    QCOMPARE(out.deltas.size(), 9);
    QVERIFY(!stream->text().contains(QChar::ReplacementCharacter));
}

void LlmClientTest::usageMissingIsEstimated()
{
    LlmClient client;
    Outcome out;
    out.watch(
        client.startChat(provider(), request(u"fake:usage=0,tokens=5,text=Twelve chars and then 你好"_s)));
    QVERIFY(out.wait());
    QVERIFY(out.completion);
    QVERIFY(out.completion->usageEstimated);
    // 22 Latin characters / 4 rounded up + 2 CJK characters
    QCOMPARE(out.completion->completionTokens, 6 + 2);
    QVERIFY(out.completion->promptTokens > 0);
}

void LlmClientTest::usageInline()
{
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(provider(), request(u"fake:usage=inline,tokens=7"_s)));
    QVERIFY(out.wait());
    QVERIFY(out.completion);
    QCOMPARE(out.completion->usageEstimated, false);
    QCOMPARE(out.completion->completionTokens, 7);
    QCOMPARE(out.completion->promptTokens, 17);
}

void LlmClientTest::httpErrors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");
    QTest::newRow("401") << 401 << u"Incorrect API key provided"_s;
    QTest::newRow("429") << 429 << u"Rate limit reached"_s;
    QTest::newRow("500") << 500 << u"The server had an error"_s;
}

void LlmClientTest::httpErrors()
{
    QFETCH(int, status);
    QFETCH(QString, message);
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request(u"fake:status=%1"_s.arg(status)));
    out.watch(stream);
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Http);
    QCOMPARE(out.error->httpStatus, status);
    QCOMPARE(out.error->code, u"upstream_http_%1"_s.arg(status));
    QVERIFY2(out.error->message.startsWith(message), qPrintable(out.error->message));
    QVERIFY(!out.error->message.contains("{"_L1)); // the message, not the JSON around it
    QCOMPARE(out.terminals, 1);
    QVERIFY(out.deltas.isEmpty());
}

void LlmClientTest::httpErrorWithPlainBody()
{
    const QByteArray body = "<html><body>502 Bad Gateway from nginx</body></html>";
    const QUrl url = rawServer("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: " +
                               QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    ProviderConfig p = provider();
    p.baseUrl = url;
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(p, request()));
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->httpStatus, 502);
    QCOMPARE(out.error->code, u"upstream_http_502"_s);
    QVERIFY2(out.error->message.contains("502 Bad Gateway from nginx"_L1), qPrintable(out.error->message));
}

void LlmClientTest::apiKeyIsSent()
{
    m_fake.setRequiredApiKey(u"sk-right"_s);
    LlmClient client;
    ProviderConfig p = provider();
    p.apiKey = u"sk-wrong"_s;
    Outcome wrong;
    wrong.watch(client.startChat(p, request()));
    QVERIFY(wrong.wait());
    QVERIFY(wrong.error);
    QCOMPARE(wrong.error->httpStatus, 401);

    p.apiKey = u"sk-right"_s;
    Outcome right;
    right.watch(client.startChat(p, request()));
    QVERIFY(right.wait());
    QVERIFY(right.completion);
}

static QStringList s_logged;

void LlmClientTest::apiKeyNeverLoggedOrReturned()
{
    const QByteArray body = R"({"error":{"message":"Invalid key sk-secret-4242 for this project"}})";
    const QUrl url =
        rawServer("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: " +
                  QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    ProviderConfig p = provider();
    p.baseUrl = url;
    p.apiKey = u"sk-secret-4242"_s;
    s_logged.clear();
    const QtMessageHandler previous = qInstallMessageHandler(
        [](QtMsgType, const QMessageLogContext &, const QString &message) { s_logged.append(message); });
    const QString rules = u"agentdesk.llm.debug=true"_s;
    QLoggingCategory::setFilterRules(rules); // debug lines too
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(p, request()));
    const bool done = out.wait();
    qInstallMessageHandler(previous);
    QLoggingCategory::setFilterRules(QString());
    QVERIFY(done);
    QVERIFY(out.error);
    QCOMPARE(out.error->message, u"Invalid key *** for this project"_s);
    QVERIFY(!s_logged.isEmpty()); // the handler saw the llm lines
    for (const QString &line : std::as_const(s_logged))
        QVERIFY2(!line.contains("sk-secret-4242"_L1), qPrintable(line));
}

void LlmClientTest::cutKeepsPartialText_data()
{
    QTest::addColumn<QString>("model");
    QTest::newRow("chunked") << u"fake:tokens=5,cut=2,delay=5"_s;
    // close-delimited: the HTTP layer sees a clean end, only the missing finish tells
    QTest::newRow("close-delimited") << u"fake:tokens=5,cut=2,delay=5,chunked=0"_s;
}

void LlmClientTest::cutKeepsPartialText()
{
    QFETCH(QString, model);
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request(model));
    out.watch(stream);
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Network);
    QCOMPARE(out.error->code, u"upstream_disconnected"_s);
    QCOMPARE(stream->text(), u"Hello from"_s);
    QCOMPARE(out.terminals, 1);
}

void LlmClientTest::stallTimeout()
{
    LlmClient client;
    ProviderConfig p = provider();
    p.stallTimeoutMs = 300;
    Outcome out;
    LlmStream *stream = client.startChat(p, request(u"fake:tokens=5,stall=2"_s));
    out.watch(stream);
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Timeout);
    QCOMPARE(out.error->code, u"upstream_timeout"_s);
    QCOMPARE(stream->text(), u"Hello from"_s);
    QVERIFY2(out.terminalMs >= 250, qPrintable(QString::number(out.terminalMs)));
    // and the upstream is told: the connection is closed
    QTRY_COMPARE_WITH_TIMEOUT(m_fake.clientAborts(), 1, 1000);
}

void LlmClientTest::slowStreamIsNotATotalTimeout()
{
    // 6 chunks 150 ms apart: about 900 ms in all, never 350 ms of silence
    LlmClient client;
    ProviderConfig p = provider();
    p.stallTimeoutMs = 350;
    Outcome out;
    out.watch(client.startChat(p, request(u"fake:tokens=5,delay=150"_s)));
    QVERIFY(out.wait());
    QVERIFY2(out.completion, qPrintable(out.error ? out.error->message : QString()));
    QVERIFY(out.terminalMs >= 700);
    QCOMPARE(out.deltas.size(), 5);
}

void LlmClientTest::headersTimeout()
{
    LlmClient client;
    ProviderConfig p = provider();
    p.connectTimeoutMs = 300;
    Outcome out;
    out.watch(client.startChat(p, request(u"fake:stall=0"_s)));
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Timeout);
    QCOMPARE(out.error->code, u"upstream_timeout"_s);
    QCOMPARE(out.error->httpStatus, 0);
    QVERIFY2(out.terminalMs >= 250 && out.terminalMs < 3000, qPrintable(QString::number(out.terminalMs)));
    QTRY_COMPARE_WITH_TIMEOUT(m_fake.clientAborts(), 1, 1000);
}

void LlmClientTest::unreachable()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        port = probe.serverPort();
    }
    ProviderConfig p = provider();
    p.baseUrl = QUrl(u"http://127.0.0.1:%1/v1"_s.arg(port));
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(p, request()));
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Network);
    QCOMPARE(out.error->code, u"upstream_unreachable"_s);
}

void LlmClientTest::malformedLinesAreSkipped()
{
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request(u"fake:tokens=6,malformed=1"_s));
    out.watch(stream);
    QVERIFY(out.wait());
    QVERIFY2(out.completion, qPrintable(out.error ? out.error->message : QString()));
    QCOMPARE(stream->text(), u"Hello from the fake upstream streaming"_s); // no "JUNK" from the unknown event
    QCOMPARE(out.deltas.size(), 6);
    QCOMPARE(out.completion->completionTokens, 6);
}

void LlmClientTest::finishLength()
{
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(provider(), request(u"fake:finish=length"_s)));
    QVERIFY(out.wait());
    QVERIFY(out.completion);
    QCOMPARE(out.completion->finishReason, u"length"_s);
}

void LlmClientTest::missingDone()
{
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(provider(), request(u"fake:nodone=1,tokens=3"_s)));
    QVERIFY(out.wait());
    QVERIFY2(out.completion, qPrintable(out.error ? out.error->message : QString()));
    QCOMPARE(out.completion->finishReason, u"stop"_s);
    QCOMPARE(out.completion->completionTokens, 3);
    QCOMPARE(out.completion->usageEstimated, false);
}

void LlmClientTest::serverIgnoringStreamFlag()
{
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(provider(), request(u"fake:json=1,tokens=4"_s)));
    QVERIFY(out.wait());
    QVERIFY2(out.completion, qPrintable(out.error ? out.error->message : QString()));
    QCOMPARE(out.deltas, QStringList{u"Hello from the fake"_s});
    QCOMPARE(out.completion->completionTokens, 4);
}

void LlmClientTest::ollamaStyleStream()
{
    // `data:` without a space, usage only in the finish chunk, no [DONE], not chunked
    const QUrl url = rawServer(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        "data:{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"qwen2.5:7b\","
        "\"choices\":"
        "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
        ": keep-alive\n\n"
        "data:{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"qwen2.5:7b\","
        "\"choices\":"
        "[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"\"}]}\n\n"
        "data:{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"qwen2.5:7b\","
        "\"choices\":"
        "[{\"index\":0,\"delta\":{\"content\":null},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}\n\n");
    ProviderConfig p = provider();
    p.baseUrl = url;
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(p, request(u"qwen2.5:7b"_s));
    out.watch(stream);
    QVERIFY(out.wait());
    QVERIFY2(out.completion, qPrintable(out.error ? out.error->message : QString()));
    QCOMPARE(stream->text(), u"Hi there"_s);
    QCOMPARE(out.completion->promptTokens, 11);
    QCOMPARE(out.completion->completionTokens, 2);
    QCOMPARE(out.completion->model, u"qwen2.5:7b"_s);
}

void LlmClientTest::inBandError()
{
    const QUrl url =
        rawServer("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                  "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Part\"}}]}\n\n"
                  "data: {\"error\":{\"message\":\"Model overloaded\",\"type\":\"server_error\"}}\n\n");
    ProviderConfig p = provider();
    p.baseUrl = url;
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(p, request());
    out.watch(stream);
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Protocol);
    QCOMPARE(out.error->code, u"upstream_error"_s);
    QCOMPARE(out.error->message, u"Model overloaded"_s);
    QCOMPARE(stream->text(), u"Part"_s);
}

void LlmClientTest::htmlAnswerIsProtocolError()
{
    // e.g. a base URL pointing at a web UI instead of its API
    const QUrl url = rawServer("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
                               "<!doctype html><html><body>Welcome</body></html>\n");
    ProviderConfig p = provider();
    p.baseUrl = url;
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(p, request()));
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Protocol);
    QCOMPARE(out.error->code, u"upstream_protocol"_s);
    QVERIFY2(out.error->message.contains("\"text/html\""_L1), qPrintable(out.error->message));
}

void LlmClientTest::httpErrorWithoutBodyNamesItsReason()
{
    ProviderConfig p = provider();
    p.baseUrl =
        rawServer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(p, request()));
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->code, u"upstream_http_503"_s);
    QCOMPARE(out.error->message, u"Service Unavailable"_s);
}

void LlmClientTest::abortClosesUpstream()
{
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request(u"fake:tokens=100,delay=50"_s));
    out.watch(stream);
    QTRY_VERIFY_WITH_TIMEOUT(out.deltas.size() >= 2, 5000);
    QCOMPARE(m_fake.clientAborts(), 0);
    const QString partial = stream->text();
    stream->abort();
    // failed comes synchronously, exactly once
    QCOMPARE(out.terminals, 1);
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Aborted);
    QCOMPARE(out.error->code, u"aborted"_s);
    QVERIFY(stream->isFinished());
    stream->abort(); // a second abort emits nothing
    // The fake sees the connection close before its reply (5 s at its pace) is complete.
    QTRY_COMPARE_WITH_TIMEOUT(m_fake.clientAborts(), 1, 30000);
    QCOMPARE(m_fake.completedStreams(), 0);
    QTest::qWait(200); // the fake would have sent 4 more chunks by now
    QCOMPARE(out.terminals, 1);
    QCOMPARE(out.afterTerminal, 0);
    QCOMPARE(stream->text(), partial);
}

void LlmClientTest::abortFromDeltaHandler()
{
    // Several chunks in one read: abort() from the first delta must stop the rest.
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request(u"fake:tokens=20"_s));
    out.watch(stream);
    connect(stream, &LlmStream::delta, stream, [stream] { stream->abort(); });
    QVERIFY(out.wait());
    QCOMPARE(out.deltas.size(), 1);
    QVERIFY(out.error);
    QCOMPARE(out.error->kind, LlmError::Aborted);
    QCOMPARE(out.afterTerminal, 0);
}

void LlmClientTest::deletingStreamClosesUpstream()
{
    LlmClient client;
    QObject owner;
    LlmStream *stream = client.startChat(provider(), request(u"fake:tokens=100,delay=50"_s), &owner);
    QCOMPARE(stream->parent(), &owner);
    QSignalSpy deltas(stream, &LlmStream::delta);
    QVERIFY(deltas.wait(5000));
    delete stream;
    QTRY_COMPARE_WITH_TIMEOUT(m_fake.clientAborts(), 1, 1000);
}

void LlmClientTest::destroyingClientAbortsItsStreams()
{
    QObject owner; // outlives the client
    auto client = std::make_unique<LlmClient>();
    Outcome out;
    LlmStream *stream = client->startChat(provider(), request(u"fake:tokens=100,delay=50"_s), &owner);
    out.watch(stream);
    QVERIFY(waitUntil([&] { return !out.deltas.isEmpty(); }, 5000));
    client.reset();
    QCOMPARE(out.terminals, 1);
    QCOMPARE(out.error->kind, LlmError::Aborted);
    QTRY_COMPARE_WITH_TIMEOUT(m_fake.clientAborts(), 1, 1000);
    waitUntil([] { return false; }, 100); // the released reply is deleted after its manager
    QCOMPARE(out.afterTerminal, 0);
}

void LlmClientTest::requestBody()
{
    LlmClient client;
    ProviderConfig p = provider();
    p.apiKey = u"sk-test-123"_s;
    ChatRequest r = request(u"fake:tokens=2"_s);
    r.temperature = 0.25;
    r.maxTokens = 77;
    Outcome out;
    out.watch(client.startChat(p, r));
    QVERIFY(out.wait());
    QCOMPARE(m_fake.requests().size(), 1);
    const FakeRequest sent = m_fake.requests().constFirst();
    QCOMPARE(sent.method, QByteArray("POST"));
    QCOMPARE(sent.path, QByteArray("/v1/chat/completions"));
    QCOMPARE(sent.header("authorization"), QByteArray("Bearer sk-test-123"));
    QCOMPARE(sent.header("accept"), QByteArray("text/event-stream"));
    QVERIFY(sent.header("content-type").startsWith("application/json"));
    QCOMPARE(sent.json.value("model"_L1).toString(), u"fake:tokens=2"_s);
    QCOMPARE(sent.json.value("stream"_L1).toBool(), true);
    QCOMPARE(sent.json.value("stream_options"_L1).toObject().value("include_usage"_L1).toBool(), true);
    QCOMPARE(sent.json.value("temperature"_L1).toDouble(), 0.25);
    QCOMPARE(sent.json.value("max_tokens"_L1).toInt(), 77);
    const QJsonArray messages = sent.json.value("messages"_L1).toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).toObject(),
             (QJsonObject{{u"role"_s, u"system"_s}, {u"content"_s, u"You are terse."_s}}));
    QCOMPARE(messages.at(1).toObject(),
             (QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, u"Say hello."_s}}));

    // Unset options stay out of the body; no key, no header; the provider's model by default.
    Outcome plain;
    plain.watch(client.startChat(provider(), request(QString())));
    QVERIFY(plain.wait());
    QCOMPARE(m_fake.requests().size(), 2);
    const FakeRequest second = m_fake.requests().at(1);
    QVERIFY(second.header("authorization").isEmpty());
    QVERIFY(!second.json.contains("temperature"_L1));
    QVERIFY(!second.json.contains("max_tokens"_L1));
    QCOMPARE(second.json.value("model"_L1).toString(), u"fake"_s);
}

void LlmClientTest::baseUrlVariants_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("/v1") << u"/v1"_s << QByteArray("/v1/chat/completions");
    QTest::newRow("/v1/") << u"/v1/"_s << QByteArray("/v1/chat/completions");
    QTest::newRow("root") << QString() << QByteArray("/chat/completions");
    QTest::newRow("root/") << u"/"_s << QByteArray("/chat/completions");
}

void LlmClientTest::baseUrlVariants()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, expected);
    ProviderConfig p = provider();
    QUrl url = p.baseUrl;
    url.setPath(path);
    p.baseUrl = url;
    LlmClient client;
    Outcome out;
    out.watch(client.startChat(p, request()));
    QVERIFY(out.wait());
    QVERIFY(out.completion);
    QCOMPARE(m_fake.requests().constLast().path, expected);
}

void LlmClientTest::invalidBaseUrl()
{
    ProviderConfig p = provider();
    p.baseUrl = QUrl(u"localhost:11434"_s); // scheme missing: a common typo
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(p, request());
    out.watch(stream); // connected after startChat returned: the failure must still arrive
    QVERIFY(out.wait());
    QVERIFY(out.error);
    QCOMPARE(out.error->code, u"upstream_invalid_url"_s);
}

void LlmClientTest::providerFromEnvironment_data()
{
    QTest::addColumn<QStringList>("vars");
    QTest::addColumn<bool>("found");
    QTest::addColumn<QString>("baseUrl");
    QTest::addColumn<QString>("apiKey");
    QTest::addColumn<QString>("model");
    QTest::newRow("nothing") << QStringList{u"HOME=/tmp"_s} << false << QString() << QString() << QString();
    QTest::newRow("model only") << QStringList{u"OPENAI_MODEL=gpt-4o"_s} << false << QString() << QString()
                                << QString();
    QTest::newRow("key only") << QStringList{u"OPENAI_API_KEY=sk-abc"_s} << true
                              << u"https://api.openai.com/v1"_s << u"sk-abc"_s << u"gpt-4o-mini"_s;
    QTest::newRow("ollama") << QStringList{u"OPENAI_BASE_URL=http://localhost:11434/v1"_s,
                                           u"OPENAI_MODEL=qwen2.5:7b"_s}
                            << true << u"http://localhost:11434/v1"_s << QString() << u"qwen2.5:7b"_s;
    QTest::newRow("AGENTDESK_MODEL wins")
        << QStringList{u"OPENAI_BASE_URL=https://api.deepseek.com/v1"_s, u"OPENAI_API_KEY=sk-ds"_s,
                       u"OPENAI_MODEL=gpt-4o"_s, u"AGENTDESK_MODEL=deepseek-chat"_s}
        << true << u"https://api.deepseek.com/v1"_s << u"sk-ds"_s << u"deepseek-chat"_s;
}

void LlmClientTest::providerFromEnvironment()
{
    QFETCH(QStringList, vars);
    QFETCH(bool, found);
    QProcessEnvironment env;
    for (const QString &v : std::as_const(vars))
        env.insert(v.section(u'=', 0, 0), v.section(u'=', 1));
    const std::optional<ProviderConfig> p = LlmClient::providerFromEnvironment(env);
    QCOMPARE(p.has_value(), found);
    if (!found)
        return;
    QFETCH(QString, baseUrl);
    QFETCH(QString, apiKey);
    QFETCH(QString, model);
    QCOMPARE(p->name, u"env"_s);
    QCOMPARE(p->kind, u"openai"_s);
    QVERIFY(!p->isDemo());
    QCOMPARE(p->baseUrl, QUrl(baseUrl));
    QCOMPARE(p->apiKey, apiKey);
    QCOMPARE(p->model, model);
}

void LlmClientTest::demoStream()
{
    const ProviderConfig demo = LlmClient::demoProvider();
    QCOMPARE(demo.name, u"demo"_s);
    QVERIFY(demo.isDemo());
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(demo, request());
    QVERIFY(qobject_cast<DemoStream *>(stream));
    out.watch(stream);
    QVERIFY(out.wait(15000));
    QVERIFY(out.completion);
    QCOMPARE(stream->text(), DemoStream::replyText());
    QVERIFY(stream->text().contains("OPENAI_BASE_URL"_L1));
    QVERIFY(stream->text().contains("not an answer from a model"_L1));
    QVERIFY(out.deltas.size() > 20);
    QCOMPARE(out.completion->model, u"demo"_s);
    QCOMPARE(out.completion->finishReason, u"stop"_s);
    QVERIFY(out.completion->usageEstimated);
    // a human pace: at least 25 ms per token
    QVERIFY2(out.terminalMs >= 25 * (out.deltas.size() - 1), qPrintable(QString::number(out.terminalMs)));
    QCOMPARE(client.managerCount(), 0); // no network for the demo

    // Asked in Chinese, it answers in Chinese, in pieces of a couple of characters.
    ChatRequest zh = request();
    zh.messages.append({u"user"_s, u"你好，这是什么？"_s, {}, {}});
    QVERIFY(DemoStream::writesChinese(zh));
    QVERIFY(!DemoStream::writesChinese(request()));
    Outcome zhOut;
    LlmStream *zhStream = client.startChat(demo, zh);
    zhOut.watch(zhStream);
    QVERIFY(zhOut.wait(30000));
    QCOMPARE(zhStream->text(), DemoStream::replyText(true));
    QVERIFY(zhStream->text().contains(u"演示回复"_s));
    QVERIFY(zhOut.deltas.size() > 40);
}

void LlmClientTest::demoAbort()
{
    LlmClient client;
    Outcome out;
    LlmStream *stream = client.startChat(LlmClient::demoProvider(), request());
    out.watch(stream);
    QTRY_VERIFY(out.deltas.size() >= 2);
    stream->abort();
    QCOMPARE(out.terminals, 1);
    QCOMPARE(out.error->kind, LlmError::Aborted);
    const qsizetype seen = out.deltas.size();
    QTest::qWait(150);
    QCOMPARE(out.deltas.size(), seen);
    QCOMPARE(out.afterTerminal, 0);
}

void LlmClientTest::surrogateHalvesWaitForTheirPair()
{
    const QString grin = u"😀"_s; // U+1F600: two UTF-16 units
    {
        HandFedStream stream;
        QStringList deltas;
        connect(&stream, &LlmStream::delta, &stream, [&](const QString &d) { deltas.append(d); });
        stream.emitDelta(u"a"_s + grin.at(0));
        stream.emitDelta(QString(grin.at(1)) + u"b"_s);
        stream.emitDelta(QString(grin.at(0))); // nothing but a half: nothing to say yet
        stream.emitDelta(QString(grin.at(1)));
        QCOMPARE(deltas, (QStringList{u"a"_s, grin + u"b"_s, grin}));
        QCOMPARE(stream.text(), u"a"_s + grin + u"b"_s + grin);
    }
    {
        // Ending on half a pair: the finished reply shows U+FFFD, in the stream and the text alike.
        HandFedStream stream;
        QStringList deltas;
        connect(&stream, &LlmStream::delta, &stream, [&](const QString &d) { deltas.append(d); });
        stream.emitDelta(u"x"_s + grin.at(0));
        stream.emitFinished({});
        QCOMPARE(deltas, (QStringList{u"x"_s, u"\uFFFD"_s}));
        QCOMPARE(stream.text(), u"x\uFFFD"_s);
    }
    {
        // A failed or cancelled reply keeps to what was relayed.
        HandFedStream stream;
        stream.emitDelta(u"y"_s + grin.at(0));
        stream.abort();
        QCOMPARE(stream.text(), u"y"_s);
    }
}

void LlmClientTest::estimateTokens()
{
    QCOMPARE(LlmStream::estimateTokens(u""_s), 0);
    QCOMPARE(LlmStream::estimateTokens(u"abcd"_s), 1);
    QCOMPARE(LlmStream::estimateTokens(u"abcde"_s), 2);
    QCOMPARE(LlmStream::estimateTokens(u"你好世界"_s), 4);
    QCOMPARE(LlmStream::estimateTokens(u"𠀀"_s), 1); // one character, two UTF-16 units
    QCOMPARE(LlmStream::estimateTokens(u"hi 你好"_s), 3);
}

void LlmClientTest::fiftyConcurrentStreams_data()
{
    QTest::addColumn<bool>("direct");
    QTest::newRow("direct http") << true;
    QTest::newRow("qt manager pool (https path)") << false;
}

void LlmClientTest::fiftyConcurrentStreams()
{
    // One stock manager runs 6 at a time per host: 9 rounds of ~600 ms. All 50 must run at once.
    QFETCH(bool, direct);
    constexpr int count = 50;
    LlmClient client;
    client.setDirectHttp(direct);
    QList<std::shared_ptr<Outcome>> outcomes;
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < count; ++i) {
        auto out = std::make_shared<Outcome>();
        out->watch(client.startChat(provider(), request(u"fake:tokens=5,delay=100"_s)));
        outcomes.append(out);
    }
    QVERIFY(QTest::qWaitFor(
        [&] {
            return std::all_of(outcomes.cbegin(), outcomes.cend(),
                               [](const auto &o) { return o->terminals > 0; });
        },
        20000));
    const qint64 elapsed = timer.elapsed();
    for (const auto &out : std::as_const(outcomes)) {
        QVERIFY2(out->completion, qPrintable(out->error ? out->error->message : QString()));
        QCOMPARE(out->deltas.join(QString()), u"Hello from the fake upstream"_s);
    }
    QCOMPARE(m_fake.maxConcurrentStreams(), count);
    if (direct) // one manager, one socket per stream, no cap (llm/directhttp.h)
        QCOMPARE(client.managerCount(), 1);
    else // stock managers, under six streams each
        QVERIFY2(client.managerCount() >= (count + 5) / 6,
                 qPrintable(QString::number(client.managerCount())));
    QVERIFY2(elapsed < 4000, qPrintable(u"%1 ms"_s.arg(elapsed)));
}

void LlmClientTest::sameOutcomeOverBothPaths_data()
{
    QTest::addColumn<bool>("direct");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("text"); // what streamed
    QTest::addColumn<QString>("code"); // the error's; empty: a completion
    for (const bool direct : {true, false}) {
        const char *path = direct ? "exchange" : "network reply";
        QTest::addRow("%s: whole", path)
            << direct << u"fake:tokens=5"_s << u"Hello from the fake upstream"_s << QString();
        QTest::addRow("%s: split", path)
            << direct << u"fake:tokens=5,split=7"_s << u"Hello from the fake upstream"_s << QString();
        QTest::addRow("%s: one JSON answer", path)
            << direct << u"fake:json=1,tokens=4"_s << u"Hello from the fake"_s << QString();
        QTest::addRow("%s: HTTP 429", path)
            << direct << u"fake:status=429"_s << QString() << u"upstream_http_429"_s;
        QTest::addRow("%s: cut", path)
            << direct << u"fake:tokens=5,cut=2,delay=5"_s << u"Hello from"_s << u"upstream_disconnected"_s;
        QTest::addRow("%s: cut, close-delimited", path)
            << direct << u"fake:tokens=5,cut=2,delay=5,chunked=0"_s << u"Hello from"_s
            << u"upstream_disconnected"_s;
    }
}

void LlmClientTest::sameOutcomeOverBothPaths()
{
    // Plain http is read as an HttpExchange, without a QNetworkReply; https (and proxies) through a
    // QNetworkReply, here the stock manager's against the same fake. Both end the same way.
    QFETCH(bool, direct);
    QFETCH(QString, model);
    QFETCH(QString, text);
    QFETCH(QString, code);
    LlmClient client;
    client.setDirectHttp(direct);
    Outcome out;
    LlmStream *stream = client.startChat(provider(), request(model));
    out.watch(stream);
    QCOMPARE(stream->findChildren<QNetworkReply *>().size(), direct ? 0 : 1);
    QCOMPARE(stream->findChildren<HttpExchange *>().size(), direct ? 1 : 0);
    QVERIFY(out.wait());
    QCOMPARE(out.terminals, 1);
    QCOMPARE(stream->text(), text);
    if (code.isEmpty()) {
        QVERIFY2(out.completion, qPrintable(out.error ? out.error->message : QString()));
    } else {
        QVERIFY(out.error);
        QCOMPARE(out.error->code, code);
        if (code == "upstream_http_429"_L1)
            QVERIFY2(out.error->message.startsWith("Rate limit reached"_L1), qPrintable(out.error->message));
    }
}

AGENTDESK_TEST_MAIN_EITHER_LOOP(LlmClientTest)
#include "tst_llmclient.moc"
