#include "apiclient.h"
#include "chatcontroller.h"
#include "desktopapp.h"
#include "fakescenario.h"
#include "fakeupstream.h"
#include "settingscontroller.h"
#include "tcpproxy.h"

#include "server/server.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QProcess>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Qt::StringLiterals;

// End to end: the real window (DesktopApp, Main.qml) on the real backend (Server, in-process on
// 127.0.0.1, SQLite in a temporary folder) with the fake OpenAI-compatible upstream behind it;
// and once on the headless `agentdesk` binary in another process (remote mode), which then
// goes away and comes back. Keys are typed into the window; screenshots go to
// $AGENTDESK_SCREENSHOT_DIR.
class EndToEndTest : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    FakeUpstream m_fake;
    std::unique_ptr<Server> m_server;
    std::unique_ptr<DesktopApp> m_app;
    std::unique_ptr<QProcess> m_process;
    QString m_token;
    QString m_shots;
    quint16 m_processPort = 0;

    DesktopApp::Options appOptions() const
    {
        DesktopApp::Options o;
        o.cachePath = m_dir.filePath(u"client/client-cache.db"_s);
        o.secretsFile = m_dir.filePath(u"client/secrets.json"_s);
        o.fileSecrets = true;
        o.healthOnlineMs = 250;
        o.healthOfflineMs = 150;
        return o;
    }

    bool startServer()
    {
        Server::Options options;
        options.port = 0;
        options.dataDir = m_dir.filePath(u"server"_s);
        ProviderConfig provider;
        provider.name = u"env"_s;
        provider.baseUrl = m_fake.baseUrl();
        provider.model = u"fake"_s;
        provider.apiKey = u"sk-upstream"_s;
        provider.connectTimeoutMs = 2000;
        provider.stallTimeoutMs = 3000;
        options.environmentProvider = provider;
        m_server = std::make_unique<Server>();
        if (!m_server->start(options)) {
            qWarning() << m_server->errorString();
            return false;
        }
        m_token = m_server->createToken(u"local"_s, u"tester"_s, u"desktop window"_s, true).value_or(QString());
        return !m_token.isEmpty();
    }

    bool startWindow(const QUrl &url, bool inProcess)
    {
        m_app = std::make_unique<DesktopApp>(appOptions());
        if (!m_app->start(url, m_token, inProcess) || !m_app->window())
            return false;
        m_app->window()->resize(1100, 720);
        m_app->window()->show();
        return QTest::qWaitForWindowExposed(m_app->window());
    }

    ChatController *chat() const { return m_app->chat(); }
    QQuickWindow *window() const { return m_app->window(); }
    QQuickItem *item(const char *name) const
    {
        return window()->findChild<QQuickItem *>(QLatin1String(name));
    }
    QString inputText() const { return item("messageInput")->property("text").toString(); }

    void type(const QString &text)
    {
        QQuickItem *input = item("messageInput");
        QVERIFY(input);
        input->forceActiveFocus();
        QTRY_VERIFY(input->hasActiveFocus());
        for (const QChar c : text)
            QTest::sendKeyEvent(QTest::Click, window(), Qt::Key_unknown, QString(c), Qt::NoModifier);
    }

    void shot(const QString &name)
    {
        QTest::qWait(100);
        QVERIFY(window()->grabWindow().save(m_shots + u'/' + name + u".png"_s));
    }

    QString createAgent(const QString &name, const QString &model, const QString &greeting)
    {
        QSignalSpy saved(m_app->settings(), &SettingsController::agentSaved);
        m_app->settings()->saveAgent({{u"name"_s, name},
                                      {u"systemPrompt"_s, u"Be brief."_s},
                                      {u"greeting"_s, greeting},
                                      {u"model"_s, model}});
        if (!saved.wait(5000))
            return {};
        const QString id = saved.at(0).at(0).toString();
        chat()->setCurrentAgentId(id);
        return id;
    }

    static QString expectedReply(const QString &model)
    {
        FakeScenario s;
        s.applyModel(model);
        return s.replyText();
    }

    int lastRow(const QString &role) const
    {
        for (int i = chat()->messages()->rowCount() - 1; i >= 0; --i) {
            if (chat()->messages()->at(i).role == role)
                return i;
        }
        return -1;
    }

    static quint16 freePort()
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return probe.serverPort();
    }

    bool startProcess()
    {
        m_process = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"OPENAI_BASE_URL"_s, m_fake.baseUrl().toString());
        env.insert(u"OPENAI_API_KEY"_s, u"sk-upstream"_s);
        env.insert(u"OPENAI_MODEL"_s, u"fake"_s);
        env.remove(u"QT_QPA_PLATFORM"_s);
        env.remove(u"DISPLAY"_s);
        m_process->setProcessEnvironment(env);
        m_process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process->start(QStringLiteral(AGENTDESK_BINARY),
                         {u"--headless"_s, u"--port"_s, QString::number(m_processPort), u"--data-dir"_s,
                          m_dir.filePath(u"remote"_s)});
        if (!m_process->waitForStarted(10000))
            return false;
        // Up when health answers.
        ApiClient probe;
        probe.setServer(QUrl(u"http://127.0.0.1:%1"_s.arg(m_processPort)), {});
        QDeadlineTimer deadline(60000); // generous: a loaded CI machine starts slowly
        while (!deadline.hasExpired() && m_process->state() == QProcess::Running) {
            bool done = false, ok = false;
            probe.health(nullptr, [&](const ApiResult &r) {
                ok = r.ok();
                done = true;
            });
            if (QTest::qWaitFor([&] { return done; }, 6000) && ok)
                return true;
            QTest::qWait(100);
        }
        return false;
    }

    QString processToken()
    {
        QProcess p;
        p.start(QStringLiteral(AGENTDESK_BINARY),
                {u"token"_s, u"create"_s, u"--tenant"_s, u"team"_s, u"--user"_s, u"remote"_s, u"--data-dir"_s,
                 m_dir.filePath(u"remote"_s)});
        if (!p.waitForFinished(20000) || p.exitCode() != 0)
            return {};
        return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("AGENTDESK_SECRETS", "file");
        DesktopApp::prepareApplication();
        m_shots =
            qEnvironmentVariable("AGENTDESK_SCREENSHOT_DIR", QDir::tempPath() + u"/agentdesk-screens"_s);
        QDir().mkpath(m_shots);
        QVERIFY(m_dir.isValid());
        QVERIFY(m_fake.listen());
        QVERIFY(startServer());
        QVERIFY(startWindow(m_server->url(), true));
        QTRY_VERIFY(chat()->isLoaded());
    }

    void cleanupTestCase()
    {
        m_app.reset();
        m_server.reset();
        if (m_process) {
            m_process->terminate();
            m_process->waitForFinished(5000);
        }
    }

    void typeEnterAndWatchTheReplyStream()
    {
        const QString model = u"fake:tokens=40,delay=25"_s;
        QVERIFY(!createAgent(u"Aria"_s, model, u"你好！I'm Aria."_s).isEmpty());
        QCOMPARE(chat()->messages()->rowCount(), 1); // the greeting first
        QCOMPARE(chat()->messages()->at(0).content, u"你好！I'm Aria."_s);
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));

        type(u"Hello 你好, stream please"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QSignalSpy reset(chat()->messages(), &QAbstractItemModel::modelReset);
        QTest::keyClick(window(), Qt::Key_Return);
        QCOMPARE(inputText(), QString());
        QVERIFY(chat()->isStreaming());
        QCOMPARE(chat()->messages()->at(2).status, u"typing"_s);
        QTRY_VERIFY(chat()->messages()->at(2).content.size() > 20);
        QVERIFY(chat()->isStreaming());
        shot(u"e2e-01-streaming"_s);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QCOMPARE(finished.at(0).at(0).toString(), u"complete"_s);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(chat()->messages()->at(2).content, expectedReply(model));
        QVERIFY(!chat()->currentSessionId().isEmpty());
        // Usage and speed once the server's copy is in.
        QTRY_VERIFY(!chat()
                         ->messages()
                         ->data(chat()->messages()->index(2), MessageListModel::StatsTextRole)
                         .toString()
                         .isEmpty());
        QTRY_VERIFY(chat()->messages()->at(2).completionTokens > 0);
        QVERIFY(chat()->messages()->at(2).tokensPerSecond > 0);
        QTRY_COMPARE(chat()->sessions()->rowCount(), 1);
        shot(u"e2e-02-done"_s);
    }

    void stopMidStreamKeepsThePartialReply()
    {
        const QString model = u"fake:tokens=400,delay=30"_s;
        QVERIFY(!createAgent(u"Long talker"_s, model, {}).isEmpty());
        const int abortsBefore = m_fake.clientAborts();
        type(u"Tell me everything"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_VERIFY(chat()->messages()->at(lastRow(u"assistant"_s)).content.size() > 30);
        QTest::keyClick(window(), Qt::Key_Escape);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 8000);
        QCOMPARE(finished.at(0).at(0).toString(), u"cancelled"_s);
        // The upstream request was aborted, not left generating.
        QTRY_VERIFY(m_fake.clientAborts() > abortsBefore);
        const int row = lastRow(u"assistant"_s);
        const QString partial = chat()->messages()->at(row).content;
        QVERIFY(!partial.isEmpty());
        QVERIFY(partial.size() < expectedReply(model).size());
        // The server saved it: the reloaded row is the same text, marked cancelled.
        QTRY_VERIFY(!chat()->messages()->at(lastRow(u"assistant"_s)).isLocal());
        QTRY_COMPARE(chat()->messages()->at(lastRow(u"assistant"_s)).status, u"cancelled"_s);
        QVERIFY(expectedReply(model).startsWith(chat()->messages()->at(lastRow(u"assistant"_s)).content));
        QVERIFY(chat()->canSend());
        shot(u"e2e-03-stopped"_s);
    }

    void switchSessions()
    {
        QTRY_COMPARE(chat()->sessions()->rowCount(), 2);
        const QString second = chat()->currentSessionId();
        const QString first = chat()->sessions()->get(1).value(u"sessionId"_s).toString();
        QVERIFY(first != second);
        chat()->openSession(first);
        QCOMPARE(chat()->currentAgentName(), u"Aria"_s);
        QTRY_COMPARE(chat()->messages()->at(1).content, u"Hello 你好, stream please"_s);
        QTRY_COMPARE(chat()->messages()->at(2).content, expectedReply(u"fake:tokens=40,delay=25"_s));
        chat()->openSession(second);
        QCOMPARE(chat()->currentAgentName(), u"Long talker"_s);
        QTRY_COMPARE(chat()->messages()->at(0).content, u"Tell me everything"_s);
        // Ctrl+N starts a new chat with the current agent.
        QTest::keyClick(window(), Qt::Key_N, Qt::ControlModifier);
        QTRY_VERIFY(chat()->currentSessionId().isEmpty());
    }

    void restartTheAppAndFindHistory()
    {
        const int sessions = chat()->sessions()->rowCount();
        const QString first = chat()->sessions()->get(sessions - 1).value(u"sessionId"_s).toString();
        m_app.reset();
        m_server.reset();
        QVERIFY(startServer()); // the same data folder, a new port and token, as on a new start
        m_app = std::make_unique<DesktopApp>(appOptions());
        QVERIFY(m_app->start(m_server->url(), m_token, true));
        // At once from the local cache, before the server answered.
        QCOMPARE(chat()->sessions()->rowCount(), sessions);
        window()->show();
        QVERIFY(QTest::qWaitForWindowExposed(window()));
        QTRY_VERIFY(chat()->isLoaded());
        QCOMPARE(chat()->sessions()->rowCount(), sessions);
        chat()->openSession(first);
        QTRY_COMPARE(chat()->messages()->at(2).content, expectedReply(u"fake:tokens=40,delay=25"_s));
        QVERIFY(chat()->canSend());
        shot(u"e2e-04-restarted"_s);
    }

    void remoteServerInAnotherProcessGoesAwayAndComesBack()
    {
        m_processPort = freePort();
        QVERIFY(startProcess());
        m_token = processToken();
        QVERIFY(!m_token.isEmpty());
        m_app.reset();
        QVERIFY(startWindow(QUrl(u"http://127.0.0.1:%1"_s.arg(m_processPort)), false));
        QVERIFY(chat()->isRemote());
        QTRY_VERIFY(chat()->isLoaded());
        QVERIFY(!createAgent(u"Remote"_s, u"fake:tokens=12,delay=10"_s, u"Remote hello"_s).isEmpty());
        type(u"Over the network"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        QCOMPARE(finished.at(0).at(0).toString(), u"complete"_s);
        QTRY_VERIFY(!chat()->messages()->at(2).isLocal());
        const QString reply = chat()->messages()->at(2).content;
        QCOMPARE(reply, expectedReply(u"fake:tokens=12,delay=10"_s));

        // The server goes away: offline mark, history still shown, sending disabled.
        m_process->terminate();
        QVERIFY(m_process->waitForFinished(10000));
        QTRY_VERIFY_WITH_TIMEOUT(!chat()->isOnline(), 5000);
        QVERIFY(!chat()->canSend());
        QVERIFY(item("offlineBanner")->isVisible());
        QCOMPARE(chat()->messages()->at(2).content, reply);
        type(u"Are you there?"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QCOMPARE(inputText(), u"Are you there?"_s); // kept, not sent
        shot(u"e2e-05-remote-offline"_s);

        // A restart of the window while the server is down still shows the history.
        const QString session = chat()->currentSessionId();
        m_app.reset();
        QVERIFY(startWindow(QUrl(u"http://127.0.0.1:%1"_s.arg(m_processPort)), false));
        QVERIFY(chat()->sessions()->find(session));
        chat()->openSession(session);
        QCOMPARE(chat()->messages()->at(chat()->messages()->rowCount() - 1).content, reply);
        QTRY_VERIFY_WITH_TIMEOUT(!chat()->isOnline(), 5000);

        // It comes back: online, sending enabled again.
        QVERIFY(startProcess());
        QTRY_VERIFY_WITH_TIMEOUT(chat()->isOnline(), 5000);
        QTRY_VERIFY(chat()->canSend());
        QVERIFY(!item("offlineBanner")->isVisible());
    }

    void remoteReplyResumesAcrossANetworkDrop()
    {
        // Window -> proxy -> server: the test cuts the network in the middle of a reply.
        TcpProxy proxy(m_processPort);
        QVERIFY(proxy.listen());
        m_app.reset();
        QVERIFY(startWindow(QUrl(u"http://127.0.0.1:%1"_s.arg(proxy.port())), false));
        QTRY_VERIFY(chat()->isLoaded());
        const QString model = u"fake:tokens=80,delay=40"_s;
        QVERIFY(!createAgent(u"Resumer"_s, model, {}).isEmpty());
        const int requestsBefore = m_fake.requestsReceived();
        type(u"Keep talking through the tunnel"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        const int row = 1;
        QTRY_VERIFY(chat()->messages()->at(row).content.size() > 30);
        proxy.cut();
        // Marked at once, and still the same reply, not an error or a finished one.
        QTRY_COMPARE_WITH_TIMEOUT(chat()->messages()->at(row).status, u"reconnecting"_s, 5000);
        QVERIFY(chat()->isStreaming());
        QCOMPARE(finished.count(), 0);
        shot(u"e2e-06-reconnecting"_s);
        QTRY_VERIFY_WITH_TIMEOUT(!chat()->isOnline(), 5000); // the resume attempts find nobody
        QCOMPARE(chat()->messages()->at(row).status, u"reconnecting"_s);
        QVERIFY(proxy.restore());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QCOMPARE(finished.at(0).at(0).toString(), u"complete"_s);
        // The text went on where it stopped: the whole reply once, one turn, one upstream call.
        QCOMPARE(chat()->messages()->at(row).content, expectedReply(model));
        QTRY_VERIFY(!chat()->messages()->at(row).isLocal());
        QCOMPARE(chat()->messages()->rowCount(), 2);
        QCOMPARE(chat()->messages()->at(row).content, expectedReply(model));
        QCOMPARE(m_fake.requestsReceived(), requestsBefore + 1);
        QVERIFY(proxy.connections() >= 2);
        shot(u"e2e-07-resumed"_s);
    }

    void remoteReplyCutByACrashIsMarkedAtOnce()
    {
        m_app.reset();
        QVERIFY(startWindow(QUrl(u"http://127.0.0.1:%1"_s.arg(m_processPort)), false));
        QTRY_VERIFY(chat()->isLoaded());
        const QString model = u"fake:tokens=400,delay=20"_s;
        QVERIFY(!createAgent(u"Crasher"_s, model, {}).isEmpty());
        type(u"Talk until the server dies"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        const int row = 1;
        QTRY_VERIFY(chat()->messages()->at(row).content.size() > 30);
        ::kill(pid_t(m_process->processId()), SIGKILL);
        QVERIFY(m_process->waitForFinished(10000));
        // Not shown as complete while the server is gone: marked at once.
        QTRY_COMPARE_WITH_TIMEOUT(chat()->messages()->at(row).status, u"reconnecting"_s, 5000);
        QCOMPARE(finished.count(), 0);
        QVERIFY(expectedReply(model).startsWith(chat()->messages()->at(row).content));
        // The server comes back, marks the reply interrupted, and the window says so.
        QVERIFY(startProcess());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QCOMPARE(finished.at(0).at(0).toString(), u"interrupted"_s);
        QTRY_VERIFY(!chat()->messages()->at(row).isLocal());
        QCOMPARE(chat()->messages()->at(row).status, u"interrupted"_s);
        QVERIFY(expectedReply(model).startsWith(chat()->messages()->at(row).content));
        QVERIFY(chat()->canSend());
        shot(u"e2e-08-interrupted"_s);
    }
};

QTEST_MAIN(EndToEndTest)
#include "tst_e2e.moc"
