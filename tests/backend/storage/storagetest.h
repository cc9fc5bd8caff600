#pragma once

#include "storage/database.h"
#include "storage/entities.h"
#include "testbackend.h"

#include <QObject>

#include <memory>

// Base of the storage tests that work on an open, up-to-date database: every test function runs
// once per TestBackend row, each on emptied storage opened as m_db and filled by seed().
class StorageTest : public QObject
{
    Q_OBJECT

protected:
    // `schema` names the test's PostgreSQL schema; the test program's name keeps them apart.
    explicit StorageTest(const QString &schema);

    // The rows every test function of the class starts from; may fail with QVERIFY.
    virtual void seed() {}

    // Tenants "acme" and "globex" (scoping tests need two), their ids in m_acme and m_globex.
    void addTenants();
    // An agent of `tenantId` named `name`; its id, empty when it could not be stored.
    QString createAgent(const QString &tenantId, const QString &name);
    // A session not stored yet, for SessionStore::createSession().
    static Session makeSession(const QString &tenantId, const QString &userId, const QString &agentId,
                               const QString &title);

    TestBackend m_backend;
    std::unique_ptr<Database> m_db;
    QString m_acme;
    QString m_globex;

private Q_SLOTS:
    void initTestCase();
    void initTestCase_data();
    void init();
    void cleanup();
};
