// Secrets stay secret: a full run of the real binary, with every debug log category on, then a
// search of the database (and its WAL and shared-memory files), the logs and the admin commands'
// output for the upstream API keys and the bearer tokens. Only secrets.json (0600) may hold the
// provider key, and no file may hold a bearer token.
#include "../backend/http/apitestclient.h"
#include "fakeupstream.h"

#include <QDir>
#include <QDirIterator>
#include <QJsonDocument>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
// Distinct, searchable values; never printed by the test itself.
const QString envKey = u"sk-env-SECRET-5f1d2c3b4a"_s;
const QString storedKey = u"sk-stored-SECRET-9e8d7c6b5a"_s;
const QString apiKey = u"sk-api-SECRET-0a1b2c3d4e"_s;
const QString wrongKey = u"sk-wrong-SECRET-77aa66bb55"_s;
} // namespace

class SecretsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noSecretInDatabaseOrLogs();

private:
    QByteArray runAdmin(const QStringList &arguments, const QProcessEnvironment &env, bool keepStdout = true);
    quint16 startServer(const QProcessEnvironment &env);

    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_server;
    QByteArray m_logs; // everything any process printed, except the one `token create` line each
};

QByteArray SecretsTest::runAdmin(const QStringList &arguments, const QProcessEnvironment &env,
                                 bool keepStdout)
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(AGENTDESK_BINARY), arguments + QStringList{u"--data-dir"_s, m_dir.path()});
    process.waitForFinished(30000);
    const QByteArray out = process.readAllStandardOutput();
    m_logs += process.readAllStandardError();
    if (keepStdout)
        m_logs += out;
    return out.trimmed();
}

quint16 SecretsTest::startServer(const QProcessEnvironment &env)
{
    quint16 port = 0;
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        port = probe.serverPort();
    }
    m_server = std::make_unique<QProcess>();
    m_server->setProcessEnvironment(env);
    m_server->setProcessChannelMode(QProcess::MergedChannels);
    connect(m_server.get(), &QProcess::readyRead, this, [this] { m_logs += m_server->readAll(); });
    m_server->start(QStringLiteral(AGENTDESK_BINARY),
                    {u"--headless"_s, u"--port"_s, QString::number(port), u"--data-dir"_s, m_dir.path()});
    if (!m_server->waitForStarted())
        return 0;
    return ApiTestClient::waitForHealth(port, m_server.get()) ? port : 0;
}

void SecretsTest::noSecretInDatabaseOrLogs()
{
    QVERIFY(m_dir.isValid());
    FakeUpstream fake;
    QVERIFY(fake.listen());
    fake.setRequiredApiKey(storedKey); // the env key and the wrong key get a 401

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"OPENAI_BASE_URL"_s, fake.baseUrl().toString());
    env.insert(u"OPENAI_API_KEY"_s, envKey);
    env.insert(u"OPENAI_MODEL"_s, u"fake:tokens=3"_s);
    env.insert(u"UPSTREAM_KEY"_s, storedKey);
    // Every category at debug level, Qt's own (qt.httpserver, qt.network...) included.
    env.insert(u"QT_LOGGING_RULES"_s, u"*.debug=true"_s);
    env.remove(u"QT_MESSAGE_PATTERN"_s);

    // Admin commands: tokens (printed once, by `token create` only) and a stored provider key.
    const QString alice = QString::fromUtf8(
        runAdmin({u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s, u"--user"_s, u"alice"_s, u"--admin"_s},
                 env, false));
    const QString revoked = QString::fromUtf8(runAdmin(
        {u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s, u"--user"_s, u"bob"_s, u"--label"_s, u"old"_s},
        env, false));
    QVERIFY(alice.startsWith(u"adk_"_s) && revoked.startsWith(u"adk_"_s));
    runAdmin({u"provider"_s, u"set"_s, u"stored"_s, u"--tenant"_s, u"acme"_s, u"--base-url"_s,
              fake.baseUrl().toString(), u"--model"_s, u"fake:tokens=4"_s, u"--api-key-env"_s,
              u"UPSTREAM_KEY"_s},
             env);
    runAdmin({u"provider"_s, u"list"_s}, env);
    runAdmin({u"token"_s, u"list"_s}, env);

    const quint16 port = startServer(env);
    QVERIFY(port != 0);
    ApiTestClient client(port);
    client.setToken(alice);
    const auto agentWith = [&](const QString &provider, const QString &model) {
        return client
            .post(u"/api/agents"_s, {{u"name"_s, u"S"_s}, {u"provider"_s, provider}, {u"model"_s, model}})
            .json()
            .value(u"id"_s)
            .toString();
    };
    const QString storedAgent = agentWith(u"stored"_s, u"fake:tokens=4"_s);
    const QString envAgent = agentWith(u"env"_s, u"fake:tokens=3"_s); // its key is refused: a 401 path
    QVERIFY(!storedAgent.isEmpty() && !envAgent.isEmpty());

    // Streams with the token in the header and in the query (EventSource), a whole reply, a
    // failing upstream, the provider test, a key set over the API, a revoked and a wrong token.
    const auto ok =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(storedAgent), R"({"message":"hi"})");
    QCOMPARE(ok.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QUrlQuery query;
    query.addQueryItem(u"message"_s, u"via query"_s);
    query.addQueryItem(u"access_token"_s, alice);
    const auto viaQuery = client.stream(
        "GET", u"/api/agents/%1/chat/stream?%2"_s.arg(storedAgent, query.toString(QUrl::FullyEncoded)), {},
        {}, 20000, false);
    QCOMPARE(viaQuery.events.last().json.value(u"type"_s).toString(), u"done"_s);
    const auto refused =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(envAgent), R"({"message":"hi"})");
    QCOMPARE(refused.events.last().json.value(u"type"_s).toString(), u"error"_s);
    QCOMPARE(client.post(u"/api/agents/%1/chat"_s.arg(storedAgent), {{u"message"_s, u"whole"_s}}).status,
             200);
    QCOMPARE(client.post(u"/api/providers/stored/test"_s, {}).json().value(u"ok"_s).toBool(), true);
    QCOMPARE(client
                 .request("PUT", u"/api/providers/viaapi"_s,
                          QJsonDocument(QJsonObject{{u"base_url"_s, fake.baseUrl().toString()},
                                                    {u"model"_s, u"fake:tokens=2"_s},
                                                    {u"api_key"_s, apiKey}})
                              .toJson())
                 .status,
             200);
    const QByteArray providers = client.get(u"/api/providers"_s).body;
    QVERIFY(!providers.contains(apiKey.toUtf8()) && !providers.contains(storedKey.toUtf8()) &&
            !providers.contains(envKey.toUtf8()));
    QCOMPARE(client
                 .request("PUT", u"/api/providers/viaapi"_s,
                          QJsonDocument(QJsonObject{{u"api_key"_s, wrongKey}}).toJson())
                 .status,
             200);
    const QString wrongAgent = agentWith(u"viaapi"_s, u"fake:tokens=2"_s);
    const auto wrong =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(wrongAgent), R"({"message":"x"})");
    QCOMPARE(wrong.events.last().json.value(u"type"_s).toString(), u"error"_s);

    runAdmin({u"token"_s, u"revoke"_s, revoked.left(12)}, env);
    ApiTestClient bob(port);
    bob.setToken(revoked);
    QCOMPARE(bob.get(u"/api/agents"_s).status, 401);
    ApiTestClient guess(port);
    guess.setToken(alice.left(alice.size() - 3) + u"xyz"_s);
    QCOMPARE(guess.get(u"/api/agents"_s).status, 401);

    // While the server runs, the WAL holds the latest pages of every table written: search the
    // database files now, before a clean shutdown folds the WAL away.
    QStringList walFiles;
    for (const QString &suffix : {QString(), u"-wal"_s, u"-shm"_s}) {
        QFile file(m_dir.filePath(u"agentdesk.db"_s + suffix));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QByteArray bytes = file.readAll();
        walFiles.append(u"agentdesk.db%1 (%2 bytes)"_s.arg(suffix).arg(bytes.size()));
        for (const QString &secret : {envKey, storedKey, apiKey, wrongKey, alice, revoked})
            QVERIFY2(!bytes.contains(secret.toUtf8()), qPrintable(u"a secret is in agentdesk.db"_s + suffix));
    }
    QVERIFY2(walFiles.size() >= 2, qPrintable(walFiles.join(u", "_s)));
    qInfo() << "searched while running:" << walFiles;

    m_server->terminate();
    QVERIFY(m_server->waitForFinished(20000));
    m_logs += m_server->readAll();
    QCOMPARE(m_server->exitCode(), 0);
    QVERIFY2(m_logs.contains("debug"), "debug logging was not on"); // the rules took effect

    const QList<QByteArray> secrets{envKey.toUtf8(),   storedKey.toUtf8(), apiKey.toUtf8(),
                                    wrongKey.toUtf8(), alice.toUtf8(),     revoked.toUtf8()};
    const QList<QByteArray> tokens{alice.toUtf8(), revoked.toUtf8()};
    // The logs of the whole run.
    for (const QByteArray &secret : secrets) {
        const qsizetype at = m_logs.indexOf(secret);
        if (at >= 0 && qEnvironmentVariableIsSet("AGENTDESK_SHOW_LEAKS")) // for debugging this test only
            qWarning().noquote() << "leak:" << m_logs.mid(qMax(0, at - 300), 400);
        QVERIFY2(at < 0, "a secret is in the logs");
    }
    // Every file in the data directory: the database, its -wal/-shm if any are left, secrets.json.
    int filesSearched = 0;
    QDirIterator files(m_dir.path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (files.hasNext()) {
        const QString path = files.next();
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        ++filesSearched;
        const bool secretsFile = path.endsWith(u"/secrets.json"_s);
        for (const QByteArray &secret : secrets) {
            if (secretsFile && (secret == storedKey.toUtf8() || secret == wrongKey.toUtf8()))
                continue; // where provider keys belong
            QVERIFY2(!bytes.contains(secret), qPrintable(u"a secret is in "_s + QFileInfo(path).fileName()));
        }
        if (secretsFile) {
            QCOMPARE(file.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther |
                                           QFileDevice::WriteGroup | QFileDevice::WriteOther),
                     QFileDevice::Permissions());
            QVERIFY(bytes.contains(storedKey.toUtf8())); // the admin command stored it
        }
    }
    QVERIFY(filesSearched >= 2);
    qInfo("searched %d files after the run and %lld bytes of logs for %lld secrets", filesSearched,
          qint64(m_logs.size()), qint64(secrets.size()));
}

QTEST_GUILESS_MAIN(SecretsTest)
#include "tst_secrets.moc"
