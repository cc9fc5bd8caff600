#include "markdownrenderer.h"

#include "codehighlighter.h"

#include <md4c.h>

#include <QHash>
#include <QRegularExpression>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {

struct Colours
{
    const char *inlineCode;
    const char *link;
    const char *border;
};

constexpr Colours kLight{"rgba(127,127,127,0.16)", "#0969da", "#d0d7de"};
constexpr Colours kDark{"rgba(160,160,160,0.20)", "#58a6ff", "#444c56"};

QString decodedEntity(const QString &entity)
{
    static const QHash<QString, QString> named{{u"&amp;"_s, u"&"_s},  {u"&lt;"_s, u"<"_s},
                                               {u"&gt;"_s, u">"_s},   {u"&quot;"_s, u"\""_s},
                                               {u"&apos;"_s, u"'"_s}, {u"&nbsp;"_s, u"\u00a0"_s}};
    if (const auto it = named.constFind(entity); it != named.constEnd())
        return *it;
    if (entity.startsWith("&#"_L1) && entity.endsWith(u';')) {
        bool ok = false;
        const bool hex = entity.size() > 3 && (entity.at(2) == u'x' || entity.at(2) == u'X');
        const uint code = entity.mid(hex ? 3 : 2, entity.size() - (hex ? 4 : 3)).toUInt(&ok, hex ? 16 : 10);
        if (ok && code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)) {
            const char32_t c = code;
            return QString::fromUcs4(&c, 1);
        }
    }
    return entity;
}

// An attribute (a link's address) as text: md4c leaves its entities (&amp;) to the renderer.
QString attribute(const MD_ATTRIBUTE &a)
{
    if (!a.substr_offsets)
        return QString::fromUtf8(a.text, qsizetype(a.size));
    QString text;
    for (int i = 0; a.substr_offsets[i] < a.size; ++i) {
        const MD_OFFSET from = a.substr_offsets[i];
        const QString part = QString::fromUtf8(a.text + from, qsizetype(a.substr_offsets[i + 1] - from));
        switch (a.substr_types[i]) {
        case MD_TEXT_ENTITY:
            text += decodedEntity(part);
            break;
        case MD_TEXT_NULLCHAR:
            text += QChar::ReplacementCharacter;
            break;
        default:
            text += part;
            break;
        }
    }
    return text;
}

bool safeLink(const QString &href)
{
    const QString scheme = QUrl(href).scheme().toLower();
    return scheme == "http"_L1 || scheme == "https"_L1 || scheme == "mailto"_L1;
}

class Builder
{
public:
    Builder(bool dark, const MD_CHAR *inputBegin, const MD_CHAR *inputEnd)
        : m_dark(dark), m_c(dark ? kDark : kLight), m_inputBegin(inputBegin), m_inputEnd(inputEnd)
    {}

    QList<MarkdownBlock> blocks;

    int enterBlock(MD_BLOCKTYPE type, void *detail)
    {
        ++m_depth;
        if (m_depth == 1)
            return 0; // the document
        const bool top = m_depth == 2;
        if (top) {
            m_current = MarkdownBlock();
            m_html.clear();
        }
        switch (type) {
        case MD_BLOCK_QUOTE:
            closeItemLine();
            if (top) {
                m_current.kind = MarkdownBlock::Kind::Quote;
            } else {
                ++m_nestedQuotes;
                m_html += "<blockquote>"_L1;
            }
            break;
        case MD_BLOCK_UL:
        case MD_BLOCK_OL: {
            closeItemLine();
            List list;
            if (type == MD_BLOCK_OL) {
                const auto *ol = static_cast<MD_BLOCK_OL_DETAIL *>(detail);
                list.ordered = true;
                list.next = ol->start;
                list.tight = ol->is_tight;
            } else {
                list.tight = static_cast<MD_BLOCK_UL_DETAIL *>(detail)->is_tight;
            }
            m_lists.append(list);
            break;
        }
        case MD_BLOCK_LI: {
            // Items as paragraphs with their own marker: Qt 6.4's lists cannot start at another
            // number than 1, and a list cut by a code block must go on counting.
            closeItemLine();
            const auto *li = static_cast<MD_BLOCK_LI_DETAIL *>(detail);
            List &list = m_lists.last();
            static const char16_t bullets[] = {u'\u2022', u'\u25e6', u'\u25aa'};
            QString marker = list.ordered ? QString::number(list.next++) + u'.'
                                          : QString(bullets[(m_lists.size() - 1) % 3]);
            if (li->is_task)
                marker = li->task_mark == ' ' ? u"\u2610"_s : u"\u2611"_s;
            m_html += u"<p style=\"margin-top:0; margin-bottom:%1px; margin-left:%2px; text-indent:-18px\">"_s
                          .arg(list.tight ? 2 : 6)
                          .arg(indent());
            m_html += marker + u"\u00a0 "_s;
            m_itemLine = true;
            break;
        }
        case MD_BLOCK_HR:
            closeItemLine();
            if (top)
                m_current.kind = MarkdownBlock::Kind::Rule;
            else
                m_html += "<hr/>"_L1;
            break;
        case MD_BLOCK_H: {
            closeItemLine();
            const int level = int(static_cast<MD_BLOCK_H_DETAIL *>(detail)->level);
            static const int sizes[] = {24, 20, 17, 15, 14, 13};
            if (top) {
                m_current.kind = MarkdownBlock::Kind::Heading;
                m_current.level = level;
            } else {
                m_html +=
                    u"<p style=\"margin-top:4px; margin-bottom:4px; margin-left:%1px\">"_s.arg(indent());
            }
            m_html +=
                u"<span style=\"font-size:%1px; font-weight:600\">"_s.arg(sizes[qBound(1, level, 6) - 1]);
            break;
        }
        case MD_BLOCK_CODE: {
            closeItemLine();
            const auto *code = static_cast<MD_BLOCK_CODE_DETAIL *>(detail);
            m_code.clear();
            m_inCode = true;
            m_codeLanguage = attribute(code->lang);
            break;
        }
        case MD_BLOCK_P:
            // A paragraph on its own needs no margins: the view spaces its blocks. The first one
            // of a list item goes on its marker's line (md4c reports none in a tight list).
            if (m_itemLine)
                m_itemLine = false;
            else if (!top)
                m_html += u"<p style=\"margin-top:0; margin-bottom:6px; margin-left:%1px\">"_s.arg(indent());
            break;
        case MD_BLOCK_TABLE:
            closeItemLine();
            if (top)
                m_current.kind = MarkdownBlock::Kind::Table;
            m_html += u"<table border=\"1\" cellspacing=\"0\" cellpadding=\"6\" "
                      "style=\"border-collapse:collapse; border-color:%1; border-style:solid\">"_s.arg(
                          QLatin1StringView(m_c.border));
            break;
        case MD_BLOCK_TR:
            m_html += "<tr>"_L1;
            break;
        case MD_BLOCK_TH:
        case MD_BLOCK_TD: {
            const MD_ALIGN align = static_cast<MD_BLOCK_TD_DETAIL *>(detail)->align;
            const char *alignText = align == MD_ALIGN_CENTER  ? "center"
                                    : align == MD_ALIGN_RIGHT ? "right"
                                                              : "left";
            // Header cells are bold (th); Qt Quick's text paints no cell backgrounds.
            m_html += u"<%1 align=\"%2\">"_s.arg(type == MD_BLOCK_TH ? "th"_L1 : "td"_L1,
                                                 QLatin1StringView(alignText));
            break;
        }
        case MD_BLOCK_HTML: // not produced: raw HTML is off
        case MD_BLOCK_DOC:
        case MD_BLOCK_THEAD:
        case MD_BLOCK_TBODY:
            break;
        }
        return 0;
    }

    int leaveBlock(MD_BLOCKTYPE type, void *)
    {
        const bool top = m_depth == 2;
        --m_depth;
        if (m_depth == 0)
            return 0;
        switch (type) {
        case MD_BLOCK_QUOTE:
            if (!top) {
                --m_nestedQuotes;
                m_html += "</blockquote>"_L1;
            }
            break;
        case MD_BLOCK_UL:
        case MD_BLOCK_OL:
            m_lists.removeLast();
            break;
        case MD_BLOCK_LI:
            closeItemLine();
            break;
        case MD_BLOCK_H:
            m_html += top ? "</span>"_L1 : "</span></p>"_L1;
            break;
        case MD_BLOCK_CODE: {
            m_inCode = false;
            if (m_code.endsWith(u'\n'))
                m_code.chop(1);
            MarkdownBlock code;
            code.kind = MarkdownBlock::Kind::Code;
            code.code = m_code;
            code.language = m_codeLanguage.section(u' ', 0, 0);
            code.html = CodeHighlighter::shared().toHtml(m_code, m_codeLanguage, m_dark);
            code.level = int(m_lists.size()); // indented as deep as its list
            if (top) {
                m_current = code;
            } else if (m_nestedQuotes == 0) {
                // In a list or quote: a block of its own between the text before and after it
                // (language, Copy, sideways scroll), which goes on in the same kind of block.
                flushText();
                blocks.append(code);
            } else {
                m_html += u"<pre style=\"white-space:pre-wrap; font-family:'DejaVu Sans Mono',monospace; "
                          "background-color:%1\">"_s.arg(QLatin1StringView(m_c.inlineCode));
                m_html += code.html;
                m_html += "</pre>"_L1;
            }
            break;
        }
        case MD_BLOCK_P:
            if (!top)
                m_html += "</p>"_L1;
            break;
        case MD_BLOCK_TABLE:
            m_html += "</table>"_L1;
            break;
        case MD_BLOCK_TR:
            m_html += "</tr>"_L1;
            break;
        case MD_BLOCK_TH:
            m_html += "</th>"_L1;
            break;
        case MD_BLOCK_TD:
            m_html += "</td>"_L1;
            break;
        default:
            break;
        }
        if (top) {
            if (m_current.kind == MarkdownBlock::Kind::Code || m_current.kind == MarkdownBlock::Kind::Rule)
                blocks.append(m_current);
            else
                flushText();
            m_html.clear();
        }
        return 0;
    }

    int enterSpan(MD_SPANTYPE type, void *detail)
    {
        switch (type) {
        case MD_SPAN_EM:
            m_html += "<i>"_L1;
            break;
        case MD_SPAN_STRONG:
            m_html += "<b>"_L1;
            break;
        case MD_SPAN_U:
            m_html += "<u>"_L1;
            break;
        case MD_SPAN_DEL:
            m_html += "<s>"_L1;
            break;
        case MD_SPAN_CODE:
            m_html +=
                u"<span style=\"font-family:'DejaVu Sans Mono',monospace; background-color:%1\">&#8202;"_s
                    .arg(QLatin1StringView(m_c.inlineCode));
            break;
        case MD_SPAN_A: {
            const QString href = attribute(static_cast<MD_SPAN_A_DETAIL *>(detail)->href);
            m_linkOpen.append(safeLink(href));
            if (m_linkOpen.constLast())
                m_html += u"<a href=\"%1\" style=\"color:%2\">"_s.arg(href.toHtmlEscaped(),
                                                                      QLatin1StringView(m_c.link));
            break;
        }
        case MD_SPAN_IMG: {
            // Never fetched from a reply: shown as a link to the image.
            const QString src = attribute(static_cast<MD_SPAN_IMG_DETAIL *>(detail)->src);
            m_linkOpen.append(safeLink(src));
            m_html += m_linkOpen.constLast() ? u"<a href=\"%1\" style=\"color:%2\">\U0001F5BC "_s.arg(
                                                   src.toHtmlEscaped(), QLatin1StringView(m_c.link))
                                             : u"\U0001F5BC "_s;
            break;
        }
        case MD_SPAN_LATEXMATH:
        case MD_SPAN_LATEXMATH_DISPLAY:
            m_math = true;
            m_mathSource.clear();
            m_mathEnd = nullptr;
            m_mathHtmlStart = m_html.size();
            if (type == MD_SPAN_LATEXMATH_DISPLAY && m_depth == 2 && m_html.isEmpty())
                m_current.kind = MarkdownBlock::Kind::Math;
            m_html += u"<span style=\"font-family:'DejaVu Serif',serif; font-style:italic\">"_s;
            break;
        case MD_SPAN_WIKILINK:
            break;
        }
        return 0;
    }

    int leaveSpan(MD_SPANTYPE type, void *)
    {
        switch (type) {
        case MD_SPAN_EM:
            m_html += "</i>"_L1;
            break;
        case MD_SPAN_STRONG:
            m_html += "</b>"_L1;
            break;
        case MD_SPAN_U:
            m_html += "</u>"_L1;
            break;
        case MD_SPAN_DEL:
            m_html += "</s>"_L1;
            break;
        case MD_SPAN_CODE:
            m_html += "&#8202;</span>"_L1;
            break;
        case MD_SPAN_A:
        case MD_SPAN_IMG:
            if (!m_linkOpen.isEmpty() && m_linkOpen.takeLast())
                m_html += "</a>"_L1;
            break;
        case MD_SPAN_LATEXMATH:
        case MD_SPAN_LATEXMATH_DISPLAY: {
            m_math = false;
            const bool display = type == MD_SPAN_LATEXMATH_DISPLAY;
            const QString delimiter = display ? u"$$"_s : u"$"_s;
            // md4c takes "$5 and $10" for math; like Pandoc, an inline formula neither begins nor
            // ends with a space and its closing $ is not followed by a digit. Otherwise it was
            // text. ($$ on lines of their own is display math.)
            const bool literal =
                m_mathSource.trimmed().isEmpty() ||
                (!display &&
                 (m_mathSource.front().isSpace() || m_mathSource.back().isSpace() ||
                  (m_mathEnd && m_mathEnd + 1 < m_inputEnd && QChar::fromLatin1(m_mathEnd[1]).isDigit())));
            if (literal) {
                m_html.truncate(m_mathHtmlStart);
                m_html += (delimiter + m_mathSource + delimiter).toHtmlEscaped();
                if (m_current.kind == MarkdownBlock::Kind::Math)
                    m_current.kind = MarkdownBlock::Kind::Text;
                break;
            }
            m_mathSource = m_mathSource.trimmed();
            if (m_current.kind == MarkdownBlock::Kind::Math)
                m_current.code = m_mathSource;
            m_html += "</span>"_L1;
            break;
        } break;
        case MD_SPAN_WIKILINK:
            break;
        }
        return 0;
    }

    int text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size)
    {
        const QString s = QString::fromUtf8(text, qsizetype(size));
        if (m_inCode) {
            m_code += type == MD_TEXT_NULLCHAR ? QString(QChar::ReplacementCharacter) : s;
            return 0;
        }
        if (m_math) {
            m_mathSource += s;
            // (md4c's text for a NUL is not in the input.)
            if (text >= m_inputBegin && text + size <= m_inputEnd)
                m_mathEnd = text + size;
        } else if (m_current.kind == MarkdownBlock::Kind::Math && !s.trimmed().isEmpty()) {
            m_current.kind = MarkdownBlock::Kind::Text; // text beside the formula: a paragraph
        }
        switch (type) {
        case MD_TEXT_NULLCHAR:
            m_html += QChar::ReplacementCharacter;
            break;
        case MD_TEXT_BR:
            m_html += "<br/>"_L1;
            break;
        case MD_TEXT_SOFTBR:
            m_html += u' ';
            break;
        case MD_TEXT_ENTITY:
            // md4c checked it is an entity (&amp; &#123; &#x4E2D;): decoded by Qt's HTML parser.
            m_html += s;
            break;
        default:
            m_html += s.toHtmlEscaped();
            break;
        }
        return 0;
    }

private:
    struct List
    {
        bool ordered = false;
        unsigned next = 1;
        bool tight = true;
    };

    int indent() const { return int(m_lists.size()) * 22; }

    // A list item's first line is open until its text ends or a block inside it begins.
    void closeItemLine()
    {
        if (m_itemLine) {
            m_html += "</p>"_L1;
            m_itemLine = false;
        }
    }

    // The text gathered so far as a block of the current kind (text, heading, quote...).
    void flushText()
    {
        const QString html = trimmedBreaks(m_html);
        m_html.clear();
        if (html.isEmpty())
            return;
        MarkdownBlock b = m_current;
        if (b.kind == MarkdownBlock::Kind::Code || b.kind == MarkdownBlock::Kind::Rule)
            b = MarkdownBlock();
        b.html = html;
        blocks.append(b);
    }

    static QString trimmedBreaks(QString html)
    {
        while (html.endsWith("<br/>"_L1))
            html.chop(5);
        return html;
    }

    bool m_dark;
    Colours m_c;
    int m_depth = 0;
    MarkdownBlock m_current;
    QString m_html;
    QList<List> m_lists;
    bool m_itemLine = false;
    int m_nestedQuotes = 0;
    QList<bool> m_linkOpen;
    bool m_inCode = false;
    QString m_code;
    QString m_codeLanguage;
    bool m_math = false;
    QString m_mathSource;
    qsizetype m_mathHtmlStart = 0;
    const MD_CHAR *m_mathEnd = nullptr; // in the input, just after the formula's last character
    const MD_CHAR *m_inputBegin;
    const MD_CHAR *m_inputEnd;
};

} // namespace

MarkdownRenderer::Fence MarkdownRenderer::fenceOf(QStringView line)
{
    qsizetype i = 0;
    while (i < line.size() && i < 3 && line.at(i) == u' ')
        ++i;
    if (i >= line.size() || (line.at(i) != u'`' && line.at(i) != u'~'))
        return {};
    const QChar c = line.at(i);
    qsizetype n = 0;
    while (i + n < line.size() && line.at(i + n) == c)
        ++n;
    if (n < 3)
        return {};
    return {c, n, c == u'`' && line.mid(i + n).contains(u'`')};
}

namespace {

// \(…\) and \[…\] in text without code: inline code spans are set aside while the rest changes.
QString dollarsOutsideCode(const QString &text)
{
    static const QRegularExpression span(u"(`+)(?:.*?[^`])?\\1(?!`)"_s,
                                         QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression inlineMath(u"\\\\\\((.+?)\\\\\\)"_s);
    static const QRegularExpression displayMath(u"\\\\\\[(.+?)\\\\\\]"_s,
                                                QRegularExpression::DotMatchesEverythingOption);
    if (!text.contains(u'\\'))
        return text;
    QStringList kept;
    QString out;
    qsizetype at = 0;
    for (auto it = span.globalMatch(text); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        out += QStringView(text).mid(at, m.capturedStart() - at);
        out += u'\x01' + QString::number(kept.size()) + u'\x02';
        kept.append(m.captured());
        at = m.capturedEnd();
    }
    out += QStringView(text).mid(at);
    const auto replace = [&out](const QRegularExpression &re, const QString &delimiter) {
        QString result;
        qsizetype from = 0;
        for (auto it = re.globalMatch(out); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            const QString tex = m.captured(1).trimmed();
            if (tex.isEmpty())
                continue;
            result += QStringView(out).mid(from, m.capturedStart() - from);
            result += delimiter + tex + delimiter;
            from = m.capturedEnd();
        }
        result += QStringView(out).mid(from);
        out = result;
    };
    replace(displayMath, u"$$"_s);
    replace(inlineMath, u"$"_s);
    for (qsizetype i = 0; i < kept.size(); ++i)
        out.replace(u'\x01' + QString::number(i) + u'\x02', kept.at(i));
    return out;
}

} // namespace

QString MarkdownRenderer::withDollarMath(QStringView markdown)
{
    if (!markdown.contains(u"\\(") && !markdown.contains(u"\\["))
        return markdown.toString();
    // Region by region between fences; a fence's lines stay as they are.
    QString out;
    QString text;
    QChar fenceChar;
    qsizetype fenceLength = 0;
    for (QStringView line : markdown.split(u'\n')) {
        const Fence f = fenceOf(line);
        if (fenceLength == 0 && f.length > 0 && !f.backtickInInfo) {
            out += dollarsOutsideCode(text);
            text.clear();
            fenceChar = f.c;
            fenceLength = f.length;
            out += line;
            out += u'\n';
        } else if (fenceLength > 0) {
            if (f.c == fenceChar && f.length >= fenceLength && line.trimmed().size() == f.length)
                fenceLength = 0;
            out += line;
            out += u'\n';
        } else {
            text += line;
            text += u'\n';
        }
    }
    out += dollarsOutsideCode(text);
    out.chop(1); // the newline added after the last line
    return out;
}

QList<MarkdownBlock> MarkdownRenderer::render(QStringView markdown, bool dark)
{
    const QByteArray utf8 = withDollarMath(markdown).toUtf8();
    Builder builder(dark, utf8.constData(), utf8.constData() + utf8.size());
    MD_PARSER parser{};
    parser.abi_version = 0;
    parser.flags = MD_DIALECT_GITHUB | MD_FLAG_LATEXMATHSPANS | MD_FLAG_NOHTML;
    parser.enter_block = [](MD_BLOCKTYPE t, void *d, void *u) {
        return static_cast<Builder *>(u)->enterBlock(t, d);
    };
    parser.leave_block = [](MD_BLOCKTYPE t, void *d, void *u) {
        return static_cast<Builder *>(u)->leaveBlock(t, d);
    };
    parser.enter_span = [](MD_SPANTYPE t, void *d, void *u) {
        return static_cast<Builder *>(u)->enterSpan(t, d);
    };
    parser.leave_span = [](MD_SPANTYPE t, void *d, void *u) {
        return static_cast<Builder *>(u)->leaveSpan(t, d);
    };
    parser.text = [](MD_TEXTTYPE t, const MD_CHAR *s, MD_SIZE n, void *u) {
        return static_cast<Builder *>(u)->text(t, s, n);
    };
    md_parse(utf8.constData(), MD_SIZE(utf8.size()), &parser, &builder);
    return builder.blocks;
}
