#include "thinksplitter.h"

using namespace Qt::StringLiterals;

namespace {
constexpr QStringView openTag = u"<think>";
constexpr QStringView closeTag = u"</think>";

// The length of the longest end of `text` that begins `tag` (a tag that may be cut in two).
qsizetype partialTagAtEnd(QStringView text, QStringView tag)
{
    for (qsizetype n = qMin(text.size(), tag.size() - 1); n > 0; --n) {
        if (text.right(n) == tag.left(n))
            return n;
    }
    return 0;
}
} // namespace

ThinkSplitter::Pieces ThinkSplitter::feed(const QString &delta)
{
    Pieces out;
    if (m_state == State::Content) { // the usual case once decided: no copy
        out.content = delta;
        return out;
    }
    m_held += delta;
    run(out);
    return out;
}

void ThinkSplitter::run(Pieces &out)
{
    for (;;) {
        switch (m_state) {
        case State::Start: {
            qsizetype i = 0;
            while (i < m_held.size() && m_held.at(i).isSpace())
                ++i;
            const QStringView rest = QStringView(m_held).mid(i);
            if (rest.startsWith(openTag)) {
                m_held.remove(0, i + openTag.size());
                m_state = State::Think;
                continue;
            }
            if (openTag.startsWith(rest))
                return; // "", "  <th": not decided yet
            m_state = State::Content;
            out.content += m_held;
            m_held.clear();
            return;
        }
        case State::Think: {
            const qsizetype end = m_held.indexOf(closeTag);
            if (end >= 0) {
                out.reasoning += m_held.left(end);
                m_held.remove(0, end + closeTag.size());
                m_state = State::AfterThink;
                continue;
            }
            const qsizetype keep = partialTagAtEnd(m_held, closeTag);
            out.reasoning += m_held.left(m_held.size() - keep);
            m_held.remove(0, m_held.size() - keep);
            return;
        }
        case State::AfterThink: {
            // The blank lines between the block and the answer belong to neither.
            qsizetype i = 0;
            while (i < m_held.size() && m_held.at(i).isSpace())
                ++i;
            m_held.remove(0, i);
            if (m_held.isEmpty())
                return;
            m_state = State::Content;
            out.content += m_held;
            m_held.clear();
            return;
        }
        case State::Content:
            out.content += m_held;
            m_held.clear();
            return;
        }
    }
}

ThinkSplitter::Pieces ThinkSplitter::flush()
{
    Pieces out;
    if (m_state == State::Think)
        out.reasoning = m_held; // a block never closed: all of it was reasoning
    else if (m_state != State::AfterThink)
        out.content = m_held; // "<thi" and nothing more was the answer
    m_held.clear();
    return out;
}
