#include "apifixture.h"

#include <QJsonDocument>
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
