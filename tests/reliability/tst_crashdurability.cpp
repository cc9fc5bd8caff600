// Crash durability of the real `agentdesk --headless`: 50 streams at once, SIGKILL in the middle,
// a restart on the same data directory, twice. No started user message and no completed reply
// may be lost, no reply may stay "streaming", the statistics must match the rows, and the SQLite
// file must be sound, before the restart as well as after it.
#include "apifixture.h"
#include "dbcheck.h"
#include "fakeupstream.h"
#include "streamclient.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Qt::StringLiterals;

class CrashDurabilityTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void sigkillMidStreamLosesNothing();
    void sigtermMidStreamSavesEveryReply();
    void sigkillMidToolCall();

private:
    struct Sent
    {
        QString message;
        QString token;
        bool longReply = false;
        int round = 0;
        bool graceful = false; // ended by SIGTERM, not SIGKILL
        StreamRecord record;   // what the client saw, up to the kill
    };

    QString runAdmin(const QStringList &arguments);
    bool startServer();
    void killServer();
    QString createAgent(const QString &token, const QString &model);
    // Starts `count` streams, waits until every one has started, the short ones are complete and
    // the long ones have been checkpointed, then sends the server `signal` (SIGKILL or SIGTERM).
    void runAndKill(int round, int count, const QHash<QString, QString> &continueSessions,
                    int signal = SIGKILL);
    // Before the restart, the replies the last kill cut are still "streaming".
    void verifyDatabase(int round, bool afterRestart);

    QTemporaryDir m_dir;
    FakeUpstream m_fake;
    std::unique_ptr<QProcess> m_server;
    quint16 m_port = 0;
    QStringList m_tokens;
    QHash<QString, QString> m_longAgent;  // token -> agent whose replies outlast the kill
    QHash<QString, QString> m_shortAgent; // token -> agent whose replies finish before it
    QList<Sent> m_sent;
    QByteArray m_output;
    int m_killedMidStream = 0;
    int m_rowsChecked = 0;
};

QString CrashDurabilityTest::runAdmin(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(AGENTDESK_BINARY), arguments + QStringList{u"--data-dir"_s, m_dir.path()});
    process.waitForFinished(30000);
    return QString::fromUtf8(process.readAllStandardOutput()).trimmed();
}

bool CrashDurabilityTest::startServer()
{
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        m_port = probe.serverPort();
    }
    m_server = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"OPENAI_BASE_URL"_s, m_fake.baseUrl().toString());
    env.insert(u"OPENAI_API_KEY"_s, u"sk-crash-test"_s);
    env.insert(u"OPENAI_MODEL"_s, u"fake:tokens=5"_s);
    m_server->setProcessEnvironment(env);
    m_server->setProcessChannelMode(QProcess::MergedChannels);
    connect(m_server.get(), &QProcess::readyRead, this, [this] { m_output += m_server->readAll(); });
    m_server->start(QStringLiteral(AGENTDESK_BINARY),
                    {u"--headless"_s, u"--port"_s, QString::number(m_port), u"--data-dir"_s, m_dir.path()});
    if (!m_server->waitForStarted())
        return false;
    return ApiTestClient::waitForHealth(m_port, m_server.get());
}

void CrashDurabilityTest::killServer()
{
    ::kill(pid_t(m_server->processId()), SIGKILL);
    m_server->waitForFinished(10000);
    m_output += m_server->readAll();
}

QString CrashDurabilityTest::createAgent(const QString &token, const QString &model)
{
    ApiTestClient client(m_port);
    client.setToken(token);
    return client.post(u"/api/agents"_s, {{u"name"_s, u"Crash"_s}, {u"model"_s, model}})
        .json()
        .value(u"id"_s)
        .toString();
}

void CrashDurabilityTest::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(m_fake.listen());
    m_fake.setRecordRequests(false);
    // Three users in two tenants.
    m_tokens = {runAdmin({u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s, u"--user"_s, u"alice"_s}),
                runAdmin({u"token"_s, u"create"_s, u"--tenant"_s, u"acme"_s, u"--user"_s, u"bob"_s}),
                runAdmin({u"token"_s, u"create"_s, u"--tenant"_s, u"globex"_s, u"--user"_s, u"carol"_s})};
    for (const QString &token : std::as_const(m_tokens))
        QVERIFY2(token.startsWith(u"adk_"_s), qPrintable(token));
    QVERIFY(startServer());
    for (const QString &token : std::as_const(m_tokens)) {
        // ~6 s of tokens; the server checkpoints the growing reply every second.
        m_longAgent.insert(token, createAgent(token, u"fake:tokens=400,delay=15"_s));
        m_shortAgent.insert(token, createAgent(token, u"fake:tokens=4,delay=5"_s));
        QVERIFY(!m_longAgent.value(token).isEmpty() && !m_shortAgent.value(token).isEmpty());
    }
}

void CrashDurabilityTest::cleanupTestCase()
{
    if (m_server && m_server->state() == QProcess::Running) {
        m_server->terminate();
        m_server->waitForFinished(10000);
    }
    qInfo(
        "streams: %lld, of them killed mid-stream: %d; message rows checked against what the clients saw: %d"
        " (all rows, after every kill, restart and stop)",
        qint64(m_sent.size()), m_killedMidStream, m_rowsChecked);
}

void CrashDurabilityTest::runAndKill(int round, int count, const QHash<QString, QString> &continueSessions,
                                     int signal)
{
    std::vector<std::unique_ptr<AsyncStream>> streams;
    const qsizetype first = m_sent.size();
    QSet<QString> continued;
    for (int i = 0; i < count; ++i) {
        Sent sent;
        sent.round = round;
        sent.graceful = signal != SIGKILL;
        sent.token = m_tokens.at(i % m_tokens.size());
        sent.longReply = i % 5 != 0; // one in five finishes before the kill
        sent.message = u"round %1 message %2: 你好, 'quote' \"double\""_s.arg(round).arg(i);
        const QString agent = (sent.longReply ? m_longAgent : m_shortAgent).value(sent.token);
        // Some continue a session whose reply completed in the round before.
        QString session;
        if (!sent.longReply && !continued.contains(sent.token)) {
            session = continueSessions.value(sent.token);
            continued.insert(sent.token); // one stream per session at a time
        }
        streams.push_back(std::make_unique<AsyncStream>(
            m_port, chatStreamRequest(agent, sent.token, sent.message, session)));
        m_sent.append(sent);
    }
    for (auto &stream : streams)
        stream->start();
    const auto ready = [&] {
        for (int i = 0; i < count; ++i) {
            const StreamRecord &r = streams.at(i)->record();
            if (!r.started())
                return false;
            if (!m_sent.at(first + i).longReply && !r.ended())
                return false;
            if (m_sent.at(first + i).longReply && r.content.size() < 20)
                return false;
        }
        return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(ready(), 30000);
    // Kill once the server has checkpointed every long reply (its 1 s progress timer), however
    // long the scheduler made that take: waiting a fixed time would be a guess.
    const auto checkpointed = [&] {
        ReadOnlyDb db(m_dir.filePath(u"agentdesk.db"_s));
        for (int i = 0; i < count; ++i) {
            if (!m_sent.at(first + i).longReply)
                continue;
            const QString stored =
                db.scalar(u"SELECT content FROM messages WHERE session_id = ? AND seq ="
                          u" (SELECT seq + 1 FROM messages WHERE id = ?)"_s,
                          {streams.at(i)->record().sessionId, streams.at(i)->record().messageId})
                    .toString();
            if (stored.isEmpty())
                return false;
        }
        return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(checkpointed(), 30000);
    // The long replies run ~6 s at the fake's pace; one that ended already would prove nothing.
    for (int i = 0; i < count; ++i)
        QVERIFY2(!m_sent.at(first + i).longReply || !streams.at(i)->record().ended(),
                 "ended before the kill");
    if (signal == SIGKILL) {
        killServer();
    } else {
        ::kill(pid_t(m_server->processId()), signal);
        QVERIFY(m_server->waitForFinished(20000));
        m_output += m_server->readAll();
    }
    QTRY_VERIFY_WITH_TIMEOUT(
        std::all_of(streams.begin(), streams.end(), [](const auto &s) { return s->isFinished(); }), 10000);
    for (int i = 0; i < count; ++i) {
        m_sent[first + i].record = streams.at(i)->record();
        if (m_sent.at(first + i).longReply && signal == SIGKILL)
            ++m_killedMidStream;
    }
}

void CrashDurabilityTest::verifyDatabase(int round, bool afterRestart)
{
    ReadOnlyDb db(m_dir.filePath(u"agentdesk.db"_s));
    QVERIFY2(db.isOpen(), qPrintable(db.errorString()));
    QCOMPARE(db.integrityCheck(), u"ok"_s);
    QVERIFY(db.foreignKeyProblems().isEmpty());
    int streaming = 0;
    for (const Sent &sent : std::as_const(m_sent)) {
        const StreamRecord &r = sent.record;
        QVERIFY(r.started());
        // The user message: exactly as sent, committed before the client saw the stream open.
        const QList<QVariantMap> users =
            db.rows(u"SELECT session_id, role, content, status FROM messages WHERE id = ?"_s, {r.messageId});
        QCOMPARE(users.size(), 1);
        QCOMPARE(users.first().value(u"session_id"_s).toString(), r.sessionId);
        QCOMPARE(users.first().value(u"role"_s).toString(), u"user"_s);
        QCOMPARE(users.first().value(u"content"_s).toString(), sent.message);
        // The reply right after it.
        const QList<QVariantMap> replies = db.rows(
            u"SELECT id, role, content, status, finish_reason FROM messages WHERE session_id = ? AND seq ="
            u" (SELECT seq + 1 FROM messages WHERE id = ?)"_s,
            {r.sessionId, r.messageId});
        QCOMPARE(replies.size(), 1);
        const QVariantMap &reply = replies.first();
        QCOMPARE(reply.value(u"role"_s).toString(), u"assistant"_s);
        const QString stored = reply.value(u"content"_s).toString();
        const QString status = reply.value(u"status"_s).toString();
        if (r.terminal == u"done"_s) {
            // Complete, or (SIGTERM) saved as interrupted with a `done` that says so.
            QCOMPARE(reply.value(u"id"_s).toString(), r.replyId);
            QCOMPARE(status, r.finishReason == u"Interrupted"_s ? u"interrupted"_s : u"complete"_s);
            QCOMPARE(stored, r.content);
        } else {
            QVERIFY2(!sent.longReply || !r.ended(), "a long reply ended");
            if (afterRestart || sent.round < round || sent.graceful) {
                QCOMPARE(status, u"interrupted"_s);
                QCOMPARE(reply.value(u"finish_reason"_s).toString(), u"Interrupted"_s);
            } else {
                QCOMPARE(status, u"streaming"_s); // what the crash left, for the restart to mend
                ++streaming;
            }
            // The checkpointed part is what the client saw, up to where the checkpoint was; and
            // there is one: the kill came only once every long reply had been checkpointed.
            // A graceful stop saves all the server relayed, which the client may not all have read.
            QVERIFY2(!stored.isEmpty(), "no checkpoint of the partial reply was saved");
            QVERIFY2(r.content.startsWith(stored) || (sent.graceful && stored.startsWith(r.content)),
                     qPrintable(u"stored \"%1\" is not a prefix of the seen \"%2\""_s.arg(
                         stored.left(80), r.content.left(80))));
        }
    }
    m_rowsChecked += 2 * int(m_sent.size());
    QCOMPARE(db.scalar(u"SELECT COUNT(*) FROM messages WHERE status = 'streaming'"_s).toInt(), streaming);
    const QStringList mismatches = db.statisticsMismatches();
    QVERIFY2(mismatches.isEmpty(), qPrintable(mismatches.join(u'\n')));
}

void CrashDurabilityTest::sigkillMidStreamLosesNothing()
{
    QHash<QString, QString> completed; // token -> a session whose last reply is complete
    for (int round = 1; round <= 2; ++round) {
        runAndKill(round, 50, completed);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(m_server->exitStatus(), QProcess::CrashExit);
        verifyDatabase(round, false); // the file as the crash left it
        if (QTest::currentTestFailed())
            return;
        QVERIFY(startServer());
        verifyDatabase(round, true);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(m_output.contains("marked interrupted"));
        for (const Sent &sent : std::as_const(m_sent)) {
            if (sent.record.terminal == u"done"_s)
                completed.insert(sent.token, sent.record.sessionId);
        }
    }
    // The API agrees with the rows: an interrupted session reads back, and the statistics match.
    ApiTestClient client(m_port);
    for (const Sent &sent : std::as_const(m_sent)) {
        if (!sent.longReply)
            continue;
        client.setToken(sent.token);
        const QJsonArray messages = client.get(u"/api/sessions/%1/messages"_s.arg(sent.record.sessionId))
                                        .json()
                                        .value(u"messages"_s)
                                        .toArray();
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).toObject().value(u"status"_s).toString(), u"interrupted"_s);
        // And the conversation goes on after the crash.
        const auto next =
            client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(m_shortAgent.value(sent.token)),
                          R"({"message":"again"})");
        QCOMPARE(next.events.last().json.value(u"type"_s).toString(), u"done"_s);
        break;
    }
    // A client resuming a reply the crash cut (Last-Event-ID: the last event it saw) gets what the
    // checkpoint kept beyond that, then how the reply ended; and 204 once it saw that end.
    int resumed = 0;
    int replayedEvents = 0;
    for (const Sent &sent : std::as_const(m_sent)) {
        if (!sent.longReply || sent.record.ids.isEmpty())
            continue;
        client.setToken(sent.token);
        const QByteArray last = sent.record.ids.last();
        const QString replyId = QString::fromLatin1(last.left(last.lastIndexOf(':')));
        const auto rest = client.stream("GET", u"/api/replies/%1/stream"_s.arg(replyId), {}, {}, 20000, true,
                                        {{"Last-Event-ID", last}});
        QCOMPARE(rest.head.status, 200);
        QVERIFY(!rest.events.isEmpty());
        QCOMPARE(rest.events.last().json.value(u"type"_s).toString(), u"done"_s);
        QCOMPARE(rest.events.last().json.value(u"finish_reason"_s).toString(), u"Interrupted"_s);
        const int lastSeq = last.mid(last.lastIndexOf(':') + 1).toInt();
        QString replayed;
        for (qsizetype i = 0; i < rest.events.size(); ++i) {
            const QByteArray &id = rest.events.at(i).id;
            // Numbered on from what the client saw; the terminal past anything the crashed
            // process may have sent after its checkpoint.
            const int expected = i + 1 < rest.events.size() ? lastSeq + 1 + int(i) : 2147483647;
            QCOMPARE(id.mid(id.lastIndexOf(':') + 1).toInt(), expected);
            replayed += rest.events.at(i).json.value(u"content"_s).toString();
        }
        replayedEvents += int(rest.events.size()) - 1;
        const QString stored = client.get(u"/api/sessions/%1/messages"_s.arg(sent.record.sessionId))
                                   .json()[u"messages"_s]
                                   .toArray()
                                   .at(1)[u"content"_s]
                                   .toString();
        // Either the checkpoint had more than the client saw, or the client saw more than it had.
        QVERIFY2(sent.record.content + replayed == stored ||
                     (replayed.isEmpty() && sent.record.content.startsWith(stored)),
                 qPrintable(u"seen %1 + replayed %2 vs stored %3"_s.arg(sent.record.content.size())
                                .arg(replayed.size())
                                .arg(stored.size())));
        const HttpResult again = client.request("GET", u"/api/replies/%1/stream"_s.arg(replyId), {},
                                                {{"Last-Event-ID", rest.events.last().id}});
        QCOMPARE(again.status, 204);
        ++resumed;
    }
    QVERIFY(resumed >= 40);
    qInfo("resumed %d replies cut by a crash; %d content events came from the checkpoints", resumed,
          replayedEvents);
    ReadOnlyDb db(m_dir.filePath(u"agentdesk.db"_s));
    for (const QString &token : std::as_const(m_tokens)) {
        client.setToken(token);
        const QString agent = m_longAgent.value(token);
        const QJsonObject stats = client.get(u"/api/agents/%1/stats"_s.arg(agent)).json();
        QCOMPARE(stats.value(u"sessions"_s).toInteger(),
                 db.scalar(u"SELECT COUNT(*) FROM sessions WHERE agent_id = ?"_s, {agent}).toLongLong());
        QCOMPARE(stats.value(u"messages"_s).toInteger(),
                 db.scalar(u"SELECT COUNT(*) FROM messages m JOIN sessions s ON s.id = m.session_id"
                           u" WHERE s.agent_id = ?"_s,
                           {agent})
                     .toLongLong());
    }
    // A clean shutdown at the end (under ASan this is where LeakSanitizer reports).
    m_server->terminate();
    QVERIFY(m_server->waitForFinished(20000));
    m_output += m_server->readAll();
    QVERIFY2(m_server->exitStatus() == QProcess::NormalExit && m_server->exitCode() == 0,
             m_output.right(4000).constData());
}

void CrashDurabilityTest::sigtermMidStreamSavesEveryReply()
{
    // A graceful stop with 50 replies running: the server saves each one as interrupted before it
    // exits 0, so the next start has nothing to mend.
    QVERIFY(startServer());
    const int round = 3;
    QHash<QString, QString> none;
    const qsizetype first = m_sent.size();
    runAndKill(round, 50, none, SIGTERM);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(m_server->exitStatus(), QProcess::NormalExit);
    QVERIFY2(m_server->exitCode() == 0, m_output.right(4000).constData());
    verifyDatabase(round, false);
    ReadOnlyDb db(m_dir.filePath(u"agentdesk.db"_s));
    QCOMPARE(db.scalar(u"SELECT COUNT(*) FROM messages WHERE status = 'streaming'"_s).toInt(), 0);
    int interrupted = 0;
    for (qsizetype i = first; i < m_sent.size(); ++i)
        interrupted += m_sent.at(i).longReply;
    qInfo("streams stopped by SIGTERM: %d, every one saved before exit", interrupted);
    const qsizetype outputBefore = m_output.size();
    QVERIFY(startServer());
    QVERIFY(!m_output.mid(outputBefore).contains("marked interrupted"));
    m_server->terminate();
    QVERIFY(m_server->waitForFinished(20000));
    QCOMPARE(m_server->exitCode(), 0);
}

void CrashDurabilityTest::sigkillMidToolCall()
{
    // A reply waiting on a tool when the server is killed: after the restart it is a consistent,
    // interrupted reply, the tool's server process did not outlive the kill, and the next turn
    // sends the model the call with an answer for it.
    QVERIFY(startServer());
    m_fake.setRecordRequests(true);
    const QString admin =
        runAdmin({u"token"_s, u"create"_s, u"--tenant"_s, u"tools"_s, u"--user"_s, u"dana"_s, u"--admin"_s});
    ApiTestClient client(m_port);
    client.setToken(admin);
    const QString log = m_dir.filePath(u"slow-server.log"_s);
    const HttpResult put = client.request(
        "PUT", u"/api/mcp/servers/slow"_s,
        QJsonDocument(QJsonObject{{u"transport"_s, u"stdio"_s},
                                  {u"command"_s, QStringLiteral(AGENTDESK_NODE)},
                                  {u"args"_s, QJsonArray{QStringLiteral(AGENTDESK_SOURCE_DIR
                                                                        "/tests/mcp/scripted-server.mjs"),
                                                         u"--log"_s, log}}})
            .toJson(),
        {}, 30000);
    QCOMPARE(put.json().value(u"status"_s).toString(), u"connected"_s);
    const QString agent = client
                              .post(u"/api/agents"_s, {{u"name"_s, u"Waiter"_s},
                                                       {u"model"_s, u"fake:calls=slow__slow"_s},
                                                       {u"tools"_s, QJsonArray{u"slow/*"_s}},
                                                       {u"tool_approval"_s, u"auto"_s}})
                              .json()
                              .value(u"id"_s)
                              .toString();
    AsyncStream stream(m_port, chatStreamRequest(agent, admin, u"wait for the slow tool"_s));
    stream.start();
    QTRY_VERIFY_WITH_TIMEOUT(
        std::any_of(stream.record().events.cbegin(), stream.record().events.cend(),
                    [](const QJsonObject &e) { return e.value(u"type"_s) == u"tool_call"_s; }),
        20000);
    // Killed once the checkpoint holds the running call.
    const auto storedParts = [&] {
        ReadOnlyDb db(m_dir.filePath(u"agentdesk.db"_s));
        return db
            .scalar(u"SELECT parts FROM messages WHERE session_id = ? AND role = 'assistant'"_s,
                    {stream.record().sessionId})
            .toString();
    };
    QTRY_VERIFY_WITH_TIMEOUT(storedParts().contains(u"\"status\":\"running\""_s), 20000);
    killServer();
    // The MCP server's process went with it.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            QDir proc(u"/proc"_s);
            for (const QString &pid : proc.entryList(QDir::Dirs)) {
                QFile cmdline(u"/proc/%1/cmdline"_s.arg(pid));
                if (cmdline.open(QIODevice::ReadOnly) && cmdline.readAll().contains(log.toUtf8()))
                    return false;
            }
            return true;
        }(),
        10000);

    QVERIFY(startServer());
    client = ApiTestClient(m_port); // a new port
    client.setToken(admin);
    const QJsonArray rows = client.get(u"/api/sessions/%1/messages"_s.arg(stream.record().sessionId))
                                .json()
                                .value(u"messages"_s)
                                .toArray();
    QCOMPARE(rows.size(), 2);
    const QJsonObject reply = rows.at(1).toObject();
    QCOMPARE(reply.value(u"status"_s).toString(), u"interrupted"_s);
    QCOMPARE(reply.value(u"finish_reason"_s).toString(), u"Interrupted"_s);
    const QJsonArray parts = reply.value(u"parts"_s).toArray();
    QCOMPARE(parts.size(), 1);
    QCOMPARE(parts.at(0)[u"type"_s].toString(), u"tool_call"_s);
    QCOMPARE(parts.at(0)[u"name"_s].toString(), u"slow"_s);
    // Its server is back, and the conversation goes on.
    QTRY_COMPARE_WITH_TIMEOUT(client.get(u"/api/mcp/servers/slow"_s).json().value(u"status"_s).toString(),
                              u"connected"_s, 30000);
    const auto next = client.stream("POST", u"/api/agents/%1/chat/stream"_s.arg(agent),
                                    ApiFixture::chatBody(u"so?"_s, stream.record().sessionId));
    QCOMPARE(next.events.last().json.value(u"type"_s).toString(), u"done"_s);
    const QJsonArray sent = m_fake.requests().last().json.value(u"messages"_s).toArray();
    QCOMPARE(sent.at(sent.size() - 3)[u"tool_calls"_s].toArray().size(), 1);
    QCOMPARE(sent.at(sent.size() - 2)[u"role"_s].toString(), u"tool"_s);
    QVERIFY(sent.at(sent.size() - 2)[u"content"_s].toString().contains(u"did not finish"_s));
    m_server->terminate();
    QVERIFY(m_server->waitForFinished(20000));
    QCOMPARE(m_server->exitCode(), 0);
}

QTEST_GUILESS_MAIN(CrashDurabilityTest)
#include "tst_crashdurability.moc"
