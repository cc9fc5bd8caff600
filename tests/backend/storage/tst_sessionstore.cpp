#include "storage/authstore.h"
#include "storage/database.h"
#include "storage/sessionstore.h"
#include "storage/statsstore.h"
#include "storagetest.h"

#include <QTest>

using namespace Qt::StringLiterals;

class SessionStoreTest : public StorageTest
{
    Q_OBJECT

public:
    SessionStoreTest() : StorageTest(u"tst_sessionstore"_s) {}

private:
    // acme: alice and bob, agents helper and coder; globex: gina, agent rival.
    QString m_alice, m_bob, m_helper, m_coder;
    QString m_gina, m_rival;

    Session newSession(const QString &title, const QString &agentId = {}, qint64 updatedAtMs = 0)
    {
        Session session;
        session.tenantId = m_acme;
        session.userId = m_alice;
        session.agentId = agentId.isEmpty() ? m_helper : agentId;
        session.title = title;
        if (updatedAtMs > 0) {
            session.createdAt = QDateTime::fromMSecsSinceEpoch(updatedAtMs, Qt::UTC);
            session.updatedAt = session.createdAt;
        }
        if (!SessionStore(*m_db).createSession(session))
            session.id.clear();
        return session;
    }

    QStringList titles(const QList<Session> &sessions)
    {
        QStringList result;
        for (const Session &s : sessions)
            result.append(s.title);
        return result;
    }

    int count(const QString &sql, const QVariantList &values = {})
    {
        return TestBackend::scalar(*m_db, sql, values).toInt();
    }

    qint64 total(const QString &sql, const QVariantList &values = {})
    {
        return TestBackend::scalar(*m_db, sql, values).toLongLong();
    }

    void seed() override
    {
        addTenants();
        AuthStore auth(*m_db);
        m_alice = auth.ensureUser(m_acme, u"alice"_s)->id;
        m_bob = auth.ensureUser(m_acme, u"bob"_s)->id;
        m_gina = auth.ensureUser(m_globex, u"gina"_s)->id;
        m_helper = createAgent(m_acme, u"helper"_s);
        m_coder = createAgent(m_acme, u"coder"_s);
        m_rival = createAgent(m_globex, u"rival"_s);
        QVERIFY(!m_helper.isEmpty() && !m_coder.isEmpty() && !m_rival.isEmpty());
    }

private Q_SLOTS:
    void createSessionCountsIt()
    {
        const Session session = newSession(u"First"_s);
        QVERIFY(!session.id.isEmpty());
        QCOMPARE(session.messageCount, 0);
        QVERIFY(session.createdAt.isValid());
        const auto stored = SessionStore(*m_db).session(m_acme, m_alice, session.id);
        QVERIFY(stored);
        QCOMPARE(stored->title, u"First"_s);
        QCOMPARE(stored->agentId, m_helper);
        QCOMPARE(stored->createdAt, session.createdAt);
        QCOMPARE(StatsStore(*m_db).agentStats(m_acme, m_helper).sessions, 1);
        QCOMPARE(StatsStore(*m_db).agentStats(m_acme, m_coder).sessions, 0);
    }

    void createSessionWithItsFirstMessages()
    {
        // A new chat's start: the session, its user message and the empty reply in one go, as
        // appendMessages() would have stored them after an empty session.
        SessionStore store(*m_db);
        Session session = makeSession(m_acme, m_alice, m_helper, u"Chat"_s);
        Message user = SessionStore::newUserMessage(u"你好"_s, 2);
        Message reply = SessionStore::newReply(u"m"_s);
        reply.id = u"reply-id"_s; // kept: the stream names it before it is stored
        QVERIFY(store.createSession(session, {&user, &reply}));
        QCOMPARE(session.messageCount, 2);
        QCOMPARE(session.activeLeafId, u"reply-id"_s);
        const auto stored = store.session(m_acme, m_alice, session.id);
        QVERIFY(stored);
        QCOMPARE(stored->messageCount, 2);
        QCOMPARE(stored->activeLeafId, u"reply-id"_s);
        const QList<Message> messages = store.messages(session.id);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(0).id, user.id);
        QCOMPARE(messages.at(0).content, u"你好"_s);
        QCOMPARE(messages.at(0).parentId, QString());
        QCOMPARE(messages.at(1).id, u"reply-id"_s);
        QCOMPARE(messages.at(1).parentId, user.id);
        QCOMPARE(messages.at(1).status, u"streaming"_s);
        QCOMPARE(count(u"SELECT seq FROM messages WHERE id = ?"_s, {u"reply-id"_s}), 2);
        const AgentStats stats = StatsStore(*m_db).agentStats(m_acme, m_helper);
        QCOMPARE(stats.sessions, 1);
        QCOMPARE(stats.messages, 2);

        // The next message goes after them, on the same branch.
        Message next = SessionStore::newUserMessage(u"again"_s);
        QVERIFY(store.appendMessages(session.id, {&next}));
        QCOMPARE(next.parentId, u"reply-id"_s);
        QCOMPARE(count(u"SELECT seq FROM messages WHERE id = ?"_s, {next.id}), 3);

        // All or nothing: a message that cannot be stored leaves no session either.
        Session broken = makeSession(m_acme, m_alice, m_helper, u"Broken"_s);
        Message first = SessionStore::newUserMessage(u"q"_s);
        Message clash = SessionStore::newReply(u"m"_s);
        clash.id = u"reply-id"_s; // taken
        QVERIFY(!store.createSession(broken, {&first, &clash}));
        QCOMPARE(count(u"SELECT COUNT(*) FROM sessions"_s), 1);
        QCOMPARE(StatsStore(*m_db).agentStats(m_acme, m_helper).sessions, 1);
    }

    void sessionsAreScopedToTenantAndUser()
    {
        SessionStore store(*m_db);
        const Session mine = newSession(u"Mine"_s);
        QVERIFY(!mine.id.isEmpty());

        // Same tenant, other user.
        QVERIFY(!store.session(m_acme, m_bob, mine.id));
        QVERIFY(store.sessions(m_acme, m_bob).isEmpty());
        QVERIFY(!store.rename(m_acme, m_bob, mine.id, u"bob was here"_s));
        QVERIFY(!store.remove(m_acme, m_bob, mine.id));
        // Other tenant (and a user id that exists only there).
        QVERIFY(!store.session(m_globex, m_alice, mine.id));
        QVERIFY(!store.session(m_globex, m_gina, mine.id));
        QVERIFY(store.sessions(m_globex, m_alice).isEmpty());
        QVERIFY(!store.rename(m_globex, m_alice, mine.id, u"x"_s));
        QVERIFY(!store.remove(m_globex, m_alice, mine.id));

        const auto stored = store.session(m_acme, m_alice, mine.id);
        QVERIFY(stored);
        QCOMPARE(stored->title, u"Mine"_s);

        // A session cannot join another tenant's agent or user.
        Session crossAgent = makeSession(m_acme, m_alice, m_rival, u"x"_s);
        QVERIFY(!store.createSession(crossAgent));
        Session crossUser = makeSession(m_acme, m_gina, m_helper, u"x"_s);
        QVERIFY(!store.createSession(crossUser));
        QCOMPARE(count(u"SELECT COUNT(*) FROM sessions"_s), 1);
        QCOMPARE(StatsStore(*m_db).agentStats(m_globex, m_rival).sessions, 0);
    }

    void renameAndRemove()
    {
        SessionStore store(*m_db);
        const Session a = newSession(u"A"_s);
        const Session b = newSession(u"B"_s);
        QVERIFY(store.addUserMessage(a.id, u"one"_s));
        QVERIFY(store.addUserMessage(b.id, u"two"_s));
        const QDateTime before = store.session(m_acme, m_alice, a.id)->updatedAt;

        QVERIFY(store.rename(m_acme, m_alice, a.id, u"Renamed 改名"_s));
        const auto renamed = store.session(m_acme, m_alice, a.id);
        QCOMPARE(renamed->title, u"Renamed 改名"_s);
        QCOMPARE(renamed->updatedAt, before); // activity order unchanged by a rename

        QVERIFY(store.remove(m_acme, m_alice, a.id));
        QVERIFY(!store.session(m_acme, m_alice, a.id));
        QVERIFY(!store.remove(m_acme, m_alice, a.id));
        QCOMPARE(count(u"SELECT COUNT(*) FROM messages WHERE session_id = ?"_s, {a.id}), 0);
        QCOMPARE(store.messages(b.id).size(), 1);
        QVERIFY(!store.rename(m_acme, m_alice, a.id, u"gone"_s));
    }

    void sessionsNewestFirstWithAgentFilter()
    {
        SessionStore store(*m_db);
        const Session oldest = newSession(u"oldest"_s, m_helper, 1000);
        const Session middle = newSession(u"middle"_s, m_coder, 2000);
        const Session newest = newSession(u"newest"_s, m_helper, 3000);
        QVERIFY(!oldest.id.isEmpty() && !middle.id.isEmpty() && !newest.id.isEmpty());
        QCOMPARE(titles(store.sessions(m_acme, m_alice)),
                 (QStringList{u"newest"_s, u"middle"_s, u"oldest"_s}));
        QCOMPARE(titles(store.sessions(m_acme, m_alice, m_helper)), (QStringList{u"newest"_s, u"oldest"_s}));
        QCOMPARE(titles(store.sessions(m_acme, m_alice, m_coder)), (QStringList{u"middle"_s}));
        QVERIFY(store.sessions(m_acme, m_alice, m_rival).isEmpty());

        // A new message makes a session the most recent.
        QVERIFY(store.addUserMessage(oldest.id, u"bump"_s));
        QCOMPARE(titles(store.sessions(m_acme, m_alice)),
                 (QStringList{u"oldest"_s, u"newest"_s, u"middle"_s}));
        QCOMPARE(store.sessions(m_acme, m_alice).constFirst().messageCount, 1);
    }

    void titleSearch()
    {
        qint64 time = 1000;
        for (const QString &title :
             {u"Plan 100% done"_s, u"snake_case tips"_s, u"Quote's \"test\""_s, u"Weekly PLAN"_s,
              u"中文标题 计划"_s, u"Hi! there"_s, u"C:\\path"_s, u"nothing here"_s})
            QVERIFY(!newSession(title, m_helper, time++).id.isEmpty());

        // One setup, many filters: each case is a filter and the titles it finds, newest first.
        const QList<std::pair<QString, QStringList>> cases = {
            {u"plan"_s, {u"Weekly PLAN"_s, u"Plan 100% done"_s}}, // case-insensitive
            {u"%"_s, {u"Plan 100% done"_s}},                      // % is literal
            {u"0% d"_s, {u"Plan 100% done"_s}},
            {u"n%e"_s, {}},                     // ... and expands to nothing
            {u"_"_s, {u"snake_case tips"_s}},   // _ is literal
            {u"e_c"_s, {u"snake_case tips"_s}}, // ... and matches no other character
            {u"!"_s, {u"Hi! there"_s}},         // the escape character itself
            {u"'s"_s, {u"Quote's \"test\""_s}},
            {u"\"test\""_s, {u"Quote's \"test\""_s}},
            {u"\\"_s, {u"C:\\path"_s}},
            {u"计划"_s, {u"中文标题 计划"_s}},
            {u"' OR '1'='1"_s, {}},
            {u"zzz"_s, {}},
        };
        SessionStore store(*m_db);
        for (const auto &[filter, expected] : cases) {
            const QStringList found = titles(store.sessions(m_acme, m_alice, {}, filter));
            QVERIFY2(found == expected,
                     qPrintable(u"filter [%1] found [%2]"_s.arg(filter, found.join(u" | "_s))));
            QVERIFY(store.sessions(m_acme, m_alice, m_coder, filter).isEmpty()); // combined with an agent
            QVERIFY(store.sessions(m_acme, m_bob, {}, filter).isEmpty());        // and another user
        }
        QCOMPARE(titles(store.sessions(m_acme, m_alice, m_helper, u"PLAN"_s)),
                 (QStringList{u"Weekly PLAN"_s, u"Plan 100% done"_s}));
    }

    void messagesKeepTheirOrder()
    {
        SessionStore store(*m_db);
        const Session session = newSession(u"chat"_s);
        const Session other = newSession(u"other"_s);
        QStringList written;
        for (int i = 0; i < 6; ++i) {
            const QString text = u"message %1"_s.arg(i);
            const auto m =
                i % 2 == 0 ? store.addUserMessage(session.id, text) : store.beginReply(session.id, u"m"_s);
            QVERIFY(m);
            written.append(m->id);
            QVERIFY(store.addUserMessage(other.id, text)); // interleaved writes to another session
        }
        const QList<Message> messages = store.messages(session.id);
        QStringList read;
        for (const Message &m : messages)
            read.append(m.id);
        QCOMPARE(read, written);
        QCOMPARE(messages.at(0).role, u"user"_s);
        QCOMPARE(messages.at(1).role, u"assistant"_s);
        QCOMPARE(store.session(m_acme, m_alice, session.id)->messageCount, 6);
        QVERIFY(store.message(session.id, written.at(2)));
        QVERIFY(!store.message(other.id, written.at(2)));
        QVERIFY(!store.addUserMessage(u"no-such-session"_s, u"x"_s));
        QVERIFY(!store.beginReply(u"no-such-session"_s, u"x"_s));
    }

    void userMessageFields()
    {
        SessionStore store(*m_db);
        const Session session = newSession(u"chat"_s);
        const auto added = store.addUserMessage(session.id, u"hello"_s, 5);
        QVERIFY(added);
        const auto stored = store.message(session.id, added->id);
        QVERIFY(stored);
        QCOMPARE(stored->role, u"user"_s);
        QCOMPARE(stored->status, u"complete"_s);
        QCOMPARE(stored->content, u"hello"_s);
        QCOMPARE(stored->promptTokens, 5);
        QVERIFY(stored->tokensEstimated);
        QCOMPARE(stored->createdAt, added->createdAt);
        QCOMPARE(stored->sessionId, session.id);
        // The estimate is for display: tokens are counted from replies only.
        const AgentStats stats = StatsStore(*m_db).agentStats(m_acme, m_helper);
        QCOMPARE(stats.messages, 1);
        QCOMPARE(stats.totalTokens(), 0);
    }

    void replyLifecycle()
    {
        SessionStore store(*m_db);
        StatsStore stats(*m_db);
        const Session session = newSession(u"chat"_s);
        QVERIFY(store.addUserMessage(session.id, u"question"_s));
        const auto reply = store.beginReply(session.id, u"gpt-test"_s);
        QVERIFY(reply);
        QCOMPARE(reply->status, u"streaming"_s);
        QCOMPARE(reply->role, u"assistant"_s);
        auto stored = store.message(session.id, reply->id);
        QCOMPARE(stored->status, u"streaming"_s);
        QCOMPARE(stored->content, QString());
        QCOMPARE(stored->model, u"gpt-test"_s);
        QCOMPARE(stats.agentStats(m_acme, m_helper).messages, 2);

        QVERIFY(store.saveReplyProgress(reply->id, u"Partial 答"_s));
        QCOMPARE(store.message(session.id, reply->id)->content, u"Partial 答"_s);
        QCOMPARE(store.message(session.id, reply->id)->status, u"streaming"_s);

        Message done = *reply;
        done.content = u"Partial 答案 complete."_s;
        done.status = u"complete"_s;
        done.finishReason = u"Stop"_s;
        done.model.clear(); // keeps gpt-test
        done.promptTokens = 12;
        done.completionTokens = 34;
        done.tokensEstimated = true;
        QVERIFY(store.finishReply(done));
        stored = store.message(session.id, reply->id);
        QCOMPARE(stored->content, done.content);
        QCOMPARE(stored->status, u"complete"_s);
        QCOMPARE(stored->finishReason, u"Stop"_s);
        QCOMPARE(stored->model, u"gpt-test"_s);
        QCOMPARE(stored->promptTokens, 12);
        QCOMPARE(stored->completionTokens, 34);
        QVERIFY(stored->tokensEstimated);
        AgentStats after = stats.agentStats(m_acme, m_helper);
        QCOMPARE(after.promptTokens, 12);
        QCOMPARE(after.completionTokens, 34);

        // A finished reply is final: no more progress, no second finish, no double count.
        QVERIFY(!store.saveReplyProgress(reply->id, u"late"_s));
        QVERIFY(!store.finishReply(done));
        QCOMPARE(store.message(session.id, reply->id)->content, done.content);
        QCOMPARE(stats.agentStats(m_acme, m_helper).totalTokens(), 46);
        // User messages are never "streaming".
        const auto user = store.addUserMessage(session.id, u"next"_s);
        QVERIFY(!store.saveReplyProgress(user->id, u"edited"_s));
        Message fakeReply = *user;
        QVERIFY(!store.finishReply(fakeReply));
        QCOMPARE(store.message(session.id, user->id)->content, u"next"_s);
    }

    void finishReplyVariants()
    {
        SessionStore store(*m_db);
        const Session session = newSession(u"chat"_s);
        const Session other = newSession(u"other"_s);
        const auto cancelled = store.beginReply(session.id, u"a"_s);
        Message m = *cancelled;
        m.content = u"half"_s;
        m.status = u"cancelled"_s;
        m.finishReason = u"Cancelled"_s;
        m.model = u"b"_s;
        m.error = u"client went away"_s;
        QVERIFY(store.finishReply(m));
        auto stored = store.message(session.id, cancelled->id);
        QCOMPARE(stored->status, u"cancelled"_s);
        QCOMPARE(stored->model, u"b"_s);
        QCOMPARE(stored->error, u"client went away"_s);

        const auto defaulted = store.beginReply(session.id, u"a"_s);
        m = *defaulted; // status still "streaming": finishing means complete
        m.content = u"ok"_s;
        QVERIFY(store.finishReply(m));
        QCOMPARE(store.message(session.id, defaulted->id)->status, u"complete"_s);

        const auto wrongSession = store.beginReply(session.id, u"a"_s);
        m = *wrongSession;
        m.sessionId = other.id;
        QVERIFY(!store.finishReply(m));
        QCOMPARE(store.message(session.id, wrongSession->id)->status, u"streaming"_s);
    }

    void markInterruptedReplies()
    {
        SessionStore store(*m_db);
        const Session a = newSession(u"a"_s);
        const Session b = newSession(u"b"_s);
        const auto cut1 = store.beginReply(a.id, u"m"_s);
        const auto cut2 = store.beginReply(b.id, u"m"_s);
        const auto finished = store.beginReply(b.id, u"m"_s);
        QVERIFY(cut1 && cut2 && finished);
        QVERIFY(store.saveReplyProgress(cut1->id, u"saved so far"_s));
        Message done = *finished;
        done.content = u"done"_s;
        done.finishReason = u"Stop"_s;
        QVERIFY(store.finishReply(done));

        QCOMPARE(store.markInterruptedReplies(), 2);
        const auto m1 = store.message(a.id, cut1->id);
        QCOMPARE(m1->status, u"interrupted"_s);
        QCOMPARE(m1->finishReason, u"Interrupted"_s);
        QCOMPARE(m1->content, u"saved so far"_s);
        QCOMPARE(store.message(b.id, cut2->id)->status, u"interrupted"_s);
        QCOMPARE(store.message(b.id, finished->id)->status, u"complete"_s);
        QCOMPARE(store.message(b.id, finished->id)->finishReason, u"Stop"_s);
        QCOMPARE(store.markInterruptedReplies(), 0);
        QVERIFY(!store.finishReply(*cut1)); // an interrupted reply stays as it was saved
    }

    void statsMatchMessages()
    {
        SessionStore store(*m_db);
        StatsStore stats(*m_db);
        const Session h1 = newSession(u"h1"_s, m_helper);
        const Session h2 = newSession(u"h2"_s, m_helper);
        const Session c1 = newSession(u"c1"_s, m_coder);
        int n = 0;
        for (const Session &s : {h1, h2, c1, h1}) {
            QVERIFY(store.addUserMessage(s.id, u"q"_s, 3));
            auto reply = store.beginReply(s.id, u"m"_s);
            Message done = *reply;
            done.content = u"a"_s;
            done.promptTokens = 10 + n;
            done.completionTokens = 20 + n;
            QVERIFY(store.finishReply(done));
            ++n;
        }
        QVERIFY(store.beginReply(c1.id, u"m"_s)); // counted as a message, no tokens yet
        Session theirs = makeSession(m_globex, m_gina, m_rival, u"theirs"_s);
        QVERIFY(store.createSession(theirs));
        QVERIFY(store.addUserMessage(theirs.id, u"q"_s));

        for (const QString &agent : {m_helper, m_coder}) {
            const AgentStats s = stats.agentStats(m_acme, agent);
            QCOMPARE(s.agentId, agent);
            QCOMPARE(s.sessions, total(u"SELECT COUNT(*) FROM sessions WHERE agent_id = ?"_s, {agent}));
            QCOMPARE(s.messages,
                     total(u"SELECT COUNT(*) FROM messages m JOIN sessions s ON s.id = m.session_id"
                           u" WHERE s.agent_id = ?"_s,
                           {agent}));
            QCOMPARE(s.promptTokens,
                     total(u"SELECT SUM(m.prompt_tokens) FROM messages m JOIN sessions s"
                           u" ON s.id = m.session_id WHERE s.agent_id = ? AND m.role = 'assistant'"_s,
                           {agent}));
            QCOMPARE(s.completionTokens,
                     total(u"SELECT SUM(m.completion_tokens) FROM messages m JOIN sessions s"
                           u" ON s.id = m.session_id WHERE s.agent_id = ?"_s,
                           {agent}));
        }
        const AgentStats helper = stats.agentStats(m_acme, m_helper);
        QCOMPARE(helper.sessions, 2);
        QCOMPARE(helper.messages, 6);
        QCOMPARE(helper.promptTokens, 10 + 11 + 13);
        const AgentStats tenant = stats.tenantStats(m_acme);
        QCOMPARE(tenant.agentId, QString());
        QCOMPARE(tenant.sessions, 3);
        QCOMPARE(tenant.messages, 9);
        QCOMPARE(tenant.promptTokens, 10 + 11 + 12 + 13);
        QCOMPARE(tenant.completionTokens, 20 + 21 + 22 + 23);
        QCOMPARE(stats.tenantStats(m_globex).messages, 1);
        QCOMPARE(stats.agentStats(m_globex, m_helper).messages, 0); // another tenant's view of our agent
        QCOMPARE(stats.tenantStats(u"nobody"_s).messages, 0);

        // Usage counters are not lowered by deletes.
        QVERIFY(store.remove(m_acme, m_alice, h1.id));
        QCOMPARE(stats.agentStats(m_acme, m_helper).messages, 6);
        QCOMPARE(stats.tenantStats(m_acme).sessions, 3);
    }

    void failedStatsWriteRollsBackTheMessage()
    {
        const Session session = newSession(u"chat"_s);
        QVERIFY(SessionStore(*m_db).addUserMessage(session.id, u"kept"_s));
        const auto before = SessionStore(*m_db).session(m_acme, m_alice, session.id);
        m_db.reset();

        // A fresh connection (nothing prepared yet) with the statistics table out of the way:
        // the message insert succeeds, the statistics write fails, the transaction must undo both.
        Database db;
        QVERIFY2(db.open(m_backend.options()), qPrintable(db.lastError()));
        QVERIFY(TestBackend::exec(db, u"ALTER TABLE agent_stats RENAME TO agent_stats_away"_s));
        SessionStore store(db);
        QVERIFY(!store.addUserMessage(session.id, u"lost"_s));
        QVERIFY(!store.beginReply(session.id, u"m"_s));
        QVERIFY(TestBackend::exec(db, u"ALTER TABLE agent_stats_away RENAME TO agent_stats"_s));

        const QList<Message> messages = store.messages(session.id);
        QCOMPARE(messages.size(), 1);
        QCOMPARE(messages.constFirst().content, u"kept"_s);
        const auto after = store.session(m_acme, m_alice, session.id);
        QCOMPARE(after->messageCount, 1);
        QCOMPARE(after->updatedAt, before->updatedAt);
        QCOMPARE(StatsStore(db).agentStats(m_acme, m_helper).messages, 1);
        // And the store works again once the table is back.
        QVERIFY(store.addUserMessage(session.id, u"again"_s));
        QCOMPARE(StatsStore(db).agentStats(m_acme, m_helper).messages, 2);
    }

    void treeOfVersions()
    {
        SessionStore store(*m_db);
        Session session = newSession(u"tree"_s);
        const auto u1 = store.addUserMessage(session.id, u"q1"_s);
        const auto r1 = store.beginReply(session.id, u"m"_s, u1->id);
        const auto u2 = store.addUserMessage(session.id, u"q2"_s);
        QCOMPARE(u2->parentId, r1->id); // after the active branch's end
        const auto r2 = store.beginReply(session.id, u"m"_s);
        QCOMPARE(r2->parentId, u2->id);
        // A second answer to q1, then a first message of another version.
        const auto r1b = store.beginReply(session.id, u"m"_s, u1->id);
        auto branch = store.branch(session.id);
        QCOMPARE(branch->size(), 2);
        QCOMPARE(branch->at(1).id, r1b->id);
        QCOMPARE(branch->at(1).siblingIds, (QStringList{r1->id, r1b->id}));
        QCOMPARE(branch->at(0).siblingIds, QStringList{u1->id});
        const auto root = store.addUserMessage(session.id, u"q1 again"_s, 0, QString());
        QCOMPARE(store.branch(session.id)->at(0).siblingIds, (QStringList{u1->id, root->id}));

        // Through a message: the active branch if it passes there, else the newest versions below it.
        QCOMPARE(store.branch(session.id, u2->id)->constLast().id, r2->id);
        QCOMPARE(store.branch(session.id, u1->id)->constLast().id, r1b->id);
        QVERIFY(!store.branch(session.id, u"nope"_s));
        QCOMPARE(*store.activateBranch(session.id, r1->id), r2->id);
        QCOMPARE(store.branch(session.id)->size(), 4);
        QCOMPARE(store.session(m_acme, m_alice, session.id)->activeLeafId, r2->id);

        // The owner's messages only.
        QVERIFY(store.ownedMessage(m_acme, m_alice, r2->id));
        QVERIFY(!store.ownedMessage(m_acme, m_bob, r2->id));
        QVERIFY(!store.ownedMessage(m_globex, m_alice, r2->id));

        // A fork copies the path up to the message, and counts the copies.
        const qint64 before = total(u"SELECT messages FROM agent_stats WHERE agent_id = ?"_s, {m_helper});
        const auto forked = store.fork(*store.session(m_acme, m_alice, session.id), u2->id, u"copy"_s);
        QVERIFY(forked);
        QCOMPARE(forked->messageCount, 3);
        const auto copied = store.branch(forked->id);
        QCOMPARE(copied->size(), 3);
        QCOMPARE(copied->at(2).content, u"q2"_s);
        QCOMPARE(copied->at(2).parentId, copied->at(1).id);
        QCOMPARE(total(u"SELECT messages FROM agent_stats WHERE agent_id = ?"_s, {m_helper}), before + 3);
    }

    void pathThroughBadParents()
    {
        // Parents that loop or point nowhere (a hand-edited database) end the walk, never hang it.
        Message a, b, c;
        a.id = u"a"_s;
        a.parentId = u"b"_s;
        b.id = u"b"_s;
        b.parentId = u"a"_s;
        c.id = u"c"_s;
        c.parentId = u"gone"_s;
        QCOMPARE(SessionStore::pathThrough({a, b}, u"a"_s, {}).size(), 2);
        QCOMPARE(SessionStore::pathThrough({a, b}, {}, u"a"_s).size(), 2);
        QCOMPARE(SessionStore::pathThrough({a, b, c}, u"c"_s, {}).size(), 1);
        QVERIFY(SessionStore::pathThrough({}, {}, {}).isEmpty());
    }

    void textRoundTrip()
    {
        const QStringList texts = {
            u"你好，世界！这是一个测试。"_s,
            u"🌏🚀 mixed 中文 and English"_s,
            u"'); DROP TABLE messages; --"_s,
            u"it's \"quoted\" `back`"_s,
            u"C:\\temp\\new \\' \\\\"_s,
            u"? ?1 $1 :name @p %s"_s,
            u"100% _done_ !x"_s,
            u"line1\nline2\r\n\ttabbed  "_s,
            QString(),
            QString(u"长文本 long text "_s).repeated(5000),
        };
        SessionStore store(*m_db);
        for (const QString &text : texts) {
            const QString what = text.left(30);
            Session session = newSession(text);
            QVERIFY2(!session.id.isEmpty(), qPrintable(what));
            QCOMPARE(store.session(m_acme, m_alice, session.id)->title, text);
            const auto user = store.addUserMessage(session.id, text);
            QVERIFY2(user, qPrintable(what));
            QCOMPARE(store.message(session.id, user->id)->content, text);
            const auto reply = store.beginReply(session.id, text);
            QVERIFY2(store.saveReplyProgress(reply->id, text + text), qPrintable(what));
            QCOMPARE(store.message(session.id, reply->id)->content, text + text);
            Message done = *reply;
            done.content = text;
            done.error = text;
            done.finishReason = u"Stop"_s;
            QVERIFY2(store.finishReply(done), qPrintable(what));
            const auto stored = store.message(session.id, reply->id);
            QCOMPARE(stored->content, text);
            QCOMPARE(stored->error, text);
            QCOMPARE(stored->model, text);
            QVERIFY(store.rename(m_acme, m_alice, session.id, text + u"!"_s));
            QCOMPARE(store.session(m_acme, m_alice, session.id)->title, text + u"!"_s);
            QCOMPARE(store.messages(session.id).size(), 2); // nothing dropped or duplicated
        }
    }
};

QTEST_GUILESS_MAIN(SessionStoreTest)
#include "tst_sessionstore.moc"
