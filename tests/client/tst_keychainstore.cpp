#include "keychainstore.h"

#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class KeychainStoreTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void fileFallbackIsOwnerOnly()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"cfg/secrets.json"_s);
        KeychainStore store(u"AgentDeskTest"_s, path);
        store.setForceFile(true);
        QCOMPARE(store.backend(), KeychainStore::Backend::File);
        QVERIFY(store.statusText().contains(path));

        bool wrote = false;
        store.write(u"provider-key/x"_s, u"sk-secret"_s, this, [&](bool ok, const QString &) { wrote = ok; });
        QTRY_VERIFY(wrote);
        QVERIFY(QFile::exists(path));
        QCOMPARE(QFile::permissions(path) & (QFileDevice::ReadGroup | QFileDevice::ReadOther |
                                             QFileDevice::WriteGroup | QFileDevice::WriteOther),
                 QFileDevice::Permissions());
        QVERIFY(QFile::permissions(path) & QFileDevice::ReadOwner);

        QString value;
        bool found = false, done = false;
        store.read(u"provider-key/x"_s, this, [&](bool f, const QString &v, const QString &) {
            found = f;
            value = v;
            done = true;
        });
        QTRY_VERIFY(done);
        QVERIFY(found);
        QCOMPARE(value, u"sk-secret"_s);

        done = false;
        store.remove(u"provider-key/x"_s, this, [&](bool, const QString &) { done = true; });
        QTRY_VERIFY(done);
        done = false;
        store.read(u"provider-key/x"_s, this, [&](bool f, const QString &, const QString &) {
            found = f;
            done = true;
        });
        QTRY_VERIFY(done);
        QVERIFY(!found);
    }

    // With or without a keychain service on this machine, a write then a read gives the value
    // back, asynchronously; without one the store says it fell back to the file.
    void keychainOrFallback()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"secrets.json"_s);
        KeychainStore store(u"AgentDeskTest-%1"_s.arg(QCoreApplication::applicationPid()), path);
        bool wrote = false;
        store.write(u"k"_s, u"v1"_s, this, [&](bool ok, const QString &) { wrote = ok; });
        QTRY_VERIFY_WITH_TIMEOUT(wrote, 15000);
        QVERIFY(store.backend() != KeychainStore::Backend::Unknown);
        if (store.backend() == KeychainStore::Backend::File) {
            qInfo("no keychain here: fell back to %s", qPrintable(path));
            QVERIFY(QFile::exists(path));
            QVERIFY(store.statusText().contains(u"keychain"_s, Qt::CaseInsensitive));
        }
        QString value;
        bool done = false;
        store.read(u"k"_s, this, [&](bool, const QString &v, const QString &) {
            value = v;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 15000);
        QCOMPARE(value, u"v1"_s);
        store.remove(u"k"_s, nullptr);
    }

    void deadContextGetsNoCallback()
    {
        QTemporaryDir dir;
        KeychainStore store(u"AgentDeskTest"_s, dir.filePath(u"s.json"_s));
        store.setForceFile(true);
        bool called = false;
        auto *ctx = new QObject;
        store.read(u"k"_s, ctx, [&](bool, const QString &, const QString &) { called = true; });
        delete ctx;
        QTest::qWait(50);
        QVERIFY(!called);
    }
};

QTEST_GUILESS_MAIN(KeychainStoreTest)
#include "tst_keychainstore.moc"
