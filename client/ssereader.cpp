#include "ssereader.h"

QList<QByteArray> SseReader::feed(const QByteArray &bytes)
{
    QList<QByteArray> out;
    qsizetype start = 0;
    const qsizetype n = bytes.size();
    if (m_lastWasCR && n > 0 && bytes.at(0) == '\n')
        start = 1;
    m_lastWasCR = false;
    for (qsizetype i = start; i < n; ++i) {
        const char c = bytes.at(i);
        if (c != '\n' && c != '\r')
            continue;
        m_line.append(bytes.constData() + start, i - start);
        processLine(m_line, out);
        m_line.clear();
        if (c == '\r') {
            if (i + 1 < n) {
                if (bytes.at(i + 1) == '\n')
                    ++i;
            } else {
                m_lastWasCR = true;
            }
        }
        start = i + 1;
    }
    if (start < n)
        m_line.append(bytes.constData() + start, n - start);
    return out;
}

QByteArray SseReader::finish()
{
    QList<QByteArray> out;
    if (!m_line.isEmpty()) {
        processLine(m_line, out);
        m_line.clear();
    }
    QByteArray last;
    if (m_hasData) {
        last = m_data;
        m_lastEventId = m_idBuffer;
    }
    m_data.clear();
    m_hasData = false;
    m_lastWasCR = false;
    return last;
}

void SseReader::reset()
{
    m_line.clear();
    m_data.clear();
    m_hasData = false;
    m_lastWasCR = false;
    m_comments = 0;
    m_idBuffer.clear();
    m_lastEventId.clear();
}

void SseReader::processLine(const QByteArray &line, QList<QByteArray> &out)
{
    if (line.isEmpty()) { // blank line: dispatch
        if (m_hasData) {
            out.append(m_data);
            m_lastEventId = m_idBuffer;
        }
        m_data.clear();
        m_hasData = false;
        return;
    }
    if (line.startsWith(':')) {
        ++m_comments;
        return;
    }
    const qsizetype colon = line.indexOf(':');
    const QByteArray field = colon < 0 ? line : line.left(colon);
    QByteArray value;
    if (colon >= 0) {
        value = line.mid(colon + 1);
        if (value.startsWith(' '))
            value.remove(0, 1);
    }
    if (field == "data") {
        if (m_hasData)
            m_data.append('\n');
        m_data.append(value);
        m_hasData = true;
    } else if (field == "id" && !value.contains('\0')) {
        m_idBuffer = value;
    }
    // "event", "retry" and unknown fields: nothing the chat stream uses.
}
