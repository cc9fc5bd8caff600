#pragma once

#include <QList>
#include <QString>

// One block of a rendered reply, drawn by its own QML delegate (MarkdownView.qml).
struct MarkdownBlock
{
    enum class Kind { Text, Heading, Code, Table, Quote, Math, Rule };
    Kind kind = Kind::Text;
    QString html;     // Qt rich text; for Code the highlighted lines, for a <pre>
    QString code;     // Code: the text as written (what Copy puts on the clipboard); Math: the TeX
    QString language; // Code: the fence's language, as written ("python")
    int level = 0;    // Heading: 1-6

    bool operator==(const MarkdownBlock &o) const
    {
        return kind == o.kind && html == o.html && code == o.code && language == o.language &&
               level == o.level;
    }
    bool operator!=(const MarkdownBlock &o) const { return !(*this == o); }
};

// CommonMark with GitHub's tables, strikethrough, task lists and autolinks (md4c) turned into
// blocks: each top-level block one MarkdownBlock, code blocks highlighted by CodeHighlighter.
// Raw HTML in the source is shown as text, links open only for http, https and mailto, images
// become links, and `$…$` / `$$…$$` math keeps its TeX source, set apart (it cannot be lost).
class MarkdownRenderer
{
public:
    static QList<MarkdownBlock> render(QStringView markdown, bool dark);

    // "```" or "~~~" (three or more) after at most three spaces: the fence's character and length,
    // and whether what follows could not be a backtick fence's info string (it has a backtick).
    struct Fence
    {
        QChar c;
        qsizetype length = 0;
        bool backtickInInfo = false;
    };
    static Fence fenceOf(QStringView line);
    // Models write math as \(…\) and \[…\] too (ChatGPT, DeepSeek, Qwen); CommonMark would take
    // the backslashes for escapes. Outside code they become $…$ and $$…$$.
    static QString withDollarMath(QStringView markdown);
};
