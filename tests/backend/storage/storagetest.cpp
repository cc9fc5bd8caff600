#include "storagetest.h"

#include "storage/agentstore.h"
#include "storage/authstore.h"

#include <QStandardPaths>

using namespace Qt::StringLiterals;

StorageTest::StorageTest(const QString &schema) : m_backend(schema) {}

void StorageTest::addTenants()
{
    AuthStore auth(*m_db);
    m_acme = auth.ensureTenant(u"acme"_s)->id;
    m_globex = auth.ensureTenant(u"globex"_s)->id;
}

QString StorageTest::createAgent(const QString &tenantId, const QString &name)
{
    Agent agent;
    agent.tenantId = tenantId;
    agent.name = name;
    return AgentStore(*m_db).create(agent) ? agent.id : QString();
}

Session StorageTest::makeSession(const QString &tenantId, const QString &userId, const QString &agentId,
                                 const QString &title)
{
    Session session;
    session.tenantId = tenantId;
    session.userId = userId;
    session.agentId = agentId;
    session.title = title;
    return session;
}

void StorageTest::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void StorageTest::initTestCase_data()
{
    TestBackend::addBackendRows();
}

void StorageTest::init()
{
    if (!m_backend.startTest())
        return;
    m_db = m_backend.open();
    if (m_db)
        seed();
}

void StorageTest::cleanup()
{
    m_db.reset();
}
