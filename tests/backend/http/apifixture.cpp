#include "apifixture.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTest>

ApiFixture::ApiFixture() = default;

ApiFixture::~ApiFixture()
{
    stopServer();
}

bool ApiFixture::start(const std::function<void(Server::Options &)> &tweak)
{
    if (fake.port() == 0 && !fake.listen())
        return false;
    options.port = 0;
    options.dataDir = dir.path();
    options.keepAliveMs = 15000;
    options.progressIntervalMs = 100;
    ProviderConfig provider;
    provider.name = QStringLiteral("env");
    provider.baseUrl = fake.baseUrl();
    provider.model = QStringLiteral("fake");
    provider.apiKey = QStringLiteral("sk-test-upstream-key");
    provider.connectTimeoutMs = 2000;
    provider.stallTimeoutMs = 1500;
    options.environmentProvider = provider;
    if (tweak)
        tweak(options);
    server = std::make_unique<Server>();
    if (!server->start(options)) {
        qWarning() << "server did not start:" << server->errorString();
        return false;
    }
    token = newToken(QStringLiteral("acme"), QStringLiteral("alice"), true);
    return !token.isEmpty();
}

void ApiFixture::stopServer()
{
    server.reset();
}

QString ApiFixture::newToken(const QString &tenant, const QString &user, bool admin)
{
    return server->createToken(tenant, user, {}, admin).value_or(QString());
}

ApiTestClient ApiFixture::client(const QString &withToken) const
{
    ApiTestClient client(server->port());
    client.setToken(withToken.isEmpty() ? token : withToken);
    return client;
}

QString ApiFixture::everythingScript()
{
    return QStringLiteral(AGENTDESK_SOURCE_DIR
                          "/tests/js/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
}

bool ApiFixture::addEverything()
{
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    const HttpResult put =
        client().request("PUT", QStringLiteral("/api/mcp/servers/everything"),
                         QJsonDocument(QJsonObject{{QStringLiteral("transport"), QStringLiteral("stdio")},
                                                   {QStringLiteral("command"), node},
                                                   {QStringLiteral("args"),
                                                    QJsonArray{everythingScript(), QStringLiteral("stdio")}}})
                             .toJson(),
                         {}, 40000);
    if (put.status != 201 ||
        put.json().value(QLatin1String("status")).toString() != QLatin1String("connected")) {
        qWarning() << "server-everything did not connect:" << put.status << put.body;
        return false;
    }
    return true;
}

QString ApiFixture::createAgent(const QString &model, const QJsonObject &extra)
{
    QJsonObject body{{QStringLiteral("name"), QStringLiteral("Helper")},
                     {QStringLiteral("system_prompt"), QStringLiteral("You are helpful.")},
                     {QStringLiteral("greeting"), QStringLiteral("你好！我是助手。")},
                     {QStringLiteral("model"), model}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        body.insert(it.key(), it.value());
    const HttpResult result = client().post(QStringLiteral("/api/agents"), body);
    if (result.status != 201)
        qWarning() << "agent creation failed" << result.status << result.body;
    return result.json().value(QStringLiteral("id")).toString();
}

QByteArray ApiFixture::chatBody(const QString &message, const QString &sessionId)
{
    QJsonObject body{{QStringLiteral("message"), message}, {QStringLiteral("stream"), true}};
    if (!sessionId.isEmpty())
        body.insert(QStringLiteral("session_id"), sessionId);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

bool ApiFixture::refuseMessages(const QString &content)
{
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("saboteur"));
        db.setDatabaseName(QDir(dir.path()).filePath(QStringLiteral("agentdesk.db")));
        QSqlQuery q(db);
        QString quoted = content;
        quoted.replace(u'\'', QStringLiteral("''"));
        ok =
            db.open() && q.exec(QStringLiteral("CREATE TRIGGER \"refuse %1\" BEFORE INSERT ON messages WHEN "
                                               "NEW.content = '%2' BEGIN SELECT RAISE(ABORT, 'refused by the "
                                               "test'); END")
                                    .arg(qHash(content))
                                    .arg(quoted));
        if (!ok)
            qWarning() << "cannot add the trigger:" << q.lastError().text();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("saboteur"));
    return ok;
}
