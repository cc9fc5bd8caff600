#include "markdownblockmodel.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace {

// Blank to CommonMark: spaces and tabs only (a no-break or ideographic space is text).
bool isBlank(QStringView line)
{
    for (QChar c : line)
        if (c != u' ' && c != u'\t' && c != u'\r')
            return false;
    return true;
}

bool isMarkerEnd(QStringView line, qsizetype at)
{
    return at >= line.size() || line.at(at) == u' ' || line.at(at) == u'\t';
}

// A line that may continue what came before a blank line: indented, a list item, a table row.
bool continuesBlock(QStringView line)
{
    const QChar first = line.at(0);
    if (first.isSpace() || first == u'|')
        return true;
    if ((first == u'-' || first == u'*' || first == u'+') && isMarkerEnd(line, 1))
        return true;
    qsizetype i = 0;
    while (i < line.size() && i < 9 && line.at(i).isDigit())
        ++i;
    return i > 0 && i < line.size() && (line.at(i) == u'.' || line.at(i) == u')') && isMarkerEnd(line, i + 1);
}

// "[label]: destination" at the start of a line: a link defined for the whole text, which a
// chunk parsed alone would not know.
bool hasLinkDefinition(QStringView text)
{
    static const QRegularExpression definition(u"(?:^|\\n) {0,3}\\[[^\\]\\n]+\\]:"_s);
    return definition.match(text).hasMatch();
}

} // namespace

MarkdownBlockModel::MarkdownBlockModel(QObject *parent) : QAbstractListModel(parent) {}

int MarkdownBlockModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_blocks.size());
}

QVariant MarkdownBlockModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_blocks.size())
        return {};
    const MarkdownBlock &b = m_blocks.at(index.row());
    switch (role) {
    case KindRole: {
        // In the order of MarkdownBlock::Kind.
        static const QString kinds[] = {u"text"_s,  u"heading"_s, u"code"_s, u"table"_s,
                                        u"quote"_s, u"math"_s,    u"rule"_s};
        return kinds[int(b.kind)];
    }
    case HtmlRole:
        return b.html;
    case CodeRole:
        return b.code;
    case LanguageRole:
        return b.language;
    case LevelRole:
        return b.level;
    default:
        return {};
    }
}

QHash<int, QByteArray> MarkdownBlockModel::roleNames() const
{
    return {{KindRole, "kind"},
            {HtmlRole, "html"},
            {CodeRole, "code"},
            {LanguageRole, "language"},
            {LevelRole, "level"}};
}

QList<qsizetype> MarkdownBlockModel::chunkStarts(QStringView text, qsizetype from)
{
    QList<qsizetype> starts{from};
    QChar fenceChar;
    qsizetype fenceLength = 0;
    bool previousBlank = false;
    qsizetype pos = from;
    while (pos < text.size()) {
        const qsizetype end = text.indexOf(u'\n', pos);
        if (end < 0)
            break; // an unfinished line decides nothing yet
        const QStringView line = text.mid(pos, end - pos);
        const MarkdownRenderer::Fence f = MarkdownRenderer::fenceOf(line);
        if (fenceLength > 0) {
            if (f.c == fenceChar && f.length >= fenceLength &&
                isBlank(line.mid(line.indexOf(f.c) + f.length)))
                fenceLength = 0;
            previousBlank = false;
        } else if (isBlank(line)) {
            previousBlank = true;
        } else {
            if (previousBlank && pos > from && !continuesBlock(line))
                starts.append(pos);
            if (f.length > 0 && !f.backtickInInfo) {
                fenceChar = f.c;
                fenceLength = f.length;
            }
            previousBlank = false;
        }
        pos = end + 1;
    }
    return starts;
}

void MarkdownBlockModel::componentComplete()
{
    m_complete = true;
    rebuild();
}

void MarkdownBlockModel::setMarkdown(const QString &markdown)
{
    if (markdown == m_text)
        return;
    if (!m_complete) {
        m_text = markdown;
        Q_EMIT markdownChanged();
        return;
    }
    // The chunks before the last stand while the text up to the end of the last one's first line
    // (which decided where it starts) is unchanged.
    bool grows = !m_chunks.isEmpty();
    if (grows) {
        const qsizetype keep = m_text.indexOf(u'\n', m_chunks.constLast().start) + 1;
        grows = keep > 0 && QStringView(markdown).left(keep) == QStringView(m_text).left(keep);
    }
    m_text = markdown;
    // A link definition makes the text one chunk from then on.
    if (grows && !m_linkDefinitions &&
        hasLinkDefinition(QStringView(markdown).mid(m_chunks.constLast().start)))
        grows = false;
    if (!grows) {
        rebuild();
        Q_EMIT markdownChanged();
        return;
    }
    // The chunks before the last stay; the last one and what follows are parsed again.
    const Chunk last = m_chunks.takeLast();
    const qsizetype firstBlock = m_blocks.size() - last.blockCount;
    const QList<MarkdownBlock> fresh = parseFrom(last.start);
    replaceFrom(firstBlock, fresh);
    Q_EMIT markdownChanged();
}

void MarkdownBlockModel::setDark(bool dark)
{
    if (dark == m_dark)
        return;
    m_dark = dark;
    if (m_complete)
        rebuild(); // highlighting and tints are in the HTML
    Q_EMIT darkChanged();
}

void MarkdownBlockModel::rebuild()
{
    m_chunks.clear();
    m_linkDefinitions = hasLinkDefinition(m_text);
    replaceFrom(0, m_text.isEmpty() ? QList<MarkdownBlock>() : parseFrom(0));
}

QList<MarkdownBlock> MarkdownBlockModel::parseFrom(qsizetype from)
{
    const QList<qsizetype> starts = m_linkDefinitions ? QList<qsizetype>{from} : chunkStarts(m_text, from);
    QList<MarkdownBlock> fresh;
    for (qsizetype i = 0; i < starts.size(); ++i) {
        const qsizetype end = i + 1 < starts.size() ? starts.at(i + 1) : m_text.size();
        const QList<MarkdownBlock> blocks =
            MarkdownRenderer::render(QStringView(m_text).mid(starts.at(i), end - starts.at(i)), m_dark);
        m_chunks.append({starts.at(i), blocks.size()});
        fresh.append(blocks);
    }
    m_parsed += m_text.size() - from;
    return fresh;
}

void MarkdownBlockModel::replaceFrom(qsizetype firstBlock, const QList<MarkdownBlock> &blocks)
{
    const qsizetype oldCount = m_blocks.size();
    const qsizetype newCount = firstBlock + blocks.size();
    const qsizetype common = std::min(oldCount, newCount);
    for (qsizetype row = firstBlock; row < common; ++row) {
        const MarkdownBlock &b = blocks.at(row - firstBlock);
        if (m_blocks.at(row) != b) {
            m_blocks[row] = b;
            Q_EMIT dataChanged(index(int(row)), index(int(row)));
        }
    }
    if (newCount > oldCount) {
        beginInsertRows({}, int(oldCount), int(newCount - 1));
        for (qsizetype row = oldCount; row < newCount; ++row)
            m_blocks.append(blocks.at(row - firstBlock));
        endInsertRows();
    } else if (newCount < oldCount) {
        beginRemoveRows({}, int(newCount), int(oldCount - 1));
        m_blocks.resize(newCount);
        endRemoveRows();
    }
    if (newCount != oldCount)
        Q_EMIT countChanged();
}

void MarkdownBlockModel::copyCode(int row) const
{
    if (row < 0 || row >= m_blocks.size())
        return;
    const MarkdownBlock &b = m_blocks.at(row);
    if (b.kind == MarkdownBlock::Kind::Code || b.kind == MarkdownBlock::Kind::Math)
        QGuiApplication::clipboard()->setText(b.code);
}
