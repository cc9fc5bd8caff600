#include "storage/database.h"
#include "storage/providerstore.h"
#include "storagetest.h"

#include <QTest>

using namespace Qt::StringLiterals;

class ProviderStoreTest : public StorageTest
{
    Q_OBJECT

public:
    ProviderStoreTest() : StorageTest(u"tst_providerstore"_s) {}

private:
    void seed() override { addTenants(); }

    ProviderRow provider(const QString &tenantId, const QString &name, bool isDefault = false)
    {
        ProviderRow row;
        row.tenantId = tenantId;
        row.name = name;
        row.kind = u"openai"_s;
        row.baseUrl = u"https://api.example.com/v1?x='1'"_s;
        row.model = u"gpt-test"_s;
        row.isDefault = isDefault;
        return row;
    }

    QStringList names(const QList<ProviderRow> &rows)
    {
        QStringList result;
        for (const ProviderRow &row : rows)
            result.append(row.name + (row.isDefault ? u"*"_s : QString()));
        return result;
    }

private Q_SLOTS:
    void upsertInsertsThenUpdates()
    {
        ProviderStore store(*m_db);
        ProviderRow row = provider(m_acme, u"openai"_s);
        row.connectTimeoutMs = 1000;
        row.stallTimeoutMs = 2000;
        QVERIFY(store.upsert(row));
        QCOMPARE(row.id.size(), 36);
        const QString id = row.id;

        auto stored = store.byName(m_acme, u"openai"_s);
        QVERIFY(stored);
        QCOMPARE(stored->id, id);
        QCOMPARE(stored->tenantId, m_acme);
        QCOMPARE(stored->kind, u"openai"_s);
        QCOMPARE(stored->baseUrl, u"https://api.example.com/v1?x='1'"_s);
        QCOMPARE(stored->model, u"gpt-test"_s);
        QCOMPARE(stored->connectTimeoutMs, 1000);
        QCOMPARE(stored->stallTimeoutMs, 2000);
        QCOMPARE(stored->isDefault, true); // the tenant's first provider is its default

        ProviderRow changed = provider(m_acme, u"openai"_s);
        changed.model = u"gpt-next"_s;
        QVERIFY(store.upsert(changed));
        QCOMPARE(changed.id, id); // same (tenant, name): same row
        stored = store.byName(m_acme, u"openai"_s);
        QCOMPARE(stored->model, u"gpt-next"_s);
        QCOMPARE(stored->connectTimeoutMs, 15000);
        QCOMPARE(store.list(m_acme).size(), 1);

        ProviderRow invalid = provider(m_acme, QString());
        QVERIFY(!store.upsert(invalid));
    }

    void oneDefaultPerTenant()
    {
        ProviderStore store(*m_db);
        QVERIFY(!store.defaultProvider(m_acme));
        ProviderRow only = provider(m_acme, u"local"_s);
        QVERIFY(store.upsert(only));
        QCOMPARE(store.defaultProvider(m_acme)->name, u"local"_s);
        QVERIFY(store.byName(m_acme, u"local"_s)->isDefault); // marked, as clients show it
        // Adding another one, not marked, changes nothing for the agents that use the default.
        ProviderRow second = provider(m_acme, u"aaa-second"_s);
        QVERIFY(store.upsert(second));
        QCOMPARE(store.defaultProvider(m_acme)->name, u"local"_s);
        QVERIFY(!store.byName(m_acme, u"aaa-second"_s)->isDefault);
        QVERIFY(store.remove(m_acme, u"aaa-second"_s));
        QTest::qWait(5); // "the first one added" is by time: not within one millisecond

        ProviderRow a = provider(m_acme, u"alpha"_s, true);
        QVERIFY(store.upsert(a));
        ProviderRow theirs = provider(m_globex, u"theirs"_s, true);
        QVERIFY(store.upsert(theirs));
        QCOMPARE(store.defaultProvider(m_acme)->name, u"alpha"_s);

        ProviderRow b = provider(m_acme, u"beta"_s, true);
        QVERIFY(store.upsert(b));
        QCOMPARE(names(store.list(m_acme)), (QStringList{u"alpha"_s, u"beta*"_s, u"local"_s}));
        QCOMPARE(store.defaultProvider(m_acme)->name, u"beta"_s);
        QCOMPARE(store.defaultProvider(m_globex)->name, u"theirs"_s); // untouched by acme's change

        ProviderRow unmark = provider(m_acme, u"beta"_s, false);
        QVERIFY(store.upsert(unmark));
        QCOMPARE(store.defaultProvider(m_acme)->name, u"local"_s); // none marked: the first one added
    }

    void scopedToTenant()
    {
        ProviderStore store(*m_db);
        ProviderRow row = provider(m_acme, u"shared-name"_s);
        QVERIFY(store.upsert(row));
        QVERIFY(!store.byName(m_globex, u"shared-name"_s));
        QVERIFY(store.list(m_globex).isEmpty());
        QVERIFY(!store.remove(m_globex, u"shared-name"_s));
        QVERIFY(store.byName(m_acme, u"shared-name"_s));

        ProviderRow theirs = provider(m_globex, u"shared-name"_s);
        QVERIFY(store.upsert(theirs));
        QVERIFY(theirs.id != row.id);
        QVERIFY(store.remove(m_acme, u"shared-name"_s));
        QVERIFY(!store.byName(m_acme, u"shared-name"_s));
        QVERIFY(store.byName(m_globex, u"shared-name"_s));
        QVERIFY(!store.remove(m_acme, u"shared-name"_s));
    }
};

QTEST_GUILESS_MAIN(ProviderStoreTest)
#include "tst_providerstore.moc"
