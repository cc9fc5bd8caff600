#include "agentlistmodel.h"
#include "messagelistmodel.h"
#include "sessionlistmodel.h"

#include <QAbstractItemModelTester>
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
        QCOMPARE(changed.at(1).at(2).value<QList<int>>(), QList<int>{MessageListModel::ContentRole});
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
};

QTEST_GUILESS_MAIN(ModelsTest)
#include "tst_models.moc"
