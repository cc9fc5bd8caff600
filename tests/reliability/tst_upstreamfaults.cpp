// Upstream faults under load: 200 streams at once while the upstream refuses connections,
// stalls before and during the answer, cuts connections, answers HTTP errors and sends garbage
// on a share of them. Every stream must end with exactly one `done` or `error`, and the database
// must hold exactly what each client saw.
#include "../backend/http/apifixture.h"
#include "chat/chatservice.h"
#include "dbcheck.h"
#include "streamclient.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTest>

#include <sys/resource.h>

using namespace Qt::StringLiterals;

class UpstreamFaultsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void everyStreamEndsAndIsStoredAsSeen();

private:
    ApiFixture *f = nullptr;
};

namespace {

struct Kind
{
    const char *name;
    QString model;       // the agent's model: steers the fake upstream
    QString provider;    // empty: the fixture's fake upstream ("env")
    bool done;           // the stream should end with `done` (else `error`)
    int leaveAfter = -1; // the client goes away after this many content chunks
};

} // namespace

void UpstreamFaultsTest::initTestCase()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    f = new ApiFixture;
    // Streams that should complete get ample time-outs even on a loaded machine (ASan, 2 cores);
    // the stalls get providers of their own with tight ones.
    QVERIFY(f->start([](Server::Options &o) {
        o.environmentProvider->connectTimeoutMs = 15000;
        o.environmentProvider->stallTimeoutMs = 10000;
        o.resumeGraceMs = 0; // a client that leaves stops its reply (the resume tests cover the grace)
    }));
    f->fake.setRecordRequests(false);
}

void UpstreamFaultsTest::cleanupTestCase()
{
    delete f;
}

void UpstreamFaultsTest::everyStreamEndsAndIsStoredAsSeen()
{
    // A provider on a port where nothing listens: every connection is refused.
    quint16 closedPort = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        closedPort = probe.serverPort();
    }
    ApiTestClient client = f->client();
    const auto addProvider = [&](const QString &name, const QString &baseUrl) {
        const HttpResult result = client.request("PUT", u"/api/providers/"_s + name,
                                                 QJsonDocument(QJsonObject{{u"base_url"_s, baseUrl},
                                                                           {u"model"_s, u"gpt-none"_s},
                                                                           {u"connect_timeout_ms"_s, 1500},
                                                                           {u"stall_timeout_ms"_s, 1500}})
                                                     .toJson());
        QCOMPARE(result.status, 200);
    };
    addProvider(u"dead"_s, u"http://127.0.0.1:%1/v1"_s.arg(closedPort));
    addProvider(u"impatient"_s, f->fake.baseUrl().toString()); // the fake, with 1.5 s time-outs
    if (QTest::currentTestFailed())
        return;

    const QList<Kind> kinds{
        {"complete", u"fake:tokens=30,delay=10"_s, {}, true},
        {"slow first token", u"fake:tokens=10,first=300,delay=20"_s, {}, true},
        {"malformed lines", u"fake:tokens=15,delay=10,malformed=1"_s, {}, true},
        {"split bytes",
         u"fake:tokens=20,delay=5,split=3,text=%E4%BD%A0%E5%A5%BD%E4%B8%96%E7%95%8C%F0%9F%98%80"_s,
         {},
         true},
        {"no [DONE]", u"fake:tokens=10,delay=10,nodone=1"_s, {}, true},
        {"cut mid-stream", u"fake:tokens=30,delay=10,cut=7"_s, {}, false},
        {"stall mid-stream", u"fake:tokens=30,delay=10,stall=5"_s, u"impatient"_s, false},
        {"stall before headers", u"fake:stall=0"_s, u"impatient"_s, false},
        {"HTTP 500", u"fake:status=500"_s, {}, false},
        {"HTTP 429", u"fake:status=429"_s, {}, false},
        {"connection refused", {}, u"dead"_s, false},
        {"client leaves", u"fake:tokens=200,delay=10"_s, {}, false, 3},
    };
    QStringList agents;
    for (const Kind &kind : kinds) {
        // "env": the fixture's fake upstream (the dead provider would be the tenant's default).
        const QJsonObject extra{{u"provider"_s, kind.provider.isEmpty() ? u"env"_s : kind.provider}};
        agents.append(f->createAgent(kind.model, extra));
        QVERIFY(!agents.last().isEmpty());
    }

    constexpr int streams = 200;
    std::vector<std::unique_ptr<AsyncStream>> running;
    QList<int> kindOf;
    QStringList sent;
    for (int i = 0; i < streams; ++i) {
        const int k = i % int(kinds.size());
        kindOf.append(k);
        sent.append(u"stream %1 (%2): 你好 'quoted' \"text\""_s.arg(i).arg(QLatin1String(kinds.at(k).name)));
        running.push_back(std::make_unique<AsyncStream>(
            f->server->port(), chatStreamRequest(agents.at(k), f->token, sent.last())));
        running.back()->setLeaveAfterChunks(kinds.at(k).leaveAfter);
    }
    QElapsedTimer timer;
    timer.start();
    for (auto &stream : running)
        stream->start();
    // The server keeps answering others while all of that goes on.
    QTRY_VERIFY_WITH_TIMEOUT(f->server->chat().directory().running() > streams / 2, 10000);
    QCOMPARE(f->client().get(u"/api/health"_s).status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(
        std::all_of(running.begin(), running.end(), [](const auto &s) { return s->isFinished(); }), 60000);
    qInfo("%d streams ended in %lld ms", streams, timer.elapsed());

    // What the clients saw: one closing chunk, last, of the expected kind.
    QMap<QString, int> outcomes;
    for (int i = 0; i < streams; ++i) {
        const StreamRecord &r = running.at(i)->record();
        const Kind &kind = kinds.at(kindOf.at(i));
        const QString what = u"stream %1 (%2)"_s.arg(i).arg(QLatin1String(kind.name));
        QVERIFY2(r.status == 200, qPrintable(what + u": HTTP "_s + QString::number(r.status)));
        if (kind.leaveAfter >= 0) { // no closing chunk: the client left
            QVERIFY2(r.left && r.terminals == 0, qPrintable(what));
            ++outcomes[QLatin1String(kind.name)];
            continue;
        }
        QVERIFY2(r.terminals == 1, qPrintable(what + u": closing chunks "_s + QString::number(r.terminals)));
        QVERIFY2(!r.chunkAfterTerminal, qPrintable(what));
        QVERIFY2(r.closed, qPrintable(what));
        QVERIFY2(r.terminal == (kind.done ? u"done"_s : u"error"_s), qPrintable(what + u": "_s + r.error));
        QVERIFY(r.started());
        if (!kind.done)
            QVERIFY2(!r.error.isEmpty(), qPrintable(what));
        ++outcomes[u"%1 %2"_s.arg(QLatin1String(kind.name), r.terminal)];
    }
    qInfo() << "outcomes:" << outcomes;

    // What the database holds: exactly that.
    QTRY_COMPARE_WITH_TIMEOUT(f->server->chat().directory().running(), 0, 5000);
    ReadOnlyDb db(f->dir.filePath(u"agentdesk.db"_s));
    QVERIFY2(db.isOpen(), qPrintable(db.errorString()));
    int checked = 0;
    for (int i = 0; i < streams; ++i) {
        const StreamRecord &r = running.at(i)->record();
        const QList<QVariantMap> rows = db.rows(
            u"SELECT id, role, content, status, error, finish_reason FROM messages WHERE session_id = ?"
            u" ORDER BY seq"_s,
            {r.sessionId});
        const QString what = u"stream %1 (%2)"_s.arg(i).arg(QLatin1String(kinds.at(kindOf.at(i)).name));
        QVERIFY2(rows.size() == 2, qPrintable(what + u": rows "_s + QString::number(rows.size())));
        const QVariantMap &user = rows.at(0);
        const QVariantMap &reply = rows.at(1);
        QCOMPARE(user.value(u"id"_s).toString(), r.messageId);
        QCOMPARE(user.value(u"role"_s).toString(), u"user"_s);
        QCOMPARE(user.value(u"content"_s).toString(), sent.at(i));
        QCOMPARE(reply.value(u"role"_s).toString(), u"assistant"_s);
        const QString stored = reply.value(u"content"_s).toString();
        if (r.left) {
            // The server may have relayed a little more before it saw the client go: what the
            // client saw comes first, the reply is saved as cancelled, and the upstream was
            // stopped long before its 200 tokens.
            QVERIFY2(stored.startsWith(r.content), qPrintable(what));
            QCOMPARE(reply.value(u"status"_s).toString(), u"cancelled"_s);
            QCOMPARE(reply.value(u"finish_reason"_s).toString(), u"Disconnected"_s);
            QVERIFY2(stored.count(u' ') < 100, qPrintable(what + u": "_s + stored));
            checked += 2;
            continue;
        }
        QVERIFY2(stored == r.content,
                 qPrintable(what + u": stored \""_s + stored + u"\", seen \""_s + r.content + u"\""_s));
        if (r.terminal == u"done"_s) {
            QCOMPARE(reply.value(u"status"_s).toString(), u"complete"_s);
            QCOMPARE(reply.value(u"id"_s).toString(), r.replyId);
        } else {
            QCOMPARE(reply.value(u"status"_s).toString(), u"error"_s);
            QVERIFY(!reply.value(u"error"_s).toString().isEmpty());
        }
        checked += 2;
    }
    QCOMPARE(db.scalar(u"SELECT COUNT(*) FROM messages WHERE status = 'streaming'"_s).toInt(), 0);
    QCOMPARE(db.integrityCheck(), u"ok"_s);
    const QStringList mismatches = db.statisticsMismatches();
    QVERIFY2(mismatches.isEmpty(), qPrintable(mismatches.join(u'\n')));
    // Nothing is left running upstream either.
    QTRY_COMPARE_WITH_TIMEOUT(f->fake.activeStreams(), 0, 5000);
    qInfo("messages checked against what the clients saw: %d", checked);
}

QTEST_GUILESS_MAIN(UpstreamFaultsTest)
#include "tst_upstreamfaults.moc"
