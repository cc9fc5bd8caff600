// `agentdesk token ...` and `agentdesk provider ...` on a real SQLite file.
#include "server/admincli.h"
#include "storage/authstore.h"
#include "storage/database.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>

using namespace Qt::StringLiterals;

class AdminCliTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void createListRevokeToken();
    void createNeedsTenantAndUser();
    void providerSetListRemove();

private:
    int run(const QStringList &arguments);

    std::unique_ptr<QTemporaryDir> m_dir;
    Database::Options m_db;
    QString m_secrets;
    QString m_out;
    QString m_err;
};

void AdminCliTest::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_db.path = m_dir->filePath(u"agentdesk.db"_s);
    m_secrets = m_dir->filePath(u"secrets.json"_s);
}

int AdminCliTest::run(const QStringList &arguments)
{
    m_out.clear();
    m_err.clear();
    QTextStream out(&m_out);
    QTextStream err(&m_err);
    AdminCli cli(out, err);
    return cli.run(QStringList{u"agentdesk"_s} + arguments, m_db, m_secrets);
}

void AdminCliTest::createListRevokeToken()
{
    QCOMPARE(run({u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s, u"--user"_s, u"alice"_s, u"--label"_s,
                  u"laptop"_s}),
             0);
    const QString token = m_out.trimmed();
    QVERIFY2(token.startsWith(u"adk_"_s) && token.size() == 47, qPrintable(token));
    QVERIFY(m_err.contains(u"shown only now"_s));

    {
        Database db;
        QVERIFY(db.open(m_db));
        AuthStore auth(db);
        const auto principal = auth.authenticate(token);
        QVERIFY(principal);
        QCOMPARE(principal->tenantName, u"acme"_s);
        QCOMPARE(principal->userName, u"alice"_s);
    }

    QCOMPARE(run({u"token"_s, u"list"_s}), 0);
    QVERIFY(m_out.contains(u"acme/alice"_s));
    QVERIFY(m_out.contains(token.mid(4, 8)));
    QVERIFY(!m_out.contains(token)); // never shown again

    QCOMPARE(run({u"token"_s, u"revoke"_s, token.mid(4, 8)}), 0);
    QCOMPARE(run({u"token"_s, u"list"_s}), 0);
    QVERIFY(m_out.contains(u"revoked"_s));
    Database db;
    QVERIFY(db.open(m_db));
    QVERIFY(!AuthStore(db).authenticate(token));
    QCOMPARE(run({u"token"_s, u"revoke"_s, u"nonexistent"_s}), 1);
}

void AdminCliTest::createNeedsTenantAndUser()
{
    QCOMPARE(run({u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s}), 2);
    QVERIFY(m_err.contains(u"--user"_s));
    QVERIFY(m_out.isEmpty());
    QCOMPARE(run({u"token"_s, u"frobnicate"_s}), 2);
}

void AdminCliTest::providerSetListRemove()
{
    qputenv("AGENTDESK_TEST_KEY", "sk-cli-secret-123");
    QCOMPARE(run({u"provider"_s, u"set"_s, u"deepseek"_s, u"--tenant"_s, u"acme"_s, u"--base-url"_s,
                  u"https://api.deepseek.com/v1"_s, u"--model"_s, u"deepseek-chat"_s, u"--api-key-env"_s,
                  u"AGENTDESK_TEST_KEY"_s, u"--default"_s}),
             0);
    QCOMPARE(run({u"provider"_s, u"list"_s, u"--tenant"_s, u"acme"_s}), 0);
    QVERIFY(m_out.contains(u"deepseek (default)"_s));
    QVERIFY(m_out.contains(u"key: stored"_s));
    QVERIFY(!m_out.contains(u"sk-cli-secret-123"_s));
    // An admin's limit on the models, shown in the list.
    QCOMPARE(run({u"provider"_s, u"set"_s, u"deepseek"_s, u"--tenant"_s, u"acme"_s, u"--allowed-models"_s,
                  u"deepseek-chat, deepseek-reasoner,,"_s}),
             0);
    QCOMPARE(run({u"provider"_s, u"list"_s, u"--tenant"_s, u"acme"_s}), 0);
    QVERIFY2(m_out.contains(u"only: deepseek-chat, deepseek-reasoner"_s), qPrintable(m_out));

    QFile db(m_db.path);
    QVERIFY(db.open(QIODevice::ReadOnly));
    QVERIFY(!db.readAll().contains("sk-cli-secret-123"));
    QFile secrets(m_secrets);
    QVERIFY(secrets.open(QIODevice::ReadOnly));
    QVERIFY(secrets.readAll().contains("sk-cli-secret-123"));
    QCOMPARE(secrets.permissions() &
                 (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteOther),
             QFileDevice::Permissions());

    QCOMPARE(
        run({u"provider"_s, u"set"_s, u"bad"_s, u"--tenant"_s, u"acme"_s, u"--base-url"_s, u"notaurl"_s}), 2);
    QCOMPARE(run({u"provider"_s, u"remove"_s, u"deepseek"_s, u"--tenant"_s, u"acme"_s}), 0);
    QCOMPARE(run({u"provider"_s, u"list"_s, u"--tenant"_s, u"acme"_s}), 0);
    QVERIFY(!m_out.contains(u"deepseek"_s));
    QFile after(m_secrets);
    QVERIFY(after.open(QIODevice::ReadOnly));
    QVERIFY(!after.readAll().contains("sk-cli-secret-123")); // the key went with the provider
}

QTEST_GUILESS_MAIN(AdminCliTest)
#include "tst_admincli.moc"
