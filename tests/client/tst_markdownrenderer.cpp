#include "codehighlighter.h"
#include "markdownrenderer.h"

#include <QRegularExpression>
#include <QTest>

using namespace Qt::StringLiterals;

// Replies as blocks: what a user sees of headings, lists, code, tables, quotes and math, and what
// must never happen (raw HTML interpreted, a script link made clickable, TeX or CJK lost).
class MarkdownRendererTest : public QObject
{
    Q_OBJECT

private:
    static QList<MarkdownBlock> render(const QString &md) { return MarkdownRenderer::render(md, false); }

    // The text a block shows, without tags and with entities decoded.
    static QString shown(const QString &html)
    {
        QString s = html;
        s.remove(QRegularExpression(u"<[^>]*>"_s));
        return s.replace(u"&lt;"_s, u"<"_s)
            .replace(u"&gt;"_s, u">"_s)
            .replace(u"&quot;"_s, u"\""_s)
            .replace(u"&#8202;"_s, QString())
            .replace(u"&amp;"_s, u"&"_s);
    }

private Q_SLOTS:
    void blocksOfAReply()
    {
        const QString md = u"# Title\n\nSome *text* and **bold** and `code`.\n\n"
                           "- one\n- two\n  - nested\n\n1. first\n2. second\n\n"
                           "```python\ndef f(x):\n    return x  # twice\n```\n\n"
                           "| Name | Size |\n|:-----|-----:|\n| a | 1 |\n| b | 22 |\n\n"
                           "> quoted\n\n---\n\n$$\\int_0^1 x\\,dx$$\n"_s;
        const QList<MarkdownBlock> blocks = render(md);
        QList<MarkdownBlock::Kind> kinds;
        for (const MarkdownBlock &b : blocks)
            kinds.append(b.kind);
        using K = MarkdownBlock::Kind;
        QCOMPARE(kinds, (QList<K>{K::Heading, K::Text, K::Text, K::Text, K::Code, K::Table, K::Quote, K::Rule,
                                  K::Math}));
        QCOMPARE(blocks.at(0).level, 1);
        QCOMPARE(shown(blocks.at(0).html), u"Title"_s);
        QVERIFY(blocks.at(1).html.contains(u"<i>text</i>"_s));
        QVERIFY(blocks.at(1).html.contains(u"<b>bold</b>"_s));
        QVERIFY(blocks.at(1).html.contains(u"DejaVu Sans Mono"_s)); // inline code in monospace
        QCOMPARE(shown(blocks.at(2).html), u"\u2022\u00a0 one\u2022\u00a0 two\u25e6\u00a0 nested"_s);
        QCOMPARE(shown(blocks.at(3).html), u"1.\u00a0 first2.\u00a0 second"_s);

        const MarkdownBlock &code = blocks.at(4);
        QCOMPARE(code.language, u"python"_s);
        QCOMPARE(code.code, u"def f(x):\n    return x  # twice"_s); // as written, for Copy
        QCOMPARE(shown(code.html), code.code);                      // every character shown
        QVERIFY(code.html.contains(u">def</span>"_s));              // highlighted
        QVERIFY(code.html.contains(u"font-style:italic\"># twice</span>"_s));

        const QString table = blocks.at(5).html;
        QVERIFY(table.startsWith(u"<table"_s));
        QCOMPARE(table.count(u"<th"_s), 2);
        QCOMPARE(table.count(u"<tr>"_s), 3);
        QVERIFY(table.contains(u"<td align=\"right\">22</td>"_s));
        QCOMPARE(shown(blocks.at(6).html), u"quoted"_s);
        QCOMPARE(blocks.at(8).code, u"\\int_0^1 x\\,dx"_s);
    }

    void codeIsHighlightedByItsLanguage()
    {
        CodeHighlighter &h = CodeHighlighter::shared();
        for (const QString &language :
             {u"python"_s, u"py"_s, u"c++"_s, u"cpp"_s, u"ts"_s, u"js"_s, u"bash"_s, u"json"_s, u"rust"_s,
              u"go"_s, u"sql"_s, u"main.py"_s, u"{.python}"_s, u"python{1,3}"_s, u"python title=x"_s})
            QVERIFY2(h.knows(language), qPrintable(language));
        QVERIFY(!h.knows(u"no-such-language"_s));
        QVERIFY(!h.knows(QString()));

        const QString cpp = u"#include <map>\nint main() { return 0; } // <done>"_s;
        const QString light = h.toHtml(cpp, u"cpp"_s, false);
        const QString dark = h.toHtml(cpp, u"cpp"_s, true);
        QVERIFY(light.contains(u"<span"_s));
        QVERIFY(light != dark); // colours for the background
        QCOMPARE(shown(light), cpp);
        QVERIFY(!light.contains(u"<map>"_s)); // escaped, never markup

        // Unknown: the same text, escaped, uncoloured.
        QCOMPARE(h.toHtml(u"a < b && c"_s, u"whatever"_s, false), u"a &lt; b &amp;&amp; c"_s);

        // A comment spanning lines stays a comment on every line.
        const QString multi = h.toHtml(u"/* one\ntwo */ int x;"_s, u"c"_s, false);
        const QStringList lines = multi.split(u'\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines.at(1).startsWith(u"<span style=\"color:#6e7781;font-style:italic\">two */</span>"_s));
    }

    void streamedCodeIsHighlightedAsIfWhole()
    {
        // A block highlighted as it grows resumes from its first changed line with the state the
        // lines above left (inside a comment or a string): the same as highlighting it at once.
        const QString code =
            u"/* a comment\n   over lines */\nint main() {\n    const char *s = \"not // a comment\n"
            "    return 0; // done\n}\n"_s;
        CodeHighlighter streamed;
        CodeHighlighter whole;
        for (qsizetype n = 1; n <= code.size(); ++n) {
            const QString prefix = code.left(n);
            whole.toHtml(u"x"_s, u"python"_s, false); // another language: nothing to resume from
            QCOMPARE(streamed.toHtml(prefix, u"cpp"_s, false), whole.toHtml(prefix, u"cpp"_s, false));
        }
    }

    void rawHtmlAndUnsafeLinksStayText()
    {
        const QList<MarkdownBlock> blocks = render(
            u"<script>alert(1)</script> <b>x</b>\n\n[bad](javascript:alert(1)) "
            u"[ok](https://example.com/a?b=1&c=2) "
            "[file](file:///etc/passwd) ![cat](https://example.com/cat.png) https://auto.example.org"_s);
        QCOMPARE(blocks.size(), 2);
        QVERIFY(!blocks.at(0).html.contains(u"<script"_s));
        QVERIFY(!blocks.at(0).html.contains(u"<b>"_s));
        QCOMPARE(shown(blocks.at(0).html), u"<script>alert(1)</script> <b>x</b>"_s);
        const QString links = blocks.at(1).html;
        QVERIFY(!links.contains(u"javascript:"_s));
        QVERIFY(!links.contains(u"file:"_s));
        QVERIFY(links.contains(u"href=\"https://example.com/a?b=1&amp;c=2\""_s));
        QVERIFY(!links.contains(u"<img"_s)); // never fetched
        QVERIFY(links.contains(u"href=\"https://example.com/cat.png\""_s));
        QVERIFY(links.contains(u"href=\"https://auto.example.org\""_s));
        QVERIFY(shown(links).contains(u"bad"_s));
        QVERIFY(shown(links).contains(u"cat"_s));
    }

    void mathKeepsItsSource()
    {
        const QList<MarkdownBlock> blocks =
            render(u"Energy $E=mc^2$ costs $5 and $10 today, $5-$10 tomorrow.\n\n$$a^2+b^2=c^2$$"_s);
        QCOMPARE(blocks.size(), 2);
        QCOMPARE(shown(blocks.at(0).html), u"Energy E=mc^2 costs $5 and $10 today, $5-$10 tomorrow."_s);
        QVERIFY(blocks.at(0).html.contains(u"font-style:italic\">E=mc^2</span>"_s));
        QCOMPARE(blocks.at(1).kind, MarkdownBlock::Kind::Math);
        QCOMPARE(blocks.at(1).code, u"a^2+b^2=c^2"_s);
        QCOMPARE(shown(blocks.at(1).html), u"a^2+b^2=c^2"_s);
    }

    void chineseEmojiAndTasksSurvive()
    {
        const QList<MarkdownBlock> blocks = render(
            u"你好，**世界**😀 —— 中文不需要空格。\n\n- [x] 完成\n- [ ] 待办\n\n```\n代码 <中文>\n```"_s);
        QCOMPARE(blocks.size(), 3);
        QCOMPARE(shown(blocks.at(0).html), u"你好，世界😀 —— 中文不需要空格。"_s);
        QVERIFY(blocks.at(1).html.contains(u"\u2611\u00a0 完成"_s));
        QVERIFY(blocks.at(1).html.contains(u"\u2610\u00a0 待办"_s));
        QCOMPARE(blocks.at(2).code, u"代码 <中文>"_s);
        QCOMPARE(blocks.at(2).language, QString());
        QCOMPARE(blocks.at(2).html, u"代码 &lt;中文&gt;"_s);
    }

    void codeInAListIsABlockAndTheListGoesOnCounting()
    {
        // Models write steps with code in them: the code gets its own block (language, Copy,
        // sideways scroll) indented with its list, and the numbers go on after it.
        const QList<MarkdownBlock> blocks =
            render(u"1. Install:\n\n   ```sh\n   apt install x\n   ```\n2. Run it\n3. Done\n\nThen:\n\n"
                   "7. seventh\n8. eighth"_s);
        QCOMPARE(blocks.size(), 5);
        QCOMPARE(blocks.at(0).kind, MarkdownBlock::Kind::Text);
        QVERIFY(shown(blocks.at(0).html).startsWith(u"1.\u00a0 Install:"_s));
        QCOMPARE(blocks.at(1).kind, MarkdownBlock::Kind::Code);
        QCOMPARE(blocks.at(1).language, u"sh"_s);
        QCOMPARE(blocks.at(1).code, u"apt install x"_s);
        QCOMPARE(blocks.at(1).level, 1);
        QVERIFY(shown(blocks.at(2).html).contains(u"2.\u00a0 Run it"_s));
        QVERIFY(shown(blocks.at(2).html).contains(u"3.\u00a0 Done"_s));
        // A list that starts at 7 shows 7, which Qt's own lists cannot.
        QVERIFY(shown(blocks.at(4).html).startsWith(u"7.\u00a0 seventh"_s));
        QVERIFY(shown(blocks.at(4).html).contains(u"8.\u00a0 eighth"_s));
        // Nested lists are indented deeper, with another bullet.
        const QString nested = render(u"- a\n  - b\n    - c"_s).value(0).html;
        QVERIFY(nested.contains(u"margin-left:22px"_s));
        QVERIFY(nested.contains(u"margin-left:44px"_s));
        QVERIFY(nested.contains(u"margin-left:66px"_s));
        QVERIFY(shown(nested).contains(u"\u25e6\u00a0 b"_s));
    }

    void displayMathOnLinesOfItsOwn()
    {
        QList<MarkdownBlock> blocks = render(u"$$\n\\int_0^1 x\\,dx\n$$"_s);
        QCOMPARE(blocks.size(), 1);
        QCOMPARE(blocks.at(0).kind, MarkdownBlock::Kind::Math);
        QCOMPARE(blocks.at(0).code, u"\\int_0^1 x\\,dx"_s);
        blocks = render(u"$$ x + y $$"_s);
        QCOMPARE(blocks.at(0).kind, MarkdownBlock::Kind::Math);
        QCOMPARE(blocks.at(0).code, u"x + y"_s);
        // A formula inside a sentence is part of the paragraph.
        blocks = render(u"The area is $$a^2$$ square units."_s);
        QCOMPARE(blocks.at(0).kind, MarkdownBlock::Kind::Text);
        QCOMPARE(shown(blocks.at(0).html), u"The area is a^2 square units."_s);
    }

    void backslashMathLikeModelsWriteIt()
    {
        // \( \) and \[ \] (ChatGPT, DeepSeek): the TeX as written, not eaten as escapes.
        QList<MarkdownBlock> blocks =
            render(u"Euler: \\( e^{i\\pi} + 1 = 0 \\) holds.\n\n\\[\n\\frac{a}{b} \\\\ c\n\\]"_s);
        QCOMPARE(blocks.size(), 2);
        QCOMPARE(shown(blocks.at(0).html), u"Euler: e^{i\\pi} + 1 = 0 holds."_s);
        QVERIFY(blocks.at(0).html.contains(u"font-style:italic\">e^{i\\pi} + 1 = 0</span>"_s));
        QCOMPARE(blocks.at(1).kind, MarkdownBlock::Kind::Math);
        QCOMPARE(blocks.at(1).code, u"\\frac{a}{b} \\\\ c"_s);
        // In code, nothing changes.
        blocks = render(u"`\\(x\\)` and\n\n```\n\\[y\\]\n```"_s);
        QCOMPARE(shown(blocks.at(0).html), u"\\(x\\) and"_s);
        QCOMPARE(blocks.at(1).code, u"\\[y\\]"_s);
        // A lone \\( or an escaped bracket stays what it was.
        QCOMPARE(shown(render(u"a \\(b and \\[c"_s).value(0).html), u"a (b and [c"_s);
    }

    void entitiesInLinksAreDecodedOnce()
    {
        const QString html =
            render(u"[q](https://e.com/?a=1&amp;b=2) [n](https://e.com/&#x41;)"_s).value(0).html;
        QVERIFY2(html.contains(u"href=\"https://e.com/?a=1&amp;b=2\""_s), qPrintable(html));
        QVERIFY2(html.contains(u"href=\"https://e.com/A\""_s), qPrintable(html));
    }

    void unclosedFenceIsCodeWhileItStreams()
    {
        const QList<MarkdownBlock> blocks = render(u"Here:\n\n```js\nconst a = 1;\nconst b"_s);
        QCOMPARE(blocks.size(), 2);
        QCOMPARE(blocks.at(1).kind, MarkdownBlock::Kind::Code);
        QCOMPARE(blocks.at(1).code, u"const a = 1;\nconst b"_s);
    }
};

QTEST_MAIN(MarkdownRendererTest)
#include "tst_markdownrenderer.moc"
