#include "desktopentry.h"
#include "keychainsecretstore.h"
#include "keychainstore.h"
#include "providerlistmodel.h"
#include "settingscontroller.h"

#include "../backend/http/apitestclient.h"
#include "fakeupstream.h"
#include "server/server.h"

#include <QCommandLineParser>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Qt::StringLiterals;

// The window's whole in-process start-up, DesktopApp::run(): an existing user's provider key
// in the old <data dir>/secrets.json moves to the keychain (here its 0600 fallback: CI has no
// keychain service, and AGENTDESK_SECRETS=file makes every machine alike) before the backend
// starts, and the window's first use of the provider sends it upstream.
class DesktopEntryTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // Names of its own (prepareApplication keeps them): the default fallback file and the
        // window's cache go to folders no other test uses.
        QCoreApplication::setOrganizationName(u"AgentDesk"_s);
        QCoreApplication::setApplicationName(u"AgentDeskTest-desktopentry"_s);
        qputenv("AGENTDESK_SECRETS", "file");
        cleanupTestCase();
    }

    void cleanupTestCase()
    {
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)).removeRecursively();
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
    }

    void inProcessStartMovesOldKeysToTheKeychainFirst()
    {
        const QString apiKey = u"sk-desktop-SECRET-7d6e5f4a"_s;
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(u"data"_s);
        const QString legacy = QDir(dataDir).filePath(u"secrets.json"_s);
        FakeUpstream fake;
        QVERIFY(fake.listen());
        fake.setRequiredApiKey(apiKey);
        Server::Options options;
        options.port = 0;
        options.dataDir = dataDir;

        // An earlier version: the backend on its own 0600 file, one provider with a key.
        {
            Server old;
            QVERIFY(old.start(options));
            ApiTestClient client(old.port());
            client.setToken(old.createToken(u"local"_s, u"me"_s, {}, true).value_or(QString()));
            QCOMPARE(client
                         .request("PUT", u"/api/providers/up"_s,
                                  QJsonDocument(QJsonObject{{u"base_url"_s, fake.baseUrl().toString()},
                                                            {u"model"_s, u"fake:tokens=2"_s},
                                                            {u"api_key"_s, apiKey}})
                                      .toJson())
                         .status,
                     200);
            old.stop();
        }
        QVERIFY(KeychainStore::loadFile(legacy).size() == 1);

        // The window: once its provider list is in, test the provider, then quit.
        QCommandLineParser parser;
        parser.addOption({u"server"_s, u"remote server"_s, u"url"_s});
        parser.addOption({u"token"_s, u"token"_s, u"token"_s});
        QVERIFY(parser.parse({u"agentdesk"_s}));
        bool tested = false;
        bool testOk = false;
        QString message;
        QTimer poll;
        poll.setInterval(50);
        connect(&poll, &QTimer::timeout, this, [&] {
            SettingsController *settings = SettingsController::instance();
            if (!settings || settings->providers()->rowCount() == 0)
                return;
            poll.stop();
            connect(settings, &SettingsController::providerTested, settings,
                    [&](const QString &, bool ok, const QString &text) {
                        tested = true;
                        testOk = ok;
                        message = text;
                        QCoreApplication::exit(0);
                    });
            settings->testProvider(u"up"_s);
        });
        poll.start();
        QTimer giveUp;
        giveUp.setSingleShot(true);
        connect(&giveUp, &QTimer::timeout, this, [] { QCoreApplication::exit(3); });
        giveUp.start(60000);

        QCOMPARE(DesktopApp::run(parser, options), 0);
        QVERIFY(tested);
        QVERIFY2(testOk, qPrintable(message));
        QVERIFY(!fake.requests().isEmpty());
        for (const FakeRequest &r : fake.requests())
            QCOMPARE(r.header("authorization"), "Bearer " + apiKey.toUtf8());

        // Moved: out of the data folder, into the keychain's 0600 file.
        QVERIFY(!QFile::exists(legacy));
        QDirIterator it(dataDir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            QVERIFY(f.open(QIODevice::ReadOnly));
            QVERIFY2(!f.readAll().contains(apiKey.toUtf8()), qPrintable(f.fileName()));
        }
        const QString file = KeychainStore::defaultFallbackPath();
        const QJsonObject stored = KeychainStore::loadFile(file);
        const QString index = stored.value(KeychainSecretStore::indexEntry()).toString();
        const QString key = QJsonDocument::fromJson(index.toUtf8()).array().at(0).toString();
        QVERIFY(key.startsWith(u"provider/"_s));
        QCOMPARE(stored.value(KeychainSecretStore::entryName(key)).toString(), apiKey);
        QCOMPARE(QFile::permissions(file) & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
                 QFileDevice::Permissions());
    }
};

QTEST_MAIN(DesktopEntryTest)
#include "tst_desktopentry.moc"
