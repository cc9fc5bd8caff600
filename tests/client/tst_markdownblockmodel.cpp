#include "markdownblockmodel.h"

#include <QAbstractItemModelTester>
#include <QClipboard>
#include <QGuiApplication>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::StringLiterals;

// A streamed reply as blocks: the same blocks as parsing it whole, at every token, for a
// fraction of the parsing; unchanged blocks keep their rows.
class MarkdownBlockModelTest : public QObject
{
    Q_OBJECT

private:
    static QString longReply()
    {
        QString md;
        for (int i = 0; i < 12; ++i) {
            md += u"## Step %1\n\nThis paragraph explains step %1 in *some* detail, with `inline code` and a "
                  "[link](https://example.com/%1). 第%1步：中文说明。\n\n"_s.arg(i);
            md += u"- point one\n- point two\n\n  still point two\n- point three\n\n"_s;
            md +=
                u"```cpp\nint step%1() {\n\n    return %1; // blank line above stays in the block\n}\n```\n\n"_s
                    .arg(i);
            if (i % 3 == 0)
                md += u"| a | b |\n|---|---|\n| %1 | x |\n\n> a quote\n> on two lines\n\n"_s.arg(i);
        }
        return md;
    }

private Q_SLOTS:
    void chunksStartOnlyWhereABlockDoes()
    {
        const QString md =
            u"one\n\ntwo\n\n```\na\n\nb\n```\n\n- x\n\n- y\n\n    indented\n\nlast\n\nunfinished"_s;
        QList<qsizetype> starts = MarkdownBlockModel::chunkStarts(md);
        QStringList firsts;
        for (qsizetype s : starts)
            firsts.append(md.mid(s, md.indexOf(u'\n', s) - s));
        // Not inside the fence, not before a list item or an indented line, not on an unfinished line.
        QCOMPARE(firsts, (QStringList{u"one"_s, u"two"_s, u"```"_s, u"last"_s}));
    }

    void streamingMatchesParsingWholeAndParsesLittle()
    {
        const QString md = longReply();
        MarkdownBlockModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        qsizetype wholeCost = 0;
        int steps = 0;
        for (qsizetype pos = 0; pos < md.size();) {
            pos = std::min(md.size(), pos + 1 + (steps * 7) % 9); // tokens of 1-9 characters
            const QString prefix = md.left(pos);
            model.setMarkdown(prefix);
            wholeCost += prefix.size();
            ++steps;
            if (steps % 10 == 0 || pos == md.size())
                QCOMPARE(model.blocks(), MarkdownRenderer::render(prefix, false));
        }
        QCOMPARE(resets.size(), 0);
        QCOMPARE(model.rowCount(), 56); // 12 × heading, text, list, code; 4 × table, quote
        // Parsing the whole reply at every token would have cost wholeCost characters.
        qInfo("%d tokens, %lld characters: parsed %lld, whole at every token %lld", steps,
              qlonglong(md.size()), qlonglong(model.parsedCharacters()), qlonglong(wholeCost));
        QVERIFY(model.parsedCharacters() * 15 < wholeCost);
    }

    void chunksParseLikeTheWholeText_data()
    {
        QTest::addColumn<QString>("markdown");
        QTest::newRow("reference link")
            << u"See [the docs][1].\n\nMore text.\n\n[1]: https://example.com/docs\n"_s;
        QTest::newRow("backtick in an info string")
            << u"``` a`b\n\ntext\n\n```\ncode\n\nstill code\n```\n\nafter"_s;
        QTest::newRow("no-break space line") << u"one\n\u00a0\ntwo\n\nthree"_s;
        QTest::newRow("tab after a bullet") << u"-\tone\n\n-\ttwo\n\nend"_s;
        QTest::newRow("bare markers") << u"1. one\n\n2.\n\n-\n\ntext"_s;
        QTest::newRow("setext heading") << u"Title\n=====\n\nText\n---\n\nmore"_s;
        QTest::newRow("lazy quote") << u"> quoted\nlazy line\n\n> another\n\nplain"_s;
        QTest::newRow("indented code") << u"text\n\n    code one\n\n    code two\n\ntext"_s;
        QTest::newRow("tilde fence") << u"~~~\n```\n\n~~~\n\nafter"_s;
        QTest::newRow("loose list with paragraphs") << u"1. a\n\n   more a\n\n2. b\n\nend"_s;
    }

    void chunksParseLikeTheWholeText()
    {
        QFETCH(QString, markdown);
        MarkdownBlockModel model;
        for (qsizetype n = 1; n <= markdown.size(); ++n) {
            const QString prefix = markdown.left(n);
            model.setMarkdown(prefix);
            QVERIFY2(model.blocks() == MarkdownRenderer::render(prefix, false),
                     qPrintable(u"after %1 characters: %2"_s.arg(n).arg(prefix)));
        }
    }

    void aTokenTouchesOnlyTheBlockItLandsIn()
    {
        MarkdownBlockModel model;
        model.setMarkdown(u"First paragraph.\n\nSecond"_s);
        QCOMPARE(model.rowCount(), 2);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.setMarkdown(u"First paragraph.\n\nSecond one"_s);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
        QCOMPARE(inserted.size(), 0);
        model.setMarkdown(u"First paragraph.\n\nSecond one.\n\n```py\nx"_s);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(model.data(model.index(2), MarkdownBlockModel::KindRole).toString(), u"code"_s);
        QCOMPARE(model.data(model.index(2), MarkdownBlockModel::LanguageRole).toString(), u"py"_s);

        // Another text altogether (another version shown): rows follow it, still without a reset.
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.setMarkdown(u"Short"_s);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(resets.size(), 0);
        model.setMarkdown(QString());
        QCOMPARE(model.rowCount(), 0);
    }

    void darkThemeRecolours()
    {
        MarkdownBlockModel model;
        model.setMarkdown(u"```python\nimport os\n```"_s);
        const QString light = model.data(model.index(0), MarkdownBlockModel::HtmlRole).toString();
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setDark(true);
        QCOMPARE(changed.size(), 1);
        QVERIFY(model.data(model.index(0), MarkdownBlockModel::HtmlRole).toString() != light);
    }

    void copyCodeTakesTheCodeAsWritten()
    {
        MarkdownBlockModel model;
        model.setMarkdown(u"Run:\n\n```bash\necho \"<hi>\" && ls\n```"_s);
        model.copyCode(1);
        QCOMPARE(QGuiApplication::clipboard()->text(), u"echo \"<hi>\" && ls"_s);
    }
};

QTEST_MAIN(MarkdownBlockModelTest)
#include "tst_markdownblockmodel.moc"
