// ThinkSplitter: a <think> block that opens a reply is reasoning, wherever the stream cuts it.
#include "llm/thinksplitter.h"

#include <QTest>

using namespace Qt::StringLiterals;

class ThinkSplitterTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void splitsEveryWay_data();
    void splitsEveryWay();
    void plainReplyPassesAtOnce();
    void unclosedBlockIsReasoning();
    void lonePrefixIsContent();
};

namespace {
struct Split
{
    QString reasoning;
    QString content;
};

// Feeds `text` in pieces of `size` UTF-16 units and flushes.
Split run(const QString &text, int size)
{
    ThinkSplitter splitter;
    Split out;
    for (qsizetype at = 0; at < text.size(); at += size) {
        const ThinkSplitter::Pieces pieces = splitter.feed(text.mid(at, size));
        out.reasoning += pieces.reasoning;
        out.content += pieces.content;
    }
    const ThinkSplitter::Pieces last = splitter.flush();
    out.reasoning += last.reasoning;
    out.content += last.content;
    return out;
}
} // namespace

void ThinkSplitterTest::splitsEveryWay_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reasoning");
    QTest::addColumn<QString>("content");
    QTest::newRow("block then answer")
        << u"<think>\nLet me see: 2+2.\n</think>\n\nIt is 4."_s << u"\nLet me see: 2+2.\n"_s << u"It is 4."_s;
    QTest::newRow("leading blank") << u"  \n<think>嗯，想一想。</think>答案是四。"_s << u"嗯，想一想。"_s
                                   << u"答案是四。"_s;
    QTest::newRow("no block") << u"Plain answer with </think> inside."_s << QString()
                              << u"Plain answer with </think> inside."_s;
    QTest::newRow("tag later is text") << u"Use <think> tags like this: <think>x</think>"_s << QString()
                                       << u"Use <think> tags like this: <think>x</think>"_s;
    QTest::newRow("empty block") << u"<think></think>Answer"_s << QString() << u"Answer"_s;
    QTest::newRow("html answer") << u"<div>hi</div>"_s << QString() << u"<div>hi</div>"_s;
    QTest::newRow("emoji") << u"<think>🤔 hmm</think>👍"_s << u"🤔 hmm"_s << u"👍"_s;
}

void ThinkSplitterTest::splitsEveryWay()
{
    QFETCH(QString, text);
    QFETCH(QString, reasoning);
    QFETCH(QString, content);
    for (int size = 1; size <= text.size(); ++size) {
        const Split split = run(text, size);
        QCOMPARE(split.reasoning, reasoning);
        QCOMPARE(split.content, content);
    }
}

void ThinkSplitterTest::plainReplyPassesAtOnce()
{
    // A reply without a block waits for nothing once its first characters decided it.
    ThinkSplitter splitter;
    QCOMPARE(splitter.feed(u"Hello"_s).content, u"Hello"_s);
    QCOMPARE(splitter.feed(u" <think>"_s).content, u" <think>"_s);
}

void ThinkSplitterTest::unclosedBlockIsReasoning()
{
    ThinkSplitter splitter;
    ThinkSplitter::Pieces pieces = splitter.feed(u"<think>still thinking </thi"_s);
    QCOMPARE(pieces.reasoning, u"still thinking "_s); // "</thi" may be the tag: held
    QVERIFY(splitter.inThink());
    pieces = splitter.flush();
    QCOMPARE(pieces.reasoning, u"</thi"_s);
    QVERIFY(pieces.content.isEmpty());
}

void ThinkSplitterTest::lonePrefixIsContent()
{
    ThinkSplitter splitter;
    QVERIFY(splitter.feed(u"<thi"_s).content.isEmpty());
    QCOMPARE(splitter.flush().content, u"<thi"_s);
}

QTEST_GUILESS_MAIN(ThinkSplitterTest)
#include "tst_thinksplitter.moc"
