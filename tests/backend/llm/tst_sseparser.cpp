#include "llm/sseparser.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

using namespace Qt::StringLiterals;

class SseParserTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void fixtureWhole();
    void fixtureSplitAtEveryByte();
    void fixtureOneBytePieces();
    void fixtureRandomPieces();
    void lineEndings_data();
    void lineEndings();
    void crAndLfInSeparateFeeds();
    void comments();
    void multiLineData();
    void eventAndId();
    void colonSpacing();
    void fieldWithoutColon();
    void eventWithoutDataIsNotDispatched();
    void retry();
    void bom();
    void bomOnlyAtStart();
    void flushAtEnd();
    void resetDiscardsPartialLine();
    void longLineInTinyPiecesIsLinear();
    void manyCrOnlyLinesInOneFeedAreLinear();
    void jsonThatIsNotUtf8ReadsWithReplacement();

private:
    static QStringList describe(const QList<SseEvent> &events);
    static QList<SseEvent> feedPieces(SseParser &parser, const QByteArray &bytes,
                                      const QList<qsizetype> &cuts);
    static QString contentOf(const QList<SseEvent> &events);

    QByteArray m_fixture;
    QStringList m_expected;
};

static const QString fixtureText = u"你好！我是一个 AI 助手。😀 Ünïcödé — 日本語もOK，한국어也行。"_s;

QStringList SseParserTest::describe(const QList<SseEvent> &events)
{
    QStringList out;
    for (const SseEvent &e : events)
        out.append(e.event + u'|' + e.id + u'|' + QString::fromUtf8(e.data));
    return out;
}

QList<SseEvent> SseParserTest::feedPieces(SseParser &parser, const QByteArray &bytes,
                                          const QList<qsizetype> &cuts)
{
    QList<SseEvent> events;
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        events += parser.feed(bytes.mid(from, cut - from));
        from = cut;
    }
    events += parser.feed(bytes.mid(from));
    events += parser.flush();
    return events;
}

QString SseParserTest::contentOf(const QList<SseEvent> &events)
{
    QString text;
    for (const SseEvent &e : events) {
        const QJsonArray choices = QJsonDocument::fromJson(e.data).object().value("choices"_L1).toArray();
        for (const QJsonValue &c : choices)
            text += c.toObject().value("delta"_L1).toObject().value("content"_L1).toString();
    }
    return text;
}

void SseParserTest::initTestCase()
{
    QFile file(QStringLiteral(AGENTDESK_TEST_DATA) + "/openai_stream_zh.sse"_L1);
    QVERIFY(file.open(QIODevice::ReadOnly));
    m_fixture = file.readAll();
    SseParser parser;
    m_expected = describe(parser.feed(m_fixture));
}

void SseParserTest::fixtureWhole()
{
    // role chunk, ten content chunks, finish chunk, usage chunk, [DONE]; the comment is not an event
    QCOMPARE(m_expected.size(), 14);
    SseParser parser;
    const QList<SseEvent> events = parser.feed(m_fixture);
    QCOMPARE(events.last().data, QByteArray("[DONE]"));
    QCOMPARE(contentOf(events), fixtureText);
    QCOMPARE(parser.commentCount(), 1);
    QVERIFY(events.at(12).data.contains("\"completion_tokens\":21"));
    QVERIFY(parser.flush().isEmpty());
}

void SseParserTest::fixtureSplitAtEveryByte()
{
    for (qsizetype cut = 0; cut <= m_fixture.size(); ++cut) {
        SseParser parser;
        const QList<SseEvent> events = feedPieces(parser, m_fixture, {cut});
        if (describe(events) != m_expected)
            QFAIL(qPrintable(u"differs when split at byte %1"_s.arg(cut)));
    }
    // and in three pieces, around every multi-byte character
    for (qsizetype cut = 1; cut + 1 < m_fixture.size(); ++cut) {
        if (uchar(m_fixture.at(cut)) < 0x80)
            continue;
        SseParser parser;
        QCOMPARE(describe(feedPieces(parser, m_fixture, {cut - 1, cut + 1})), m_expected);
    }
}

void SseParserTest::fixtureOneBytePieces()
{
    SseParser parser;
    QList<SseEvent> events;
    for (char c : std::as_const(m_fixture))
        events += parser.feed(QByteArray(1, c));
    QCOMPARE(describe(events), m_expected);
    QCOMPARE(contentOf(events), fixtureText);
    QVERIFY(parser.flush().isEmpty());
}

void SseParserTest::fixtureRandomPieces()
{
    QRandomGenerator random(20240611);
    for (int round = 0; round < 300; ++round) {
        QList<qsizetype> cuts;
        for (qsizetype pos = random.bounded(1, 64); pos < m_fixture.size(); pos += random.bounded(1, 64))
            cuts.append(pos);
        SseParser parser;
        QCOMPARE(describe(feedPieces(parser, m_fixture, cuts)), m_expected);
    }
}

void SseParserTest::lineEndings_data()
{
    QTest::addColumn<QByteArray>("eol");
    QTest::newRow("LF") << QByteArray("\n");
    QTest::newRow("CRLF") << QByteArray("\r\n");
    QTest::newRow("CR") << QByteArray("\r");
}

void SseParserTest::lineEndings()
{
    QFETCH(QByteArray, eol);
    // A multi-line event: a CRLF taken as two line ends would split it.
    QByteArray stream = m_fixture + "event: note\ndata: a\ndata: b\n\n";
    const QStringList expected = m_expected + QStringList{u"note||a\nb"_s};
    stream.replace("\n", eol);
    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        SseParser parser;
        if (describe(feedPieces(parser, stream, {cut})) != expected)
            QFAIL(qPrintable(u"differs when split at byte %1"_s.arg(cut)));
    }
}

void SseParserTest::crAndLfInSeparateFeeds()
{
    // If the LF after a CR counted as a second line end, "a" would be dispatched on its own.
    SseParser parser;
    QVERIFY(parser.feed("data: a\r").isEmpty());
    QVERIFY(parser.feed("\ndata: b\r").isEmpty());
    const QList<SseEvent> events = parser.feed("\n\r\n");
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().data, QByteArray("a\nb"));
    // a lone CR followed by CR is a blank line
    QCOMPARE(parser.feed("data: c\r\r").size(), 1);
}

void SseParserTest::comments()
{
    SseParser parser;
    const QList<SseEvent> events = parser.feed(": keep-alive\n\n:\ndata: x\n: inside an event\ndata: y\n\n");
    QCOMPARE(describe(events), QStringList{u"||x\ny"_s});
    QCOMPARE(parser.commentCount(), 3);
}

void SseParserTest::multiLineData()
{
    SseParser parser;
    const QList<SseEvent> events = parser.feed("data: {\"a\":\ndata:\ndata:  1}\n\n");
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().data, QByteArray("{\"a\":\n\n 1}"));
}

void SseParserTest::eventAndId()
{
    SseParser parser;
    const QList<SseEvent> events = parser.feed(
        "event: update\nid: 42\ndata: one\n\ndata: two\n\nid\ndata: three\n\nid: a\0b\ndata: four\n\n"_ba);
    // The id persists across events; an empty `id` clears it; one with NUL is ignored.
    QCOMPARE(describe(events), (QStringList{u"update|42|one"_s, u"|42|two"_s, u"||three"_s, u"||four"_s}));
}

void SseParserTest::colonSpacing()
{
    SseParser parser;
    const QList<SseEvent> events =
        parser.feed("data:x\n\ndata: y\n\ndata:  z\n\nevent:ping\ndata:[DONE]\n\n");
    QCOMPARE(describe(events), (QStringList{u"||x"_s, u"||y"_s, u"|| z"_s, u"ping||[DONE]"_s}));
}

void SseParserTest::fieldWithoutColon()
{
    SseParser parser;
    const QList<SseEvent> events = parser.feed("data\n\nunknown: field\ndata: x\n\n");
    QCOMPARE(describe(events), (QStringList{u"||"_s, u"||x"_s}));
}

void SseParserTest::eventWithoutDataIsNotDispatched()
{
    SseParser parser;
    QVERIFY(parser.feed("event: ping\n\n\n\n").isEmpty());
    const QList<SseEvent> events = parser.feed("data: x\n\n");
    QCOMPARE(describe(events), QStringList{u"||x"_s}); // the type did not leak into the next event
}

void SseParserTest::retry()
{
    SseParser parser;
    QCOMPARE(parser.retryMs(), -1);
    parser.feed("retry: 1500\n\n");
    QCOMPARE(parser.retryMs(), 1500);
    parser.feed("retry: 15s\n\nretry:\n\n");
    QCOMPARE(parser.retryMs(), 1500);
}

void SseParserTest::bom()
{
    const QByteArray stream = "\xEF\xBB\xBF"
                              "data: x\n\n";
    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        SseParser parser;
        QCOMPARE(describe(feedPieces(parser, stream, {cut})), QStringList{u"||x"_s});
    }
    SseParser parser;
    QList<SseEvent> events;
    for (char c : stream)
        events += parser.feed(QByteArray(1, c));
    QCOMPARE(describe(events), QStringList{u"||x"_s});
}

void SseParserTest::bomOnlyAtStart()
{
    // Past the start a BOM is just bytes: here it turns "data" into an unknown field name.
    SseParser parser;
    const QList<SseEvent> events = parser.feed("data: a\n\n\xEF\xBB\xBF"
                                               "data: b\n\ndata: c\n\n");
    QCOMPARE(describe(events), (QStringList{u"||a"_s, u"||c"_s}));
}

void SseParserTest::flushAtEnd()
{
    SseParser parser;
    QVERIFY(parser.feed("data: {\"x\":1}").isEmpty());
    QCOMPARE(describe(parser.flush()), QStringList{u"||{\"x\":1}"_s});
    QVERIFY(parser.flush().isEmpty());

    QVERIFY(parser.feed("data: y\n").isEmpty());
    QCOMPARE(describe(parser.flush()), QStringList{u"||y"_s});

    // flush() resets: a new stream may start with a BOM again
    QCOMPARE(describe(parser.feed("\xEF\xBB\xBF"
                                  "data: z\n\n")),
             QStringList{u"||z"_s});
}

void SseParserTest::resetDiscardsPartialLine()
{
    SseParser parser;
    parser.feed("id: 7\ndata: partial");
    parser.reset();
    QCOMPARE(describe(parser.feed("data: whole\n\n")), QStringList{u"||whole"_s});
}

void SseParserTest::longLineInTinyPiecesIsLinear()
{
    // 512 KiB of one data line in 1-byte feeds: rescanning or copying the buffer per feed would
    // be ~10^11 byte operations, far past the bound.
    const QByteArray payload(512 * 1024, 'x');
    QByteArray stream = "data: " + payload + "\n\n";
    SseParser parser;
    QElapsedTimer timer;
    timer.start();
    QList<SseEvent> events;
    const char *p = stream.constData();
    for (qsizetype i = 0; i < stream.size(); ++i)
        events += parser.feed(QByteArray::fromRawData(p + i, 1));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().data.size(), payload.size());
    QVERIFY2(timer.elapsed() < 3000, qPrintable(u"took %1 ms"_s.arg(timer.elapsed())));
}

void SseParserTest::manyCrOnlyLinesInOneFeedAreLinear()
{
    // CR alone ends a line too; with no LF in a 4 MiB feed, looking for the next LF from every line
    // would scan ~10^12 bytes.
    QByteArray stream;
    for (int i = 0; i < 400 * 1024; ++i)
        stream += "data: x\r\r";
    SseParser parser;
    QElapsedTimer timer;
    timer.start();
    const QList<SseEvent> events = parser.feed(stream);
    QCOMPARE(events.size(), 400 * 1024);
    QCOMPARE(events.last().data, QByteArray("x"));
    QVERIFY2(timer.elapsed() < 3000, qPrintable(u"took %1 ms"_s.arg(timer.elapsed())));
}

void SseParserTest::jsonThatIsNotUtf8ReadsWithReplacement()
{
    QCOMPARE(SseParser::json("{\"a\":\"x\xffy\"}").object().value("a"_L1).toString(), u"x\uFFFDy"_s);
    QCOMPARE(SseParser::json(R"({"a":"你好"})").object().value("a"_L1).toString(), u"你好"_s);
    QVERIFY(SseParser::json("{\"a\":").isNull());
}

QTEST_GUILESS_MAIN(SseParserTest)
#include "tst_sseparser.moc"
