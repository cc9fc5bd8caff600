#pragma once

#include <QHash>
#include <QString>

#include <memory>

// Syntax highlighting of a code block as Qt rich text (spans with colours), by GNU
// source-highlight's language definitions: the language named on a fence ("py", "c++", "ts")
// is looked up in its lang.map, with a few aliases it lacks. Unknown languages come back escaped,
// uncoloured. Definitions are loaded once per language and kept.
class CodeHighlighter
{
public:
    CodeHighlighter();
    ~CodeHighlighter();
    CodeHighlighter(const CodeHighlighter &) = delete;
    CodeHighlighter &operator=(const CodeHighlighter &) = delete;

    // One per thread of use (the GUI's): definitions are large and parsing them takes milliseconds.
    static CodeHighlighter &shared();

    bool knows(const QString &language);
    // `code` as HTML for a <pre>: every line escaped, keywords, strings, comments... coloured for
    // a light or a dark background.
    QString toHtml(const QString &code, const QString &language, bool dark);

private:
    struct Private;
    std::unique_ptr<Private> d;
};
