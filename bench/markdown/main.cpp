// What the window spends on a reply's Markdown while it streams: the incremental blocks of
// MarkdownBlockModel against parsing the whole reply at every token, with the same renderer and
// with Qt's own QTextDocument::setMarkdown (what TextEdit.MarkdownText did before). One line per
// measure; bench/run prints them. Runs on the offscreen platform.
#include "markdownblockmodel.h"
#include "markdownrenderer.h"

#include <QElapsedTimer>
#include <QGuiApplication>
#include <QTextDocument>

#include <cstdio>

using namespace Qt::StringLiterals;

static QString reply()
{
    QString md;
    for (int i = 0; i < 8; ++i) {
        md += u"## Part %1\n\nA paragraph with **bold**, *emphasis*, `code` and a "
              u"[link](https://example.com/%1) "
              "that goes on for a while, as model replies do, explaining step %1 in detail.\n\n"_s.arg(i);
        md += u"1. first point\n2. second point with more words\n3. third point\n\n"_s;
        md += u"```python\n"_s;
        for (int l = 0; l < 12; ++l)
            md += u"def step_%1_%2(x):\n    return x * %2  # line %2 of the example\n"_s.arg(i).arg(l);
        md += u"```\n\n| key | value |\n|-----|------:|\n| a | %1 |\n| b | %2 |\n\n"_s.arg(i).arg(i * 2);
    }
    return md;
}

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    const QString md = reply();
    const int tokenChars = 4;
    QStringList prefixes;
    for (qsizetype end = tokenChars; end < md.size() + tokenChars; end += tokenChars)
        prefixes.append(md.left(std::min(end, md.size())));
    const int tokens = int(prefixes.size());

    QElapsedTimer t;
    MarkdownBlockModel model;
    t.start();
    for (const QString &p : prefixes)
        model.setMarkdown(p);
    const double incrementalUs = double(t.nsecsElapsed()) / 1000.0 / tokens;

    // The whole reply at every token: sampled (every 10th token), its cost grows with the text.
    const int every = 10;
    int sampled = 0;
    t.restart();
    for (int i = every - 1; i < tokens; i += every, ++sampled)
        MarkdownRenderer::render(prefixes.at(i), false);
    const double wholeUs = double(t.nsecsElapsed()) / 1000.0 / sampled;
    QTextDocument doc;
    t.restart();
    for (int i = every - 1; i < tokens; i += every)
        doc.setMarkdown(prefixes.at(i));
    const double qtUs = double(t.nsecsElapsed()) / 1000.0 / sampled;

    std::printf("markdown reply_chars=%lld tokens=%d blocks=%d parsed_chars=%lld\n", qlonglong(md.size()),
                tokens, model.rowCount(), qlonglong(model.parsedCharacters()));
    std::printf(
        "markdown incremental_us_per_token=%.1f whole_us_per_token=%.1f qt_setmarkdown_us_per_token=%.1f "
        "whole_x=%.1f qt_x=%.1f\n",
        incrementalUs, wholeUs, qtUs, wholeUs / incrementalUs, qtUs / incrementalUs);
    return 0;
}
