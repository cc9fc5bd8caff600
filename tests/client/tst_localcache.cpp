#include "localcache.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class LocalCacheTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void defaultPathIsSeparateFromTheServer()
    {
        QVERIFY(LocalCache::defaultPath().endsWith(u"/client-cache.db"_s));
    }

    void roundTripPerServer()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"client-cache.db"_s);
        {
            LocalCache cache(path);
            QVERIFY(cache.open());
            AgentItem a;
            a.id = u"a1"_s;
            a.name = u"写作助手"_s;
            a.greeting = u"你好"_s;
            cache.replaceAgents(u"http://one"_s, {a});
            SessionItem s;
            s.id = u"s1"_s;
            s.agentId = u"a1"_s;
            s.title = u"第一次"_s;
            s.updatedAt = QDateTime::currentDateTimeUtc();
            cache.replaceSessions(u"http://one"_s, {s});
            MessageItem g, u, r;
            g.role = u"greeting"_s; // never stored
            u.role = u"user"_s;
            u.content = u"问题"_s;
            r.role = u"assistant"_s;
            r.content = u"回答 **bold**"_s;
            r.status = u"cancelled"_s;
            r.tokensPerSecond = 12.5;
            cache.replaceMessages(u"http://one"_s, u"s1"_s, {g, u, r});
        }
        LocalCache cache(path);
        QVERIFY(cache.open());
        QCOMPARE(cache.agents(u"http://one"_s).value(0).name, u"写作助手"_s);
        QCOMPARE(cache.sessions(u"http://one"_s).value(0).title, u"第一次"_s);
        const QList<MessageItem> msgs = cache.messages(u"http://one"_s, u"s1"_s);
        QCOMPARE(msgs.size(), 2);
        QCOMPARE(msgs.at(0).content, u"问题"_s);
        QCOMPARE(msgs.at(1).status, u"cancelled"_s);
        QCOMPARE(msgs.at(1).tokensPerSecond, 12.5);
        // Another server sees nothing of it.
        QVERIFY(cache.sessions(u"http://two"_s).isEmpty());
        QVERIFY(cache.messages(u"http://two"_s, u"s1"_s).isEmpty());

        // A session that is gone takes its messages along.
        cache.replaceSessions(u"http://one"_s, {});
        QVERIFY(cache.messages(u"http://one"_s, u"s1"_s).isEmpty());
    }

    void upsertAndRemove()
    {
        QTemporaryDir dir;
        LocalCache cache(dir.filePath(u"c.db"_s));
        QVERIFY(cache.open());
        SessionItem s;
        s.id = u"s"_s;
        s.agentId = u"a"_s;
        s.title = u"one"_s;
        cache.upsertSession(u"k"_s, s);
        s.title = u"two"_s;
        cache.upsertSession(u"k"_s, s);
        QCOMPARE(cache.sessions(u"k"_s).size(), 1);
        QCOMPARE(cache.sessions(u"k"_s).at(0).title, u"two"_s);
        MessageItem m;
        m.role = u"user"_s;
        cache.replaceMessages(u"k"_s, u"s"_s, {m});
        cache.removeSession(u"k"_s, u"s"_s);
        QVERIFY(cache.sessions(u"k"_s).isEmpty());
        QVERIFY(cache.messages(u"k"_s, u"s"_s).isEmpty());
    }

    void valuesPerServerAndAnOlderFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"v1.db"_s);
        {
            // A cache a version-1 build wrote: it gains the table, and keeps what it had.
            QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"v1"_s);
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(
                u"CREATE TABLE agents (server TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, "
                "json TEXT NOT NULL, PRIMARY KEY (server, id))"_s));
            QVERIFY(q.exec(
                u"CREATE TABLE sessions (server TEXT NOT NULL, id TEXT NOT NULL, agent_id TEXT NOT NULL, "
                "json TEXT NOT NULL, PRIMARY KEY (server, id))"_s));
            QVERIFY(q.exec(
                u"CREATE TABLE messages (server TEXT NOT NULL, session_id TEXT NOT NULL, position INTEGER "
                "NOT NULL, json TEXT NOT NULL, PRIMARY KEY (server, session_id, position))"_s));
            QVERIFY(q.exec(u"INSERT INTO agents VALUES ('k', 'a', 0, '{\"id\":\"a\",\"name\":\"Old\"}')"_s));
            QVERIFY(q.exec(u"PRAGMA user_version = 1"_s));
            db.close();
        }
        QSqlDatabase::removeDatabase(u"v1"_s);
        LocalCache cache(path);
        QVERIFY(cache.open());
        QCOMPARE(cache.agents(u"k"_s).value(0).name, u"Old"_s);
        QCOMPARE(cache.value(u"k"_s, u"draft"_s), QString());
        cache.setValue(u"k"_s, u"draft"_s, u"半句话"_s);
        cache.setValue(u"k"_s, u"draft"_s, u"半句话，接着写"_s);
        cache.setValue(u"other"_s, u"draft"_s, u"x"_s);
        QCOMPARE(cache.value(u"k"_s, u"draft"_s), u"半句话，接着写"_s);
        QCOMPARE(cache.value(u"other"_s, u"draft"_s), u"x"_s);
        cache.setValue(u"k"_s, u"draft"_s, {});
        QCOMPARE(cache.value(u"k"_s, u"draft"_s), QString());
    }

    void refusesANewerSchema()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"new.db"_s);
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"newer"_s);
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery(db).exec(u"PRAGMA user_version = 99"_s);
            db.close();
        }
        QSqlDatabase::removeDatabase(u"newer"_s);
        LocalCache cache(path);
        QString error;
        QVERIFY(!cache.open(&error));
        QVERIFY(error.contains(u"newer"_s));
        QVERIFY(!cache.isOpen());
        QVERIFY(cache.sessions(u"x"_s).isEmpty()); // harmless when closed
    }
};

QTEST_GUILESS_MAIN(LocalCacheTest)
#include "tst_localcache.moc"
