// Streams that survive the network (protocol v2, sections 2-3), over real sockets against an
// in-process server: event ids, resume after a drop on every route, several followers, replay of
// an ended reply from storage, 204 once the end was seen, Idempotency-Key, the grace period,
// cancel by reply, stream tickets, CORS, HTTP/1.0 and UTF-16 surrogate pairs split upstream.
#include "../backend/http/apifixture.h"
#include "chat/chatservice.h"
#include "dbcheck.h"
#include "http/cors.h"
#include "http/streamtickets.h"
#include "rawclient.h"
#include "streamclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlQuery>
#include <QTest>
#include <QUrlQuery>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

int seqOf(const QByteArray &id)
{
    return id.mid(id.lastIndexOf(':') + 1).toInt();
}

QString replyOf(const QByteArray &id)
{
    return QString::fromLatin1(id.left(id.lastIndexOf(':')));
}

// What a client assembles from the events it got: the text, the terminal, the sequence numbers.
struct Seen
{
    QList<int> seqs;
    QString text;
    QStringList terminals;
    QString finishReason;
    QString replyId;

    void add(const QByteArray &id, const QJsonObject &chunk)
    {
        seqs.append(seqOf(id));
        if (replyId.isEmpty())
            replyId = replyOf(id);
        const QString type = chunk.value(u"type"_s).toString();
        if (type == u"content"_s)
            text += chunk.value(u"content"_s).toString();
        else if (type == u"done"_s || type == u"error"_s) {
            terminals.append(type);
            finishReason = chunk.value(u"finish_reason"_s).toString();
        }
    }
    void add(const ApiTestClient::StreamResult &result)
    {
        for (const SseEventRecord &event : result.events)
            add(event.id, event.json);
    }
    void add(const StreamRecord &record)
    {
        for (qsizetype i = 0; i < record.events.size(); ++i)
            add(record.ids.at(i), record.events.at(i));
    }
    bool contiguousFrom(int first) const
    {
        for (qsizetype i = 0; i < seqs.size(); ++i) {
            if (seqs.at(i) != first + int(i))
                return false;
        }
        return true;
    }
};

// A response's events with the `retry` line its first one carries taken off.
QList<QByteArray> withoutRetry(QList<QByteArray> events)
{
    if (!events.isEmpty() && events.first().startsWith("retry: 3000\n"))
        events.first().remove(0, 12);
    return events;
}

QString replyText(const QString &model)
{
    FakeScenario scenario;
    scenario.applyModel(model);
    return scenario.replyText();
}

} // namespace

class ResumeTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dropThenResume_data();
    void dropThenResume();
    void followersAtOnceAndReplayFromStorage();
    void noContentOnceTheEndWasSeen();
    void othersRepliesAreNotFound();
    void idempotencyKeyStartsOneTurn();
    void graceExpiryAbandonsTheReply();
    void resumeWithinTheGraceCompletes();
    void cancelByReply();
    void wholeReplyRouteWithAFollower();
    void noDatabaseWritePerChunk();
    void streamTickets();
    void cors();
    void http10AndConnectionClose();
    void surrogatePairsSplitUpstream();

private:
    static QByteArray eventSourcePath(const QString &agentId, const QString &message, const QString &token,
                                      const QString &lastEventId = {});
    static int messageCount(ApiFixture &f, const QString &sessionId);
};

QByteArray ResumeTest::eventSourcePath(const QString &agentId, const QString &message, const QString &token,
                                       const QString &lastEventId)
{
    QUrlQuery query;
    query.addQueryItem(u"message"_s, QString::fromLatin1(QUrl::toPercentEncoding(message)));
    query.addQueryItem(u"access_token"_s, token);
    if (!lastEventId.isEmpty())
        query.addQueryItem(u"last_event_id"_s, QString::fromLatin1(QUrl::toPercentEncoding(lastEventId)));
    return (u"/api/agents/%1/chat/stream?"_s.arg(agentId) + query.toString(QUrl::FullyEncoded)).toUtf8();
}

int ResumeTest::messageCount(ApiFixture &f, const QString &sessionId)
{
    return int(
        f.client().get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray().size());
}

void ResumeTest::dropThenResume_data()
{
    QTest::addColumn<QString>("how");
    QTest::newRow("POST, Last-Event-ID header") << u"post"_s;
    QTest::newRow("GET, Last-Event-ID header") << u"get-header"_s;
    QTest::newRow("GET, last_event_id query (EventSource URL)") << u"get-query"_s;
    QTest::newRow("GET /api/replies/{id}/stream") << u"attach"_s;
}

void ResumeTest::dropThenResume()
{
    QFETCH(QString, how);
    ApiFixture f;
    QVERIFY(f.start());
    const QString model = u"fake:tokens=30,delay=20"_s;
    const QString agentId = f.createAgent(model);
    auto client = f.client();
    const QString path = u"/api/agents/%1/chat/stream"_s.arg(agentId);
    const QByteArray body = ApiFixture::chatBody(u"tell me a story"_s);

    // The client drops after five events (the opener and four tokens) ...
    int events = 0;
    const auto first =
        client.stream("POST", path, body, [&](const SseEventRecord &) { return ++events < 5; });
    QCOMPARE(first.events.size(), 5);
    Seen seen;
    seen.add(first);
    QVERIFY(seen.contiguousFrom(1));
    const QByteArray lastId = first.events.last().id;
    const QString replyId = seen.replyId;
    QVERIFY(f.server->chat().directory().running() == 1); // the reply runs on in its grace period

    // ... and comes back: the rest of the same reply, once, numbered on from where it left.
    ApiTestClient::StreamResult rest;
    const QList<QPair<QByteArray, QByteArray>> header{{"Last-Event-ID", lastId}};
    if (how == u"post"_s) {
        rest = client.stream("POST", path, body, {}, 20000, true, header);
    } else if (how == u"get-header"_s) {
        rest =
            client.stream("GET", QString::fromUtf8(eventSourcePath(agentId, u"tell me a story"_s, f.token)),
                          {}, {}, 20000, false, header);
    } else if (how == u"get-query"_s) {
        rest = client.stream("GET",
                             QString::fromUtf8(eventSourcePath(agentId, u"tell me a story"_s, f.token,
                                                               QString::fromLatin1(lastId))),
                             {}, {}, 20000, false);
    } else {
        rest = client.stream("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, {}, 20000, true, header);
    }
    QCOMPARE(rest.head.status, 200);
    QVERIFY(rest.closedByServer);
    Seen after;
    after.add(rest);
    QVERIFY2(after.contiguousFrom(6), qPrintable(QString::number(after.seqs.value(0))));
    QCOMPARE(after.replyId, replyId);
    QCOMPARE(after.terminals, QStringList{u"done"_s});
    QCOMPARE(seen.text + after.text, replyText(model));

    // One turn: one upstream request, one user message and one reply, stored as streamed.
    QCOMPARE(f.fake.requestsReceived(), 1);
    const QString sessionId = rest.events.last().json.value(u"session_id"_s).toString();
    const QJsonArray rows =
        client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray();
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(1)[u"content"_s].toString(), replyText(model));
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"complete"_s);
}

void ResumeTest::followersAtOnceAndReplayFromStorage()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString model = u"fake:tokens=25,delay=20,text=%E4%BD%A0%E5%A5%BD%EF%BC%8C%E4%B8%96%E7%95%8C%20"
                          u"and%20a%20few%20more%20words%20%F0%9F%98%80"_s;
    const QString agentId = f.createAgent(model);
    AsyncStream origin(f.server->port(), chatStreamRequest(agentId, f.token, u"hello"_s));
    origin.start();
    QTRY_VERIFY(origin.record().events.size() >= 3);
    const QString replyId = replyOf(origin.record().ids.first());

    // A second window follows from the start, a third from event 2: both live, with the first.
    AsyncStream second(
        f.server->port(),
        ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, f.token.toUtf8(), {}));
    AsyncStream third(f.server->port(),
                      ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {},
                                                f.token.toUtf8(),
                                                {{"Last-Event-ID", replyId.toLatin1() + ":2"}}));
    second.start();
    third.start();
    QTRY_VERIFY_WITH_TIMEOUT(origin.isFinished() && second.isFinished() && third.isFinished(), 20000);
    QCOMPARE(origin.record().terminals, 1);
    QCOMPARE(origin.record().terminal, u"done"_s);
    QCOMPARE(second.record().raw, origin.record().raw); // byte for byte
    QCOMPARE(withoutRetry(third.record().raw), origin.record().raw.mid(2));
    QVERIFY(third.record().raw.first().startsWith("retry: 3000\nid: "));
    QCOMPARE(origin.record().content, replyText(model));
    QCOMPARE(f.fake.requestsReceived(), 1);

    // Once ended, the same events come from what is stored: a client cannot tell the difference.
    AsyncStream later(
        f.server->port(),
        ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, f.token.toUtf8(), {}));
    later.start();
    QTRY_VERIFY(later.isFinished());
    QCOMPARE(later.record().raw, origin.record().raw);
    AsyncStream laterFrom(f.server->port(),
                          ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {},
                                                    f.token.toUtf8(),
                                                    {{"Last-Event-ID", origin.record().ids.at(9)}}));
    laterFrom.start();
    QTRY_VERIFY(laterFrom.isFinished());
    QCOMPARE(withoutRetry(laterFrom.record().raw), origin.record().raw.mid(10));
}

void ResumeTest::noContentOnceTheEndWasSeen()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=3"_s);
    auto client = f.client();
    const auto done =
        client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId), ApiFixture::chatBody(u"short"_s));
    QCOMPARE(done.events.last().json.value(u"type"_s).toString(), u"done"_s);
    const QByteArray lastId = done.events.last().id;
    const QString replyId = replyOf(lastId);
    QCOMPARE(seqOf(lastId), 5); // opener, 3 tokens, done
    const QList<QPair<QByteArray, QByteArray>> header{{"Last-Event-ID", lastId}};

    // What an EventSource does after `done` when the page does not close it: reconnect with the
    // same URL and the last id. 204 stops it for good, and nothing runs again.
    const HttpResult viaQuery = client.request(
        "GET", QString::fromUtf8(eventSourcePath(agentId, u"short"_s, f.token, QString::fromLatin1(lastId))));
    QCOMPARE(viaQuery.status, 204);
    QCOMPARE(
        client.request("GET", QString::fromUtf8(eventSourcePath(agentId, u"short"_s, f.token)), {}, header)
            .status,
        204);
    QCOMPARE(client
                 .request("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                          ApiFixture::chatBody(u"short"_s), header)
                 .status,
             204);
    QCOMPARE(client.request("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, header).status, 204);
    QCOMPARE(f.fake.requestsReceived(), 1);

    // An id this server never sent is refused, not taken for a new turn.
    for (const QByteArray bad : {QByteArray("7"), QByteArray("not-a-reply:3"), replyId.toLatin1() + ":x",
                                 replyId.toLatin1() + ":-1"}) {
        const HttpResult r = client.request("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                            ApiFixture::chatBody(u"short"_s), {{"Last-Event-ID", bad}});
        QCOMPARE(r.status, 400);
        QCOMPARE(r.errorCode(), QByteArray("invalid_last_event_id"));
    }
    const HttpResult other = client.request("GET", u"/api/replies/%1/stream"_s.arg(replyId), {},
                                            {{"Last-Event-ID", "00000000-0000-4000-8000-000000000000:2"}});
    QCOMPARE(other.status, 400);
    QCOMPARE(f.fake.requestsReceived(), 1);
}

void ResumeTest::othersRepliesAreNotFound()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=40,delay=25"_s);
    const QString bob = f.newToken(u"acme"_s, u"bob"_s);
    const QString mallory = f.newToken(u"globex"_s, u"mallory"_s);
    AsyncStream alice(f.server->port(), chatStreamRequest(agentId, f.token, u"mine"_s));
    alice.start();
    QTRY_VERIFY(alice.record().events.size() >= 2);
    const QString replyId = replyOf(alice.record().ids.first());
    const auto tryAll = [&](const QString &token) {
        auto client = f.client(token);
        const QList<QPair<QByteArray, QByteArray>> header{{"Last-Event-ID", replyId.toLatin1() + ":1"}};
        QCOMPARE(client.request("GET", u"/api/replies/%1/stream"_s.arg(replyId)).errorCode(),
                 QByteArray("reply_not_found"));
        QCOMPARE(client
                     .request("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                              ApiFixture::chatBody(u"x"_s), header)
                     .errorCode(),
                 QByteArray("reply_not_found"));
        const HttpResult cancel = client.request("POST", u"/api/replies/%1/cancel"_s.arg(replyId), "{}");
        QCOMPARE(cancel.status, 404);
    };
    tryAll(bob); // while it runs
    tryAll(mallory);
    QTRY_VERIFY_WITH_TIMEOUT(alice.isFinished(), 20000);
    QCOMPARE(alice.record().terminal, u"done"_s);
    tryAll(bob); // and once stored
    tryAll(mallory);
    QCOMPARE(f.fake.requestsReceived(), 1);
}

void ResumeTest::idempotencyKeyStartsOneTurn()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString model = u"fake:tokens=20,delay=20"_s;
    const QString agentId = f.createAgent(model);
    const QByteArray path = "/api/agents/" + agentId.toLatin1() + "/chat/stream";
    const QByteArray body = ApiFixture::chatBody(u"once, please"_s);
    const QList<QPair<QByteArray, QByteArray>> key{{"Idempotency-Key", "retry-me-7f3a"}};

    // A library retrying the POST while the first is still streaming: it follows the same reply.
    AsyncStream first(f.server->port(), ApiTestClient::rawRequest("POST", QString::fromLatin1(path), body,
                                                                  f.token.toUtf8(), key));
    first.start();
    QTRY_VERIFY(first.record().events.size() >= 3);
    AsyncStream retried(f.server->port(), ApiTestClient::rawRequest("POST", QString::fromLatin1(path), body,
                                                                    f.token.toUtf8(), key));
    retried.start();
    QTRY_VERIFY_WITH_TIMEOUT(first.isFinished() && retried.isFinished(), 20000);
    QCOMPARE(retried.record().raw, first.record().raw);
    // And after it ended: the stored reply, whole.
    const auto again = f.client().stream("POST", QString::fromLatin1(path), body, {}, 20000, true, key);
    QCOMPARE(again.events.size(), first.record().events.size());
    QCOMPARE(again.events.last().json.value(u"reply_id"_s).toString(), first.record().replyId);
    QCOMPARE(f.fake.requestsReceived(), 1);
    QCOMPARE(messageCount(f, first.record().sessionId), 2);
    QCOMPARE(f.client().get(u"/api/sessions"_s).json()[u"sessions"_s].toArray().size(), 1);

    // The key is the user's own: another user's same key starts their own turn.
    const QString bob = f.newToken(u"acme"_s, u"bob"_s);
    const auto bobs = f.client(bob).stream("POST", QString::fromLatin1(path), body, {}, 20000, true, key);
    QCOMPARE(bobs.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QVERIFY(bobs.events.last().json.value(u"reply_id"_s).toString() != first.record().replyId);
    QCOMPARE(f.fake.requestsReceived(), 2);

    const HttpResult bad = f.client().request("POST", QString::fromLatin1(path), body,
                                              {{"Idempotency-Key", QByteArray(300, 'k')}});
    QCOMPARE(bad.status, 400);
    QCOMPARE(bad.errorCode(), QByteArray("invalid_idempotency_key"));
}

void ResumeTest::graceExpiryAbandonsTheReply()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) { o.resumeGraceMs = 300; }));
    const QString agentId = f.createAgent(u"fake:tokens=300,delay=20"_s); // 6 s at the fake's pace
    auto client = f.client();
    int events = 0;
    const auto first = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                     ApiFixture::chatBody(u"then I leave"_s),
                                     [&](const SseEventRecord &) { return ++events < 4; });
    const QString sessionId = first.events.last().json.value(u"session_id"_s).toString();
    // Nobody comes back: once the grace is over the upstream is stopped and the partial reply kept.
    QTRY_COMPARE_WITH_TIMEOUT(f.server->chat().directory().running(), 0, 20000);
    QTRY_COMPARE(f.fake.clientAborts(), 1); // the reply may have run on another thread (--threads)
    QCOMPARE(f.fake.completedStreams(), 0);
    const QJsonArray rows =
        client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray();
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(1)[u"finish_reason"_s].toString(), u"Disconnected"_s);
    QCOMPARE(rows.at(1)[u"status"_s].toString(), u"cancelled"_s);
    QVERIFY(!rows.at(1)[u"content"_s].toString().isEmpty());

    // A resume after that replays what was kept and says how it ended.
    const auto late = client.stream("GET", u"/api/replies/%1/stream"_s.arg(replyOf(first.events.last().id)),
                                    {}, {}, 20000, true, {{"Last-Event-ID", first.events.last().id}});
    QCOMPARE(late.events.last().json.value(u"finish_reason"_s).toString(), u"Disconnected"_s);
    Seen seen;
    seen.add(first);
    seen.add(late);
    QCOMPARE(seen.text, rows.at(1)[u"content"_s].toString());
    QVERIFY(seen.contiguousFrom(1));
}

void ResumeTest::resumeWithinTheGraceCompletes()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) { o.resumeGraceMs = 60000; }));
    const QString model = u"fake:tokens=40,delay=20"_s;
    const QString agentId = f.createAgent(model);
    auto client = f.client();
    int events = 0;
    const auto first = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                     ApiFixture::chatBody(u"back soon"_s),
                                     [&](const SseEventRecord &) { return ++events < 3; });
    // Away for a while: the reply goes on without anyone watching.
    QTRY_VERIFY_WITH_TIMEOUT(f.fake.completedStreams() == 1, 20000);
    QCOMPARE(f.server->chat().directory().running(), 0);
    const auto rest = client.stream("GET", u"/api/replies/%1/stream"_s.arg(replyOf(first.events.last().id)),
                                    {}, {}, 20000, true, {{"Last-Event-ID", first.events.last().id}});
    Seen seen;
    seen.add(first);
    seen.add(rest);
    QCOMPARE(seen.text, replyText(model));
    QCOMPARE(seen.terminals, QStringList{u"done"_s});
    QCOMPARE(seen.finishReason, u"Stop"_s);
    QVERIFY(seen.contiguousFrom(1));
    QCOMPARE(f.fake.clientAborts(), 0);
}

void ResumeTest::cancelByReply()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=200,delay=20"_s);
    AsyncStream watcher(f.server->port(), chatStreamRequest(agentId, f.token, u"long"_s));
    watcher.start();
    QTRY_VERIFY(watcher.record().events.size() >= 3);
    const QString replyId = replyOf(watcher.record().ids.first());
    auto client = f.client();
    const HttpResult cancel = client.request("POST", u"/api/replies/%1/cancel"_s.arg(replyId), "{}");
    QCOMPARE(cancel.status, 200);
    QCOMPARE(cancel.json().value(u"cancelled"_s).toBool(), true);
    QTRY_VERIFY(watcher.isFinished());
    QCOMPARE(watcher.record().terminal, u"done"_s);
    QCOMPARE(watcher.record().finishReason, u"Cancelled"_s);
    QTRY_COMPARE(f.fake.clientAborts(), 1);
    QCOMPARE(
        client.request("POST", u"/api/replies/%1/cancel"_s.arg(replyId), "{}").json().value(u"cancelled"_s),
        QJsonValue(false));
    QCOMPARE(client.request("POST", u"/api/replies/not-a-uuid/cancel"_s, "{}").status, 400);
}

void ResumeTest::wholeReplyRouteWithAFollower()
{
    // A second window follows a reply asked for with the whole-reply route: when the first client
    // leaves, the reply goes on for the follower instead of stopping.
    ApiFixture f;
    QVERIFY(f.start());
    const QString model = u"fake:tokens=60,delay=20"_s;
    const QString agentId = f.createAgent(model);
    AsyncStream asker(f.server->port(), ApiTestClient::rawRequest(
                                            "POST", u"/api/agents/%1/chat"_s.arg(agentId),
                                            ApiFixture::chatBody(u"whole, please"_s), f.token.toUtf8(), {}));
    asker.start();
    auto client = f.client();
    QString replyId;
    QTRY_VERIFY(
        !(replyId =
              [&] {
                  const QJsonArray sessions = client.get(u"/api/sessions"_s).json()[u"sessions"_s].toArray();
                  if (sessions.isEmpty())
                      return QString();
                  const QJsonArray rows =
                      client.get(u"/api/sessions/%1/messages"_s.arg(sessions.at(0)[u"id"_s].toString()))
                          .json()[u"messages"_s]
                          .toArray();
                  return rows.size() == 2 ? rows.at(1)[u"id"_s].toString() : QString();
              }())
             .isEmpty());
    AsyncStream follower(
        f.server->port(),
        ApiTestClient::rawRequest("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, f.token.toUtf8(), {}));
    follower.start();
    QTRY_VERIFY(follower.record().events.size() >= 3);
    asker.abort();
    QTRY_VERIFY_WITH_TIMEOUT(follower.isFinished(), 20000);
    QCOMPARE(follower.record().terminal, u"done"_s);
    QCOMPARE(follower.record().finishReason, u"Stop"_s);
    QCOMPARE(follower.record().content, replyText(model));
    QCOMPARE(f.fake.clientAborts(), 0);
}

void ResumeTest::noDatabaseWritePerChunk()
{
    ApiFixture f;
    // Checkpoints every 100 ms (the fixture's interval). One loop: what is counted is the writes
    // of one database connection.
    QVERIFY(f.start([](Server::Options &o) { o.threads = 1; }));
    const QString agentId = f.createAgent(u"fake:tokens=400,delay=1"_s);
    const auto changes = [&f] {
        QSqlQuery q(f.server->database().connection());
        return q.exec(u"SELECT total_changes()"_s) && q.next() ? q.value(0).toLongLong() : -1;
    };
    const qint64 before = changes();
    AsyncStream origin(f.server->port(), chatStreamRequest(agentId, f.token, u"many chunks"_s));
    origin.start();
    QTRY_VERIFY(origin.record().events.size() >= 100);
    // A follower replays from memory and adds no write.
    AsyncStream follower(f.server->port(),
                         ApiTestClient::rawRequest(
                             "GET", u"/api/replies/%1/stream"_s.arg(replyOf(origin.record().ids.first())), {},
                             f.token.toUtf8(), {}));
    follower.start();
    QTRY_VERIFY_WITH_TIMEOUT(origin.isFinished() && follower.isFinished(), 20000);
    QCOMPARE(origin.record().events.size(), 402);
    QCOMPARE(follower.record().raw, origin.record().raw);
    const qint64 written = changes() - before;
    // Begin (session, message, reply, counters), a checkpoint per 100 ms, the end: a few dozen
    // rows, where one write per chunk would be over 400.
    QVERIFY2(written > 0 && written < 100, qPrintable(QString::number(written)));
}

void ResumeTest::streamTickets()
{
    ApiFixture f;
    QVERIFY(f.start());
    const QString agentId = f.createAgent(u"fake:tokens=3"_s);
    auto client = f.client();
    ApiTestClient anonymous = f.client();
    anonymous.setToken(QString());
    QCOMPARE(anonymous.request("POST", u"/api/stream-tickets"_s, "{}").status, 401);

    const HttpResult issued = client.request("POST", u"/api/stream-tickets"_s, "{}");
    QCOMPARE(issued.status, 201);
    const QString ticket = issued.json().value(u"ticket"_s).toString();
    QCOMPARE(issued.json().value(u"expires_in"_s).toInt(), 60);
    QVERIFY(ticket.size() >= 40);
    const QString path = u"/api/agents/%1/chat/stream?message=hi&ticket=%2"_s.arg(agentId, ticket);
    const auto used = anonymous.stream("GET", path, {}, {}, 20000, false);
    QCOMPARE(used.head.status, 200);
    QCOMPARE(used.events.last().json.value(u"type"_s).toString(), u"done"_s);
    // Once only, and only where a query token is allowed.
    QCOMPARE(anonymous.request("GET", path).status, 401);
    const QString another =
        client.request("POST", u"/api/stream-tickets"_s, "{}").json()[u"ticket"_s].toString();
    QCOMPARE(anonymous.request("GET", u"/api/agents?ticket="_s + another).status, 401);
    const auto attach = anonymous.stream(
        "GET",
        u"/api/replies/%1/stream?ticket=%2"_s.arg(used.events.last().json[u"reply_id"_s].toString(), another),
        {}, {}, 20000, false);
    QCOMPARE(attach.head.status, 200);
    QCOMPARE(attach.events.size(), used.events.size());

    // Expiry: a ticket past its lifetime does not work, used or not.
    StreamTickets tickets(50);
    const QString shortLived = tickets.issue(Principal{});
    QTest::qWait(100);
    QVERIFY(!tickets.redeem(shortLived));
    QVERIFY(!tickets.redeem(u"adt_never-issued"_s));
    const QString fresh = tickets.issue(Principal{});
    QVERIFY(tickets.redeem(fresh));
    QVERIFY(!tickets.redeem(fresh));
}

void ResumeTest::cors()
{
    ApiFixture f;
    QVERIFY(f.start([](Server::Options &o) {
        o.corsOrigins = {u"http://app.example:5173"_s};
        o.maxBodyBytes = 1024;
    }));
    const QString agentId = f.createAgent(u"fake:tokens=2"_s);
    const QByteArray origin = "http://app.example:5173";
    const QList<QPair<QByteArray, QByteArray>> fromApp{{"Origin", origin}};

    // The preflight a browser sends before a POST with Authorization and a JSON body.
    RawClient preflight(f.server->port());
    QVERIFY(preflight.connectToServer());
    preflight.send(rawHttp("OPTIONS", "/api/agents/" + agentId.toLatin1() + "/chat/stream", {}, {}, true,
                           {{"Origin", origin},
                            {"Access-Control-Request-Method", "POST"},
                            {"Access-Control-Request-Headers", "authorization,content-type,last-event-id"}}));
    const RawClient::Response allowed = preflight.readResponse();
    QCOMPARE(allowed.status, 204);
    QCOMPARE(allowed.headers.value("access-control-allow-origin"), origin);
    QVERIFY(allowed.headers.value("access-control-allow-methods").contains("POST"));
    QVERIFY(allowed.headers.value("access-control-allow-headers").contains("Authorization"));
    QVERIFY(allowed.headers.value("access-control-allow-headers").contains("Last-Event-ID"));
    QVERIFY(allowed.headers.value("access-control-allow-headers").contains("Idempotency-Key"));
    QVERIFY(!allowed.headers.value("access-control-max-age").isEmpty());
    QCOMPARE(allowed.headers.value("vary"), QByteArray("Origin"));

    RawClient evil(f.server->port());
    QVERIFY(evil.connectToServer());
    evil.send(rawHttp("OPTIONS", "/api/agents", {}, {}, true,
                      {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "GET"}}));
    const RawClient::Response refused = evil.readResponse();
    QCOMPARE(refused.status, 403);
    QCOMPARE(refused.code(), QByteArray("cors_origin_not_allowed"));
    QVERIFY(!refused.headers.contains("access-control-allow-origin"));

    // Every answer carries it: the stream, errors before it, the guard's refusals.
    auto client = f.client();
    const auto stream = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                      ApiFixture::chatBody(u"hi"_s), {}, 20000, true, fromApp);
    QCOMPARE(stream.head.status, 200);
    QCOMPARE(stream.head.headers.value("access-control-allow-origin"), origin);
    QCOMPARE(stream.events.last().json.value(u"type"_s).toString(), u"done"_s);
    ApiTestClient anonymous = f.client();
    anonymous.setToken(QString());
    const HttpResult unauthorized = anonymous.request("GET", u"/api/agents"_s, {}, fromApp);
    QCOMPARE(unauthorized.status, 401);
    QCOMPARE(unauthorized.headers.value("access-control-allow-origin"), origin);
    QCOMPARE(
        client.request("GET", u"/api/nowhere"_s, {}, fromApp).headers.value("access-control-allow-origin"),
        origin);
    const HttpResult tooLarge = client.request("POST", u"/api/agents"_s, QByteArray(4096, 'x'), fromApp);
    QCOMPARE(tooLarge.status, 413);
    QCOMPARE(tooLarge.headers.value("access-control-allow-origin"), origin);
    // Other origins get nothing that would let their page read the answer.
    const HttpResult other = client.request("GET", u"/api/agents"_s, {}, {{"Origin", "http://evil.example"}});
    QCOMPARE(other.status, 200);
    QVERIFY(!other.headers.contains("access-control-allow-origin"));
    QCOMPARE(other.headers.value("vary"), QByteArray("Origin"));
    // An origin that would not be a header value of its own is never echoed, even with "*".
    QVERIFY(!Cors({u"*"_s}).allows("http://a.example\rX-Injected: 1"));
    QVERIFY(Cors({u"*"_s}).allows("http://[::1]:8080"));
    // A plain OPTIONS says what the path allows.
    RawClient plain(f.server->port());
    QVERIFY(plain.connectToServer());
    plain.send(rawHttp("OPTIONS", "/api/agents", {}, {}, true));
    const RawClient::Response allow = plain.readResponse();
    QCOMPARE(allow.status, 204);
    QCOMPARE(allow.headers.value("allow"), QByteArray("GET, POST, OPTIONS"));
}

void ResumeTest::http10AndConnectionClose()
{
    ApiFixture f;
    QVERIFY(f.start());
    // HTTP/1.0 without keep-alive: closed after the answer.
    RawClient old(f.server->port());
    QVERIFY(old.connectToServer());
    old.send("GET /api/health HTTP/1.0\r\nHost: x\r\n\r\n");
    QCOMPARE(old.readResponse().status, 200);
    QVERIFY(old.waitClosed(5000));
    // HTTP/1.0 that asks for keep-alive, and HTTP/1.1 by default: open for the next request.
    for (const QByteArray request :
         {QByteArray("GET /api/health HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
          QByteArray("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")}) {
        RawClient kept(f.server->port());
        QVERIFY(kept.connectToServer());
        kept.send(request);
        QCOMPARE(kept.readResponse().status, 200);
        kept.send(request);
        QCOMPARE(kept.readResponse().status, 200);
        QVERIFY(kept.isOpen());
    }
    // A stream to an HTTP/1.0 client: no chunked encoding (1.0 has none), the close ends it.
    const QString agentId = f.createAgent(u"fake:tokens=3"_s);
    RawClient stream10(f.server->port());
    QVERIFY(stream10.connectToServer());
    stream10.send("GET /api/agents/" + agentId.toLatin1() + "/chat/stream?message=hi&access_token=" +
                  f.token.toLatin1() + " HTTP/1.0\r\nHost: x\r\n\r\n");
    QVERIFY(stream10.waitClosed(20000));
    const QByteArray all = stream10.received();
    QVERIFY(all.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(!all.toLower().contains("transfer-encoding"));
    QVERIFY(all.contains("\r\n\r\nretry: 3000\nid: "));
    QVERIFY(all.endsWith("\"error\":null}\n\n"));
    QVERIFY(all.contains("\"type\":\"done\""));
    // HTTP/1.1 with Connection: close, after a pipelined request that keeps it.
    RawClient closing(f.server->port());
    QVERIFY(closing.connectToServer());
    closing.send(
        "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/health HTTP/1.1\r\nHost: x\r\nConnection: "
        "close\r\n\r\n");
    QCOMPARE(closing.readResponse().status, 200);
    QCOMPARE(closing.readResponse().status, 200);
    QVERIFY(closing.waitClosed(5000));
}

void ResumeTest::surrogatePairsSplitUpstream()
{
    // The upstream cuts every UTF-16 unit into its own chunk, emoji halves included, as \u escapes.
    ApiFixture f;
    QVERIFY(f.start());
    const QString text = u"A😀B👍🏽 中文 🇨🇳!"_s;
    const QString model = u"fake:ascii=1,tokens=%1,text=%2"_s.arg(text.size())
                              .arg(QString::fromLatin1(QUrl::toPercentEncoding(text)));
    const QString agentId = f.createAgent(model);
    auto client = f.client();
    const auto result = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agentId),
                                      ApiFixture::chatBody(u"emoji please"_s));
    QCOMPARE(result.events.last().json.value(u"type"_s).toString(), u"done"_s);
    QString streamed;
    for (const SseEventRecord &event : result.events) {
        // Each event is valid UTF-8 on the wire and its content whole characters.
        QVERIFY2(QString::fromUtf8(event.raw).toUtf8() == event.raw, event.raw.constData());
        const QString content = event.json.value(u"content"_s).toString();
        QVERIFY(content.isEmpty() || !content.back().isHighSurrogate());
        QVERIFY(content.isEmpty() || !content.front().isLowSurrogate());
        streamed += content;
    }
    QCOMPARE(streamed, text);
    QVERIFY(!result.raw.contains('?'));
    const QString sessionId = result.events.last().json.value(u"session_id"_s).toString();
    const QJsonArray rows =
        client.get(u"/api/sessions/%1/messages"_s.arg(sessionId)).json()[u"messages"_s].toArray();
    QCOMPARE(rows.at(1)[u"content"_s].toString(), text);
    // And a replay from storage cuts the same way.
    const auto replay =
        client.stream("GET", u"/api/replies/%1/stream"_s.arg(replyOf(result.events.last().id)), {});
    QCOMPARE(replay.events.size(), result.events.size());
    for (qsizetype i = 0; i < replay.events.size(); ++i)
        QCOMPARE(replay.events.at(i).raw, result.events.at(i).raw);
}

QTEST_GUILESS_MAIN(ResumeTest)
#include "tst_resume.moc"
