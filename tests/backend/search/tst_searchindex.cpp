// Full-text search on both engines: Chinese without word breaks (two characters, below SQLite's
// trigram size, and longer), several English words in any order and case, ranking, snippets,
// scoping, and an index that follows inserts, finished replies and deletes.
#include "search/searchindex.h"
#include "storage/authstore.h"
#include "storage/sessionstore.h"
#include "storagetest.h"

#include <QTest>

using namespace Qt::StringLiterals;

class SearchIndexTest : public StorageTest
{
    Q_OBJECT

public:
    SearchIndexTest() : StorageTest(u"tst_searchindex"_s) {}

private:
    QString m_alice, m_bob, m_agent;

    void seed() override
    {
        addTenants();
        AuthStore auth(*m_db);
        m_alice = auth.ensureUser(m_acme, u"alice"_s)->id;
        m_bob = auth.ensureUser(m_acme, u"bob"_s)->id;
        m_agent = createAgent(m_acme, u"helper"_s);
        QVERIFY(!m_agent.isEmpty());
    }

    // A session of `user` with one turn; returns the session id.
    QString conversation(const QString &user, const QString &title, const QString &question,
                         const QString &answer)
    {
        SessionStore store(*m_db);
        Session session = makeSession(m_acme, user, m_agent, title);
        if (!store.createSession(session))
            return {};
        store.addUserMessage(session.id, question);
        auto reply = store.beginReply(session.id, u"m"_s);
        reply->content = answer;
        store.finishReply(*reply);
        return session.id;
    }

    QStringList found(const QString &query, const QString &user = {})
    {
        QStringList titles;
        for (const auto &result : SearchIndex(*m_db).search(m_acme, user.isEmpty() ? m_alice : user, query))
            titles.append(result.title);
        return titles;
    }

private Q_SLOTS:
    void chineseWithoutWordBreaks()
    {
        conversation(m_alice, u"天气"_s, u"今天的天气怎么样？"_s, u"北京今天晴，气温二十度。"_s);
        conversation(m_alice, u"代码"_s, u"帮我写一个排序函数"_s, u"好的，这是快速排序的实现。"_s);
        QCOMPARE(found(u"天气"_s), QStringList{u"天气"_s});      // two characters: below trigram size
        QCOMPARE(found(u"快速排序"_s), QStringList{u"代码"_s});  // four: through the index
        QCOMPARE(found(u"排序 实现"_s), QStringList{u"代码"_s}); // both terms, not next to each other
        QCOMPARE(found(u"排序 天气"_s), QStringList());          // every term must be there
        QCOMPARE(found(u"晴"_s), QStringList{u"天气"_s});        // one character
    }

    void englishWordsAndCase()
    {
        conversation(m_alice, u"Streams"_s, u"How do I resume a Streaming reply?"_s,
                     u"Send Last-Event-ID."_s);
        conversation(m_alice, u"Tools"_s, u"Can the model call tools?"_s,
                     u"Yes, over MCP: tool calls stream."_s);
        QCOMPARE(found(u"streaming"_s), QStringList{u"Streams"_s});
        QCOMPARE(found(u"STREAM tool"_s), QStringList{u"Tools"_s});
        QCOMPARE(found(u"last-event-id"_s), QStringList{u"Streams"_s});
        QCOMPARE(found(u"mcp"_s), QStringList{u"Tools"_s});
        QCOMPARE(found(u"nothing-like-this"_s), QStringList());
        // LIKE's wildcards are plain characters here.
        QCOMPARE(found(u"%"_s), QStringList());
        QCOMPARE(found(u"_"_s), QStringList());
    }

    void rankedByMatches()
    {
        conversation(m_alice, u"once"_s, u"rust"_s, u"a language"_s);
        const QString many = conversation(m_alice, u"many"_s, u"rust and rust"_s, u"rust, rust, rust"_s);
        conversation(m_alice, u"rust in the title"_s, u"rust"_s, u"ok"_s);
        QCOMPARE(found(u"rust"_s), (QStringList{u"many"_s, u"rust in the title"_s, u"once"_s}));
        const auto results = SearchIndex(*m_db).search(m_acme, m_alice, u"rust"_s);
        QCOMPARE(results.first().sessionId, many);
        QCOMPARE(results.first().totalHits, 2);
        QCOMPARE(results.first().hits.first().matches, 3);
        QCOMPARE(results.first().hits.first().role, u"assistant"_s);
        QCOMPARE(results.at(1).titleHtml, u"<mark>rust</mark> in the title"_s);
        QCOMPARE(SearchIndex(*m_db).search(m_acme, m_alice, u"rust"_s, 1).size(), 1);
    }

    void scopedToTheUser()
    {
        conversation(m_bob, u"bob's"_s, u"secret plans"_s, u"noted"_s);
        QCOMPARE(found(u"secret"_s), QStringList());
        QCOMPARE(found(u"secret"_s, m_bob), QStringList{u"bob's"_s});
        QVERIFY(SearchIndex(*m_db).search(m_globex, m_bob, u"secret"_s).isEmpty());
    }

    void indexFollowsTheMessages()
    {
        SessionStore store(*m_db);
        Session session = makeSession(m_acme, m_alice, m_agent, u"live"_s);
        QVERIFY(store.createSession(session));
        store.addUserMessage(session.id, u"question"_s);
        auto reply = store.beginReply(session.id, u"m"_s);
        // A growing reply is not searchable yet; once it ends, it is.
        QVERIFY(store.saveReplyProgress(reply->id, u"partial zebra"_s));
        QCOMPARE(found(u"zebra"_s), QStringList());
        reply->content = u"complete zebra answer"_s;
        QVERIFY(store.finishReply(*reply));
        QCOMPARE(found(u"zebra answer"_s), QStringList{u"live"_s});
        QCOMPARE(found(u"partial"_s), QStringList());
        // A reply a crash cut is indexed as it was saved.
        auto cut = store.beginReply(session.id, u"m"_s);
        QVERIFY(store.saveReplyProgress(cut->id, u"interrupted giraffe"_s));
        QCOMPARE(store.markInterruptedReplies(), 1);
        QCOMPARE(found(u"giraffe"_s), QStringList{u"live"_s});
        // Deleting the session takes its messages out of the index.
        QVERIFY(store.remove(m_acme, m_alice, session.id));
        QCOMPARE(found(u"zebra"_s), QStringList());
        QCOMPARE(found(u"giraffe"_s), QStringList());
        if (!m_backend.isPostgres()) // and nothing stale stays in it
            QCOMPARE(TestBackend::scalar(
                         *m_db, u"SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'zebra'"_s)
                         .toInt(),
                     0);
    }

    void indexedLazilyAndKeptTrue()
    {
        if (m_backend.isPostgres())
            QSKIP("PostgreSQL's index keeps itself up to date");
        const QString session = conversation(m_alice, u"lazy"_s, u"first words"_s, u"an answer"_s);
        // Ending a reply indexes nothing; catching up (before a search, or while idle) does.
        const auto indexed = [&] {
            return TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM messages WHERE indexed = 1"_s).toInt();
        };
        const auto inIndex = [&](const char *term) {
            return TestBackend::scalar(*m_db,
                                       u"SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?"_s,
                                       {QString::fromLatin1(term)})
                .toInt();
        };
        QCOMPARE(indexed(), 0);
        QCOMPARE(inIndex("first"), 0);
        QCOMPARE(SearchIndex(*m_db).catchUp(1), 1);
        QCOMPARE(SearchIndex(*m_db).catchUp(), 1);
        QCOMPARE(SearchIndex(*m_db).catchUp(), 0);
        QCOMPARE(indexed(), 2);
        QCOMPARE(inIndex("first"), 1);
        // A stored text that changes is taken out and indexed again.
        QVERIFY(TestBackend::exec(
            *m_db, u"UPDATE messages SET content = 'other words' WHERE session_id = ? AND role = 'user'"_s,
            {session}));
        QCOMPARE(found(u"other words"_s), QStringList{u"lazy"_s});
        QCOMPARE(found(u"first"_s), QStringList());
        QCOMPARE(inIndex("first"), 0);
        QCOMPARE(inIndex("other"), 1);
        QCOMPARE(indexed(), 2);
    }

    void snippetsAndHighlights()
    {
        const QStringList terms = SearchIndex::terms(u"  Tool tool  <b>  "_s);
        QCOMPARE(terms, (QStringList{u"Tool"_s, u"<b>"_s})); // longest first, each once
        QCOMPARE(SearchIndex::highlight(u"a <b> TOOL & tools"_s, terms),
                 u"a <mark>&lt;b&gt;</mark> <mark>TOOL</mark> &amp; <mark>tool</mark>s"_s);
        // A long text is cut around the first match, never inside a surrogate pair.
        const QString text =
            QString(u"🙂"_s).repeated(100) + u"needle"_s + QString(u"🙂"_s).repeated(100);
        for (int radius : {59, 60, 61}) {
            const QString cut = SearchIndex::snippet(text, {u"needle"_s}, radius);
            QVERIFY(cut.startsWith(u"…🙂"_s));
            QVERIFY(cut.endsWith(u"🙂…"_s));
            QVERIFY(cut.contains(u"<mark>needle</mark>"_s));
            for (qsizetype i = 0; i < cut.size(); ++i) {
                if (cut.at(i).isHighSurrogate())
                    QVERIFY(i + 1 < cut.size() && cut.at(++i).isLowSurrogate());
                else
                    QVERIFY(!cut.at(i).isLowSurrogate());
            }
        }
        QCOMPARE(SearchIndex::snippet(u"short\nline"_s, {u"line"_s}), u"short <mark>line</mark>"_s);
        QCOMPARE(SearchIndex::terms(u"a b c d e f g h i j"_s).size(), SearchIndex::maxTerms);
    }
};

QTEST_GUILESS_MAIN(SearchIndexTest)
#include "tst_searchindex.moc"
