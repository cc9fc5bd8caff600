#pragma once

#include "apitestclient.h"
#include "fakeupstream.h"
#include "server/server.h"

#include <QJsonObject>
#include <QTemporaryDir>

#include <memory>

// A real server on a real port, a fake upstream behind it and a token, in a temporary data
// directory. One per test function.
class ApiFixture
{
public:
    ApiFixture();
    ~ApiFixture();

    // `tweak` may change the options before the server starts.
    bool start(const std::function<void(Server::Options &)> &tweak = {});
    void stopServer();

    ApiTestClient client(const QString &token = {}) const;
    // Creates an agent through the API; `model` steers the fake (e.g. "fake:tokens=3").
    QString createAgent(const QString &model, const QJsonObject &extra = {});
    QString newToken(const QString &tenant, const QString &user, bool admin = false);
    // Adds @modelcontextprotocol/server-everything (tests/js, `npm ci`) as the MCP server
    // "everything" through the API; false (with a warning) when it did not connect.
    bool addEverything();
    static QString everythingScript();

    static QByteArray chatBody(const QString &message, const QString &sessionId = {});
    // From now on the SQLite database refuses to store a message whose text is `content` (a trigger
    // added beside the server's connection): for the paths where a write fails.
    bool refuseMessages(const QString &content);

    QTemporaryDir dir;
    FakeUpstream fake;
    std::unique_ptr<Server> server;
    Server::Options options;
    QString token; // acme/alice, an admin
};
