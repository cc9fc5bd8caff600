#include "storage/agentstore.h"
#include "storage/authstore.h"
#include "storage/database.h"
#include "storage/sessionstore.h"
#include "storage/statsstore.h"
#include "storagetest.h"

#include <QTest>

using namespace Qt::StringLiterals;

class AgentStoreTest : public StorageTest
{
    Q_OBJECT

public:
    AgentStoreTest() : StorageTest(u"tst_agentstore"_s) {}

private:
    void seed() override { addTenants(); }

    Agent makeAgent(const QString &tenantId, const QString &name)
    {
        Agent agent;
        agent.tenantId = tenantId;
        agent.name = name;
        return agent;
    }

private Q_SLOTS:
    void createAndGetRoundTrip()
    {
        AgentStore agents(*m_db);
        Agent agent = makeAgent(m_acme, u"翻译助手 'Translator'"_s);
        agent.description = u"Translates; DROP TABLE agents; -- 100% _safely_"_s;
        agent.systemPrompt =
            u"You are helpful.\nAnswer in 中文 when asked.\t\"quotes\" and \\backslashes\\"_s;
        agent.greeting = u"你好！👋"_s;
        agent.provider = u"local"_s;
        agent.model = u"qwen2.5:7b"_s;
        agent.temperature = 0.7;
        agent.maxTokens = 2048;
        QVERIFY(agents.create(agent));
        QCOMPARE(agent.id.size(), 36);
        QVERIFY(agent.createdAt.isValid());
        QCOMPARE(agent.updatedAt, agent.createdAt);

        const auto stored = agents.get(m_acme, agent.id);
        QVERIFY(stored);
        QCOMPARE(stored->tenantId, m_acme);
        QCOMPARE(stored->name, agent.name);
        QCOMPARE(stored->description, agent.description);
        QCOMPARE(stored->systemPrompt, agent.systemPrompt);
        QCOMPARE(stored->greeting, agent.greeting);
        QCOMPARE(stored->provider, agent.provider);
        QCOMPARE(stored->model, agent.model);
        QCOMPARE(stored->temperature, std::optional<double>(0.7));
        QCOMPARE(stored->maxTokens, std::optional<int>(2048));
        QCOMPARE(stored->createdAt, agent.createdAt);
        QCOMPARE(stored->createdAt.timeSpec(), Qt::UTC);

        Agent plain = makeAgent(m_acme, u"Plain"_s);
        QVERIFY(agents.create(plain));
        const auto storedPlain = agents.get(m_acme, plain.id);
        QVERIFY(!storedPlain->temperature);
        QVERIFY(!storedPlain->maxTokens);
        QCOMPARE(storedPlain->description, QString());
    }

    void createRejectsInvalidAgents()
    {
        AgentStore agents(*m_db);
        Agent noName = makeAgent(m_acme, u" "_s);
        QVERIFY(!agents.create(noName));
        Agent noTenant = makeAgent(QString(), u"x"_s);
        QVERIFY(!agents.create(noTenant));
        Agent unknownTenant = makeAgent(u"no-such-tenant"_s, u"x"_s);
        QVERIFY(!agents.create(unknownTenant));
        QVERIFY(unknownTenant.id.isEmpty()); // untouched on failure
        QVERIFY(agents.list(m_acme).isEmpty());
    }

    void listIsScopedAndSorted()
    {
        AgentStore agents(*m_db);
        for (const QString &name : {u"charlie"_s, u"Alpha"_s, u"bravo"_s}) {
            Agent agent = makeAgent(m_acme, name);
            QVERIFY(agents.create(agent));
        }
        Agent other = makeAgent(m_globex, u"Globex agent"_s);
        QVERIFY(agents.create(other));

        const QList<Agent> acme = agents.list(m_acme);
        QCOMPARE(acme.size(), 3);
        QCOMPARE(acme.at(0).name, u"Alpha"_s);
        QCOMPARE(acme.at(1).name, u"bravo"_s);
        QCOMPARE(acme.at(2).name, u"charlie"_s);
        const QList<Agent> globex = agents.list(m_globex);
        QCOMPARE(globex.size(), 1);
        QCOMPARE(globex.constFirst().id, other.id);
        QVERIFY(agents.list(u"no-such-tenant"_s).isEmpty());
    }

    void otherTenantsCannotTouchAnAgent()
    {
        AgentStore agents(*m_db);
        Agent agent = makeAgent(m_acme, u"Secret"_s);
        agent.systemPrompt = u"acme only"_s;
        QVERIFY(agents.create(agent));

        QVERIFY(!agents.get(m_globex, agent.id));
        Agent hijack = agent;
        hijack.tenantId = m_globex;
        hijack.systemPrompt = u"pwned"_s;
        QVERIFY(!agents.update(hijack));
        QVERIFY(!agents.remove(m_globex, agent.id));

        const auto stored = agents.get(m_acme, agent.id);
        QVERIFY(stored);
        QCOMPARE(stored->systemPrompt, u"acme only"_s);
        QCOMPARE(stored->tenantId, m_acme);
    }

    void updateChangesFields()
    {
        AgentStore agents(*m_db);
        Agent agent = makeAgent(m_acme, u"Draft"_s);
        agent.temperature = 1.2;
        agent.maxTokens = 100;
        agent.createdAt = QDateTime::fromMSecsSinceEpoch(1000, Qt::UTC);
        QVERIFY(agents.create(agent));
        QCOMPARE(agent.createdAt.toMSecsSinceEpoch(), 1000); // a given time is kept

        agent.name = u"Final"_s;
        agent.greeting = u"Hi"_s;
        agent.temperature.reset();
        agent.maxTokens = 512;
        QVERIFY(agents.update(agent));
        const auto stored = agents.get(m_acme, agent.id);
        QCOMPARE(stored->name, u"Final"_s);
        QCOMPARE(stored->greeting, u"Hi"_s);
        QVERIFY(!stored->temperature);
        QCOMPARE(stored->maxTokens, std::optional<int>(512));
        QCOMPARE(stored->createdAt.toMSecsSinceEpoch(), 1000);
        QVERIFY(stored->updatedAt > stored->createdAt);
        QCOMPARE(stored->updatedAt, agent.updatedAt);

        Agent missing = makeAgent(m_acme, u"Ghost"_s);
        missing.id = u"00000000-0000-0000-0000-000000000000"_s;
        QVERIFY(!agents.update(missing));
    }

    void removeCascadesToSessions()
    {
        AgentStore agents(*m_db);
        SessionStore sessions(*m_db);
        const auto user = AuthStore(*m_db).ensureUser(m_acme, u"alice"_s);
        Agent doomed = makeAgent(m_acme, u"Doomed"_s);
        Agent kept = makeAgent(m_acme, u"Kept"_s);
        QVERIFY(agents.create(doomed) && agents.create(kept));
        Session s1 = makeSession(m_acme, user->id, doomed.id, u"one"_s);
        Session s2 = makeSession(m_acme, user->id, kept.id, u"two"_s);
        QVERIFY(sessions.createSession(s1) && sessions.createSession(s2));
        QVERIFY(sessions.addUserMessage(s1.id, u"hello"_s));
        QVERIFY(sessions.addUserMessage(s2.id, u"hello"_s));

        QVERIFY(agents.remove(m_acme, doomed.id));
        QVERIFY(!agents.get(m_acme, doomed.id));
        QVERIFY(!agents.remove(m_acme, doomed.id));
        QVERIFY(!sessions.session(m_acme, user->id, s1.id));
        QCOMPARE(TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM messages WHERE session_id = ?"_s, {s1.id})
                     .toInt(),
                 0);
        QCOMPARE(sessions.sessions(m_acme, user->id).size(), 1);
        QCOMPARE(sessions.messages(s2.id).size(), 1);
        // Usage counters outlive the agent.
        QCOMPARE(StatsStore(*m_db).agentStats(m_acme, doomed.id).messages, 1);
        QCOMPARE(StatsStore(*m_db).tenantStats(m_acme).messages, 2);
    }
};

QTEST_GUILESS_MAIN(AgentStoreTest)
#include "tst_agentstore.moc"
