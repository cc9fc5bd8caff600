#include "requestframer.h"

#include <limits>

namespace {

constexpr qsizetype maxChunkSizeLine = 1024;

bool isLeadingSpace(char c)
{
    return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\v';
}

QByteArrayView trimmed(QByteArrayView text)
{
    while (!text.isEmpty() && (text.front() == ' ' || text.front() == '\t'))
        text = text.sliced(1);
    while (!text.isEmpty() && (text.back() == ' ' || text.back() == '\t'))
        text.chop(1);
    return text;
}

bool nameIs(QByteArrayView name, QByteArrayView expected)
{
    return name.size() == expected.size() && qstrnicmp(name.data(), expected.data(), name.size()) == 0;
}

// A plain decimal number (what RFC 9110 allows for Content-Length); -1 when it is none, -2 when it
// does not fit.
qint64 parseLength(QByteArrayView text)
{
    if (text.isEmpty())
        return -1;
    qint64 value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return -1;
        if (value > (std::numeric_limits<qint64>::max() - (c - '0')) / 10)
            return -2;
        value = value * 10 + (c - '0');
    }
    return value;
}

} // namespace

void RequestFramer::fail(Verdict verdict)
{
    m_verdict = verdict;
    m_line.clear();
}

void RequestFramer::completeRequest()
{
    ++m_completed;
    // A client could pipeline without end and never read; the flags of answered requests are
    // taken as they are answered, so more than a few here means nobody answers: stop counting.
    if (m_completedInfo.size() < 64)
        m_completedInfo.append({m_http10, m_connectionClose || (m_http10 && !m_connectionKeepAlive)});
    m_http10 = m_connectionClose = m_connectionKeepAlive = false;
    m_bodyLimit = m_limits.maxBodyBytes;
    m_origin.clear();
    m_path.clear();
    m_authorization.clear();
    m_expectContinue = false;
    m_state = State::Idle;
    m_line.clear();
    m_headBytes = 0;
    m_sawRequestLine = false;
    m_sawLength = false;
    m_sawEncoding = false;
    m_chunked = false;
    m_contentLength = -1;
    m_remaining = 0;
    m_bodyBytes = 0;
    m_lastChunkEndBytes = 0;
}

namespace {
QByteArrayView pathOf(QByteArrayView target)
{
    return target.first(target.indexOf('?') < 0 ? target.size() : target.indexOf('?'));
}
} // namespace

// One line of the head, without its line end. False when the head broke a limit.
bool RequestFramer::headLine(QByteArrayView line)
{
    if (!m_sawRequestLine) {
        m_sawRequestLine = true;
        m_http10 = line.endsWith("HTTP/1.0");
        const qsizetype space = line.indexOf(' ');
        const qsizetype end = space < 0 ? -1 : line.indexOf(' ', space + 1);
        const QByteArrayView target =
            end > space ? line.sliced(space + 1, end - space - 1) : QByteArrayView();
        m_bodyLimit = bodyLimitFor(target, m_limits);
        m_path = pathOf(target).toByteArray();
        return true;
    }
    if (!line.isEmpty()) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return true; // Qt skips it; so do we
        const QByteArrayView name = trimmed(line.first(colon));
        const QByteArrayView value = trimmed(line.sliced(colon + 1));
        if (nameIs(name, "content-length")) {
            const qint64 length = parseLength(value);
            if (length == -2) {
                fail(Verdict::BodyTooLarge);
                return false;
            }
            if (length < 0 || (m_sawLength && length != m_contentLength)) {
                fail(Verdict::Malformed);
                return false;
            }
            m_sawLength = true;
            m_contentLength = length;
        } else if (nameIs(name, "transfer-encoding") && !m_sawEncoding) {
            m_sawEncoding = true; // Qt reads the first one only
            m_chunked = value.toByteArray().toLower().contains("chunked");
        } else if (nameIs(name, "connection")) {
            const QByteArray options = value.toByteArray().toLower();
            m_connectionClose |= options.contains("close");
            m_connectionKeepAlive |= options.contains("keep-alive");
        } else if (nameIs(name, "origin") && value.size() <= 1024) {
            m_origin = value.toByteArray();
        } else if (nameIs(name, "authorization") && value.size() <= 4096) {
            m_authorization = value.toByteArray();
        } else if (nameIs(name, "expect")) {
            m_expectContinue = value.toByteArray().toLower() == "100-continue";
        }
        return true;
    }
    // The empty line: the head is complete.
    ++m_heads;
    if (m_chunked) {
        m_contentLength = -1;
        m_state = State::ChunkSize;
    } else if (m_contentLength > bodyLimit()) {
        fail(Verdict::BodyTooLarge);
        return false;
    } else if (m_contentLength > 0) {
        m_remaining = m_contentLength;
        m_state = State::Body;
    } else {
        completeRequest();
    }
    return true;
}

bool RequestFramer::chunkSizeLine(QByteArrayView line)
{
    const qsizetype extension = line.indexOf(';');
    const QByteArrayView digits = trimmed(extension >= 0 ? line.first(extension) : line);
    if (digits.isEmpty() || digits.size() > 15) { // 15 hex digits cannot overflow a qint64
        fail(digits.isEmpty() ? Verdict::Malformed : Verdict::BodyTooLarge);
        return false;
    }
    qint64 size = 0;
    for (const char c : digits) {
        int digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else {
            fail(Verdict::Malformed);
            return false;
        }
        size = size * 16 + digit;
    }
    if (size > bodyLimit() - m_bodyBytes) {
        fail(Verdict::BodyTooLarge);
        return false;
    }
    m_bodyBytes += size;
    if (size == 0) {
        m_state = State::LastChunkEnd;
        m_lastChunkEndBytes = 0;
    } else {
        m_remaining = size;
        m_state = State::ChunkData;
    }
    return true;
}

RequestFramer::Verdict RequestFramer::feed(QByteArrayView bytes)
{
    qsizetype i = 0;
    const qsizetype size = bytes.size();
    while (i < size && m_verdict == Verdict::Ok) {
        switch (m_state) {
        case State::Idle:
            // Line ends left over from the previous request (Qt skips them too) start nothing.
            while (i < size && isLeadingSpace(bytes.at(i)))
                ++i;
            if (i < size)
                m_state = State::Head;
            break;
        case State::Head: {
            const qsizetype end = bytes.indexOf('\n', i);
            const qsizetype take = (end < 0 ? size : end + 1) - i;
            if (take > m_limits.maxHeaderBytes - m_headBytes) {
                fail(Verdict::HeaderTooLarge);
                break;
            }
            m_headBytes += take;
            m_line.append(bytes.sliced(i, take));
            i += take;
            if (end < 0)
                break;
            QByteArrayView line(m_line);
            line.chop(1); // '\n'
            if (!line.isEmpty() && line.back() == '\r')
                line.chop(1);
            const QByteArray copy = line.toByteArray();
            m_line.clear();
            headLine(copy);
            break;
        }
        case State::Body: {
            const qint64 take = qMin<qint64>(m_remaining, size - i);
            m_remaining -= take;
            i += take;
            if (m_remaining == 0)
                completeRequest();
            break;
        }
        case State::ChunkSize: {
            const qsizetype end = bytes.indexOf('\n', i);
            const qsizetype take = (end < 0 ? size : end + 1) - i;
            if (m_line.size() + take > maxChunkSizeLine) {
                fail(Verdict::Malformed);
                break;
            }
            m_line.append(bytes.sliced(i, take));
            i += take;
            if (end < 0)
                break;
            QByteArrayView line(m_line);
            line.chop(1);
            if (!line.isEmpty() && line.back() == '\r')
                line.chop(1);
            const QByteArray copy = line.toByteArray();
            m_line.clear();
            chunkSizeLine(copy);
            break;
        }
        case State::ChunkData: {
            const qint64 take = qMin<qint64>(m_remaining, size - i);
            m_remaining -= take;
            i += take;
            if (m_remaining == 0) {
                m_state = State::ChunkDataEnd;
                m_lastChunkEndBytes = 0;
            }
            break;
        }
        case State::ChunkDataEnd:
        case State::LastChunkEnd: {
            // CRLF (or a bare LF) after each chunk's data and after the last, empty chunk. Qt 6.4
            // reads no trailer fields, so neither do we.
            const char c = bytes.at(i++);
            bool lineDone = false;
            if (c == '\n') {
                lineDone = true;
            } else if (c == '\r' && m_lastChunkEndBytes == 0) {
                m_lastChunkEndBytes = 1;
            } else {
                fail(Verdict::Malformed);
                break;
            }
            if (lineDone) {
                if (m_state == State::LastChunkEnd)
                    completeRequest();
                else
                    m_state = State::ChunkSize;
            }
            break;
        }
        }
    }
    return m_verdict;
}

bool RequestFramer::isImportTarget(QByteArrayView target)
{
    const QByteArrayView path = pathOf(target);
    return path == "/api/import" || path == "/api/import/";
}

bool RequestFramer::isUploadTarget(QByteArrayView target)
{
    const QByteArrayView path = pathOf(target);
    return path == "/api/files" || path == "/api/files/";
}

bool RequestFramer::isCompletionsTarget(QByteArrayView target)
{
    const QByteArrayView path = pathOf(target);
    return path == "/v1/chat/completions" || path == "/api/v1/chat/completions";
}

qint64 RequestFramer::bodyLimitFor(QByteArrayView target, const Limits &limits)
{
    // An OpenAI client sends its images inline, as base64, with the whole conversation.
    if (isImportTarget(target) || isCompletionsTarget(target))
        return limits.maxImportBodyBytes;
    if (isUploadTarget(target))
        return limits.maxUploadBodyBytes;
    return limits.maxBodyBytes;
}
