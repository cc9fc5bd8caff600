#include "keychainsecretstore.h"
#include "keychainstore.h"

#include "../backend/http/apitestclient.h"
#include "fakeupstream.h"
#include "server/server.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
const QString keyA = u"provider/a"_s;
const QString keyB = u"provider/b"_s;

QStringList storedIndex(const QString &file)
{
    const QString json = KeychainStore::loadFile(file).value(KeychainSecretStore::indexEntry()).toString();
    QStringList keys;
    for (const QJsonValue &v : QJsonDocument::fromJson(json.toUtf8()).array())
        keys.append(v.toString());
    return keys;
}

QString storedValue(const QString &file, const QString &key)
{
    return KeychainStore::loadFile(file).value(KeychainSecretStore::entryName(key)).toString();
}

bool ownerOnly(const QString &file)
{
    const QFileDevice::Permissions p = QFile::permissions(file);
    return (p & QFileDevice::ReadOwner) && !(p & (QFileDevice::ReadGroup | QFileDevice::ReadOther |
                                                  QFileDevice::WriteGroup | QFileDevice::WriteOther));
}

// Every file under `dir` (the database, its WAL and shared memory included) searched for `secret`.
QStringList filesHolding(const QString &dir, const QString &secret)
{
    QStringList found;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile f(it.next());
        if (f.open(QIODevice::ReadOnly) && f.readAll().contains(secret.toUtf8()))
            found.append(f.fileName());
    }
    return found;
}
} // namespace

// The in-process backend's keys on the keychain. CI has no keychain service (no D-Bus secret
// service), so most of this runs on the forced 0600 file fallback, which takes the same path
// through the store; keychainOrFallback() takes whichever this machine has.
class KeychainSecretStoreTest : public QObject
{
    Q_OBJECT

private:
    // A keychain on the file fallback in `dir`/config, as a fresh start of the app would make it.
    static std::unique_ptr<KeychainStore> fileKeychain(const QTemporaryDir &dir)
    {
        auto keychain =
            std::make_unique<KeychainStore>(u"AgentDeskTest"_s, dir.filePath(u"config/secrets.json"_s));
        keychain->setForceFile(true);
        return keychain;
    }

    static bool startAndWait(KeychainSecretStore &store)
    {
        QSignalSpy ready(&store, &KeychainSecretStore::ready);
        store.start();
        return !store.isReady() && ready.wait(15000) && store.isReady() && ready.count() == 1;
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void fileFallbackServesTheCacheAndKeepsTheFileOwnerOnly()
    {
        QTemporaryDir dir;
        auto keychain = fileKeychain(dir);
        const QString file = keychain->fallbackPath();
        QCOMPARE(keychain->backend(), KeychainStore::Backend::File);
        QVERIFY(keychain->statusText().contains(file)); // what the Settings page shows
        KeychainSecretStore store(keychain.get(), dir.filePath(u"data/secrets.json"_s));
        QVERIFY(startAndWait(store));
        QCOMPARE(store.read(keyA), QString());

        // Served at once from the cache, stored after.
        QVERIFY(store.write(keyA, u"sk-a1"_s));
        QCOMPARE(store.read(keyA), u"sk-a1"_s);
        QVERIFY(store.write(keyA, u"sk-a2"_s));
        QCOMPARE(store.read(keyA), u"sk-a2"_s);
        QVERIFY(store.write(keyB, u"sk-b"_s));
        QTRY_VERIFY(!store.hasPendingWrites());
        QCOMPARE(storedValue(file, keyA), u"sk-a2"_s);
        QCOMPARE(storedValue(file, keyB), u"sk-b"_s);
        QCOMPARE(storedIndex(file), (QStringList{keyA, keyB}));
        QVERIFY(ownerOnly(file));

        QSignalSpy settled(&store, &KeychainSecretStore::writesFinished);
        QVERIFY(store.remove(keyA));
        QCOMPARE(store.read(keyA), QString());
        QCOMPARE(store.read(keyB), u"sk-b"_s);
        QVERIFY(settled.wait());
        QVERIFY(!KeychainStore::loadFile(file).contains(KeychainSecretStore::entryName(keyA)));
        QCOMPARE(storedIndex(file), QStringList{keyB});
        QVERIFY(ownerOnly(file));
        // Nothing ever went to the backend's own file.
        QVERIFY(!QFile::exists(dir.filePath(u"data/secrets.json"_s)));
    }

    void readyComesFromTheEventLoopAfterThePreload()
    {
        QTemporaryDir dir;
        {
            auto keychain = fileKeychain(dir);
            KeychainSecretStore first(keychain.get());
            QVERIFY(startAndWait(first));
            first.write(keyA, u"sk-a"_s);
            first.write(keyB, u"sk-b"_s);
            QTRY_VERIFY(!first.hasPendingWrites());
        }
        // The next start: nothing until the keys are in, then everything, and ready() once.
        auto keychain = fileKeychain(dir);
        KeychainSecretStore store(keychain.get());
        QSignalSpy ready(&store, &KeychainSecretStore::ready);
        store.start();
        QVERIFY(!store.isReady());
        QCOMPARE(ready.count(), 0);
        QCOMPARE(store.read(keyA), QString());
        QVERIFY(ready.wait());
        QCOMPARE(store.read(keyA), u"sk-a"_s);
        QCOMPARE(store.read(keyB), u"sk-b"_s);
        store.start();
        QTest::qWait(50);
        QCOMPARE(ready.count(), 1);
        QVERIFY(!store.hasPendingWrites()); // the index was right: nothing rewritten

        // An empty keychain is ready too.
        QTemporaryDir empty;
        auto none = fileKeychain(empty);
        KeychainSecretStore nothing(none.get(), empty.filePath(u"data/secrets.json"_s));
        QVERIFY(startAndWait(nothing));
        QVERIFY(!QFile::exists(none->fallbackPath()));
    }

    void migratesTheOldSecretsFile()
    {
        QTemporaryDir dir;
        const QString legacy = dir.filePath(u"data/secrets.json"_s);
        QString error;
        QVERIFY(KeychainStore::saveFile(legacy, QJsonObject{{keyA, u"sk-a"_s}, {keyB, u"sk-b"_s}}, &error));
        {
            auto keychain = fileKeychain(dir);
            KeychainSecretStore store(keychain.get(), legacy);
            QVERIFY(startAndWait(store));
            QCOMPARE(store.read(keyA), u"sk-a"_s);
            QCOMPARE(store.read(keyB), u"sk-b"_s);
            QVERIFY(!QFile::exists(legacy)); // moved: the old file is gone
            QTRY_VERIFY(!store.hasPendingWrites());
            const QString file = keychain->fallbackPath();
            QCOMPARE(storedValue(file, keyA), u"sk-a"_s);
            QCOMPARE(storedValue(file, keyB), u"sk-b"_s);
            QCOMPARE(storedIndex(file), (QStringList{keyA, keyB}));
        }
        {
            // Found again at the next start, from the keychain alone.
            auto keychain = fileKeychain(dir);
            KeychainSecretStore store(keychain.get(), legacy);
            QVERIFY(startAndWait(store));
            QCOMPARE(store.read(keyA), u"sk-a"_s);
            QCOMPARE(store.read(keyB), u"sk-b"_s);
        }
        // A key the admin commands wrote to the old file later moves too, and wins.
        QVERIFY(KeychainStore::saveFile(legacy, QJsonObject{{keyA, u"sk-a-new"_s}}, &error));
        auto keychain = fileKeychain(dir);
        KeychainSecretStore store(keychain.get(), legacy);
        QVERIFY(startAndWait(store));
        QCOMPARE(store.read(keyA), u"sk-a-new"_s);
        QCOMPARE(store.read(keyB), u"sk-b"_s);
        QVERIFY(!QFile::exists(legacy));
        QCOMPARE(storedValue(keychain->fallbackPath(), keyA), u"sk-a-new"_s);
    }

    void aKeyThatCannotMoveStaysInTheOldFile()
    {
        QTemporaryDir dir;
        const QString legacy = dir.filePath(u"data/secrets.json"_s);
        QString error;
        QVERIFY(KeychainStore::saveFile(legacy, QJsonObject{{keyA, u"sk-a"_s}, {keyB, u"sk-b"_s}}, &error));
        // The fallback file's folder cannot be made: a plain file is in the way.
        QFile blocker(dir.filePath(u"blocker"_s));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        KeychainStore keychain(u"AgentDeskTest"_s, dir.filePath(u"blocker/secrets.json"_s));
        keychain.setForceFile(true);
        KeychainSecretStore store(&keychain, legacy);
        QVERIFY(startAndWait(store));
        QCOMPARE(store.read(keyA), u"sk-a"_s); // this run still has the keys
        QCOMPARE(KeychainStore::loadFile(legacy), (QJsonObject{{keyA, u"sk-a"_s}, {keyB, u"sk-b"_s}}));
        // Removed here: it must not come back from the old file at the next start.
        store.remove(keyA);
        QCOMPARE(KeychainStore::loadFile(legacy), (QJsonObject{{keyB, u"sk-b"_s}}));
        QTRY_VERIFY(!store.hasPendingWrites());
    }

    void findsAKeyMissingFromTheIndex()
    {
        QTemporaryDir dir;
        auto keychain = fileKeychain(dir);
        bool wrote = false;
        keychain->write(KeychainSecretStore::entryName(keyA), u"sk-a"_s, this,
                        [&](bool ok, const QString &) { wrote = ok; });
        QTRY_VERIFY(wrote);
        KeychainSecretStore store(keychain.get());
        QVERIFY(startAndWait(store));
        QCOMPARE(store.read(keyA), QString()); // not in the index: looked up now
        QTRY_COMPARE(store.read(keyA), u"sk-a"_s);
        QTRY_COMPARE(storedIndex(keychain->fallbackPath()), QStringList{keyA});
        // A key that is nowhere stays empty, after its lookup too.
        QCOMPARE(store.read(keyB), QString());
        QTest::qWait(50);
        QCOMPARE(store.read(keyB), QString());
        QCOMPARE(storedIndex(keychain->fallbackPath()), QStringList{keyA});
    }

    // With or without a keychain service on this machine: a key written by one start is there at
    // the next; without one the store says so and uses the 0600 file.
    void keychainOrFallback()
    {
        QTemporaryDir dir;
        const QString service = u"AgentDeskTest-%1"_s.arg(QCoreApplication::applicationPid());
        const QString file = dir.filePath(u"secrets.json"_s);
        {
            KeychainStore keychain(service, file);
            KeychainSecretStore store(&keychain);
            QVERIFY(startAndWait(store));
            store.write(keyA, u"sk-a"_s);
            QTRY_VERIFY_WITH_TIMEOUT(!store.hasPendingWrites(), 20000);
            QVERIFY(keychain.backend() != KeychainStore::Backend::Unknown);
            if (keychain.backend() == KeychainStore::Backend::File) {
                qInfo("no keychain here: fell back to %s", qPrintable(file));
                QCOMPARE(storedValue(file, keyA), u"sk-a"_s);
                QVERIFY(ownerOnly(file));
                QVERIFY(keychain.statusText().contains(u"keychain"_s, Qt::CaseInsensitive));
            } else {
                QVERIFY(!KeychainStore::loadFile(file).contains(KeychainSecretStore::entryName(keyA)));
            }
        }
        KeychainStore keychain(service, file);
        KeychainSecretStore store(&keychain);
        QVERIFY(startAndWait(store));
        QCOMPARE(store.read(keyA), u"sk-a"_s);
        store.remove(keyA);
        QTRY_VERIFY_WITH_TIMEOUT(!store.hasPendingWrites(), 20000);
        bool removed = false;
        keychain.remove(KeychainSecretStore::indexEntry(), this,
                        [&](bool, const QString &) { removed = true; });
        QTRY_VERIFY_WITH_TIMEOUT(removed, 20000);
    }

    // The real backend in this process with the store plugged in: a key set over the HTTP API
    // reaches the upstream as the bearer, and lands in neither the data folder's secrets.json
    // nor the database; a restart finds it through the keychain.
    void inProcessServerKeepsKeysOutOfTheDataDir()
    {
        const QString apiKey = u"sk-keychain-SECRET-4c3b2a1f"_s;
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(u"data"_s);
        FakeUpstream fake;
        QVERIFY(fake.listen());
        fake.setRequiredApiKey(apiKey);
        auto keychain = fileKeychain(dir);
        auto store =
            std::make_unique<KeychainSecretStore>(keychain.get(), QDir(dataDir).filePath(u"secrets.json"_s));
        QVERIFY(startAndWait(*store));

        Server::Options options;
        options.port = 0;
        options.dataDir = dataDir;
        auto server = std::make_unique<Server>();
        server->setSecretStore(store.get());
        QVERIFY(server->start(options));
        ApiTestClient client(server->port());
        client.setToken(server->createToken(u"local"_s, u"tester"_s, {}, true).value_or(QString()));

        const HttpResult put =
            client.request("PUT", u"/api/providers/up"_s,
                           QJsonDocument(QJsonObject{{u"base_url"_s, fake.baseUrl().toString()},
                                                     {u"model"_s, u"fake:tokens=3"_s},
                                                     {u"api_key"_s, apiKey},
                                                     {u"is_default"_s, true}})
                               .toJson());
        QCOMPARE(put.status, 200);
        QVERIFY(put.json().value(u"has_api_key"_s).toBool());
        QVERIFY(!put.body.contains(apiKey.toUtf8()));
        const QString agent =
            client
                .post(u"/api/agents"_s,
                      {{u"name"_s, u"K"_s}, {u"provider"_s, u"up"_s}, {u"model"_s, u"fake:tokens=3"_s}})
                .json()
                .value(u"id"_s)
                .toString();
        QVERIFY(!agent.isEmpty());
        auto chatOnce = [&] {
            fake.clearRequests();
            const HttpResult reply =
                client.post(u"/api/agents/%1/chat"_s.arg(agent), {{u"message"_s, u"hi"_s}});
            QCOMPARE(reply.status, 200);
            QCOMPARE(fake.requests().size(), 1);
            QCOMPARE(fake.requests().constFirst().header("authorization"), "Bearer " + apiKey.toUtf8());
        };
        chatOnce();
        if (QTest::currentTestFailed())
            return;

        QTRY_VERIFY(!store->hasPendingWrites());
        QCOMPARE(filesHolding(dataDir, apiKey), QStringList()); // database, WAL, no secrets.json
        QVERIFY(!QFile::exists(QDir(dataDir).filePath(u"secrets.json"_s)));
        const QStringList keys = storedIndex(keychain->fallbackPath());
        QCOMPARE(keys.size(), 1);
        QVERIFY(keys.constFirst().startsWith(u"provider/"_s));
        QCOMPARE(storedValue(keychain->fallbackPath(), keys.constFirst()), apiKey);
        QVERIFY(ownerOnly(keychain->fallbackPath()));

        // A new start: the key comes back from the keychain before the server listens.
        server.reset();
        store.reset();
        keychain = fileKeychain(dir);
        store =
            std::make_unique<KeychainSecretStore>(keychain.get(), QDir(dataDir).filePath(u"secrets.json"_s));
        QVERIFY(startAndWait(*store));
        server = std::make_unique<Server>();
        server->setSecretStore(store.get());
        QVERIFY(server->start(options));
        client = ApiTestClient(server->port());
        client.setToken(server->createToken(u"local"_s, u"tester"_s, {}, true).value_or(QString()));
        chatOnce();
        if (QTest::currentTestFailed())
            return;

        // Deleting the provider deletes its key.
        QCOMPARE(client.request("DELETE", u"/api/providers/up"_s).status, 204);
        QTRY_VERIFY(!store->hasPendingWrites());
        QCOMPARE(storedIndex(keychain->fallbackPath()), QStringList());
        QVERIFY(!KeychainStore::loadFile(keychain->fallbackPath())
                     .contains(KeychainSecretStore::entryName(keys.constFirst())));
        server->stop();
        QCOMPARE(filesHolding(dataDir, apiKey), QStringList());
    }
};

QTEST_GUILESS_MAIN(KeychainSecretStoreTest)
#include "tst_keychainsecretstore.moc"
