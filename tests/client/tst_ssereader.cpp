#include "chatchunk.h"
#include "ssereader.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;

// SSE parsing of the chat stream: events reassembled from pieces of any size, UTF-8 decoded
// only once an event is complete, comments skipped, and the chunk JSON contract read.
class SseReaderTest : public QObject
{
    Q_OBJECT

private:
    static QByteArray event(const QString &content)
    {
        const QJsonObject o{{u"type"_s, u"content"_s},
                            {u"content"_s, content},
                            {u"session_id"_s, u"s1"_s},
                            {u"message_id"_s, u"m1"_s},
                            {u"reply_id"_s, QJsonValue::Null},
                            {u"metadata"_s, QJsonValue::Null},
                            {u"finish_reason"_s, QJsonValue::Null},
                            {u"error"_s, QJsonValue::Null}};
        return "data: " + QJsonDocument(o).toJson(QJsonDocument::Compact) + "\n\n";
    }

private Q_SLOTS:
    void wholeEvents()
    {
        SseReader p;
        const QList<QByteArray> out = p.feed("data: one\n\ndata: two\n\n");
        QCOMPARE(out, (QList<QByteArray>{"one", "two"}));
        QVERIFY(!p.hasPending());
    }

    void commentsAndOtherFieldsAreSkipped()
    {
        SseReader p;
        const QList<QByteArray> out =
            p.feed(": keep-alive\n\nevent: message\nid: 3\nretry: 100\ndata: x\n\n:\n\n");
        QCOMPARE(out, QList<QByteArray>{"x"});
        QCOMPARE(p.commentCount(), 2);
    }

    void lastEventIdIsTheDispatchedOne()
    {
        // As the spec has it: the id carries over to later events until another sets it, and an id
        // whose event has not ended yet is not the last one seen.
        SseReader p;
        QVERIFY(p.lastEventId().isEmpty());
        QCOMPARE(p.feed("retry: 3000\nid: r:1\ndata: a\n\ndata: b\n\n"), (QList<QByteArray>{"a", "b"}));
        QCOMPARE(p.lastEventId(), QByteArray("r:1"));
        QCOMPARE(p.feed(": keep-alive\nid: r:3\ndata: c\n\nid: r:4\ndata: d"), QList<QByteArray>{"c"});
        QCOMPARE(p.lastEventId(), QByteArray("r:3"));
        QCOMPARE(p.finish(), QByteArray("d"));
        QCOMPARE(p.lastEventId(), QByteArray("r:4"));
        p.reset();
        QVERIFY(p.lastEventId().isEmpty());
    }

    void multiLineDataIsJoined()
    {
        SseReader p;
        QCOMPARE(p.feed("data: a\ndata: b\ndata:c\n\n"), QList<QByteArray>{"a\nb\nc"});
    }

    void crlfAndCrLineEnds_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::newRow("crlf") << QByteArray("data: a\r\n\r\ndata: b\r\n\r\n");
        QTest::newRow("cr") << QByteArray("data: a\r\rdata: b\r\r");
        QTest::newRow("mixed") << QByteArray("data: a\r\n\ndata: b\n\r\n");
    }

    void crlfAndCrLineEnds()
    {
        QFETCH(QByteArray, stream);
        // Whole, and one byte at a time (a "\r\n" split across two reads is one line break).
        SseReader whole;
        QCOMPARE(whole.feed(stream), (QList<QByteArray>{"a", "b"}));
        SseReader bytewise;
        QList<QByteArray> out;
        for (char c : stream)
            out += bytewise.feed(QByteArray(1, c));
        QCOMPARE(out, (QList<QByteArray>{"a", "b"}));
    }

    void utf8SplitAcrossReadsAtEveryOffset()
    {
        const QString text = u"你好，世界 🌏 héllo"_s;
        const QByteArray stream = ": keep-alive\n\n" + event(text) + event(u"二"_s);
        for (qsizetype cut = 1; cut < stream.size(); ++cut) {
            SseReader p;
            QList<QByteArray> out = p.feed(stream.left(cut));
            out += p.feed(stream.mid(cut));
            QCOMPARE(out.size(), 2);
            const auto first = ChatChunk::parse(out.at(0));
            QVERIFY(first);
            QCOMPARE(first->content, text);
            QCOMPARE(ChatChunk::parse(out.at(1))->content, u"二"_s);
        }
    }

    void oneByteAtATime()
    {
        QByteArray stream;
        QStringList expected;
        for (int i = 0; i < 20; ++i) {
            expected << u"词%1 "_s.arg(i);
            stream += event(expected.last());
        }
        SseReader p;
        QStringList got;
        for (char c : std::as_const(stream)) {
            for (const QByteArray &e : p.feed(QByteArray(1, c)))
                got << ChatChunk::parse(e)->content;
        }
        QCOMPARE(got, expected);
    }

    void unterminatedLastEvent()
    {
        SseReader p;
        QVERIFY(p.feed("data: tail").isEmpty());
        QVERIFY(p.hasPending());
        QCOMPARE(p.finish(), QByteArray("tail"));
        QVERIFY(!p.hasPending());
    }

    void chunkContract()
    {
        const QByteArray done =
            R"({"type":"done","content":null,"session_id":"s","message_id":"m","reply_id":"r",
            "metadata":{"model":"gpt-4","tokens_used":150,"finish_reason":"Stop"},"finish_reason":"Stop","error":null})";
        const auto d = ChatChunk::parse(done);
        QVERIFY(d);
        QCOMPARE(d->type, ChatChunk::Type::Done);
        QVERIFY(d->isClosing());
        QCOMPARE(d->replyId, u"r"_s);
        QCOMPARE(d->tokensUsed(), 150);
        QCOMPARE(d->model(), u"gpt-4"_s);
        QCOMPARE(d->finishReason, u"Stop"_s);
        QVERIFY(d->content.isEmpty());

        const auto e = ChatChunk::parse(R"({"type":"error","content":null,"session_id":"s","message_id":"m",
            "reply_id":null,"metadata":null,"finish_reason":null,"error":"错误描述"})");
        QVERIFY(e);
        QCOMPARE(e->type, ChatChunk::Type::Error);
        QCOMPARE(e->error, u"错误描述"_s);

        QString why;
        QVERIFY(!ChatChunk::parse("not json", &why));
        QVERIFY(!why.isEmpty());
        QCOMPARE(ChatChunk::parse(R"({"type":"other"})")->type, ChatChunk::Type::Unknown);

        // Protocol v2's tool chunks keep the same eight fields; what they add is in metadata.
        const std::pair<const char *, ChatChunk::Type> tools[] = {
            {"tool_call_delta", ChatChunk::Type::ToolCallDelta},
            {"tool_call", ChatChunk::Type::ToolCall},
            {"tool_result", ChatChunk::Type::ToolResult},
            {"progress", ChatChunk::Type::Progress},
            {"attachment", ChatChunk::Type::Attachment}};
        for (const auto &[name, type] : tools) {
            const QJsonObject chunk{{u"type"_s, QLatin1String(name)},
                                    {u"content"_s, u"frag"_s},
                                    {u"metadata"_s, QJsonObject{{u"tool_call_id"_s, u"call_1"_s}}}};
            const auto c = ChatChunk::parse(QJsonDocument(chunk).toJson(QJsonDocument::Compact));
            QVERIFY(c);
            QCOMPARE(c->type, type);
            QVERIFY(!c->isClosing());
            QCOMPARE(c->metadata.value("tool_call_id"_L1).toString(), u"call_1"_s);
        }
    }
};

QTEST_GUILESS_MAIN(SseReaderTest)
#include "tst_ssereader.moc"
