#include "agentlistmodel.h"
#include "mcpserverlistmodel.h"
#include "messagelistmodel.h"
#include "sessionlistmodel.h"

#include <QAbstractItemModelTester>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::StringLiterals;

class ModelsTest : public QObject
{
    Q_OBJECT

private:
    static SessionItem session(const QString &id, const QString &agent, const QString &title, int minutesAgo)
    {
        SessionItem s;
        s.id = id;
        s.agentId = agent;
        s.title = title;
        s.updatedAt = QDateTime::currentDateTimeUtc().addSecs(-60 * minutesAgo);
        s.createdAt = s.updatedAt;
        return s;
    }

private Q_SLOTS:
    void rolesStartAtUserRolePlusOne()
    {
        MessageListModel m;
        SessionListModel s;
        AgentListModel a;
        QVERIFY(m.roleNames().contains(Qt::UserRole + 1));
        QVERIFY(s.roleNames().contains(Qt::UserRole + 1));
        QVERIFY(a.roleNames().contains(Qt::UserRole + 1));
        for (int r : m.roleNames().keys())
            QVERIFY(r > Qt::UserRole);
    }

    void streamedTokenChangesOneRowWithoutReset()
    {
        MessageListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        MessageItem user;
        user.role = u"user"_s;
        user.content = u"hi"_s;
        model.append(user);
        MessageItem reply;
        reply.role = u"assistant"_s;
        reply.status = u"typing"_s;
        const int row = model.append(reply);

        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy aboutToReset(&model, &QAbstractItemModel::modelAboutToBeReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        model.appendContent(row, u"你"_s);
        model.appendContent(row, u"好"_s);
        model.appendContent(row, u" world"_s);

        QCOMPARE(reset.count(), 0);
        QCOMPARE(aboutToReset.count(), 0);
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(changed.count(), 3);
        for (const QList<QVariant> &args : std::as_const(changed)) {
            QCOMPARE(args.at(0).toModelIndex(), model.index(row));
            QCOMPARE(args.at(1).toModelIndex(), model.index(row));
            QVERIFY(args.at(2).value<QList<int>>().contains(MessageListModel::ContentRole));
        }
        // Only the first token also changes the state (typing -> streaming).
        QCOMPARE(changed.at(1).at(2).value<QList<int>>(),
                 QList<int>({MessageListModel::ContentRole, MessageListModel::TailRole}));
        QCOMPARE(model.data(model.index(row), MessageListModel::ContentRole).toString(), u"你好 world"_s);
        QCOMPARE(model.data(model.index(row), MessageListModel::StatusRole).toString(), u"streaming"_s);
    }

    void statsText()
    {
        MessageItem m;
        m.role = u"assistant"_s;
        m.status = u"complete"_s;
        m.tokensPerSecond = 42.0;
        m.promptTokens = 12;
        m.completionTokens = 30;
        m.tokensUsed = 42;
        m.model = u"gpt"_s;
        const QString s = MessageListModel::statsText(m);
        QVERIFY2(s.contains(u"tok/s"_s), qPrintable(s));
        QVERIFY2(s.contains(u"42"_s), qPrintable(s));
        m.status = u"streaming"_s;
        QVERIFY(MessageListModel::statsText(m).isEmpty());
    }

    void sessionsGroupedByAgentNewestFirst()
    {
        AgentListModel agents;
        AgentItem a1, a2;
        a1.id = u"a1"_s;
        a1.name = u"Writer"_s;
        a2.id = u"a2"_s;
        a2.name = u"Coder"_s;
        agents.setAgents({a1, a2});
        SessionListModel model;
        model.setAgentModel(&agents);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSessions(
            {session(u"s1"_s, u"a1"_s, u"old writer"_s, 50), session(u"s2"_s, u"a2"_s, u"code"_s, 5),
             session(u"s3"_s, u"a1"_s, u"new writer"_s, 1), session(u"s4"_s, u"a2"_s, u"older code"_s, 100)});
        auto ids = [&] {
            QStringList out;
            for (int i = 0; i < model.rowCount(); ++i)
                out << model.data(model.index(i), SessionListModel::IdRole).toString();
            return out;
        };
        // Writer has the newest session, so its group comes first; each group newest first.
        QCOMPARE(ids(), (QStringList{u"s3"_s, u"s1"_s, u"s2"_s, u"s4"_s}));
        QCOMPARE(model.data(model.index(0), SessionListModel::SectionRole).toString(), u"Writer"_s);
        QCOMPARE(model.data(model.index(2), SessionListModel::SectionRole).toString(), u"Coder"_s);

        model.touch(u"s4"_s, QDateTime::currentDateTimeUtc());
        QCOMPARE(ids(), (QStringList{u"s4"_s, u"s2"_s, u"s3"_s, u"s1"_s}));

        model.setFilterText(u"WRITER"_s);
        QCOMPARE(ids(), (QStringList{u"s3"_s, u"s1"_s}));
        QCOMPARE(model.totalCount(), 4);
        model.setFilterText({});
        QCOMPARE(model.rowCount(), 4);

        model.setTitle(u"s1"_s, u"renamed"_s);
        QCOMPARE(model.find(u"s1"_s)->title, u"renamed"_s);
        model.remove(u"s2"_s);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.indexOf(u"s2"_s), -1);

        agents.setAgents({});
        QCOMPARE(model.data(model.index(0), SessionListModel::SectionRole).toString(), u"Other agent"_s);
    }

    void apiCallsListedOnlyWhenAsked()
    {
        SessionListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        SessionItem call = session(u"api1"_s, u"a1"_s, u"from a script"_s, 1);
        call.origin = u"api"_s;
        model.setSessions({session(u"s1"_s, u"a1"_s, u"mine"_s, 5), call});
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.totalCount(), 2);
        QSignalSpy changed(&model, &SessionListModel::showApiCallsChanged);
        model.setShowApiCalls(true);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.data(model.index(0), SessionListModel::OriginRole).toString(), u"api"_s);
        QCOMPARE(model.data(model.index(1), SessionListModel::OriginRole).toString(), u"chat"_s);
        // What the cache keeps says where it came from.
        QCOMPARE(SessionItem::fromJson(call.toJson()).origin, u"api"_s);
        QCOMPARE(SessionItem::fromJson(QJsonObject{{u"id"_s, u"x"_s}}).origin, u"chat"_s);
        model.setShowApiCalls(false);
        QCOMPARE(model.rowCount(), 1);
    }

    void agentsModel()
    {
        AgentListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        AgentItem a;
        a.id = u"x"_s;
        a.name = u"助手"_s;
        a.temperature = 0.5;
        model.upsert(a);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.nameOf(u"x"_s), u"助手"_s);
        QCOMPARE(model.get(0).value(u"temperature"_s).toDouble(), 0.5);
        a.name = u"Helper"_s;
        model.upsert(a);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.nameOf(u"x"_s), u"Helper"_s);
        model.remove(u"x"_s);
        QCOMPARE(model.rowCount(), 0);
    }

    void jsonRoundTrip()
    {
        const QJsonObject o{{u"id"_s, u"m"_s},
                            {u"session_id"_s, u"s"_s},
                            {u"role"_s, u"assistant"_s},
                            {u"content"_s, u"答"_s},
                            {u"status"_s, u"cancelled"_s},
                            {u"finish_reason"_s, u"Cancelled"_s},
                            {u"model"_s, u"x"_s},
                            {u"error"_s, QJsonValue::Null},
                            {u"prompt_tokens"_s, 3},
                            {u"completion_tokens"_s, 4},
                            {u"tokens_estimated"_s, true},
                            {u"created_at"_s, u"2024-05-01T10:00:00Z"_s}};
        const MessageItem m = MessageItem::fromJson(o);
        QCOMPARE(m.status, u"cancelled"_s);
        QCOMPARE(m.tokensUsed, 7);
        QVERIFY(m.tokensEstimated);
        QVERIFY(m.createdAt.isValid());
        const MessageItem back = MessageItem::fromJson(m.toJson());
        QCOMPARE(back.content, m.content);
        QCOMPARE(back.createdAt, m.createdAt);
        QCOMPARE(back.completionTokens, 4);
    }

    void agentToolFieldsRoundTrip()
    {
        AgentItem a = AgentItem::fromJson(QJsonObject{{u"id"_s, u"a"_s}, {u"name"_s, u"N"_s}});
        QVERIFY(a.tools.isEmpty()); // an older server: no tools, ask, 8 steps
        QCOMPARE(a.toolApproval, u"ask"_s);
        QCOMPARE(a.maxSteps, 8);
        a.tools = QStringList{u"files/*"_s, u"everything/echo"_s};
        a.toolApproval = u"auto"_s;
        a.maxSteps = 3;
        a.allowedTools = QStringList{u"everything/echo"_s};
        const AgentItem back = AgentItem::fromJson(a.toJson());
        QCOMPARE(back.tools, a.tools);
        QCOMPARE(back.toolApproval, u"auto"_s);
        QCOMPARE(back.maxSteps, 3);
        QCOMPARE(back.allowedTools, a.allowedTools);
    }

    void mcpServerCommandLineRoundTrip()
    {
        // What the Tools page shows for editing is read back by QProcess::splitCommand on save.
        McpServerItem s;
        s.transport = u"stdio"_s;
        s.command = u"/opt/my tools/node"_s;
        s.args = QStringList{u"server.js"_s, u"--config"_s, u"{\"a\": 1}"_s, u"路径 with\ttab"_s};
        QStringList back = QProcess::splitCommand(s.target());
        QCOMPARE(back.takeFirst(), s.command);
        QCOMPARE(back, s.args);

        McpServerListModel model;
        McpServerItem h;
        h.name = u"remote"_s;
        h.transport = u"http"_s;
        h.url = u"https://user:pw@mcp.example.com/mcp?api_key=sk-123#x"_s;
        model.setServers({h});
        const QString shown = model.data(model.index(0), McpServerListModel::ShownTargetRole).toString();
        QCOMPARE(shown, u"https://mcp.example.com/mcp?…"_s);
        QCOMPARE(model.data(model.index(0), McpServerListModel::TargetRole).toString(), h.url);
        // A poll with the same servers updates in place.
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        h.status = u"connected"_s;
        model.setServers({h});
        QCOMPARE(reset.count(), 0);
        QCOMPARE(model.servers().at(0).status, u"connected"_s);
    }

    void replyPartsFromTheServer()
    {
        // docs/api.md, message `parts`: a result joins its call; arguments stay the model's text.
        const QJsonArray parts{
            QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"Let me check."_s}},
            QJsonObject{{u"type"_s, u"tool_call"_s},
                        {u"id"_s, u"c1"_s},
                        {u"function"_s, u"everything__get-sum"_s},
                        {u"server"_s, u"everything"_s},
                        {u"name"_s, u"get-sum"_s},
                        {u"arguments"_s, u"{\"a\":2,\"b\":3}"_s},
                        {u"status"_s, u"done"_s},
                        {u"decision"_s, u"always"_s},
                        {u"step"_s, 1}},
            QJsonObject{{u"type"_s, u"tool_result"_s},
                        {u"tool_call_id"_s, u"c1"_s},
                        {u"is_error"_s, false},
                        {u"duration_ms"_s, 1234},
                        {u"text"_s, u"5"_s},
                        {u"parts"_s, QJsonArray{QJsonObject{{u"type"_s, u"image"_s},
                                                            {u"mimeType"_s, u"image/png"_s},
                                                            {u"attachment_id"_s, u"f1"_s},
                                                            {u"url"_s, u"/api/files/f1"_s}}}}},
            QJsonObject{{u"type"_s, u"tool_result"_s}, {u"tool_call_id"_s, u"nobody"_s}, {u"text"_s, u"x"_s}},
            QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"The sum is 5."_s}},
        };
        const MessageItem m =
            MessageItem::fromJson(QJsonObject{{u"id"_s, u"r"_s},
                                              {u"role"_s, u"assistant"_s},
                                              {u"content"_s, u"Let me check.\n\nThe sum is 5."_s},
                                              {u"steps"_s, 2},
                                              {u"parts"_s, parts}});
        QCOMPARE(m.steps, 2);
        QCOMPARE(m.parts.size(), 3);
        QVERIFY(!m.parts.at(0).isTool);
        const ToolCallItem &c = m.parts.at(1).call;
        QVERIFY(m.parts.at(1).isTool);
        QCOMPARE(c.name, u"get-sum"_s);
        QCOMPARE(c.decision, u"always"_s);
        QVERIFY(c.hasResult);
        QCOMPARE(c.durationMs, 1234);
        QCOMPARE(c.resultText, u"5"_s);
        QCOMPARE(m.parts.at(2).text, u"The sum is 5."_s);
        // The local cache keeps the same JSON: what comes back is equal.
        QCOMPARE(MessageItem::fromJson(m.toJson()).parts, m.parts);

        MessageListModel model;
        model.setFileUrlResolver(
            [](const QString &path) { return QUrl(u"http://h:1"_s + path + u"?t=x"_s); });
        model.setMessages({m});
        const QModelIndex i = model.index(0);
        const QVariantList segments = model.data(i, MessageListModel::SegmentsRole).toList();
        QCOMPARE(segments.size(), 2);
        QCOMPARE(segments.at(0).toMap().value(u"kind"_s), u"text"_s);
        const QVariantMap card = segments.at(1).toMap();
        QCOMPARE(card.value(u"kind"_s), u"tool"_s);
        QCOMPARE(card.value(u"state"_s), u"done"_s);
        QCOMPARE(card.value(u"statusText"_s).toString(), u"Done in 1.2 s"_s);
        QVERIFY(!card.value(u"expanded"_s).toBool()); // history: closed
        QVERIFY(!card.value(u"running"_s).toBool());
        QCOMPARE(card.value(u"arguments"_s).toString(), u"{\n    \"a\": 2,\n    \"b\": 3\n}"_s);
        QCOMPARE(card.value(u"images"_s).toList(), QVariantList{QUrl(u"http://h:1/api/files/f1?t=x"_s)});
        QCOMPARE(model.data(i, MessageListModel::TailRole).toString(), u"The sum is 5."_s);
        QCOMPARE(model.data(i, MessageListModel::ContentRole).toString(), m.content);

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setToolExpanded(0, u"c1"_s, 1, true);
        QCOMPARE(changed.count(), 1);
        QVERIFY(model.data(i, MessageListModel::SegmentsRole)
                    .toList()
                    .at(1)
                    .toMap()
                    .value(u"expanded"_s)
                    .toBool());
    }

    void liveToolCardsAndTheTextAfterThem()
    {
        MessageListModel model;
        QAbstractItemModelTester tester(&model);
        MessageItem reply;
        reply.id = u"local-2"_s;
        reply.role = u"assistant"_s;
        reply.status = u"typing"_s;
        model.setMessages({reply});
        const QModelIndex i = model.index(0);
        auto cards = [&] {
            QList<QVariantMap> list;
            for (const QVariant &s : model.data(i, MessageListModel::SegmentsRole).toList())
                list.append(s.toMap());
            return list;
        };

        // A call whose arguments still stream, then one that waits, then one that runs.
        QList<ReplyPart> parts(3);
        for (ReplyPart &p : parts)
            p.isTool = true;
        parts[0].call = {u"a"_s, u"s__read"_s, u"s"_s, u"read"_s, u"{\"path\": \"/tm"_s, u"streaming"_s};
        parts[1].call = {u"b"_s, u"s__write"_s, u"s"_s, u"write"_s, u"{}"_s, u"awaiting_approval"_s};
        parts[2].call = {u"c"_s, u"s__long"_s, u"s"_s, u"long"_s, u"{}"_s, u"running"_s};
        parts[2].call.progress = 3;
        parts[2].call.total = 10;
        parts[2].call.progressMessage = u"Step 3"_s;
        model.setParts(0, parts, false);
        QCOMPARE(model.at(0).status, u"streaming"_s); // a card is something to show: no more dots
        QList<QVariantMap> c = cards();
        QCOMPARE(c.size(), 3);
        QCOMPARE(c.at(0).value(u"arguments"_s).toString(), u"{\"path\": \"/tm"_s); // as it came
        QCOMPARE(c.at(0).value(u"statusText"_s).toString(), u"Writing the call…"_s);
        QVERIFY(c.at(1).value(u"awaitingApproval"_s).toBool());
        QVERIFY(!c.at(1).value(u"running"_s).toBool());
        QVERIFY(c.at(2).value(u"running"_s).toBool());
        QCOMPARE(c.at(2).value(u"progress"_s).toDouble(), 0.3);
        QCOMPARE(c.at(2).value(u"progressText"_s).toString(), u"Step 3  ·  3 of 10"_s);
        for (const QVariantMap &card : c)
            QVERIFY(card.value(u"expanded"_s).toBool()); // live: open

        // Text after the calls goes to the tail: the cards are not touched.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.appendContent(0, u"\n\nDone"_s);
        model.appendContent(0, u" now."_s);
        QCOMPARE(changed.count(), 2);
        const auto roles = [&](int n) {
            return changed.at(n).at(2).value<QList<int>>();
        };
        QVERIFY(!roles(0).contains(MessageListModel::SegmentsRole));
        QVERIFY(!roles(1).contains(MessageListModel::SegmentsRole));
        QVERIFY(roles(1).contains(MessageListModel::TailRole));
        QCOMPARE(model.data(i, MessageListModel::TailRole).toString(), u"\n\nDone now."_s);
        QCOMPARE(cards().size(), 3);

        // The reply ends without results for them (stopped, or cut by a crash): the cards hear of it.
        changed.clear();
        model.setStatus(0, u"cancelled"_s);
        QVERIFY(roles(0).contains(MessageListModel::SegmentsRole));
        c = cards();
        QCOMPARE(c.at(1).value(u"statusText"_s).toString(), u"Stopped"_s);
        QVERIFY(!c.at(1).value(u"awaitingApproval"_s).toBool());
        QVERIFY(!c.at(2).value(u"running"_s).toBool());
        QVERIFY(!c.at(2).value(u"expanded"_s).toBool());
        model.setStatus(0, u"interrupted"_s);
        QCOMPARE(cards().at(2).value(u"statusText"_s).toString(), u"Did not finish"_s);

        // A failed call and one declined; a very long result is cut for the screen.
        parts[0].call.status = u"done"_s;
        parts[0].call.hasResult = true;
        parts[0].call.isError = true;
        parts[0].call.durationMs = 40;
        parts[0].call.resultText = QString(30000, u'x');
        parts[1].call.status = u"denied"_s;
        parts[1].call.hasResult = true;
        model.setParts(0, parts, false);
        c = cards();
        QCOMPARE(c.at(0).value(u"state"_s), u"error"_s);
        QCOMPARE(c.at(0).value(u"statusText"_s).toString(), u"Failed after 40 ms"_s);
        QVERIFY(c.at(0).value(u"result"_s).toString().size() < 20100);
        QVERIFY(c.at(0).value(u"result"_s).toString().endsWith(u"(10000 more characters)"_s));
        QCOMPARE(c.at(1).value(u"state"_s), u"denied"_s);
        QCOMPARE(c.at(1).value(u"statusText"_s).toString(), u"Declined"_s);

        // A reply without tools has no segments: its content is its tail.
        MessageItem plain;
        plain.role = u"assistant"_s;
        plain.content = u"你好"_s;
        model.append(plain);
        QVERIFY(model.data(model.index(1), MessageListModel::SegmentsRole).toList().isEmpty());
        QCOMPARE(model.data(model.index(1), MessageListModel::TailRole).toString(), u"你好"_s);
        model.appendContent(1, u"！"_s);
        QVERIFY(model.at(1).parts.isEmpty());
    }
};

QTEST_GUILESS_MAIN(ModelsTest)
#include "tst_models.moc"
