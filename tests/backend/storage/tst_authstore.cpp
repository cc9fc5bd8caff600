#include "storage/authstore.h"
#include "storage/database.h"
#include "storagetest.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

using namespace Qt::StringLiterals;

class AuthStoreTest : public StorageTest
{
    Q_OBJECT

public:
    AuthStoreTest() : StorageTest(u"tst_authstore"_s) {}

private:
    std::optional<ApiTokenInfo> tokenInfo(const QString &id)
    {
        for (const ApiTokenInfo &info : AuthStore(*m_db).listTokens()) {
            if (info.id == id)
                return info;
        }
        return std::nullopt;
    }

private Q_SLOTS:
    void tokenFormat()
    {
        AuthStore auth(*m_db);
        const auto first = auth.createToken(u"acme"_s, u"alice"_s, u"laptop"_s);
        const auto second = auth.createToken(u"acme"_s, u"alice"_s);
        QVERIFY(first && second);
        static const QRegularExpression format(u"^adk_[A-Za-z0-9_-]{43}$"_s);
        QVERIFY2(format.match(first->token).hasMatch(), qPrintable(first->token));
        QVERIFY(first->token != second->token);
        QCOMPARE(first->info.prefix, first->token.mid(4, 8));
        QCOMPARE(first->info.tenantName, u"acme"_s);
        QCOMPARE(first->info.userName, u"alice"_s);
        QCOMPARE(first->info.label, u"laptop"_s);
        QVERIFY(first->info.createdAt.isValid());
        QVERIFY(!first->info.lastUsedAt);
        QVERIFY(!first->info.revokedAt);
        QCOMPARE(AuthStore::hashToken(first->token).size(), 64);
        QVERIFY(AuthStore::hashToken(first->token) != AuthStore::hashToken(second->token));
    }

    void createTokenCreatesTenantAndUser()
    {
        AuthStore auth(*m_db);
        QVERIFY(!auth.tenantByName(u"acme"_s));
        const auto created = auth.createToken(u"acme"_s, u"alice"_s);
        QVERIFY(created);
        const auto tenant = auth.tenantByName(u"acme"_s);
        QVERIFY(tenant);
        const auto principal = auth.authenticate(created->token);
        QVERIFY(principal);
        QCOMPARE(principal->tenantId, tenant->id);
        QCOMPARE(principal->tenantName, u"acme"_s);
        QCOMPARE(principal->userName, u"alice"_s);
        QCOMPARE(principal->tokenId, created->info.id);
        // The same names again reuse the rows.
        const auto user = auth.ensureUser(tenant->id, u"alice"_s);
        QVERIFY(user);
        QCOMPARE(user->id, principal->userId);
        const auto again = auth.createToken(u"acme"_s, u"alice"_s);
        QCOMPARE(auth.authenticate(again->token)->userId, principal->userId);
        QCOMPARE(auth.ensureTenant(u"acme"_s)->id, tenant->id);
    }

    void usersAreScopedToTheirTenant()
    {
        AuthStore auth(*m_db);
        const auto acme = auth.ensureTenant(u"acme"_s);
        const auto globex = auth.ensureTenant(u"globex"_s);
        QVERIFY(acme && globex && acme->id != globex->id);
        const auto a = auth.ensureUser(acme->id, u"alice"_s);
        const auto g = auth.ensureUser(globex->id, u"alice"_s);
        QVERIFY(a && g);
        QVERIFY(a->id != g->id);
        QVERIFY(!auth.ensureTenant(QString()));
        QVERIFY(!auth.ensureTenant(u"  "_s));
        QVERIFY(!auth.ensureUser(acme->id, QString()));
        QVERIFY(!auth.ensureUser(u"no-such-tenant"_s, u"bob"_s)); // foreign key
        QVERIFY(!auth.createToken(QString(), u"bob"_s));
    }

    void authenticateRejectsUnknownTokens()
    {
        AuthStore auth(*m_db);
        const auto created = auth.createToken(u"acme"_s, u"alice"_s);
        QVERIFY(created);
        QVERIFY(auth.authenticate(created->token));
        QString altered = created->token;
        altered[20] = altered.at(20) == u'A' ? u'B' : u'A';
        QVERIFY(!auth.authenticate(altered));
        QVERIFY(!auth.authenticate(QString()));
        QVERIFY(!auth.authenticate(u"adk_"_s));
        QVERIFY(!auth.authenticate(created->token.left(46)));
        QVERIFY(!auth.authenticate(created->token + u"x"_s));
        QVERIFY(!auth.authenticate(created->info.prefix));
        QVERIFY(!auth.authenticate(
            QString::fromLatin1(AuthStore::hashToken(created->token)))); // the hash is no token
    }

    void revokeById()
    {
        AuthStore auth(*m_db);
        const auto kept = auth.createToken(u"acme"_s, u"alice"_s);
        const auto revoked = auth.createToken(u"acme"_s, u"alice"_s);
        QVERIFY(auth.revokeToken(revoked->info.id));
        QVERIFY(!auth.authenticate(revoked->token));
        QVERIFY(auth.authenticate(kept->token));
        QVERIFY(!auth.revokeToken(revoked->info.id)); // already revoked: nothing live changed
        QVERIFY(tokenInfo(revoked->info.id)->revokedAt);
        QVERIFY(!tokenInfo(kept->info.id)->revokedAt);
        QVERIFY(!auth.revokeToken(QString()));
        QVERIFY(!auth.revokeToken(u"no-such-id"_s));
    }

    void revokeByPrefixOrToken()
    {
        AuthStore auth(*m_db);
        const auto a = auth.createToken(u"acme"_s, u"alice"_s);
        const auto b = auth.createToken(u"acme"_s, u"alice"_s);
        const auto c = auth.createToken(u"acme"_s, u"alice"_s);
        QVERIFY(a && b && c);
        QVERIFY(auth.revokeToken(a->info.prefix));
        QVERIFY(!auth.authenticate(a->token));
        QVERIFY(auth.revokeToken(u"adk_"_s + b->info.prefix.left(6)));
        QVERIFY(!auth.authenticate(b->token));
        QVERIFY(!auth.revokeToken(c->info.prefix.left(3))); // too short to name one token
        QVERIFY(auth.authenticate(c->token));
        QVERIFY(auth.revokeToken(c->token));
        QVERIFY(!auth.authenticate(c->token));
    }

    void ambiguousPrefixIsRefused()
    {
        AuthStore auth(*m_db);
        const auto a = auth.createToken(u"acme"_s, u"alice"_s);
        const auto b = auth.createToken(u"globex"_s, u"bob"_s);
        // Give both the same listed prefix, as a collision would.
        QVERIFY(TestBackend::exec(*m_db, u"UPDATE api_tokens SET prefix = ? WHERE id = ?"_s,
                                  {a->info.prefix, b->info.id}));
        QVERIFY(!auth.revokeToken(a->info.prefix));
        QVERIFY(auth.authenticate(a->token));
        QVERIFY(auth.authenticate(b->token));
        // Prefixes are case-sensitive: a case variant names neither token.
        const QString swapped =
            a->info.prefix.toUpper() == a->info.prefix ? a->info.prefix.toLower() : a->info.prefix.toUpper();
        if (swapped != a->info.prefix)
            QVERIFY(!auth.revokeToken(swapped));
        QVERIFY(auth.authenticate(a->token));
        QVERIFY(auth.revokeToken(a->info.id));
        QVERIFY(auth.revokeToken(a->info.prefix)); // only b is live under it now
        QVERIFY(!auth.authenticate(b->token));
    }

    void listTokens()
    {
        AuthStore auth(*m_db);
        const auto a1 = auth.createToken(u"acme"_s, u"alice"_s, u"one"_s);
        const auto a2 = auth.createToken(u"acme"_s, u"bob"_s, u"two"_s);
        const auto g1 = auth.createToken(u"globex"_s, u"gina"_s);
        QVERIFY(a1 && a2 && g1);
        QCOMPARE(auth.listTokens().size(), 3);
        const QList<ApiTokenInfo> acme = auth.listTokens(u"acme"_s);
        QCOMPARE(acme.size(), 2);
        for (const ApiTokenInfo &info : acme)
            QCOMPARE(info.tenantName, u"acme"_s);
        QStringList users{acme.at(0).userName, acme.at(1).userName};
        users.sort();
        QCOMPARE(users, (QStringList{u"alice"_s, u"bob"_s}));
        QCOMPARE(auth.listTokens(u"globex"_s).constFirst().prefix, g1->info.prefix);
        QVERIFY(auth.listTokens(u"initech"_s).isEmpty());
    }

    void lastUsedIsRecordedAtMostOncePerMinute()
    {
        AuthStore auth(*m_db);
        const auto created = auth.createToken(u"acme"_s, u"alice"_s);
        QVERIFY(!tokenInfo(created->info.id)->lastUsedAt);
        QVERIFY(auth.authenticate(created->token));
        const auto first = tokenInfo(created->info.id)->lastUsedAt;
        QVERIFY(first);
        QVERIFY(qAbs(first->msecsTo(QDateTime::currentDateTimeUtc())) < 60000);

        const qint64 recent = QDateTime::currentMSecsSinceEpoch() - 10000;
        QVERIFY(TestBackend::exec(*m_db, u"UPDATE api_tokens SET last_used_at = ?"_s, {recent}));
        QVERIFY(auth.authenticate(created->token));
        QCOMPARE(tokenInfo(created->info.id)->lastUsedAt->toMSecsSinceEpoch(), recent); // not rewritten

        const qint64 old = QDateTime::currentMSecsSinceEpoch() - 120000;
        QVERIFY(TestBackend::exec(*m_db, u"UPDATE api_tokens SET last_used_at = ?"_s, {old}));
        QVERIFY(auth.authenticate(created->token));
        QVERIFY(tokenInfo(created->info.id)->lastUsedAt->toMSecsSinceEpoch() > recent);
    }

    void onlyTheHashIsStored()
    {
        AuthStore auth(*m_db);
        const auto created = auth.createToken(u"acme"_s, u"alice"_s, u"ci"_s);
        QVERIFY(created);
        const QByteArray hash = AuthStore::hashToken(created->token);
        QCOMPARE(TestBackend::scalar(*m_db, u"SELECT token_hash FROM api_tokens"_s).toString(),
                 QString::fromLatin1(hash));
        // No column holds the token or its secret part.
        QCOMPARE(TestBackend::scalar(
                     *m_db,
                     u"SELECT COUNT(*) FROM api_tokens WHERE id = ? OR token_hash = ? OR prefix = ?"
                     u" OR label = ?"_s,
                     {created->token, created->token, created->token, created->token})
                     .toInt(),
                 0);
        if (m_backend.isPostgres())
            return;
        // And the bytes on disk: the file and its WAL hold the hash, never the token.
        m_db.reset();
        QByteArray bytes;
        for (const QString &suffix : {QString(), u"-wal"_s}) {
            QFile file(m_backend.sqlitePath() + suffix);
            if (file.open(QIODevice::ReadOnly))
                bytes += file.readAll();
        }
        QVERIFY(bytes.contains(hash)); // the search can find what is there
        QVERIFY(!bytes.contains(created->token.toLatin1()));
        QVERIFY(!bytes.contains(created->token.mid(12).toLatin1())); // nor the part after the prefix
    }

    void sqlMetacharactersInNames()
    {
        AuthStore auth(*m_db);
        const QString tenant = u"o'brien\"; DROP TABLE tenants; --"_s;
        const QString user = u"用户 %_\\ ?$1"_s;
        const auto created = auth.createToken(tenant, user, u"'); DELETE FROM api_tokens; --"_s);
        QVERIFY(created);
        const auto principal = auth.authenticate(created->token);
        QVERIFY(principal);
        QCOMPARE(principal->tenantName, tenant);
        QCOMPARE(principal->userName, user);
        QCOMPARE(auth.listTokens(tenant).constFirst().label, u"'); DELETE FROM api_tokens; --"_s);
        QVERIFY(auth.tenantByName(tenant));
        QVERIFY(!auth.tenantByName(u"o'brien"_s));
    }
};

QTEST_GUILESS_MAIN(AuthStoreTest)
#include "tst_authstore.moc"
