// McpClient against MCP servers nobody here wrote (@modelcontextprotocol/server-everything over
// stdio and Streamable HTTP, @modelcontextprotocol/server-filesystem, from tests/js by `npm ci`),
// and against tests/mcp/scripted-server.mjs for what real servers do not do on demand: refuse to
// start, die in the middle of a call, stall past the time-out, page their tool list, speak a
// protocol version nobody asked for.
#include "mcp/mcpclient.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

const QString node = QStringLiteral(AGENTDESK_NODE);
const QString everything = QStringLiteral(
    AGENTDESK_SOURCE_DIR "/tests/js/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const QString filesystem = QStringLiteral(
    AGENTDESK_SOURCE_DIR "/tests/js/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");
const QString scripted = QStringLiteral(AGENTDESK_SOURCE_DIR "/tests/mcp/scripted-server.mjs");

// What one call came back with.
struct Outcome
{
    QList<double> progress;
    std::optional<ToolOutcome> result;
    QString text() const
    {
        QString out;
        for (const QJsonValue &block : result->content)
            out += block.toObject().value("text"_L1).toString();
        return out;
    }
};

std::shared_ptr<Outcome> watch(ToolCallJob *job)
{
    auto out = std::make_shared<Outcome>();
    QObject::connect(job, &ToolCallJob::progress, job,
                     [out](double p, double, const QString &) { out->progress.append(p); });
    QObject::connect(job, &ToolCallJob::finished, job, [out](const ToolOutcome &o) { out->result = o; });
    return out;
}

QStringList toolNames(const McpClient &client)
{
    QStringList names;
    for (const ToolInfo &tool : client.tools())
        names.append(tool.name);
    return names;
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

class McpClientTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void everythingOverStdio();
    void cancelTellsTheServer();
    void everythingOverStreamableHttp();
    void filesystemServer();
    void serverThatCannotStart();
    void serverThatDiesMidCallComesBack();
    void stallPastTheTimeout();
    void pagedToolList();
    void unsupportedProtocolVersion();

private:
    std::unique_ptr<McpClient> stdio(const QString &name, const QStringList &args, int timeoutMs = 120000);
    QTemporaryDir m_dir;
    QNetworkAccessManager m_network;
};

void McpClientTest::initTestCase()
{
    QVERIFY2(QFile::exists(everything),
             "server-everything is missing: run `npm ci --prefix tests/js` (scripts/test does)");
    QVERIFY(QFile::exists(filesystem));
    QVERIFY(m_dir.isValid());
}

std::unique_ptr<McpClient> McpClientTest::stdio(const QString &name, const QStringList &args, int timeoutMs)
{
    McpClient::Config config;
    config.name = name;
    config.transport = u"stdio"_s;
    config.command = node;
    config.args = args;
    config.timeoutMs = timeoutMs;
    return std::make_unique<McpClient>(config, &m_network);
}

void McpClientTest::everythingOverStdio()
{
    auto client = stdio(u"everything"_s, {everything, u"stdio"_s});
    client->start();
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Connected, 30000);
    QVERIFY(McpClient::supportedProtocolVersions().contains(client->protocolVersion()));
    const QStringList names = toolNames(*client);
    for (const char *tool : {"echo", "get-sum", "get-tiny-image", "trigger-long-running-operation"})
        QVERIFY2(names.contains(QLatin1String(tool)), tool);
    for (const ToolInfo &tool : client->tools()) {
        QCOMPARE(tool.server, u"everything"_s);
        QCOMPARE(tool.function, u"everything__"_s + tool.name);
        QVERIFY(!tool.inputSchema.isEmpty());
    }

    auto echo = watch(client->callTool(u"echo"_s, {{u"message"_s, u"你好 MCP"_s}}, this));
    auto sum = watch(client->callTool(u"get-sum"_s, {{u"a"_s, 2}, {u"b"_s, 40}}, this));
    auto image = watch(client->callTool(u"get-tiny-image"_s, {}, this));
    QTRY_VERIFY_WITH_TIMEOUT(echo->result && sum->result && image->result, 20000);
    QVERIFY(echo->text().contains(u"你好 MCP"_s));
    QVERIFY(sum->text().contains(u"42"_s));
    QVERIFY(!sum->result->isError);
    bool png = false;
    for (const QJsonValue &block : image->result->content) {
        if (block.toObject().value("type"_L1) == "image"_L1) {
            QCOMPARE(block.toObject().value("mimeType"_L1).toString(), u"image/png"_s);
            png = QByteArray::fromBase64(block.toObject().value("data"_L1).toString().toLatin1())
                      .startsWith("\x89PNG");
        }
    }
    QVERIFY(png);

    // Progress while it runs, with the token it was given.
    auto longOne = watch(
        client->callTool(u"trigger-long-running-operation"_s, {{u"duration"_s, 1}, {u"steps"_s, 3}}, this));
    QTRY_VERIFY_WITH_TIMEOUT(longOne->result, 20000);
    QCOMPARE(longOne->progress, (QList<double>{1, 2, 3}));
    QVERIFY(longOne->text().contains(u"completed"_s));

    // A tool that does not exist: the server's error, as a result the model can see.
    auto missing = watch(client->callTool(u"no-such-tool"_s, {}, this));
    QTRY_VERIFY_WITH_TIMEOUT(missing->result, 20000);
    QVERIFY(missing->result->isError);

    QSignalSpy stopped(client.get(), &McpClient::stopped);
    client->stop();
    QVERIFY(stopped.wait(10000));
    QCOMPARE(client->status(), McpClient::Status::Stopped);
}

void McpClientTest::cancelTellsTheServer()
{
    const QString log = m_dir.filePath(u"cancel.log"_s);
    auto client = stdio(u"scripted"_s, {scripted, u"--log"_s, log});
    client->start();
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Connected, 30000);
    ToolCallJob *job = client->callTool(u"slow"_s, {}, this);
    auto out = watch(job);
    QTRY_VERIFY(QFile(log).size() > 0 && [&] {
        QFile f(log);
        return f.open(QIODevice::ReadOnly) && f.readAll().contains("\"tools/call\"");
    }());
    job->cancel();
    // The server hears of it: notifications/cancelled naming the call's request id.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            QFile f(log);
            return f.open(QIODevice::ReadOnly) && f.readAll().contains("notifications/cancelled");
        }(),
        10000);
    QFile f(log);
    QVERIFY(f.open(QIODevice::ReadOnly));
    qint64 callId = -1;
    qint64 cancelledId = -2;
    for (const QByteArray &line : f.readAll().split('\n')) {
        const QJsonObject message = QJsonDocument::fromJson(line).object();
        if (message.value("method"_L1) == "tools/call"_L1)
            callId = message.value("id"_L1).toInteger();
        if (message.value("method"_L1) == "notifications/cancelled"_L1)
            cancelledId = message.value("params"_L1).toObject().value("requestId"_L1).toInteger();
    }
    QCOMPARE(cancelledId, callId);
    QVERIFY(!out->result); // a cancelled call says nothing more
    // The connection goes on.
    auto quick = watch(client->callTool(u"quick"_s, {{u"n"_s, 1}}, this));
    QTRY_VERIFY(quick->result);
    QVERIFY(quick->text().contains(u"quick answer"_s));
}

void McpClientTest::everythingOverStreamableHttp()
{
    const quint16 port = freePort();
    QProcess server;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"PORT"_s, QString::number(port));
    server.setProcessEnvironment(env);
    server.setProcessChannelMode(QProcess::MergedChannels);
    server.start(node, {everything, u"streamableHttp"_s});
    QVERIFY(server.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(
        server.readAll().contains("listening") || server.state() != QProcess::Running ||
            [&] {
                QTcpSocket probe;
                probe.connectToHost(QHostAddress::LocalHost, port);
                return probe.waitForConnected(100);
            }(),
        30000);
    McpClient::Config config;
    config.name = u"remote"_s;
    config.transport = u"http"_s;
    config.url = QUrl(u"http://127.0.0.1:%1/mcp"_s.arg(port));
    config.headers = {{"X-Test", "yes"}};
    McpClient client(config, &m_network);
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(client.status(), McpClient::Status::Connected, 30000);
    QVERIFY(toolNames(client).contains(u"get-sum"_s));
    auto sum = watch(client.callTool(u"get-sum"_s, {{u"a"_s, 20}, {u"b"_s, 22}}, this));
    auto longOne = watch(
        client.callTool(u"trigger-long-running-operation"_s, {{u"duration"_s, 1}, {u"steps"_s, 2}}, this));
    QTRY_VERIFY_WITH_TIMEOUT(sum->result && longOne->result, 20000);
    QVERIFY(sum->text().contains(u"42"_s));
    QCOMPARE(longOne->progress, (QList<double>{1, 2})); // notifications on the POST's own SSE answer
    client.stop();
    server.terminate();
    server.waitForFinished(5000);
}

void McpClientTest::filesystemServer()
{
    QTemporaryDir root;
    QFile file(root.filePath(u"note.txt"_s));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("笔记: the filesystem server read this.\n");
    file.close();
    auto client = stdio(u"files"_s, {filesystem, root.path()});
    client->start();
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Connected, 30000);
    QVERIFY(toolNames(*client).contains(u"read_text_file"_s) || toolNames(*client).contains(u"read_file"_s));
    const QString tool =
        toolNames(*client).contains(u"read_text_file"_s) ? u"read_text_file"_s : u"read_file"_s;
    auto read = watch(client->callTool(tool, {{u"path"_s, file.fileName()}}, this));
    auto outside = watch(client->callTool(tool, {{u"path"_s, u"/etc/passwd"_s}}, this));
    QTRY_VERIFY_WITH_TIMEOUT(read->result && outside->result, 20000);
    QVERIFY(read->text().contains(u"笔记"_s));
    QVERIFY(outside->result->isError); // outside the allowed directory
}

void McpClientTest::serverThatCannotStart()
{
    McpClient::Config config;
    config.name = u"nothing"_s;
    config.command = m_dir.filePath(u"no-such-program"_s);
    McpClient missing(config, &m_network);
    missing.start();
    QTRY_COMPARE_WITH_TIMEOUT(missing.status(), McpClient::Status::Error, 10000);
    QVERIFY2(missing.error().contains(u"Cannot start"_s), qPrintable(missing.error()));

    auto exits = stdio(u"exits"_s, {scripted, u"--exit-at-start"_s});
    exits->start();
    QTRY_COMPARE_WITH_TIMEOUT(exits->status(), McpClient::Status::Error, 10000);
    QVERIFY2(exits->error().contains(u"exited with code 3"_s), qPrintable(exits->error()));
    // A call to a server that is down is an error result at once, not a hang.
    auto call = watch(exits->callTool(u"quick"_s, {}, this));
    QTRY_VERIFY(call->result);
    QVERIFY(call->result->isError);
    QVERIFY(call->text().contains(u"unavailable"_s));
}

void McpClientTest::serverThatDiesMidCallComesBack()
{
    auto client = stdio(u"dies"_s, {scripted, u"--die-on-call"_s});
    client->start();
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Connected, 30000);
    auto call = watch(client->callTool(u"quick"_s, {}, this));
    QTRY_VERIFY_WITH_TIMEOUT(call->result, 10000);
    QVERIFY(call->result->isError);
    QVERIFY2(call->text().contains(u"stopped"_s), qPrintable(call->text()));
    QCOMPARE(client->status(), McpClient::Status::Error);
    // Started again after a back-off.
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Connected, 10000);
}

void McpClientTest::stallPastTheTimeout()
{
    const QString log = m_dir.filePath(u"stall.log"_s);
    auto client = stdio(u"stalls"_s, {scripted, u"--stall-on-call"_s, u"--log"_s, log}, 1500);
    client->start();
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Connected, 30000);
    auto call = watch(client->callTool(u"quick"_s, {}, this));
    QTRY_VERIFY_WITH_TIMEOUT(call->result, 20000);
    QVERIFY(call->result->isError);
    QVERIFY2(call->text().contains(u"did not answer within 1 s"_s), qPrintable(call->text()));
    QTRY_VERIFY([&] {
        QFile f(log);
        return f.open(QIODevice::ReadOnly) && f.readAll().contains("\"reason\":\"timed out\"");
    }());
    QCOMPARE(client->status(), McpClient::Status::Connected); // one slow tool does not end the connection
}

void McpClientTest::pagedToolList()
{
    auto client = stdio(u"paged"_s, {scripted, u"--pages"_s, u"4"_s});
    client->start();
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Connected, 30000);
    QCOMPARE(toolNames(*client), (QStringList{u"tool-1"_s, u"tool-2"_s, u"tool-3"_s, u"tool-4"_s}));
}

void McpClientTest::unsupportedProtocolVersion()
{
    auto client = stdio(u"future"_s, {scripted, u"--version"_s, u"2099-01-01"_s});
    client->start();
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), McpClient::Status::Error, 30000);
    QVERIFY2(client->error().contains(u"2099-01-01"_s), qPrintable(client->error()));
    auto garbage = stdio(u"garbage"_s, {scripted, u"--garbage"_s});
    garbage->start(); // a line that is not JSON-RPC is skipped
    QTRY_COMPARE_WITH_TIMEOUT(garbage->status(), McpClient::Status::Connected, 30000);
}

QTEST_GUILESS_MAIN(McpClientTest)
#include "tst_mcpclient.moc"
