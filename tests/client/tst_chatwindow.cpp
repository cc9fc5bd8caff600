#include "apiclient.h"
#include "chatcontroller.h"
#include "desktopapp.h"
#include "keychainstore.h"
#include "localcache.h"
#include "mockserver.h"
#include "settingscontroller.h"
#include "themecontroller.h"

#include <QClipboard>
#include <QDir>
#include <QGuiApplication>
#include <QPalette>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <QTranslator>
#include <QWheelEvent>
#include <functional>

#include <algorithm>

using namespace Qt::StringLiterals;

// The real window (Main.qml and the C++ behind it) against a mock AgentDesk server: QML loads
// without warnings, typing and Enter stream a reply into one bubble, Stop keeps the partial
// reply, errors are inline with the text kept, sessions switch, history survives a restart
// and the offline state disables sending until the server is back. Screenshots of each state
// go to $AGENTDESK_SCREENSHOT_DIR (default: <tmp>/agentdesk-screens).
class ChatWindowTest : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<MockServer> m_mock;
    std::unique_ptr<DesktopApp> m_app;
    QString m_agentId;
    QString m_shots;

    DesktopApp::Options options() const
    {
        DesktopApp::Options o;
        o.cachePath = m_dir.filePath(u"client-cache.db"_s);
        o.secretsFile = m_dir.filePath(u"secrets.json"_s);
        o.fileSecrets = true;
        o.healthOnlineMs = 250;
        o.healthOfflineMs = 150;
        return o;
    }

    bool startApp(bool remote = false)
    {
        m_app = std::make_unique<DesktopApp>(options());
        if (!m_app->start(QUrl(m_mock->baseUrl()), u"test-token"_s, !remote))
            return false;
        QQuickWindow *w = m_app->window();
        if (!w)
            return false;
        w->resize(1100, 720);
        w->show();
        return QTest::qWaitForWindowExposed(w);
    }

    QQuickWindow *window() const { return m_app->window(); }
    ChatController *chat() const { return m_app->chat(); }

    QQuickItem *item(const char *name) const
    {
        return window()->findChild<QQuickItem *>(QLatin1String(name));
    }

    void type(const QString &text)
    {
        for (const QChar c : text)
            QTest::sendKeyEvent(QTest::Click, window(), Qt::Key_unknown, QString(c), Qt::NoModifier);
    }

    void shot(const QString &name)
    {
        QTest::qWait(120);
        const QImage img = window()->grabWindow();
        QVERIFY(!img.isNull());
        QVERIFY(img.save(m_shots + u'/' + name + u".png"_s));
    }

    void focusInput()
    {
        QQuickItem *input = item("messageInput");
        QVERIFY(input);
        input->forceActiveFocus();
        QTRY_VERIFY(input->hasActiveFocus());
    }

    QString inputText() const { return item("messageInput")->property("text").toString(); }

    // Items of a name the user can see: delegates of Repeaters are not QObject children.
    QList<QQuickItem *> visibleItems(const QString &name) const
    {
        QList<QQuickItem *> found;
        std::function<void(QQuickItem *)> walk = [&](QQuickItem *at) {
            if (!at->isVisible())
                return;
            if (at->objectName() == name)
                found.append(at);
            for (QQuickItem *child : at->childItems())
                walk(child);
        };
        walk(window()->contentItem());
        return found;
    }

    static void wheel(QQuickWindow *w, QQuickItem *over, QPoint delta, Qt::KeyboardModifiers modifiers = {})
    {
        const QPointF at = over->mapToScene(QPointF(over->width() / 2, over->height() / 2));
        QWheelEvent event(at, w->mapToGlobal(at), QPoint(), delta, Qt::NoButton, modifiers, Qt::NoScrollPhase,
                          false);
        event.setTimestamp(ulong(QDateTime::currentMSecsSinceEpoch() & 0x7fffffff));
        QCoreApplication::sendEvent(w, &event);
    }

    int rowOfLast(const QString &role) const
    {
        MessageListModel *m = chat()->messages();
        for (int i = m->rowCount() - 1; i >= 0; --i) {
            if (m->at(i).role == role)
                return i;
        }
        return -1;
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
    }

    void init()
    {
        QVERIFY(m_dir.isValid());
        ThemeController::instance()->setMode(u"system"_s); // a failed run leaves no theme behind
        QFile::remove(m_dir.filePath(u"client-cache.db"_s));
        m_mock = std::make_unique<MockServer>();
        QVERIFY(m_mock->listen());
        m_agentId = m_mock->addAgent(u"Aria"_s, u"Hi, I'm **Aria**. Ask me anything — 中文也可以。"_s,
                                     u"mock-model"_s);
        m_mock->addAgent(u"Coder"_s, u"Show me the code."_s);
        QVERIFY(startApp());
        QTRY_VERIFY(chat()->isLoaded());
        QTRY_COMPARE(chat()->currentAgentId(), m_agentId);
    }

    void cleanup()
    {
        m_app.reset();
        m_mock.reset();
    }

    void loadsWithoutWarningsAndShowsTheGreeting()
    {
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));
        QTRY_COMPARE(chat()->messages()->rowCount(), 1);
        QCOMPARE(chat()->messages()->at(0).role, u"greeting"_s);
        QVERIFY(chat()->canSend());
        QVERIFY(item("messageList"));
        QVERIFY(item("sessionList"));
        QVERIFY(!item("offlineBanner")->isVisible());
        shot(u"01-new-chat"_s);
    }

    void enterSendsAndStreamsIntoOneBubble()
    {
        m_mock->tokenDelayMs = 40;
        m_mock->replyTokens = {u"# Streams\n\n"_s,
                               u"SSE sends "_s,
                               u"**events**"_s,
                               u" one by one"_s,
                               u"；中文"_s,
                               u"也能"_s,
                               u"正常显示。\n\n"_s,
                               u"```cpp\nint main() {\n"_s,
                               u"    return 0;\n}\n```\n"_s,
                               u"Done."_s};
        focusInput();
        type(u"Explain SSE 流式"_s);
        QCOMPARE(inputText(), u"Explain SSE 流式"_s);
        QSignalSpy reset(chat()->messages(), &QAbstractItemModel::modelReset);
        QSignalSpy changed(chat()->messages(), &QAbstractItemModel::dataChanged);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QCOMPARE(inputText(), QString());
        QVERIFY(chat()->isStreaming());
        QVERIFY(!chat()->canSend());
        QCOMPARE(chat()->messages()->rowCount(), 3); // greeting, user, assistant
        QCOMPARE(chat()->messages()->at(1).content, u"Explain SSE 流式"_s);
        QVERIFY(item("stopButton"));
        QTRY_VERIFY(chat()->messages()->at(2).content.contains(u"中文"_s));
        shot(u"02-streaming"_s);
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), u"complete"_s);
        QCOMPARE(reset.count(), 0); // tokens never reset the model
        int contentChanges = 0;
        for (const QList<QVariant> &args : std::as_const(changed)) {
            if (args.at(2).value<QList<int>>() ==
                QList<int>({MessageListModel::ContentRole, MessageListModel::TailRole})) {
                QCOMPARE(args.at(0).toModelIndex().row(), 2);
                ++contentChanges;
            }
        }
        QCOMPARE(contentChanges, m_mock->replyTokens.size() - 1);
        QCOMPARE(m_mock->lastMessage, u"Explain SSE 流式"_s);
        QTRY_COMPARE(chat()->messages()->at(2).status, u"complete"_s);
        QCOMPARE(chat()->messages()->at(2).content, m_mock->replyTokens.join(QString()));
        QTRY_VERIFY(!chat()
                         ->messages()
                         ->data(chat()->messages()->index(2), MessageListModel::StatsTextRole)
                         .toString()
                         .isEmpty());
        QVERIFY(!chat()->currentSessionId().isEmpty());
        QTRY_COMPARE(chat()->sessions()->rowCount(), 1);
        QVERIFY(chat()->canSend());
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));
        shot(u"03-reply-done"_s);

        // A second message continues the same session.
        focusInput();
        type(u"More"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE(finished.count(), 2);
        QCOMPARE(chat()->sessions()->rowCount(), 1);
        QTRY_COMPARE(chat()->messages()->rowCount(), 5);
    }

    void shiftEnterAddsALine()
    {
        focusInput();
        type(u"line one"_s);
        QTest::keyClick(window(), Qt::Key_Return, Qt::ShiftModifier);
        type(u"line two"_s);
        QCOMPARE(inputText(), u"line one\nline two"_s);
        QVERIFY(!chat()->isStreaming());
        QCOMPARE(m_mock->streamCount, 0);
    }

    void aTallMessageShowsItsFirstLine()
    {
        focusInput();
        QQuickItem *input = item("messageInput");
        QStringList lines;
        for (int i = 1; i <= 15; ++i)
            lines.append(u"第%1行 line %1"_s.arg(i));
        input->setProperty("text", lines.join(u'\n'));
        input->setProperty("cursorPosition", 0);
        QQuickItem *scroll = item("messageScroll");
        QVERIFY(scroll);
        // Taller than the composer may grow: it scrolls, and at the top its first line is whole.
        QTRY_VERIFY(input->height() > scroll->height());
        const QQuickItem *flick = scroll->property("contentItem").value<QQuickItem *>();
        QVERIFY(flick);
        QTRY_COMPARE(flick->property("contentY").toReal(), 0.0);
        const qreal firstLineTop =
            input->mapToItem(scroll, QPointF(0, input->property("topPadding").toReal())).y();
        QVERIFY2(firstLineTop >= 0, qPrintable(QString::number(firstLineTop)));
        input->setProperty("text", QString());
    }

    void stopKeepsThePartialReply()
    {
        m_mock->tokenDelayMs = 80;
        m_mock->replyTokens = QStringList(100, u"word "_s);
        focusInput();
        type(u"Write a lot"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_VERIFY(chat()->messages()->at(2).content.size() >= 15);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        const auto messageLoads = [this] {
            return std::count_if(m_mock->requests.cbegin(), m_mock->requests.cend(), [](const QByteArray &r) {
                return r.startsWith("GET /api/sessions/") && r.endsWith("/messages");
            });
        };
        const auto loadsBefore = messageLoads();
        QTest::keyClick(window(), Qt::Key_Escape); // Esc = Stop
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), u"cancelled"_s);
        QCOMPARE(m_mock->cancelCount, 1);
        const int row = rowOfLast(u"assistant"_s);
        QTRY_COMPARE(chat()->messages()->at(row).status, u"cancelled"_s);
        const QString partial = chat()->messages()->at(row).content;
        QVERIFY(partial.size() >= 15);
        QVERIFY(partial.size() < 500);
        // After the reload from the server (the window asks for the messages again) the partial
        // reply is still there.
        QTRY_VERIFY(messageLoads() > loadsBefore);
        QTRY_COMPARE(chat()->messages()->at(rowOfLast(u"assistant"_s)).status, u"cancelled"_s);
        QCOMPARE(chat()->messages()->at(rowOfLast(u"assistant"_s)).content, partial);
        QVERIFY(chat()->canSend());
        shot(u"04-stopped"_s);
    }

    void errorIsInlineAndRetryAnswersTheSameMessage()
    {
        m_mock->failStream = true;
        focusInput();
        type(u"Fail please"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QCOMPARE(inputText(), QString());
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), u"error"_s);
        const int row = rowOfLast(u"assistant"_s);
        QCOMPARE(chat()->messages()->at(row).status, u"error"_s);
        QVERIFY(chat()->messages()->at(row).error.contains(u"went away"_s));
        QVERIFY(!chat()->messages()->at(row).content.isEmpty()); // the partial reply stays
        // The message is in the chat with Retry; the input stays empty for what comes next
        // (refilled, the next words typed were glued to the failed message).
        QCOMPARE(inputText(), QString());
        type(u"next"_s);
        QCOMPARE(inputText(), u"next"_s);
        QTest::keyClick(window(), Qt::Key_A, Qt::ControlModifier);
        QTest::keyClick(window(), Qt::Key_Delete);
        QVERIFY(chat()->canRetry());
        QVERIFY(chat()
                    ->messages()
                    ->data(chat()->messages()->index(row), MessageListModel::CanRetryRole)
                    .toBool());
        shot(u"05-error"_s);

        m_mock->failStream = false;
        chat()->retry();
        QTRY_COMPARE(finished.count(), 2);
        QCOMPARE(finished.at(1).at(0).toString(), u"complete"_s);
        QCOMPARE(m_mock->streamCount, 2);
        // Another answer to the stored message, not the message sent a second time.
        QCOMPARE(m_mock->regenerateCount, 1);
        int users = 0;
        for (const MessageItem &m : chat()->messages()->messages())
            users += m.role == "user"_L1 && m.content == "Fail please"_L1;
        QCOMPARE(users, 1);
    }

    void aFailedReplyOffersRetryAfterARestart()
    {
        m_mock->failStream = true;
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        focusInput();
        type(u"Fail please"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE(finished.count(), 1);
        const QString session = chat()->currentSessionId();
        QTRY_VERIFY(!chat()->messages()->at(rowOfLast(u"assistant"_s)).isLocal()); // the stored copy

        // Quit and start again: the failed reply still offers Retry, which answers it again.
        m_app.reset();
        QVERIFY(startApp());
        QTRY_VERIFY(chat()->isLoaded());
        chat()->openSession(session);
        QTRY_VERIFY(rowOfLast(u"assistant"_s) > 0 &&
                    !chat()->messages()->at(rowOfLast(u"assistant"_s)).isLocal());
        const int row = rowOfLast(u"assistant"_s);
        QCOMPARE(chat()->messages()->at(row).status, u"error"_s);
        QTRY_VERIFY(chat()->canRetry());
        QVERIFY(chat()
                    ->messages()
                    ->data(chat()->messages()->index(row), MessageListModel::CanRetryRole)
                    .toBool());
        m_mock->failStream = false;
        QSignalSpy again(chat(), &ChatController::replyFinished);
        chat()->retry();
        QTRY_COMPARE(again.count(), 1);
        QCOMPARE(again.at(0).at(0).toString(), u"complete"_s);
        QCOMPARE(m_mock->regenerateCount, 1);
        QVERIFY(!chat()->canRetry());
    }

    void wheelScrollsUpRightAfterAReply()
    {
        // A conversation taller than the window.
        QStringList lines;
        for (int i = 0; i < 30; ++i)
            lines.append(u"Line %1 of a long answer.\n\n"_s.arg(i));
        m_mock->replyTokens = lines;
        m_mock->tokenDelayMs = 2;
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        for (int i = 0; i < 3; ++i) {
            focusInput();
            type(u"Tell me more %1"_s.arg(i));
            QTest::keyClick(window(), Qt::Key_Return);
            QTRY_COMPARE_WITH_TIMEOUT(finished.count(), i + 1, 10000);
        }
        QQuickItem *list = item("messageList");
        QVERIFY(list);
        QTRY_VERIFY(list->property("nearBottom").toBool());
        // At once after the reply ended (its stored copy still loading), the wheel goes up...
        const qreal bottom = list->property("contentY").toReal();
        for (int notch = 0; notch < 4; ++notch) {
            wheel(window(), list, QPoint(0, 120));
            QTest::qWait(30);
        }
        QTRY_VERIFY(list->property("contentY").toReal() < bottom - 100);
        // ... and stays there while the stored copy comes in and the rows settle.
        QTest::qWait(800);
        QVERIFY2(list->property("contentY").toReal() < bottom - 100,
                 qPrintable(u"%1 vs bottom %2"_s.arg(list->property("contentY").toReal()).arg(bottom)));
        QVERIFY(!list->property("nearBottom").toBool());
    }

    void markdownRepliesHaveCodeBlocksTablesAndMath()
    {
        const QString code =
            u"def load(path):\n    # a comment long enough to need scrolling sideways in a bubble of any "
            "width that a window on a laptop can have, and then some more\n    return open(path).read()"_s;
        QString md = u"Here is **the** code:\n\n```python\n"_s + code +
                     u"\n```\n\n| Name | Size |\n|------|-----:|\n| a.txt | 12 |\n\nThe cost is $5 and $10; "
                     u"$E=mc^2$.\n\n"
                     "1. Install it:\n\n   ```bash\n   sudo apt-get install --yes a-package-with-a-long-name "
                     "another-package-with-an-even-longer-name and-a-third-one-to-make-it-wide\n   ```\n"
                     "2. Run it.\n\n"_s;
        for (int i = 0; i < 25; ++i)
            md += u"Paragraph %1 after the code, so that the chat is taller than the window.\n\n"_s.arg(i);
        QStringList tokens;
        for (qsizetype i = 0; i < md.size(); i += 7)
            tokens.append(md.mid(i, 7)); // streamed in small pieces, through the code block too
        m_mock->replyTokens = tokens;
        m_mock->tokenDelayMs = 1;
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        focusInput();
        type(u"Show me code"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QTRY_VERIFY(!chat()->messages()->at(rowOfLast(u"assistant"_s)).isLocal()); // the stored copy is in
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));

        // One code block: its language above it, its lines unwrapped in a sideways scroller that
        // stays inside the bubble.
        QList<QQuickItem *> labels;
        QTRY_VERIFY((labels = visibleItems(u"codeLanguage"_s)).size() == 2);
        QCOMPARE(labels.at(0)->property("text").toString(), u"python"_s);
        QCOMPARE(labels.at(1)->property("text").toString(), u"bash"_s); // in a list: a block too
        const QList<QQuickItem *> scrollers = visibleItems(u"codeScroller"_s);
        QCOMPARE(scrollers.size(), 2);
        QQuickItem *scroller = scrollers.at(0);
        QQuickItem *list = item("messageList");
        const QRectF listBox = list->mapRectToScene(QRectF(0, 0, list->width(), list->height()));
        for (QQuickItem *s : scrollers) {
            const QRectF box = s->mapRectToScene(QRectF(0, 0, s->width(), s->height()));
            QVERIFY(box.right() <= listBox.right());
            QVERIFY(s->property("contentWidth").toReal() > s->width() + 100);
        }
        // The list's code is indented with the list.
        QVERIFY(scrollers.at(1)->mapToScene(QPointF()).x() > scroller->mapToScene(QPointF()).x() + 10);
        QVERIFY(visibleItems(u"codeText"_s).value(0)->property("text").toString().contains(u"<span"_s));
        QCOMPARE(visibleItems(u"tableScroller"_s).size(), 1);
        QQuickItem *reply = visibleItems(u"replyView"_s).value(1); // after the greeting
        QVERIFY(reply);
        // text, code, table, text; the list's first item, its code, the second item; paragraphs
        QCOMPARE(reply->property("blockCount").toInt(), 4 + 3 + 25);

        // Copy takes the code as written.
        QQuickItem *copy = visibleItems(u"copyCode"_s).value(0);
        QVERIFY(copy);
        QMetaObject::invokeMethod(copy, "clicked");
        QCOMPARE(QGuiApplication::clipboard()->text(), code);

        // A sideways turn of the wheel scrolls the code; an up turn over it scrolls the chat.
        // Up to the code as a user goes there: the wheel over the chat.
        QTRY_VERIFY(list->property("nearBottom").toBool());
        const auto codeInView = [&] {
            const QPointF c = scroller->mapToScene(QPointF(scroller->width() / 2, scroller->height() / 2));
            return listBox.contains(c);
        };
        for (int notch = 0; notch < 80 && !codeInView(); ++notch) {
            wheel(window(), list, QPoint(0, 120));
            QTest::qWait(20);
        }
        QTRY_VERIFY(codeInView());
        QTRY_VERIFY(!list->property("moving").toBool()); // the wheel's flick has ended
        const qreal codeY = list->property("contentY").toReal();
        shot(u"13-markdown"_s);
        wheel(window(), scroller, QPoint(-240, 0));
        QTRY_VERIFY(scroller->property("contentX").toReal() > 0);
        QCOMPARE(list->property("contentY").toReal(), codeY);
        wheel(window(), scroller, QPoint(0, -240));
        QTRY_VERIFY(list->property("contentY").toReal() > codeY + 50);
    }

    void themeSwitchesAtOnceAndIsKept()
    {
        QQuickItem *list = item("messageList");
        QVERIFY(list);
        QCOMPARE(ThemeController::instance()->mode(), u"system"_s);
        const QColor light = window()->color();
        QVERIFY(light.lightness() > 128);
        QObject *settingsPage = window()->findChild<QObject *>(u"settingsPage"_s);
        QVERIFY(settingsPage);
        QMetaObject::invokeMethod(settingsPage, "open");
        QObject *tabs = window()->findChild<QObject *>(u"settingsTabs"_s);
        QVERIFY(tabs);
        tabs->setProperty("currentIndex", 2);
        QQuickItem *dark = nullptr;
        QTRY_VERIFY((dark = visibleItems(u"theme_dark"_s).value(0)));
        QMetaObject::invokeMethod(dark, "clicked");
        QTRY_VERIFY(window()->color().lightness() < 100);
        QVERIFY(dark->property("checked").toBool());
        QCOMPARE(QSettings().value(u"appearance/theme"_s).toString(), u"dark"_s);
        shot(u"14-dark-settings"_s);
        // Controls follow too, not only the colours the QML picks itself.
        QQuickItem *picker = item("agentPicker");
        QVERIFY(picker);
        QVERIFY(qvariant_cast<QPalette>(picker->property("palette")).color(QPalette::ButtonText).lightness() >
                160);
        QQuickItem *system = visibleItems(u"theme_system"_s).value(0);
        QMetaObject::invokeMethod(system, "clicked");
        QTRY_COMPARE(window()->color(), light);
        QCOMPARE(QSettings().value(u"appearance/theme"_s).toString(), u"system"_s);
    }

    void sessionBusyIsExplained()
    {
        m_mock->streamHttpStatus = 409;
        focusInput();
        type(u"hello"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTRY_COMPARE(finished.count(), 1);
        const int row = rowOfLast(u"assistant"_s);
        QVERIFY(!chat()->messages()->at(row).error.isEmpty());
        QCOMPARE(chat()->messages()->at(rowOfLast(u"user"_s)).status, u"failed"_s);
        QCOMPARE(inputText(), QString()); // the unsent message is in the chat, with Retry
    }

    void agentPickerListsTheAgentsByName()
    {
        QQuickItem *picker = item("agentPicker");
        QVERIFY(picker);
        const QPointF center = picker->mapToScene(QPointF(picker->width() / 2, picker->height() / 2));
        QTest::mouseClick(window(), Qt::LeftButton, Qt::NoModifier, center.toPoint());
        // The popup's rows, as shown: each agent's name, the current one highlighted.
        QList<QQuickItem *> rows;
        std::function<void(QQuickItem *)> collect = [&](QQuickItem *at) {
            if (!at->isVisible())
                return;
            if (at->inherits("QQuickItemDelegate"))
                rows.append(at);
            for (QQuickItem *child : at->childItems())
                collect(child);
        };
        QTRY_VERIFY(
            (rows.clear(), collect(window()->contentItem()), rows.size() == chat()->agents()->rowCount()));
        QStringList names;
        for (QQuickItem *row : std::as_const(rows))
            names << row->property("text").toString();
        QStringList expected;
        for (const AgentItem &a : chat()->agents()->agents())
            expected << a.name;
        QCOMPARE(names, expected);
        shot(u"05b-agent-picker"_s);
        // Choosing one by a click switches the agent.
        const QString coder = chat()->agents()->agents().at(1).id;
        QQuickItem *second = rows.at(1);
        QPointF before(-1, -1); // the popup may still be settling: click once it stands still
        QTRY_VERIFY([&] {
            const QPointF now = second->mapToScene({});
            const bool still = now == before;
            before = now;
            return still;
        }());
        const QPointF at = second->mapToScene(QPointF(second->width() / 2, second->height() / 2));
        QTest::mouseClick(window(), Qt::LeftButton, Qt::NoModifier, at.toPoint());
        QTRY_COMPARE(chat()->currentAgentId(), coder);
        chat()->setCurrentAgentId(m_agentId);
    }

    void switchSessionsAndManageThem()
    {
        const QString coder = chat()->agents()->agents().at(1).id;
        const QString s1 = m_mock->addSession(m_agentId, u"Poems"_s, u"2024-05-01T10:00:00Z"_s);
        m_mock->addMessage(s1, u"user"_s, u"A poem about the sea"_s);
        m_mock->addMessage(s1, u"assistant"_s, u"The sea, *the sea*…"_s);
        const QString s2 = m_mock->addSession(coder, u"Rust question"_s, u"2024-05-02T10:00:00Z"_s);
        m_mock->addMessage(s2, u"user"_s, u"What is a borrow?"_s);
        m_mock->addMessage(s2, u"assistant"_s, u"```rust\nlet r = &x;\n```"_s);
        chat()->refresh();
        QTRY_COMPARE(chat()->sessions()->rowCount(), 2);
        // Newest first, grouped by agent.
        QCOMPARE(chat()->sessions()->get(0).value(u"sessionId"_s).toString(), s2);
        QCOMPARE(chat()->sessions()->get(0).value(u"section"_s).toString(), u"Coder"_s);

        chat()->openSession(s1);
        QCOMPARE(chat()->currentAgentId(), m_agentId);
        QTRY_COMPARE(chat()->messages()->rowCount(), 3); // greeting + 2
        QCOMPARE(chat()->messages()->at(2).content, u"The sea, *the sea*…"_s);
        shot(u"06-session-poems"_s);

        // Clicking the other session in the list opens it.
        QQuickItem *list = item("sessionList");
        QVERIFY(list);
        QMetaObject::invokeMethod(list, "forceActiveFocus");
        list->setProperty("currentIndex", 0);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE(chat()->currentSessionId(), s2);
        QCOMPARE(chat()->currentAgentName(), u"Coder"_s);
        QTRY_COMPARE(chat()->messages()->at(chat()->messages()->rowCount() - 1).content,
                     u"```rust\nlet r = &x;\n```"_s);
        shot(u"07-session-code"_s);

        chat()->renameSession(s2, u"Borrowing 借用"_s);
        QTRY_COMPARE(chat()->currentTitle(), u"Borrowing 借用"_s);
        chat()->sessions()->setFilterText(u"借用"_s);
        QCOMPARE(chat()->sessions()->rowCount(), 1);
        chat()->sessions()->setFilterText({});

        chat()->deleteSession(s2);
        QTRY_COMPARE(chat()->sessions()->rowCount(), 1);
        QVERIFY(chat()->currentSessionId().isEmpty()); // back to a new chat

        // Ctrl+N: a new chat with the greeting.
        chat()->openSession(s1);
        QTRY_COMPARE(chat()->currentSessionId(), s1);
        QTest::keyClick(window(), Qt::Key_N, Qt::ControlModifier);
        QTRY_VERIFY(chat()->currentSessionId().isEmpty());
        QCOMPARE(chat()->messages()->rowCount(), 1);
    }

    void historySurvivesARestartWhileOffline()
    {
        focusInput();
        type(u"Remember me 记住我"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE(finished.count(), 1);
        const QString session = chat()->currentSessionId();
        QTRY_COMPARE(chat()->messages()->at(2).id.startsWith(u"local-"_s), false); // server copy in
        const QString reply = chat()->messages()->at(2).content;
        const quint16 port = m_mock->port();

        // Quit; the server goes away; start again.
        m_app.reset();
        m_mock->stop();
        m_app = std::make_unique<DesktopApp>(options());
        QVERIFY(m_app->start(QUrl(u"http://127.0.0.1:%1"_s.arg(port)), u"test-token"_s, true));
        window()->show();
        QVERIFY(QTest::qWaitForWindowExposed(window()));
        // History is there at once, from the cache.
        QCOMPARE(chat()->sessions()->rowCount(), 1);
        chat()->openSession(session);
        QCOMPARE(chat()->messages()->at(chat()->messages()->rowCount() - 1).content, reply);
        QTRY_VERIFY(!chat()->isOnline());
        QVERIFY(!chat()->canSend());
        QVERIFY(!chat()->sendBlockedReason().isEmpty());
        QVERIFY(item("offlineBanner")->isVisible());
        shot(u"08-restart-offline"_s);

        // The server comes back: online again, sending enabled.
        QVERIFY(m_mock->listen(port));
        QTRY_VERIFY_WITH_TIMEOUT(chat()->isOnline(), 5000);
        QTRY_VERIFY(chat()->canSend());
        QVERIFY(!item("offlineBanner")->isVisible());
    }

    void remoteModeGoesOfflineAndBack()
    {
        m_app.reset();
        QVERIFY(startApp(true));
        QTRY_VERIFY(chat()->isLoaded());
        QVERIFY(chat()->isRemote());
        QTRY_VERIFY(chat()->canSend());
        const quint16 port = m_mock->port();
        m_mock->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!chat()->isOnline(), 5000);
        QVERIFY(!chat()->canSend());
        QVERIFY(chat()->offlineText().contains(u"127.0.0.1"_s));
        QQuickItem *label = item("connectionLabel");
        QVERIFY(label);
        QVERIFY(!label->property("text").toString().isEmpty());
        focusInput();
        type(u"nope"_s);
        QTest::keyClick(window(), Qt::Key_Return);
        QCOMPARE(inputText(), u"nope"_s); // not sent, not lost
        QCOMPARE(m_mock->streamCount, 0);
        shot(u"09-remote-offline"_s);
        QVERIFY(m_mock->listen(port));
        QTRY_VERIFY_WITH_TIMEOUT(chat()->canSend(), 5000);
        // The token given on the command line is kept for the next start.
        QString saved;
        bool done = false;
        m_app->secrets()->read(SettingsController::tokenKey(QUrl(m_mock->baseUrl())), this,
                               [&](bool, const QString &v, const QString &) {
                                   saved = v;
                                   done = true;
                               });
        QTRY_VERIFY(done);
        QCOMPARE(saved, u"test-token"_s);
    }

    void settingsProvidersAndAgents()
    {
        SettingsController *settings = m_app->settings();
        QSignalSpy saved(settings, &SettingsController::providerSaved);
        settings->saveProvider(u"DeepSeek"_s, u"https://api.deepseek.com/v1"_s, u"deepseek-chat"_s,
                               u"sk-test"_s, true);
        QTRY_COMPARE(saved.count(), 1);
        QTRY_COMPARE(settings->providers()->rowCount(), 1);
        QCOMPARE(settings->providers()->defaultProvider(), u"DeepSeek"_s);
        QVERIFY(settings->providers()->get(0).value(u"hasApiKey"_s).toBool());
        QSignalSpy tested(settings, &SettingsController::providerTested);
        settings->testProvider(u"DeepSeek"_s);
        QTRY_COMPARE(tested.count(), 1);
        QVERIFY(tested.at(0).at(1).toBool());
        // Native presets speak their provider's own protocol.
        QHash<QString, QString> kinds;
        for (const QVariant &preset : settings->presets())
            kinds.insert(preset.toMap().value(u"name"_s).toString(),
                         preset.toMap().value(u"kind"_s).toString());
        QCOMPARE(kinds.size(), 7);
        QCOMPARE(kinds.value(u"Anthropic"_s), u"anthropic"_s);
        QCOMPARE(kinds.value(u"Ollama"_s), u"ollama"_s);
        QCOMPARE(kinds.value(u"DeepSeek"_s), u"openai"_s);
        QVERIFY(!settings->keychainAvailable()); // forced to the file in tests
        QVERIFY(settings->secretsStatus().contains(u"secrets.json"_s));

        QSignalSpy agentSaved(settings, &SettingsController::agentSaved);
        settings->saveAgent({{u"name"_s, u"翻译"_s},
                             {u"systemPrompt"_s, u"Translate."_s},
                             {u"greeting"_s, u"我来翻译。"_s},
                             {u"provider"_s, u"DeepSeek"_s},
                             {u"model"_s, u"deepseek-chat"_s},
                             {u"temperature"_s, 0.3}});
        QTRY_COMPARE(agentSaved.count(), 1);
        const QString id = agentSaved.at(0).at(0).toString();
        QCOMPARE(chat()->agents()->rowCount(), 3);
        chat()->setCurrentAgentId(id);
        QCOMPARE(chat()->messages()->at(0).content, u"我来翻译。"_s);
        QCOMPARE(chat()->agents()->get(chat()->agents()->indexOf(id)).value(u"temperature"_s).toDouble(),
                 0.3);
        settings->deleteAgent(id);
        QTRY_COMPARE(chat()->agents()->rowCount(), 2);
        QVERIFY(chat()->currentAgentId() != id);
    }

    void providerFormSaysWhatIsWrongAndStartsOver()
    {
        QTest::keyClick(window(), Qt::Key_Comma, Qt::ControlModifier);
        QQuickItem *name = item("providerName");
        QVERIFY(name);
        QTRY_VERIFY(name->isVisible());
        QQuickItem *problem = item("providerNameProblem");
        QQuickItem *save = item("saveProvider");
        // A space is wrong at once, not after Save.
        name->forceActiveFocus();
        type(u"my provider"_s);
        QTRY_VERIFY(problem->isVisible());
        QVERIFY(problem->property("text").toString().contains(u"without spaces"_s));
        QVERIFY(!save->isEnabled());
        name->setProperty("text", u"env"_s);
        QTRY_VERIFY(problem->property("text").toString().contains(u"reserved"_s));
        name->setProperty("text", u"local"_s);
        QTRY_VERIFY(!problem->isVisible());
        item("providerUrl")->setProperty("text", u"http://127.0.0.1:11434/v1"_s);
        QTRY_VERIFY(save->isEnabled());
        QMetaObject::invokeMethod(save, "clicked");
        // Saved: the form is empty again (no second provider by editing the name afterwards).
        QTRY_VERIFY(item("providerSaved")->isVisible());
        QCOMPARE(name->property("text").toString(), QString());
        QTRY_COMPARE(m_app->settings()->providers()->rowCount(), 1);
        QTRY_VERIFY(m_app->settings()->providers()->get(0).value(u"isDefault"_s).toBool()); // the first is
                                                                                            // the default
        // A delegate of a Repeater: found through the visual tree, not QObject children.
        std::function<QQuickItem *(QQuickItem *)> find = [&](QQuickItem *at) -> QQuickItem * {
            if (at->objectName() == "editProvider_local"_L1)
                return at;
            for (QQuickItem *child : at->childItems())
                if (QQuickItem *found = find(child))
                    return found;
            return nullptr;
        };
        QQuickItem *editButton = find(window()->contentItem());
        QVERIFY(editButton);
        QMetaObject::invokeMethod(editButton, "clicked");
        QTRY_COMPARE(name->property("text").toString(), u"local"_s);
        QVERIFY(name->property("readOnly").toBool());
        QTest::keyClick(window(), Qt::Key_Escape);
    }

    void chatListFoldsAway()
    {
        QQuickItem *sidebar = item("sidebar");
        QVERIFY(sidebar && sidebar->isVisible());
        QQuickItem *list = item("messageList");
        const qreal before = list->width();
        QTest::keyClick(window(), Qt::Key_B, Qt::ControlModifier);
        QTRY_VERIFY(!sidebar->isVisible());
        QTRY_VERIFY(list->width() > before + 200); // the conversation takes the room
        QQuickItem *toggle = item("sidebarToggle");
        QVERIFY(toggle);
        QMetaObject::invokeMethod(toggle, "clicked");
        QTRY_VERIFY(sidebar->isVisible());
    }

    void screenshotsOfDialogsAndThemes()
    {
        // Keyboard: Tab from the message input reaches the send button.
        focusInput();
        type(u"x"_s);
        QTest::keyClick(window(), Qt::Key_Tab);
        QTRY_COMPARE(window()->activeFocusItem()->objectName(), u"sendButton"_s);
        item("messageInput")->setProperty("text", QString());

        // The agent dialog, filled in for the current agent.
        QObject *dialog = window()->findChild<QObject *>(u"agentDialog"_s);
        QVERIFY(dialog);
        QVERIFY(QMetaObject::invokeMethod(dialog, "openFor", Q_ARG(QVariant, QVariant(m_agentId))));
        QTRY_VERIFY(dialog->property("opened").toBool());
        QCOMPARE(window()->findChild<QQuickItem *>(u"agentName"_s)->property("text").toString(), u"Aria"_s);
        shot(u"10-agent-dialog"_s);
        QMetaObject::invokeMethod(dialog, "close");
        QTRY_VERIFY(!dialog->property("visible").toBool());

        // Settings page
        QTest::keyClick(window(), Qt::Key_Comma, Qt::ControlModifier);
        shot(u"11-settings"_s);
        QTest::keyClick(window(), Qt::Key_Escape);
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));

        // The dark theme, chosen as in Settings.
        ThemeController::instance()->setMode(u"dark"_s);
        m_mock->tokenDelayMs = 30;
        focusInput();
        type(u"Dark mode 深色模式?"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE(finished.count(), 1);
        QTRY_VERIFY(!chat()->messages()->at(2).id.startsWith(u"local-"_s));
        shot(u"12-dark"_s);
        ThemeController::instance()->setMode(u"system"_s);
        QVERIFY2(m_app->qmlWarnings().isEmpty(), qPrintable(m_app->qmlWarnings().join(u'\n')));
    }

    void chineseTranslationIsBuiltIn()
    {
        QTranslator tr;
        QVERIFY(tr.load(QLocale(QLocale::Chinese, QLocale::China), u"agentdesk"_s, u"_"_s, u":/i18n"_s));
        QVERIFY(!tr.isEmpty());
        QCOMPARE(tr.translate("ChatController", "New chat"), u"新对话"_s);
        // The window in Chinese.
        QCoreApplication::installTranslator(&tr);
        m_app->engine()->retranslate();
        QTRY_COMPARE(item("connectionLabel")->property("text").toString(), u"在本机运行"_s);
        focusInput();
        type(u"你好，介绍一下你自己"_s);
        QSignalSpy finished(chat(), &ChatController::replyFinished);
        QTest::keyClick(window(), Qt::Key_Return);
        QTRY_COMPARE(finished.count(), 1);
        QTRY_VERIFY(!chat()->messages()->at(2).id.startsWith(u"local-"_s));
        // Chinese glyphs are taller: the header's texts are not cut at the bottom.
        for (QQuickItem *text :
             {item("chatTitle"), item("agentPicker")->property("contentItem").value<QQuickItem *>()}) {
            QVERIFY(text);
            QVERIFY2(
                text->property("contentHeight").toReal() <= text->height() + 0.5,
                qPrintable(u"%1 of %2"_s.arg(text->property("contentHeight").toReal()).arg(text->height())));
        }
        shot(u"13-zh_CN"_s);
        QCoreApplication::removeTranslator(&tr);
        m_app->engine()->retranslate();
    }
};

QTEST_MAIN(ChatWindowTest)
#include "tst_chatwindow.moc"
