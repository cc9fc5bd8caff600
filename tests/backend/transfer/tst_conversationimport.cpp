// Reading import files: a ChatGPT export written for this test (its tree, hidden system
// message, a regenerated answer, a tool round, an image part) and AgentDesk's own format, and
// every malformed file refused whole with where it went wrong.
#include "transfer/conversationimport.h"
#include "transfer/markdownexport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;

class ConversationImportTest : public QObject
{
    Q_OBJECT

private:
    static QByteArray fixture()
    {
        QFile file(QStringLiteral(AGENTDESK_FIXTURES "/chatgpt-conversations.json"));
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }
    static QStringList texts(const ConversationImport::Conversation &c)
    {
        QStringList result;
        for (const Message &m : c.messages)
            result.append(m.role + u": "_s + m.content);
        return result;
    }
    static QByteArray json(const QJsonValue &value)
    {
        return value.isArray() ? QJsonDocument(value.toArray()).toJson()
                               : QJsonDocument(value.toObject()).toJson();
    }

private Q_SLOTS:
    void chatGptExport()
    {
        const auto result = ConversationImport::parse(fixture());
        QVERIFY2(result.ok(), qPrintable(result.error.message));
        QCOMPARE(result.format, u"chatgpt"_s);
        QCOMPARE(result.conversations.size(), 2);
        const auto &rust = result.conversations.at(0);
        QCOMPARE(rust.importKey, u"chatgpt:6733a1b2-0000-8000-9c1d-000000000001"_s);
        QCOMPARE(rust.session.title, u"Rust 所有权"_s);
        QCOMPARE(rust.session.createdAt.toMSecsSinceEpoch(), 1731400000123);
        // The hidden system message and the tool round are gone; both answers to the first
        // question stay, in time order; the image is a placeholder.
        QCOMPARE(
            texts(rust),
            (QStringList{u"user: 什么是 Rust 的所有权？"_s, u"assistant: 所有权是 Rust 管理内存的方式。"_s,
                         u"assistant: Ownership: each value has one owner; when the owner goes out of "
                         u"scope, the value is dropped."_s,
                         u"user: [image]\n\nCompute 2^10 for me"_s, u"assistant: 2^10 = **1024** 🎉"_s}));
        QCOMPARE(rust.messages.at(0).parentId, QString());
        QCOMPARE(rust.messages.at(1).parentId, u"u-1"_s);
        QCOMPARE(rust.messages.at(2).parentId, u"u-1"_s);
        QCOMPARE(rust.messages.at(3).parentId, u"a-2"_s);
        QCOMPARE(rust.messages.at(4).parentId, u"u-2"_s); // past the tool round
        QCOMPARE(rust.messages.at(4).model, u"gpt-4o"_s);
        QCOMPARE(rust.activeLeafId, u"a-3"_s);
        // No title: the first words.
        QCOMPARE(result.conversations.at(1).session.title, u"Short question without a title"_s);
    }

    void agentDeskExport()
    {
        const QJsonObject file{
            {u"format"_s, u"agentdesk.sessions"_s},
            {u"version"_s, 1},
            {u"sessions"_s,
             QJsonArray{QJsonObject{
                 {u"id"_s, u"s1"_s},
                 {u"title"_s, u"Pinned one"_s},
                 {u"pinned"_s, true},
                 {u"created_at"_s, u"2026-11-30T10:00:00.000Z"_s},
                 {u"agent"_s, QJsonObject{{u"id"_s, u"a1"_s}, {u"name"_s, u"Helper"_s}}},
                 {u"active_leaf_id"_s, u"m3"_s},
                 {u"messages"_s,
                  QJsonArray{
                      QJsonObject{{u"id"_s, u"m1"_s}, {u"role"_s, u"user"_s}, {u"content"_s, u"hi"_s}},
                      QJsonObject{{u"id"_s, u"m2"_s},
                                  {u"parent_id"_s, u"m1"_s},
                                  {u"role"_s, u"assistant"_s},
                                  {u"content"_s, u"hello"_s},
                                  {u"status"_s, u"error"_s},
                                  {u"error"_s, u"upstream 500"_s}},
                      QJsonObject{{u"id"_s, u"m3"_s},
                                  {u"parent_id"_s, u"m1"_s},
                                  {u"role"_s, u"assistant"_s},
                                  {u"content"_s, u"hello again"_s},
                                  {u"parts"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s},
                                                                      {u"text"_s, u"hello again"_s}}}}}}}}}}};
        const auto result = ConversationImport::parse(json(file));
        QVERIFY2(result.ok(), qPrintable(result.error.message));
        QCOMPARE(result.format, u"agentdesk"_s);
        const auto &c = result.conversations.at(0);
        QCOMPARE(c.importKey, u"agentdesk:s1"_s);
        QCOMPARE(c.agentName, u"Helper"_s);
        QVERIFY(c.session.pinned);
        QCOMPARE(c.session.createdAt, QDateTime(QDate(2026, 11, 30), QTime(10, 0), Qt::UTC));
        QCOMPARE(c.messages.size(), 3);
        QCOMPARE(c.messages.at(1).status, u"error"_s);
        QCOMPARE(c.messages.at(2).parts, u"[{\"text\":\"hello again\",\"type\":\"text\"}]"_s);
        QCOMPARE(c.activeLeafId, u"m3"_s);
    }

    void malformedFiles_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("code");
        QTest::addColumn<QString>("where");
        QTest::newRow("not json") << QByteArray("{\"a\":") << QByteArray("invalid_json") << u"JSON"_s;
        QTest::newRow("empty") << QByteArray() << QByteArray("invalid_json") << QString();
        QTest::newRow("other object")
            << QByteArray("{\"x\":1}") << QByteArray("unknown_import_format") << QString();
        QTest::newRow("newer version")
            << QByteArray("{\"format\":\"agentdesk.sessions\",\"version\":2,\"sessions\":[]}")
            << QByteArray("unsupported_import_version") << QString();
        QTest::newRow("no mapping") << QByteArray("[{\"id\":\"c1\",\"mapping\":{}},{\"id\":\"c2\"}]")
                                    << QByteArray("invalid_import") << u"conversations[1]"_s;
        QTest::newRow("no id") << QByteArray("[{\"mapping\":{}}]") << QByteArray("invalid_import")
                               << u"conversations[0]"_s;
        QTest::newRow("unknown parent")
            << QByteArray("[{\"id\":\"c\",\"mapping\":{\"a\":{\"parent\":\"zz\"}}}]")
            << QByteArray("invalid_import") << u"conversations[0].mapping.a"_s;
        QTest::newRow("loop")
            << QByteArray("[{\"id\":\"c\",\"mapping\":{\"a\":{\"parent\":\"b\"},\"b\":{\"parent\":\"a\"}}}]")
            << QByteArray("invalid_import") << u"loop"_s;
        QTest::newRow("loop beside a root")
            << QByteArray("[{\"id\":\"c\",\"mapping\":{\"r\":{\"parent\":null},\"a\":{\"parent\":\"b\"},"
                          "\"b\":{\"parent\":\"a\"}}}]")
            << QByteArray("invalid_import") << u"loop"_s;
        QTest::newRow("node not an object") << QByteArray("[{\"id\":\"c\",\"mapping\":{\"a\":3}}]")
                                            << QByteArray("invalid_import") << u"mapping.a"_s;
        QTest::newRow("node without a name")
            << QByteArray("[{\"id\":\"c\",\"mapping\":{\"\":{\"message\":{\"author\":{\"role\":\"user\"},"
                          "\"content\":{\"content_type\":\"text\",\"parts\":[\"hi\"]}}}}}]")
            << QByteArray("invalid_import") << u"empty name"_s;
        const QByteArray head = "{\"format\":\"agentdesk.sessions\",\"version\":1,\"sessions\":";
        QTest::newRow("sessions not a list") << head + "{}}" << QByteArray("invalid_import") << u"sessions"_s;
        QTest::newRow("bad role")
            << head + "[{\"id\":\"s\",\"messages\":[{\"id\":\"m\",\"role\":\"system\",\"content\":\"x\"}]}]}"
            << QByteArray("invalid_import") << u"sessions[0].messages[0]"_s;
        QTest::newRow("parent later") << head + "[{\"id\":\"s\",\"messages\":[{\"id\":\"m\",\"parent_id\":"
                                                "\"n\",\"role\":\"user\",\"content\":\"x\"},"
                                                "{\"id\":\"n\",\"role\":\"user\",\"content\":\"y\"}]}]}"
                                      << QByteArray("invalid_import") << u"parent_id"_s;
        QTest::newRow("repeated id")
            << head + "[{\"id\":\"s\",\"messages\":[{\"id\":\"m\",\"role\":\"user\",\"content\":\"x\"},"
                      "{\"id\":\"m\",\"role\":\"user\",\"content\":\"y\"}]}]}"
            << QByteArray("invalid_import") << u"messages[1]"_s;
        QTest::newRow("content not text")
            << head + "[{\"id\":\"s\",\"messages\":[{\"id\":\"m\",\"role\":\"user\",\"content\":5}]}]}"
            << QByteArray("invalid_import") << u"content"_s;
        QTest::newRow("session without id")
            << head + "[{\"messages\":[]}]}" << QByteArray("invalid_import") << u"sessions[0]"_s;
    }

    void malformedFiles()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, code);
        QFETCH(QString, where);
        const auto result = ConversationImport::parse(body);
        QVERIFY(!result.ok());
        QCOMPARE(result.error.status, 400);
        QCOMPARE(result.error.code.toUtf8(), code);
        QVERIFY2(result.error.message.contains(where), qPrintable(result.error.message));
        QVERIFY(result.conversations.size() <= 1); // never handed on: the caller imports nothing
    }

    void markdownOfABranch()
    {
        Session session;
        session.title = u"Tools\nand more"_s;
        session.createdAt = QDateTime(QDate(2026, 12, 1), QTime(9, 30), Qt::UTC);
        Message user;
        user.role = u"user"_s;
        user.content = u"echo 你好"_s;
        Message reply;
        reply.role = u"assistant"_s;
        reply.status = u"cancelled"_s;
        reply.finishReason = u"Cancelled"_s;
        reply.parts =
            u"[{\"type\":\"text\",\"text\":\"Calling.\"},{\"type\":\"tool_call\",\"function\":\"everything__"
            u"echo\","
            u"\"arguments\":\"{\\\"message\\\":\\\"你好\\\"}\"},{\"type\":\"tool_result\",\"text\":\"Echo: 你好\"}]"_s;
        const QString markdown = MarkdownExport::render(session, u"Helper"_s, {user, reply});
        QCOMPARE(
            markdown,
            u"# Tools and more\n\n*Helper · 2026-12-01 09:30 UTC · 2 messages*\n\n## User\n\necho 你好\n\n"
            u"## Assistant\n\nCalling.\n\n> 🔧 `everything__echo` {\"message\":\"你好\"}\n\n> → Echo: 你好\n\n"
            u"*(Cancelled)*\n"_s);
    }
};

QTEST_GUILESS_MAIN(ConversationImportTest)
#include "tst_conversationimport.moc"
