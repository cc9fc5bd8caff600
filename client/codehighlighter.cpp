#include "codehighlighter.h"

#include "logging.h"

#include <srchilite/formatter.h>
#include <srchilite/formattermanager.h>
#include <srchilite/formatterparams.h>
#include <srchilite/langdefmanager.h>
#include <srchilite/langmap.h>
#include <srchilite/regexrulefactory.h>
#include <srchilite/settings.h>
#include <srchilite/sourcehighlighter.h>

#include <QFileInfo>

#include <exception>

using namespace Qt::StringLiterals;

namespace {

// Colours per source-highlight element, close to GitHub's for light and dark backgrounds.
struct ElementColour
{
    const char *element;
    const char *light;
    const char *dark;
    bool bold = false;
    bool italic = false;
};

constexpr ElementColour kColours[] = {
    {"keyword", "#cf222e", "#ff7b72", true}, {"type", "#0550ae", "#79c0ff"},
    {"usertype", "#953800", "#ffa657"},      {"classname", "#953800", "#ffa657"},
    {"string", "#0a3069", "#a5d6ff"},        {"regexp", "#0a3069", "#a5d6ff"},
    {"specialchar", "#116329", "#7ee787"},   {"comment", "#6e7781", "#8b949e", false, true},
    {"number", "#0550ae", "#79c0ff"},        {"preproc", "#8250df", "#d2a8ff"},
    {"function", "#8250df", "#d2a8ff"},      {"predef_func", "#8250df", "#d2a8ff"},
    {"predef_var", "#0550ae", "#79c0ff"},    {"variable", "#953800", "#ffa657"},
    {"label", "#0550ae", "#79c0ff"},         {"property", "#0550ae", "#79c0ff"},
    {"selector", "#116329", "#7ee787"},      {"value", "#0a3069", "#a5d6ff"},
    {"attribute", "#0550ae", "#79c0ff"},     {"todo", "#9a6700", "#e3b341", true},
    {"url", "#0969da", "#58a6ff"},           {"oldfile", "#82071e", "#ffa198"},
    {"newfile", "#116329", "#7ee787"},       {"difflines", "#8250df", "#d2a8ff"},
};

QString escaped(const std::string &s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size())).toHtmlEscaped();
}

// Appends an element's text to the line being built, in its colour (or plain); the same colour
// twice in a row stays one span.
struct LineBuffer
{
    QString html;
    const QString *lastOpen = nullptr;
};

class SpanFormatter : public srchilite::Formatter
{
public:
    SpanFormatter(LineBuffer *out, QString open) : m_out(out), m_open(std::move(open)) {}
    void format(const std::string &s, const srchilite::FormatterParams *) override
    {
        if (s.empty())
            return;
        if (m_open.isEmpty()) {
            m_out->html.append(escaped(s));
            m_out->lastOpen = nullptr;
            return;
        }
        if (m_out->lastOpen == &m_open)
            m_out->html.chop(7); // "</span>"
        else
            m_out->html.append(m_open);
        m_out->html.append(escaped(s));
        m_out->html.append("</span>"_L1);
        m_out->lastOpen = &m_open;
    }

private:
    LineBuffer *m_out;
    QString m_open;
};

} // namespace

struct CodeHighlighter::Private
{
    std::string dataDir;
    srchilite::RegexRuleFactory ruleFactory;
    srchilite::LangDefManager langDefs{&ruleFactory};
    std::unique_ptr<srchilite::LangMap> langMap;
    QHash<QString, srchilite::HighlightStatePtr> states; // by .lang file; null: failed to load
    LineBuffer out;
    // The last block highlighted, line by line with the highlighter's state after each line: a
    // block that streams in is highlighted from its first changed line, not from the top.
    struct LastRun
    {
        QString file;
        bool dark = false;
        QStringList lines;
        QStringList html;
        std::vector<std::pair<srchilite::HighlightStatePtr, srchilite::HighlightStateStack>> states;
    } last;
    std::unique_ptr<srchilite::FormatterManager> formatters[2]; // light, dark

    QString langFile(const QString &language)
    {
        QString name = language.trimmed().toLower();
        // Fences often carry a file name or attributes: "```python title=x", "```main.cpp",
        // "```{.python}" or "```python{1,3}".
        if (name.startsWith(u'{'))
            name = name.mid(1).remove(u'}').remove(u'.');
        name = name.section(u' ', 0, 0).section(u'{', 0, 0);
        static const QHash<QString, QString> aliases{
            {u"c++"_s, u"cpp.lang"_s},        {u"cxx"_s, u"cpp.lang"_s},
            {u"hpp"_s, u"cpp.lang"_s},        {u"h"_s, u"cpp.lang"_s},
            {u"cc"_s, u"cpp.lang"_s},         {u"objc"_s, u"cpp.lang"_s},
            {u"ts"_s, u"javascript.lang"_s},  {u"typescript"_s, u"javascript.lang"_s},
            {u"tsx"_s, u"javascript.lang"_s}, {u"jsx"_s, u"javascript.lang"_s},
            {u"qml"_s, u"javascript.lang"_s}, {u"node"_s, u"javascript.lang"_s},
            {u"shell"_s, u"sh.lang"_s},       {u"console"_s, u"sh.lang"_s},
            {u"zsh"_s, u"zsh.lang"_s},        {u"rs"_s, u"rust.lang"_s},
            {u"rust"_s, u"rust.lang"_s},      {u"golang"_s, u"go.lang"_s},
            {u"kotlin"_s, u"java.lang"_s},    {u"kt"_s, u"java.lang"_s},
            {u"yml"_s, u"properties.lang"_s}, {u"yaml"_s, u"properties.lang"_s},
            {u"toml"_s, u"conf.lang"_s},      {u"ini"_s, u"conf.lang"_s},
            {u"dockerfile"_s, u"sh.lang"_s},  {u"cmake"_s, u"makefile.lang"_s},
            {u"patch"_s, u"diff.lang"_s},     {u"jsonc"_s, u"json.lang"_s},
            {u"svg"_s, u"xml.lang"_s},        {u"vue"_s, u"html.lang"_s},
            {u"postgres"_s, u"sql.lang"_s},   {u"postgresql"_s, u"sql.lang"_s},
            {u"sqlite"_s, u"sql.lang"_s},     {u"text"_s, QString()},
            {u"plain"_s, QString()},          {u"txt"_s, QString()},
        };
        if (name.isEmpty())
            return {};
        if (const auto it = aliases.constFind(name); it != aliases.constEnd())
            return *it;
        try {
            const std::string mapped = langMap->getMappedFileName(name.toStdString());
            if (!mapped.empty())
                return QString::fromStdString(mapped);
            // "main.py": by the extension.
            if (name.contains(u'.'))
                return QString::fromStdString(langMap->getMappedFileNameFromFileName(name.toStdString()));
        } catch (const std::exception &e) {
            qCWarning(lcClient) << "source-highlight lang.map:" << e.what();
        }
        return {};
    }

    srchilite::HighlightStatePtr state(const QString &file)
    {
        if (file.isEmpty())
            return {};
        if (const auto it = states.constFind(file); it != states.constEnd())
            return *it;
        srchilite::HighlightStatePtr s;
        try {
            s = langDefs.getHighlightState(dataDir, file.toStdString());
        } catch (const std::exception &e) {
            qCWarning(lcClient) << "source-highlight could not load" << file << e.what();
        }
        states.insert(file, s);
        return s;
    }

    srchilite::FormatterManager *formatterManager(bool dark)
    {
        auto &manager = formatters[dark ? 1 : 0];
        if (!manager) {
            manager = std::make_unique<srchilite::FormatterManager>(
                srchilite::FormatterPtr(new SpanFormatter(&out, QString())));
            for (const ElementColour &c : kColours) {
                QString open = u"<span style=\"color:%1"_s.arg(QLatin1StringView(dark ? c.dark : c.light));
                if (c.bold)
                    open += u";font-weight:600"_s;
                if (c.italic)
                    open += u";font-style:italic"_s;
                open += u"\">"_s;
                manager->addFormatter(c.element, srchilite::FormatterPtr(new SpanFormatter(&out, open)));
            }
        }
        return manager.get();
    }
};

CodeHighlighter::CodeHighlighter() : d(std::make_unique<Private>())
{
    d->dataDir = srchilite::Settings::retrieveDataDir();
    d->langMap = std::make_unique<srchilite::LangMap>(d->dataDir, "lang.map");
}

CodeHighlighter::~CodeHighlighter() = default;

CodeHighlighter &CodeHighlighter::shared()
{
    thread_local CodeHighlighter highlighter;
    return highlighter;
}

bool CodeHighlighter::knows(const QString &language)
{
    return bool(d->state(d->langFile(language)));
}

QString CodeHighlighter::toHtml(const QString &code, const QString &language, bool dark)
{
    const QString file = d->langFile(language);
    const srchilite::HighlightStatePtr state = d->state(file);
    QStringList lines = code.split(u'\n');
    if (!state) {
        for (QString &line : lines)
            line = line.toHtmlEscaped();
        return lines.join(u'\n');
    }
    Private::LastRun &last = d->last;
    qsizetype same = 0;
    if (last.file == file && last.dark == dark) {
        while (same < lines.size() && same < last.lines.size() && lines.at(same) == last.lines.at(same))
            ++same;
    }
    last.file = file;
    last.dark = dark;
    last.lines.resize(same);
    last.html.resize(same);
    last.states.resize(size_t(same));

    srchilite::SourceHighlighter highlighter(state);
    highlighter.setFormatterManager(d->formatterManager(dark));
    srchilite::FormatterParams params;
    highlighter.setFormatterParams(&params);
    if (same > 0) {
        // Where the unchanged lines left the highlighter (inside a comment, a string...).
        highlighter.setCurrentState(last.states.back().first);
        highlighter.setStateStack(
            srchilite::HighlightStateStackPtr(new srchilite::HighlightStateStack(last.states.back().second)));
    }
    for (qsizetype i = same; i < lines.size(); ++i) {
        d->out = {};
        params.start = 0;
        try {
            // The state carries over from line to line: a comment or string may span lines.
            highlighter.highlightParagraph(lines.at(i).toStdString());
        } catch (const std::exception &) {
            d->out.html = lines.at(i).toHtmlEscaped();
        }
        last.lines.append(lines.at(i));
        last.html.append(d->out.html);
        last.states.emplace_back(highlighter.getCurrentState(), *highlighter.getStateStack());
    }
    return last.html.join(u'\n');
}
