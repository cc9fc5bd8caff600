// The real `agentdesk` binary as a team runs it: admin commands, the headless server, the OpenAI
// environment variables, graceful shutdown, and no secrets in its output.
#include "../backend/http/apitestclient.h"
#include "fakeupstream.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Qt::StringLiterals;

class HeadlessTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void tokenCommandPrintsTokenOnce();
    void servesDemoWithoutProvider();
    void usesOpenAiEnvironment();
    void sigtermSavesRunningReply();
    void rejectsBadArguments();
    void globalOptionsBeforeTheCommand();

private:
    static quint16 freePort();
    QString runAdmin(const QStringList &arguments, int *exitCode = nullptr);
    bool startServer(const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());
    QString createAgent(const QString &model = {});

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<QProcess> m_server;
    quint16 m_port = 0;
    QString m_token;
    QByteArray m_serverOutput;
};

quint16 HeadlessTest::freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

void HeadlessTest::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_port = freePort();
    m_serverOutput.clear();
    m_token =
        runAdmin({u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s, u"--user"_s, u"alice"_s}).trimmed();
    QVERIFY(m_token.startsWith(u"adk_"_s));
}

void HeadlessTest::cleanup()
{
    if (m_server) {
        m_server->kill();
        m_server->waitForFinished();
        m_server.reset();
    }
}

QString HeadlessTest::runAdmin(const QStringList &arguments, int *exitCode)
{
    QProcess process;
    process.start(QStringLiteral(AGENTDESK_BINARY), arguments + QStringList{u"--data-dir"_s, m_dir->path()});
    process.waitForFinished(20000);
    if (exitCode)
        *exitCode = process.exitCode();
    return QString::fromUtf8(process.readAllStandardOutput());
}

bool HeadlessTest::startServer(const QProcessEnvironment &env)
{
    m_server = std::make_unique<QProcess>();
    m_server->setProcessEnvironment(env);
    m_server->setProcessChannelMode(QProcess::MergedChannels);
    connect(m_server.get(), &QProcess::readyRead, this, [this] { m_serverOutput += m_server->readAll(); });
    m_server->start(QStringLiteral(AGENTDESK_BINARY),
                    {u"--headless"_s, u"--port"_s, QString::number(m_port), u"--data-dir"_s, m_dir->path()});
    if (!m_server->waitForStarted())
        return false;
    return ApiTestClient::waitForHealth(m_port, m_server.get());
}

QString HeadlessTest::createAgent(const QString &model)
{
    ApiTestClient client(m_port);
    client.setToken(m_token);
    QJsonObject body{{u"name"_s, u"Helper"_s}};
    if (!model.isEmpty())
        body.insert(u"model"_s, model);
    return client.post(u"/api/agents"_s, body).json().value(u"id"_s).toString();
}

void HeadlessTest::tokenCommandPrintsTokenOnce()
{
    QCOMPARE(m_token.size(), 47);
    const QString list = runAdmin({u"token"_s, u"list"_s});
    QVERIFY(list.contains(u"acme/alice"_s));
    QVERIFY(!list.contains(m_token));
    int code = 0;
    runAdmin({u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s}, &code);
    QCOMPARE(code, 2);
}

void HeadlessTest::servesDemoWithoutProvider()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "AGENTDESK_MODEL"})
        env.remove(QLatin1String(name));
    QVERIFY(startServer(env));
    const QString agent = createAgent();
    ApiTestClient client(m_port);
    client.setToken(m_token);
    const auto result =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent), R"({"message":"hi"})");
    QCOMPARE(result.head.status, 200);
    QString text;
    for (const auto &event : result.events)
        text += event.json.value(u"content"_s).toString();
    QCOMPARE(result.events.last().json[u"metadata"_s][u"model"_s].toString(), u"demo"_s);
    QVERIFY2(text.contains(u"No language model is configured"_s), qPrintable(text));
    QVERIFY(m_serverOutput.contains("demo"));
}

void HeadlessTest::usesOpenAiEnvironment()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    fake.setRequiredApiKey(u"sk-env-secret-42"_s);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"OPENAI_BASE_URL"_s, fake.baseUrl().toString());
    env.insert(u"OPENAI_API_KEY"_s, u"sk-env-secret-42"_s);
    env.insert(u"OPENAI_MODEL"_s, u"fake:tokens=3,text=from%20the%20env"_s);
    env.insert(u"QT_LOGGING_RULES"_s, u"agentdesk.*.debug=true"_s); // even debug logs hold no secrets
    QVERIFY(startServer(env));
    const QString agent = createAgent();
    ApiTestClient client(m_port);
    client.setToken(m_token);
    const auto result =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent), R"({"message":"hi"})");
    QString text;
    for (const auto &event : result.events)
        text += event.json.value(u"content"_s).toString();
    QCOMPARE(text, u"from the env"_s);
    QCOMPARE(fake.requests().last().header("authorization"), "Bearer sk-env-secret-42");
    m_server->terminate();
    QVERIFY(m_server->waitForFinished(10000));
    m_serverOutput += m_server->readAll();
    QVERIFY(!m_serverOutput.contains("sk-env-secret-42"));
    QVERIFY(!m_serverOutput.contains(m_token.toUtf8()));
    QFile db(m_dir->filePath(u"agentdesk.db"_s));
    QVERIFY(db.open(QIODevice::ReadOnly));
    const QByteArray bytes = db.readAll();
    QVERIFY(!bytes.contains("sk-env-secret-42"));
    QVERIFY(!bytes.contains(m_token.toUtf8()));
}

void HeadlessTest::sigtermSavesRunningReply()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"OPENAI_BASE_URL"_s, fake.baseUrl().toString());
    env.insert(u"OPENAI_MODEL"_s, u"fake:tokens=500,delay=20"_s);
    QVERIFY(startServer(env));
    const QString agent = createAgent();
    ApiTestClient client(m_port);
    client.setToken(m_token);
    QString sessionId;
    QString seen;
    const auto result = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent),
                                      R"({"message":"long"})", [&](const SseEventRecord &event) {
                                          sessionId = event.json.value(u"session_id"_s).toString();
                                          seen += event.json.value(u"content"_s).toString();
                                          if (seen.size() > 20 && m_server->state() == QProcess::Running)
                                              ::kill(pid_t(m_server->processId()), SIGTERM);
                                          return true;
                                      });
    QVERIFY(m_server->waitForFinished(10000));
    QCOMPARE(m_server->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_server->exitCode(), 0);
    QVERIFY(result.closedByServer);
    QTRY_COMPARE(fake.clientAborts(), 1);

    QVERIFY(startServer(env));
    const QJsonArray rows =
        client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json().value(u"messages"_s).toArray();
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"interrupted"_s);
    QVERIFY(rows.at(1)[u"content"_s].toString().startsWith(seen));
}

void HeadlessTest::rejectsBadArguments()
{
    QProcess process;
    process.start(QStringLiteral(AGENTDESK_BINARY), {u"--headless"_s, u"--port"_s, u"http"_s});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(process.readAllStandardError().contains("--port"));
}

void HeadlessTest::globalOptionsBeforeTheCommand()
{
    // `agentdesk --data-dir D token create …`: the options may come before the command.
    QTemporaryDir other;
    QProcess process;
    process.start(QStringLiteral(AGENTDESK_BINARY), {u"--data-dir"_s, other.path(), u"token"_s, u"create"_s,
                                                     u"--tenant"_s, u"acme"_s, u"--user"_s, u"bob"_s});
    QVERIFY(process.waitForFinished(20000));
    QCOMPARE(process.exitCode(), 0);
    QVERIFY(QString::fromUtf8(process.readAllStandardOutput()).startsWith(u"adk_"_s));
    QVERIFY(QFile::exists(other.filePath(u"agentdesk.db"_s)));

    // Help creates, opens and migrates nothing.
    QTemporaryDir fresh;
    const QString dir = fresh.filePath(u"never"_s);
    for (const QStringList &args : {QStringList{u"token"_s, u"create"_s, u"--help"_s},
                                    QStringList{u"--data-dir"_s, dir, u"provider"_s, u"set"_s, u"-h"_s},
                                    QStringList{u"mcp"_s, u"--help"_s, u"--data-dir"_s, dir}}) {
        QProcess help;
        help.start(QStringLiteral(AGENTDESK_BINARY),
                   args.contains(dir) ? args : args + QStringList{u"--data-dir"_s, dir});
        QVERIFY(help.waitForFinished(20000));
        QCOMPARE(help.exitCode(), 0);
        QVERIFY2(help.readAllStandardOutput().contains("--tenant"), qPrintable(args.join(u' ')));
        QVERIFY2(!QFileInfo::exists(dir), qPrintable(args.join(u' ')));
    }
}

QTEST_GUILESS_MAIN(HeadlessTest)
#include "tst_headless.moc"
