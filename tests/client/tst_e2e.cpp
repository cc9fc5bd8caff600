#include "apiclient.h"
#include "chatcontroller.h"
#include "desktopapp.h"
#include "fakescenario.h"
#include "fakeupstream.h"
#include "settingscontroller.h"
#include "tcpproxy.h"
#include "transfercontroller.h"

#include "server/server.h"
#include "storage/statement.h"

#include <QClipboard>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QQuickItem>
#include <QQuickWindow>
#include <QScopeGuard>
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
        m_token =
            m_server->createToken(u"local"_s, u"tester"_s, u"desktop window"_s, true).value_or(QString());
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

    // What a user sees, top to bottom: shown items of that name (delegates too, so through the
    // visual tree rather than QObject children).
    static void collect(QQuickItem *at, const QString &name, QList<QQuickItem *> *out)
    {
        if (!at->isVisible())
            return;
        if (at->objectName() == name && at->width() > 0)
            out->append(at);
        for (QQuickItem *child : at->childItems())
            collect(child, name, out);
    }
    QList<QQuickItem *> shown(const char *name, QQuickItem *within = nullptr) const
    {
        QList<QQuickItem *> list;
        collect(within ? within : window()->contentItem(), QLatin1String(name), &list);
        std::sort(list.begin(), list.end(),
                  [](QQuickItem *a, QQuickItem *b) { return a->mapToScene({}).y() < b->mapToScene({}).y(); });
        return list;
    }

    // Waits until a control stops moving (a layout or a popup still settling) before a click.
    void waitStill(QQuickItem *target)
    {
        QVERIFY(target);
        QPointF before = target->mapToScene({});
        for (int i = 0; i < 50; ++i) {
            QTest::qWait(60);
            const QPointF now = target->mapToScene({});
            if (now == before)
                return;
            before = now;
        }
        QFAIL("the control kept moving");
    }

    void click(QQuickItem *target)
    {
        QVERIFY(target);
        const QPointF center = target->mapToScene(QPointF(target->width() / 2, target->height() / 2));
        QTest::mouseClick(window(), Qt::LeftButton, Qt::NoModifier, center.toPoint());
    }

    void typeInto(const char *name, const QString &text)
    {
        QQuickItem *field = item(name);
        QVERIFY2(field, name);
        field->forceActiveFocus();
        QTRY_VERIFY(field->hasActiveFocus());
        for (const QChar c : text)
            QTest::sendKeyEvent(QTest::Click, window(), Qt::Key_unknown, QString(c), Qt::NoModifier);
        QCOMPARE(field->property("text").toString(), text);
    }

    // The tool cards of a message, in order, as the model gives them to the QML.
    QList<QVariantMap> toolSegments(int row) const
    {
        QList<QVariantMap> list;
        const QVariantList segments =
            chat()->messages()->data(chat()->messages()->index(row), MessageListModel::SegmentsRole).toList();
        for (const QVariant &s : segments) {
            if (s.toMap().value(u"kind"_s) == u"tool"_s)
                list.append(s.toMap());
        }
        return list;
    }

    // Answers the approval of the n-th card shown with the button named `button`.
    void answerCard(int n, const char *button)
    {
        QList<QQuickItem *> cards;
        QTRY_VERIFY((cards = shown("toolCard")).size() > n);
        const QList<QQuickItem *> buttons = shown(button, cards.at(n));
        QVERIFY2(buttons.size() == 1, button);
        QQuickItem *target = buttons.constFirst();
        waitStill(target);
        QVERIFY(target->isEnabled());
        click(target);
    }

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
        // Before anything lists them: the server keeps a provider's list for a minute.
        m_fake.setModels({u"fake"_s, u"fake-large"_s, u"fake-vision"_s});
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

    void firstStartHasAnAssistant()
    {
        // Nothing set up yet: an assistant is there, and "Hello" just works.
        QTRY_COMPARE(chat()->agents()->rowCount(), 1);
        QTRY_COMPARE(chat()->currentAgentName(), u"Assistant"_s);
        QVERIFY(chat()->canSend());
        type(u"Hello"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QCOMPARE(finished.at(0).at(0).toString(), u"complete"_s);
        QCOMPARE(m_fake.requests()
                     .constLast()
                     .json.value("messages"_L1)
                     .toArray()
                     .last()
                     .toObject()
                     .value("content"_L1),
                 QJsonValue(u"Hello"_s));
        // Once only: deleted, it does not come back at the next start.
        QTRY_COMPARE(chat()->sessions()->rowCount(), 1);
        chat()->deleteSession(chat()->currentSessionId());
        QTRY_COMPARE(chat()->sessions()->rowCount(), 0);
        m_app->settings()->deleteAgent(chat()->currentAgentId());
        QTRY_COMPARE(chat()->agents()->rowCount(), 0);
        chat()->refresh();
        QTest::qWait(300);
        QCOMPARE(chat()->agents()->rowCount(), 0);
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
        // Half a message in this chat, another in a new one: both wait for the next start.
        const QString current = chat()->sessions()->get(0).value(u"sessionId"_s).toString();
        QVERIFY(current != first);
        chat()->openSession(current);
        QTRY_COMPARE(inputText(), QString());
        type(u"half a thought, 未完"_s);
        QTest::qWait(600);
        chat()->newChat();
        QTRY_COMPARE(inputText(), QString());
        type(u"a new chat's draft"_s);
        QTest::qWait(600);
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
        QTRY_COMPARE(inputText(), u"a new chat's draft"_s);
        chat()->openSession(current);
        QTRY_COMPARE(inputText(), u"half a thought, 未完"_s);
        QTest::keyClick(window(), Qt::Key_A, Qt::ControlModifier); // sent or not, it goes when emptied
        QTest::keyClick(window(), Qt::Key_Delete);
        QTest::qWait(600);
        chat()->openSession(first);
        QTRY_COMPARE(inputText(), QString());
        chat()->openSession(current);
        QTRY_COMPARE(inputText(), QString());
        chat()->newChat();
        QTRY_COMPARE(inputText(), u"a new chat's draft"_s);
        QTest::keyClick(window(), Qt::Key_A, Qt::ControlModifier);
        QTest::keyClick(window(), Qt::Key_Delete);
        chat()->openSession(first);
        QTRY_COMPARE(chat()->messages()->at(2).content, expectedReply(u"fake:tokens=40,delay=25"_s));
        QVERIFY(chat()->canSend());
        shot(u"e2e-04-restarted"_s);
    }

    void toolCallsWithApprovalInTheWindow()
    {
#ifndef AGENTDESK_NODE
        QSKIP("node is missing: the MCP server cannot run");
#else
        const QString everything =
            QStringLiteral(AGENTDESK_SOURCE_DIR
                           "/tests/js/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        QVERIFY2(QFile::exists(everything), "server-everything is missing: run `npm ci --prefix tests/js`");
        SettingsController *settings = m_app->settings();

        // Settings, Tools: a server added by the command line that starts it, typed in.
        QTest::keyClick(window(), Qt::Key_Comma, Qt::ControlModifier);
        QTRY_VERIFY(window()->findChild<QObject *>(u"settingsPage"_s)->property("opened").toBool());
        waitStill(item("toolsTab"));
        click(item("toolsTab"));
        QTRY_VERIFY(item("toolsPage")->isVisible());
        typeInto("mcpName", u"everything"_s);
        typeInto("mcpTarget", u"\"%1\" \"%2\" stdio"_s.arg(QStringLiteral(AGENTDESK_NODE), everything));
        waitStill(item("mcpSave"));
        click(item("mcpSave"));
        QTRY_COMPARE_WITH_TIMEOUT(settings->mcpServers()->rowCount(), 1, 40000);
        const McpServerItem server = settings->mcpServers()->servers().at(0);
        QCOMPARE(server.status, u"connected"_s);
        QCOMPARE(server.command, QStringLiteral(AGENTDESK_NODE));
        QCOMPARE(server.args, QStringList({everything, u"stdio"_s}));
        QVERIFY(server.tools.size() >= 10);
        QTRY_VERIFY(!shown("mcpServer_everything").isEmpty());
        QTRY_COMPARE(item("mcpFormStatus")->property("text").toString(), u"“everything” is connected."_s);
        shot(u"e2e-09-tools-settings"_s);
        QTest::keyClick(window(), Qt::Key_Escape);

        // The agent dialog: all of that server's tools, asking before each call.
        QObject *dialog = window()->findChild<QObject *>(u"agentDialog"_s);
        QVERIFY(QMetaObject::invokeMethod(dialog, "openNew"));
        QTRY_VERIFY(dialog->property("opened").toBool());
        const QString model =
            u"fake:calls=everything__get-sum|{\"a\":2%2C\"b\":3};everything__get-tiny-image|{},pre=Let me check.,tokens=12,delay=10"_s;
        typeInto("agentName", u"Operator"_s);
        typeInto("agentModel", model);
        QTRY_COMPARE(shown("agentToolServer_everything").size(), 1);
        QQuickItem *allTools = shown("agentToolServer_everything").constFirst();
        allTools->forceActiveFocus();
        QTest::keyClick(window(), Qt::Key_Space);
        QTRY_COMPARE(dialog->property("selectedTools").toStringList(), QStringList{u"everything/*"_s});
        QSignalSpy saved(settings, &SettingsController::agentSaved);
        waitStill(item("agentSave"));
        click(item("agentSave"));
        QVERIFY(saved.wait(5000));
        const AgentItem *agent = chat()->agents()->find(saved.at(0).at(0).toString());
        QVERIFY(agent);
        QCOMPARE(agent->tools, QStringList{u"everything/*"_s});
        QCOMPARE(agent->toolApproval, u"ask"_s);
        QCOMPARE(agent->maxSteps, 8);
        const QString agentId = agent->id; // the list is replaced when the agents are loaded again
        QCOMPARE(chat()->currentAgentName(), u"Operator"_s);

        // Two parallel calls, both waiting: open cards with Allow / Always allow / Deny.
        type(u"Add 2 and 3, then show me the logo"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        const int row = lastRow(u"assistant"_s);
        QTRY_COMPARE_WITH_TIMEOUT(shown("toolAllow").size(), 2, 15000);
        QCOMPARE(shown("toolAlways").size(), 2);
        QCOMPARE(shown("toolDeny").size(), 2);
        QList<QVariantMap> calls = toolSegments(row);
        QCOMPARE(calls.size(), 2);
        QCOMPARE(calls.at(0).value(u"name"_s).toString(), u"get-sum"_s);
        QCOMPARE(calls.at(0).value(u"server"_s).toString(), u"everything"_s);
        QCOMPARE(calls.at(0).value(u"statusText"_s).toString(), u"Waiting for your approval"_s);
        QVERIFY(calls.at(0).value(u"expanded"_s).toBool());
        QVERIFY(calls.at(0).value(u"arguments"_s).toString().contains(u"\"b\": 3"_s));
        QCOMPARE(calls.at(1).value(u"name"_s).toString(), u"get-tiny-image"_s);
        QVERIFY(chat()->messages()->at(row).content.startsWith(u"Let me check."_s));
        QVERIFY(chat()->isStreaming());
        QCOMPARE(finished.count(), 0);
        shot(u"e2e-10-tool-approval"_s);

        // Allow the first: it runs, its result comes, its card closes; the other still waits.
        answerCard(0, "toolAllow");
        QTRY_VERIFY_WITH_TIMEOUT(toolSegments(row).at(0).value(u"hasResult"_s).toBool(), 15000);
        calls = toolSegments(row);
        QCOMPARE(calls.at(0).value(u"state"_s).toString(), u"done"_s);
        QVERIFY(calls.at(0).value(u"result"_s).toString().contains(u"5"_s));
        QVERIFY(!calls.at(0).value(u"expanded"_s).toBool());
        QVERIFY(calls.at(1).value(u"awaitingApproval"_s).toBool());
        QCOMPARE(shown("toolAllow").size(), 1);
        QCOMPARE(finished.count(), 0);

        // Always allow the second: the reply goes on to its end.
        answerCard(1, "toolAlways");
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QCOMPARE(finished.at(0).at(0).toString(), u"complete"_s);
        QVERIFY(shown("toolAllow").isEmpty());
        // The server's copy (loaded after the end): both calls with their decisions, results and
        // the image as a file.
        auto storedCalls = [&] {
            QList<ToolCallItem> list;
            for (const ReplyPart &p : chat()->messages()->at(row).parts) {
                if (p.isTool)
                    list.append(p.call);
            }
            return list;
        };
        QTRY_COMPARE(chat()->messages()->at(row).steps, 2);
        QTRY_VERIFY(storedCalls().size() == 2 && !storedCalls().at(0).decision.isEmpty());
        QCOMPARE(storedCalls().at(0).decision, u"allow"_s);
        QCOMPARE(storedCalls().at(1).decision, u"always"_s);
        QVERIFY(storedCalls().at(0).hasResult && storedCalls().at(1).hasResult);
        calls = toolSegments(row);
        QCOMPARE(calls.size(), 2);
        QVERIFY(!calls.at(0).value(u"expanded"_s).toBool()); // collapsed once done
        QVERIFY(!calls.at(1).value(u"expanded"_s).toBool());
        QCOMPARE(calls.at(1).value(u"images"_s).toList().size(), 1);
        QVERIFY(!chat()
                     ->messages()
                     ->data(chat()->messages()->index(row), MessageListModel::TailRole)
                     .toString()
                     .isEmpty());

        // Open the image card: the picture loads from /api/files with the window's token.
        QList<QQuickItem *> headers;
        QTRY_COMPARE((headers = shown("toolCardHeader")).size(), 2);
        waitStill(headers.at(1));
        click(headers.at(1));
        QTRY_VERIFY(toolSegments(row).at(1).value(u"expanded"_s).toBool());
        QQuickItem *image = nullptr;
        QTRY_VERIFY(!shown("toolImage").isEmpty());
        image = shown("toolImage").constFirst();
        QTRY_COMPARE_WITH_TIMEOUT(image->property("status").toInt(), 1 /* Image.Ready */, 10000);
        QVERIFY(image->property("sourceSize").toSize().width() > 0);
        QVERIFY(!shown("toolResult").isEmpty());
        // "Always" is the agent's now.
        QTRY_VERIFY(chat()->agents()->find(agentId) &&
                    chat()->agents()->find(agentId)->allowedTools.contains(u"everything/get-tiny-image"_s));
        shot(u"e2e-11-tool-results"_s);

        // A new chat: the image tool runs without asking; Deny the other, the reply still ends well.
        QTest::keyClick(window(), Qt::Key_N, Qt::ControlModifier);
        QTRY_VERIFY(chat()->currentSessionId().isEmpty());
        type(u"Again, please"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        const int second = lastRow(u"assistant"_s);
        QTRY_COMPARE_WITH_TIMEOUT(shown("toolDeny").size(), 1, 15000);
        QTRY_VERIFY(toolSegments(second).at(1).value(u"hasResult"_s).toBool()); // ran on its own
        answerCard(0, "toolDeny");
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 15000);
        QCOMPARE(finished.at(1).at(0).toString(), u"complete"_s);
        QTRY_COMPARE(toolSegments(second).at(1).value(u"decision"_s).toString(),
                     u"auto"_s); // the stored copy
        calls = toolSegments(second);
        QCOMPARE(calls.at(0).value(u"state"_s).toString(), u"denied"_s);
        QCOMPARE(calls.at(0).value(u"statusText"_s).toString(), u"Declined"_s);

        // Stop while a call waits: the reply ends at once, the card says it was stopped.
        QTest::keyClick(window(), Qt::Key_N, Qt::ControlModifier);
        QTRY_VERIFY(chat()->currentSessionId().isEmpty());
        type(u"Once more"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        const int third = lastRow(u"assistant"_s);
        QTRY_COMPARE_WITH_TIMEOUT(shown("toolAllow").size(), 1, 15000);
        QTest::keyClick(window(), Qt::Key_Escape);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 8000);
        QCOMPARE(finished.at(2).at(0).toString(), u"cancelled"_s);
        QTRY_COMPARE(chat()->messages()->at(third).status, u"cancelled"_s);
        QCOMPARE(toolSegments(third).at(0).value(u"statusText"_s).toString(), u"Stopped"_s);
        QVERIFY(shown("toolAllow").isEmpty());
        QVERIFY(chat()->canSend());
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));
#endif
    }

    // The rows' texts top to bottom, "role: text".
    QStringList rows() const
    {
        QStringList out;
        for (const MessageItem &m : chat()->messages()->messages())
            out.append(m.role + u": "_s + m.content);
        return out;
    }
    QStringList lastPrompt() const
    {
        QStringList out;
        for (const QJsonValue &v : m_fake.requests().constLast().json.value("messages"_L1).toArray())
            out.append(v.toObject().value("role"_L1).toString() + u": "_s +
                       v.toObject().value("content"_L1).toString());
        return out;
    }
    // Points at a row's bubble, so its actions show, and clicks the action `name` of that row.
    void clickRowAction(int row, const char *name)
    {
        const QList<QQuickItem *> buttons = shown(name);
        QQuickItem *target = nullptr;
        for (QQuickItem *b : buttons) {
            QQuickItem *p = b;
            while (p && !p->property("messageId").isValid())
                p = p->parentItem();
            if (p && p->property("index").toInt() == row)
                target = b;
        }
        QVERIFY2(target, name);
        QQuickItem *bubble = target;
        while (!bubble->property("messageId").isValid())
            bubble = bubble->parentItem();
        QTest::mouseMove(window(), bubble->mapToScene(QPointF(bubble->width() / 2, 10)).toPoint());
        QTRY_VERIFY(target->isEnabled() && target->opacity() > 0.99);
        click(target);
    }
    void sendAndWait(const QString &text)
    {
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        type(text);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QTRY_VERIFY(!chat()->messages()->at(lastRow(u"assistant"_s)).isLocal());
    }

    void versionsRegenerateEditAndForkInTheWindow()
    {
        // A reply with a code block, as the screenshot in the README shows it.
        const QString text = u"Sure:\n\n```python\ndef twice(n):\n    return n * 2  # doubled\n```"_s;
        const QString model = u"fake:tokens=12,text="_s + QString::fromLatin1(QUrl::toPercentEncoding(text));
        QVERIFY(!createAgent(u"Versions"_s, model, {}).isEmpty());
        chat()->newChat();
        const QString reply = expectedReply(model);
        QCOMPARE(reply, text);
        sendAndWait(u"first question"_s);
        sendAndWait(u"second question"_s);
        QCOMPARE(rows(), (QStringList{u"user: first question"_s, u"assistant: "_s + reply,
                                      u"user: second question"_s, u"assistant: "_s + reply}));
        QVERIFY(shown("versions").isEmpty()); // one version of every turn: no switcher

        // Regenerate the first reply: the model sees only the first question; the turn after it
        // belongs to the old version.
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        clickRowAction(1, "regenerateButton");
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QCOMPARE(lastPrompt(), (QStringList{u"system: Be brief."_s, u"user: first question"_s}));
        QTRY_COMPARE(chat()->messages()->at(1).siblingIds.size(), 2);
        QCOMPARE(rows(), (QStringList{u"user: first question"_s, u"assistant: "_s + reply}));
        QTRY_COMPARE(shown("versionLabel").size(), 1);
        QCOMPARE(shown("versionLabel").constFirst()->property("text").toString(), u"2/2"_s);

        // Back to the first version: the conversation that followed it is there again.
        click(shown("previousVersion").constFirst());
        QTRY_COMPARE(chat()->messages()->rowCount(), 4);
        QCOMPARE(shown("versionLabel").constFirst()->property("text").toString(), u"1/2"_s);
        shot(u"e2e-08-versions"_s);

        // Edit the second question in place and send it.
        clickRowAction(2, "editButton");
        QQuickItem *editor = shown("editArea").constFirst();
        QTRY_VERIFY(editor->hasActiveFocus());
        QCOMPARE(editor->property("text").toString(), u"second question"_s);
        // The editor takes the bubble's full width, its buttons inside the window.
        QTRY_VERIFY(editor->width() > 400);
        for (const char *name : {"saveEdit"}) {
            QQuickItem *button = shown(name).constFirst();
            QVERIFY(button->mapToScene(QPointF(button->width(), 0)).x() <= window()->width());
        }
        shot(u"e2e-08b-editing"_s);
        QTest::keyClick(window(), Qt::Key_A, Qt::ControlModifier);
        for (const QChar c : u"second, edited"_s)
            QTest::keyClick(window(), c.toLatin1());
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 15000);
        QCOMPARE(lastPrompt(), (QStringList{u"system: Be brief."_s, u"user: first question"_s,
                                            u"assistant: "_s + reply, u"user: second, edited"_s}));
        QTRY_COMPARE(chat()->messages()->at(2).siblingIds.size(), 2);
        QCOMPARE(rows().at(2), u"user: second, edited"_s);
        QCOMPARE(chat()->messages()->rowCount(), 4);
        QVERIFY(m_app->qmlWarnings().isEmpty());

        // Continue in a new chat from the first reply.
        const QString original = chat()->currentSessionId();
        const int sessions = chat()->sessions()->rowCount();
        clickRowAction(1, "forkButton");
        QTRY_VERIFY(chat()->currentSessionId() != original);
        QTRY_COMPARE(chat()->sessions()->rowCount(), sessions + 1);
        QTRY_COMPARE(rows(), (QStringList{u"user: first question"_s, u"assistant: "_s + reply}));
    }

    void searchEveryMessageAndPin()
    {
        // Words from a message deep in another chat, in Chinese without spaces.
        QSignalSpy focus(chat(), &ChatController::messageFocusRequested);
        typeInto("sessionSearch", u"你好"_s);
        QTRY_COMPARE(shown("searchHit").size(), 1);
        QVERIFY(shown("sessionList").isEmpty());
        shot(u"e2e-09-search"_s);
        const SearchResultModel::Result result = chat()->search()->results().constFirst();
        QVERIFY(result.snippetHtml.contains(u"<b>你好</b>"_s));
        click(shown("searchHit").constFirst());
        QTRY_COMPARE(chat()->currentSessionId(), result.sessionId);
        QTRY_COMPARE(focus.count(), 1);
        QCOMPARE(chat()->messages()->at(focus.at(0).at(0).toInt()).id, result.messageId);
        QCOMPARE(chat()->messages()->at(focus.at(0).at(0).toInt()).content, u"Hello 你好, stream please"_s);
        // An edited-away version is found too, and opens on its branch.
        QQuickItem *field = item("sessionSearch");
        field->setProperty("text", u"second question"_s);
        QTRY_VERIFY(!chat()->search()->results().isEmpty() &&
                    chat()->search()->results().constFirst().snippetHtml.contains(
                        u"<b>second</b> <b>question</b>"_s));
        QTRY_COMPARE(shown("searchHit").size(), 1);
        click(shown("searchHit").constFirst());
        QTRY_COMPARE(focus.count(), 2);
        QCOMPARE(chat()->messages()->at(focus.at(1).at(0).toInt()).content, u"second question"_s);
        field->setProperty("text", QString());
        QTRY_VERIFY(shown("searchHit").isEmpty());
        QVERIFY(!shown("sessionList").isEmpty());

        // Pinned: on top, in a group of its own, also after a reload from the server.
        const QString last =
            chat()->sessions()->get(chat()->sessions()->rowCount() - 1).value(u"sessionId"_s).toString();
        chat()->pinSession(last, true);
        QCOMPARE(chat()->sessions()->get(0).value(u"sessionId"_s).toString(), last);
        QCOMPARE(chat()->sessions()->get(0).value(u"section"_s).toString(), u"Pinned"_s);
        chat()->refresh();
        QTest::qWait(300);
        QTRY_COMPARE(chat()->sessions()->get(0).value(u"sessionId"_s).toString(), last);
        QCOMPARE(chat()->sessions()->get(0).value(u"pinned"_s).toBool(), true);
        chat()->pinSession(last, false);
        QTRY_VERIFY(chat()->sessions()->get(0).value(u"sessionId"_s).toString() != last);
    }

    void exportAndImportChats()
    {
        TransferController *transfer = m_app->transfer();
        QSignalSpy finished(transfer, &TransferController::finished);
        const int sessions = chat()->sessions()->rowCount();
        const QString all = m_dir.filePath(u"all.json"_s);
        transfer->exportChats({}, u"json"_s, QUrl::fromLocalFile(all));
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.at(0).at(0).toBool(), true);
        QFile file(all);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject exported = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(exported.value("format"_L1).toString(), u"agentdesk.sessions"_s);
        QCOMPARE(exported.value("sessions"_L1).toArray().size(), sessions);

        const QString one = m_dir.filePath(u"one.md"_s);
        const QString sessionId = chat()->sessions()->get(0).value(u"sessionId"_s).toString();
        QVERIFY(transfer->suggestedFile(sessionId, u"markdown"_s).toLocalFile().endsWith(u".md"_s));
        transfer->exportChats(sessionId, u"markdown"_s, QUrl::fromLocalFile(one));
        QVERIFY(finished.wait(10000));
        QFile markdown(one);
        QVERIFY(markdown.open(QIODevice::ReadOnly));
        QVERIFY(markdown.readAll().startsWith(
            "# " + chat()->sessions()->get(0).value(u"title"_s).toString().toUtf8()));

        // ChatGPT's export: two chats more, then none the second time; a broken file adds nothing.
        const QUrl chatgpt =
            QUrl::fromLocalFile(QStringLiteral(AGENTDESK_FIXTURES "/chatgpt-conversations.json"));
        transfer->importFile(chatgpt);
        QVERIFY(finished.wait(10000));
        QCOMPARE(transfer->status(), u"Imported 2 chat(s)."_s);
        QTRY_COMPARE(chat()->sessions()->rowCount(), sessions + 2);
        transfer->importFile(chatgpt);
        QVERIFY(finished.wait(10000));
        QCOMPARE(transfer->status(), u"Imported 0 chat(s); 2 were there already."_s);
        const QString broken = m_dir.filePath(u"broken.json"_s);
        QFile bad(broken);
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("[{\"id\":\"x\",\"mapping\":{\"a\":{\"parent\":\"gone\"}}}]");
        bad.close();
        transfer->importFile(QUrl::fromLocalFile(broken));
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.last().at(0).toBool(), false);
        QVERIFY2(transfer->status().startsWith(u"Nothing was imported"_s), qPrintable(transfer->status()));
        QCOMPARE(chat()->sessions()->rowCount(), sessions + 2);
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));
    }

    void pasteAnImageAndSendIt()
    {
        QVERIFY(!createAgent(u"Eyes"_s, u"fake"_s, {}).isEmpty());
        // Text on the clipboard is pasted as text, as ever.
        QGuiApplication::clipboard()->setText(u"pasted words"_s);
        type(QString());
        QTest::keyClick(window(), Qt::Key_V, Qt::ControlModifier);
        QTRY_COMPARE(inputText(), u"pasted words"_s);
        QCOMPARE(chat()->attachments()->count(), 0);
        item("messageInput")->setProperty("text", QString());
        // An image is attached: uploaded at once, its thumbnail above the input.
        QImage picture(120, 80, QImage::Format_RGB32);
        picture.fill(QColor(0, 139, 139));
        QGuiApplication::clipboard()->setImage(picture);
        QTest::keyClick(window(), Qt::Key_V, Qt::ControlModifier);
        QTRY_COMPARE(chat()->attachments()->count(), 1);
        QTRY_COMPARE(shown("attachmentThumb").size(), 1);
        QTRY_COMPARE(chat()->attachments()->uploading(), 0);
        QCOMPARE(chat()->attachments()->failed(), 0);
        QCOMPARE(inputText(), QString());
        // One pasted by mistake and taken out again is taken back from the server too.
        const auto unsent = [this] {
            Statement q(m_server->database(), u"SELECT COUNT(*) FROM files WHERE session_id IS NULL"_s);
            return q.exec() && q.next() ? q.value(0).toInt() : -1;
        };
        const int before = unsent();
        QVERIFY(before >= 1);
        QTest::keyClick(window(), Qt::Key_V, Qt::ControlModifier);
        QTRY_COMPARE(chat()->attachments()->count(), 2);
        QTRY_COMPARE(chat()->attachments()->uploading(), 0);
        QCOMPARE(unsent(), before + 1);
        chat()->attachments()->remove(1);
        QCOMPARE(chat()->attachments()->count(), 1);
        QTRY_COMPARE(unsent(), before);
        type(u"What colour is it?"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QCOMPARE(finished.at(0).at(0).toString(), u"complete"_s);
        QCOMPARE(chat()->attachments()->count(), 0); // sent with the message
        // The model was shown the image itself.
        const QJsonObject user =
            m_fake.requests().constLast().json.value("messages"_L1).toArray().last().toObject();
        QCOMPARE(user.value("content"_L1).toArray().at(0).toObject().value("text"_L1).toString(),
                 u"What colour is it?"_s);
        const QString url = user.value("content"_L1)
                                .toArray()
                                .at(1)
                                .toObject()
                                .value("image_url"_L1)
                                .toObject()
                                .value("url"_L1)
                                .toString();
        QVERIFY(url.startsWith("data:image/png;base64,"_L1));
        const QImage sent = QImage::fromData(QByteArray::fromBase64(url.section(u',', 1).toLatin1()));
        QCOMPARE(sent.size(), QSize(120, 80));
        QCOMPARE(sent.pixelColor(10, 10), QColor(0, 139, 139));
        const int row = lastRow(u"assistant"_s);
        QVERIFY(chat()->messages()->at(row).content.startsWith("I see 1 image (PNG"_L1));
        // The message keeps its image: a thumbnail in its bubble, from the server once it is stored.
        QTRY_VERIFY(!chat()->messages()->at(row - 1).isLocal());
        QCOMPARE(chat()->messages()->at(row - 1).attachments.size(), 1);
        QTRY_VERIFY(chat()->messages()->at(row - 1).attachments.first().localPath.isEmpty());
        QList<QQuickItem *> thumbs;
        QTRY_COMPARE((thumbs = shown("attachmentThumb")).size(), 1);
        QCOMPARE(chat()->messages()->at(row - 1).attachments.first().width, 120);
        // A click shows it whole.
        click(thumbs.first());
        QObject *viewer = window()->findChild<QObject *>(u"imageViewer"_s);
        QVERIFY(viewer);
        QTRY_VERIFY(viewer->property("opened").toBool());
        shot(u"e2e-09-image-viewer"_s);
        QTest::keyClick(window(), Qt::Key_Escape);
        QTRY_VERIFY(!viewer->property("opened").toBool());
        shot(u"e2e-10-image-sent"_s);
    }

    void reasoningStreamsThenFolds()
    {
        // What a reasoning model does, set as the fake's way for this test (an agent's model name
        // is too short to carry it).
        FakeScenario thinking;
        thinking.reasoning = u"The user asks why the sky is blue. Rayleigh scattering: shorter wavelengths "
                             u"scatter more, so blue light fills the sky."_s;
        thinking.reasoningTokens = 24;
        thinking.delayMs = 50;
        thinking.text = u"Because air scatters blue light more than red."_s;
        thinking.tokens = 8;
        m_fake.setDefaultScenario(thinking);
        const auto restore = qScopeGuard([this] { m_fake.setDefaultScenario(FakeScenario()); });
        QVERIFY(!createAgent(u"Thinker"_s, u"fake"_s, {}).isEmpty());
        type(u"Why is the sky blue?"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        // While the model thinks, its reasoning is open and grows.
        QList<QQuickItem *> text;
        QTRY_VERIFY_WITH_TIMEOUT((text = shown("thinkingText")).size() == 1 &&
                                     text.first()->property("text").toString().size() > 20,
                                 10000);
        QCOMPARE(shown("thinkingTitle").first()->property("text").toString(), u"Thinking…"_s);
        const int row = lastRow(u"assistant"_s);
        QVERIFY(chat()->messages()->at(row).content.isEmpty());
        shot(u"e2e-11-thinking"_s);
        // Once the answer begins it folds away, saying how long the model thought.
        QTRY_VERIFY_WITH_TIMEOUT(!chat()->messages()->at(row).content.isEmpty(), 10000);
        QTRY_COMPARE(shown("thinkingText").size(), 0);
        QVERIFY(shown("thinkingTitle").first()->property("text").toString().startsWith("Thought for"_L1));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QCOMPARE(chat()->messages()->at(lastRow(u"assistant"_s)).content,
                 u"Because air scatters blue light more than red."_s);
        // The stored copy keeps the reasoning apart, and the time it took.
        QTRY_VERIFY(!chat()->messages()->at(lastRow(u"assistant"_s)).isLocal());
        const MessageItem stored = chat()->messages()->at(lastRow(u"assistant"_s));
        QVERIFY(stored.reasoning.startsWith("The user asks why the sky is blue."_L1));
        QVERIFY(stored.thoughtMs > 0);
        QVERIFY(shown("thinkingTitle").first()->property("text").toString().startsWith("Thought for"_L1));
        // A click opens it again.
        QQuickItem *header = shown("thinkingHeader").first();
        waitStill(header);
        click(header);
        QTRY_COMPARE(shown("thinkingText").size(), 1);
        QCOMPARE(shown("thinkingText").first()->property("text").toString(), stored.reasoning);
        shot(u"e2e-12-reasoning-open"_s);
    }

    void modelPickerListsTheProvidersModels()
    {
        QVERIFY(!createAgent(u"Picker"_s, u"fake"_s, {}).isEmpty());
        QQuickItem *button = item("chatModelButton");
        QVERIFY(button);
        waitStill(button);
        click(button);
        // The provider's models, asked of it through the server.
        QTRY_COMPARE_WITH_TIMEOUT(shown("modelOption_fake-large").size(), 1, 10000);
        QCOMPARE(shown("modelOption_fake").size(), 1);
        QCOMPARE(shown("modelOption_fake-vision").size(), 1);
        const QList<FakeRequest> asked = m_fake.requests();
        QVERIFY(std::any_of(asked.cbegin(), asked.cend(),
                            [](const FakeRequest &r) { return r.path == "/v1/models"; }));
        // Typing filters them.
        QQuickItem *field = item("chatModelField");
        QTRY_VERIFY(field->hasActiveFocus());
        for (const QChar c : u"VIS"_s)
            QTest::sendKeyEvent(QTest::Click, window(), Qt::Key_unknown, QString(c), Qt::NoModifier);
        QTRY_COMPARE(shown("modelOption_fake-large").size(), 0);
        QCOMPARE(shown("modelOption_fake-vision").size(), 1);
        shot(u"e2e-13-model-picker"_s);
        QQuickItem *option = shown("modelOption_fake-vision").first();
        waitStill(option);
        click(option);
        QTRY_COMPARE(chat()->currentModel(), u"fake-vision"_s);
        QVERIFY(chat()->modelOverridden());
        // The chat's first message takes it along; the chat keeps it.
        type(u"Which model are you?"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
        QCOMPARE(m_fake.requests().constLast().json.value("model"_L1).toString(), u"fake-vision"_s);
        QTRY_COMPARE(chat()->currentModel(), u"fake-vision"_s);
        chat()->refresh();
        QTest::qWait(300);
        QCOMPARE(chat()->currentModel(), u"fake-vision"_s);
        // The agent dialog's picker lists them too.
        m_app->settings()->agentModels()->load(QString());
        QTRY_COMPARE(m_app->settings()->agentModels()->total(), 3);
        m_fake.setModels({u"fake"_s});
    }

    void apiCallsAreListedWhenAsked()
    {
        // A script's call through the OpenAI-compatible API: kept as a session, out of the list.
        const int before = chat()->sessions()->rowCount();
        QNetworkAccessManager nam;
        QNetworkRequest request(m_server->url().resolved(QUrl(u"/v1/chat/completions"_s)));
        request.setRawHeader("Authorization", "Bearer " + m_token.toLatin1());
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        const QByteArray body =
            QJsonDocument(QJsonObject{{u"model"_s, u"Aria"_s},
                                      {u"messages"_s,
                                       QJsonArray{QJsonObject{{u"role"_s, u"user"_s},
                                                              {u"content"_s, u"From a script 脚本"_s}}}}})
                .toJson();
        QNetworkReply *reply = nam.post(request, body);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 15000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        reply->deleteLater();
        chat()->refresh();
        QTest::qWait(300);
        QCOMPARE(chat()->sessions()->rowCount(), before);
        QVERIFY(shown("apiBadge").isEmpty());

        // The list's menu shows it, marked.
        QQuickItem *options = item("listOptionsButton");
        waitStill(options);
        click(options);
        QQuickItem *show = item("showApiCalls");
        QTRY_VERIFY(show && show->isVisible());
        waitStill(show);
        click(show);
        QTRY_COMPARE(chat()->sessions()->rowCount(), before + 1);
        QTRY_COMPARE(shown("apiBadge").size(), 1);
        shot(u"e2e-14-api-calls"_s);
        chat()->sessions()->setShowApiCalls(false);
        QTRY_COMPARE(chat()->sessions()->rowCount(), before);
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
