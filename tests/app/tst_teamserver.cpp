// The team set-up: the real `agentdesk --headless` binary on a real PostgreSQL server (started by
// scripts/test, which passes its spec in AGENTDESK_TEST_PG). Skipped, saying so, without one.
#include "../backend/http/apitestclient.h"
#include "fakeupstream.h"

#include <QJsonArray>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

class TeamServerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void conversationsSurviveRestart();
    void concurrentStreamsStoredOnce();

private:
    bool startServer();
    void stopServer();
    QString admin(const QStringList &arguments);
    ApiTestClient client() const;

    QString m_databaseUrl;
    QString m_token;
    QString m_agent;
    QTemporaryDir m_dir;
    FakeUpstream m_fake;
    std::unique_ptr<QProcess> m_server;
    quint16 m_port = 0;
    QSqlDatabase m_pg;
};

static constexpr auto schemaName = "team_e2e";

void TeamServerTest::initTestCase()
{
    const QString spec = qEnvironmentVariable("AGENTDESK_TEST_PG");
    if (spec.isEmpty())
        QSKIP("AGENTDESK_TEST_PG is not set: no PostgreSQL server to test the team set-up against");
    // "host=/tmp/x port=5433 dbname=agentdesk_test user=postgres" -> the URL form --database takes.
    QHash<QString, QString> parts;
    for (const QString &pair : spec.split(u' ', Qt::SkipEmptyParts))
        parts.insert(pair.section(u'=', 0, 0), pair.section(u'=', 1));
    QUrl url;
    url.setScheme(u"postgresql"_s);
    url.setPath(u'/' + parts.value(u"dbname"_s));
    QUrlQuery query;
    query.addQueryItem(u"host"_s, parts.value(u"host"_s));
    query.addQueryItem(u"port"_s, parts.value(u"port"_s, u"5432"_s));
    query.addQueryItem(u"user"_s, parts.value(u"user"_s));
    query.addQueryItem(u"schema"_s, QLatin1String(schemaName));
    url.setQuery(query);
    m_databaseUrl = url.toString();

    m_pg = QSqlDatabase::addDatabase(u"QPSQL"_s, u"team-admin"_s);
    m_pg.setHostName(parts.value(u"host"_s));
    m_pg.setPort(parts.value(u"port"_s, u"5432"_s).toInt());
    m_pg.setDatabaseName(parts.value(u"dbname"_s));
    m_pg.setUserName(parts.value(u"user"_s));
    QVERIFY2(m_pg.open(), qPrintable(m_pg.lastError().text()));
    QSqlQuery(m_pg).exec(u"DROP SCHEMA IF EXISTS %1 CASCADE"_s.arg(QLatin1String(schemaName)));

    QVERIFY(m_fake.listen());
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    m_port = probe.serverPort();
    probe.close();

    m_token = admin({u"token"_s, u"create"_s, u"--tenant"_s, u"team"_s, u"--user"_s, u"ana"_s}).trimmed();
    QVERIFY2(m_token.startsWith(u"adk_"_s), qPrintable(m_token));
    QVERIFY(startServer());
    m_agent =
        client()
            .post(u"/api/agents"_s, {{u"name"_s, u"Team bot"_s},
                                     {u"greeting"_s, u"欢迎"_s},
                                     {u"model"_s, u"fake:tokens=4,delay=10,text=Team%20reply%20here%20。"_s}})
            .json()
            .value(u"id"_s)
            .toString();
    QVERIFY(!m_agent.isEmpty());
}

void TeamServerTest::cleanupTestCase()
{
    stopServer();
    if (m_pg.isOpen())
        QSqlQuery(m_pg).exec(u"DROP SCHEMA IF EXISTS %1 CASCADE"_s.arg(QLatin1String(schemaName)));
    m_pg = QSqlDatabase();
    QSqlDatabase::removeDatabase(u"team-admin"_s);
}

QString TeamServerTest::admin(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(AGENTDESK_BINARY),
                  arguments + QStringList{u"--database"_s, m_databaseUrl, u"--data-dir"_s, m_dir.path()});
    process.waitForFinished(20000);
    if (process.exitCode() != 0)
        qWarning() << process.readAllStandardError();
    return QString::fromUtf8(process.readAllStandardOutput());
}

bool TeamServerTest::startServer()
{
    m_server = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"OPENAI_BASE_URL"_s, m_fake.baseUrl().toString());
    m_server->setProcessEnvironment(env);
    m_server->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_server->start(QStringLiteral(AGENTDESK_BINARY),
                    {u"--headless"_s, u"--port"_s, QString::number(m_port), u"--database"_s, m_databaseUrl,
                     u"--data-dir"_s, m_dir.path()});
    if (!m_server->waitForStarted())
        return false;
    return ApiTestClient::waitForHealth(m_port, m_server.get());
}

void TeamServerTest::stopServer()
{
    if (!m_server)
        return;
    m_server->terminate();
    if (!m_server->waitForFinished(10000))
        m_server->kill();
    m_server.reset();
}

ApiTestClient TeamServerTest::client() const
{
    ApiTestClient client(m_port);
    client.setToken(m_token);
    return client;
}

void TeamServerTest::conversationsSurviveRestart()
{
    auto c = client();
    const QString path = u"/api/agents/%1/chat/stream"_s.arg(m_agent);
    const auto first = c.stream("POST", path, R"({"message":"团队的第一个问题"})");
    QCOMPARE(first.events.last().json.value(u"type"_s).toString(), u"done"_s);
    const QString session = first.events.last().json.value(u"session_id"_s).toString();
    const auto second = c.stream(
        "POST", path, u"{\"message\":\"and a second\",\"session_id\":\"%1\"}"_s.arg(session).toUtf8());
    QCOMPARE(second.events.last().json.value(u"type"_s).toString(), u"done"_s);

    stopServer();
    QVERIFY(startServer());
    const QJsonArray rows =
        c.get(u"/api/sessions/%1/messages"_s.arg(session)).json()[u"messages"_s].toArray();
    QCOMPARE(rows.size(), 4);
    QCOMPARE(rows.at(0)[u"content"_s].toString(), u"团队的第一个问题"_s);
    QCOMPARE(rows.at(1)[u"content"_s].toString(), u"Team reply here 。"_s);
    QCOMPARE(rows.at(3)[u"status"_s].toString(), u"complete"_s);
    // The data really is in PostgreSQL, in the configured schema.
    QSqlQuery query(m_pg);
    QVERIFY(query.exec(u"SELECT COUNT(*) FROM %1.messages WHERE session_id = '%2'"_s.arg(
        QLatin1String(schemaName), session)));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toInt(), 4);
    // Another tenant on the same team server sees nothing of it.
    ApiTestClient other(m_port);
    other.setToken(
        admin({u"token"_s, u"create"_s, u"--tenant"_s, u"rival"_s, u"--user"_s, u"bo"_s}).trimmed());
    QCOMPARE(other.get(u"/api/sessions/%1"_s.arg(session)).status, 404);
}

void TeamServerTest::concurrentStreamsStoredOnce()
{
    constexpr int streams = 30;
    QList<QTcpSocket *> sockets;
    QList<QByteArray> received(streams);
    int closed = 0;
    for (int i = 0; i < streams; ++i) {
        auto *socket = new QTcpSocket(this);
        sockets.append(socket);
        connect(socket, &QTcpSocket::readyRead, this,
                [&received, socket, i] { received[i] += socket->readAll(); });
        connect(socket, &QTcpSocket::disconnected, this, [&closed] { ++closed; });
        socket->connectToHost(QHostAddress::LocalHost, m_port);
        socket->write(ApiTestClient::rawRequest("POST", u"/api/agents/%1/chat/stream"_s.arg(m_agent),
                                                u"{\"message\":\"parallel %1\"}"_s.arg(i).toUtf8(),
                                                m_token.toUtf8(), {}));
    }
    QTRY_COMPARE_WITH_TIMEOUT(closed, streams, 30000);
    for (const QByteArray &bytes : received)
        QVERIFY2(bytes.contains("\"type\":\"done\""), bytes.right(300).constData());
    qDeleteAll(sockets);
    QSqlQuery query(m_pg);
    QVERIFY(query.exec(
        u"SELECT COUNT(*), COUNT(DISTINCT content) FROM %1.messages WHERE role = 'user' AND content "
        "LIKE 'parallel %%'"_s.arg(QLatin1String(schemaName))));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toInt(), streams);
    QCOMPARE(query.value(1).toInt(), streams);
}

QTEST_GUILESS_MAIN(TeamServerTest)
#include "tst_teamserver.moc"
