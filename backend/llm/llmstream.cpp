#include "llmstream.h"

#include <QUuid>

void LlmStream::emitDelta(const QString &text)
{
    if (m_finished || text.isEmpty())
        return;
    QString piece = text;
    if (!m_heldSurrogate.isNull()) {
        piece.prepend(m_heldSurrogate);
        m_heldSurrogate = QChar();
    }
    if (piece.back().isHighSurrogate()) {
        m_heldSurrogate = piece.back();
        piece.chop(1);
        if (piece.isEmpty())
            return;
    }
    if (m_keepText)
        m_text += piece;
    countCharacters(piece);
    Q_EMIT delta(piece);
}

void LlmStream::emitToolCallDelta(int upstreamIndex, const QString &id, const QString &name,
                                  const QString &arguments)
{
    if (m_finished)
        return;
    // The latest call with this upstream index, unless the fragment opens another (a new id).
    int index = -1;
    for (int i = int(m_toolCalls.size()) - 1; i >= 0; --i) {
        if (m_toolCallUpstreamIndex.at(i) == upstreamIndex) {
            index = i;
            break;
        }
    }
    const bool opens =
        index < 0 || (!id.isEmpty() && !m_toolCalls.at(index).id.isEmpty() && id != m_toolCalls.at(index).id);
    bool first = false;
    if (opens) {
        ToolCall call;
        // An upstream that names no calls: ids of our own, unique across the reply's rounds too
        // (a result and a decision find their call by it).
        call.id = id.isEmpty()
                      ? QStringLiteral("call_%1").arg(QUuid::createUuid().toString(QUuid::Id128).left(24))
                      : id;
        m_toolCalls.append(call);
        m_toolCallUpstreamIndex.append(upstreamIndex);
        index = int(m_toolCalls.size()) - 1;
        first = true;
    }
    ToolCall &call = m_toolCalls[index];
    QString newName;
    if (call.name.isEmpty() && !name.isEmpty()) {
        call.name = name;
        newName = name;
        first = true;
    }
    call.arguments += arguments;
    if (first || !arguments.isEmpty())
        Q_EMIT toolCallDelta(index, call.id, newName, arguments);
}

void LlmStream::flushHeldSurrogate()
{
    // The stream ended on half a pair: the other half is never coming. Say so visibly.
    if (m_heldSurrogate.isNull())
        return;
    m_heldSurrogate = QChar();
    const QString replacement(QChar(QChar::ReplacementCharacter));
    if (m_keepText)
        m_text += replacement;
    countCharacters(replacement);
    Q_EMIT delta(replacement);
}

void LlmStream::emitFinished(const LlmCompletion &completion)
{
    if (m_finished)
        return;
    flushHeldSurrogate();
    m_finished = true;
    LlmCompletion complete = completion;
    complete.toolCalls = m_toolCalls;
    Q_EMIT finished(complete);
}

void LlmStream::emitFailed(const LlmError &error)
{
    if (m_finished)
        return;
    m_heldSurrogate = QChar(); // a partial reply: keep it to what was relayed
    m_finished = true;
    Q_EMIT failed(error);
}

namespace {
bool isCjk(char32_t c)
{
    return (c >= 0x2E80 && c <= 0x9FFF)       // radicals, CJK punctuation, kana, unified ideographs
           || (c >= 0xAC00 && c <= 0xD7AF)    // Hangul syllables
           || (c >= 0xF900 && c <= 0xFAFF)    // compatibility ideographs
           || (c >= 0xFF00 && c <= 0xFFEF)    // full-width forms
           || (c >= 0x20000 && c <= 0x3FFFF); // extension planes
}
void count(QStringView text, qsizetype &cjk, qsizetype &other)
{
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        char32_t c = text[i].unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < n && text[i + 1].isLowSurrogate())
            c = QChar::surrogateToUcs4(char16_t(c), text[++i].unicode());
        if (isCjk(c))
            ++cjk;
        else
            ++other;
    }
}
} // namespace

void LlmStream::countCharacters(QStringView text)
{
    count(text, m_cjkChars, m_otherChars);
}

int LlmStream::estimateTokens(QStringView text)
{
    qsizetype cjk = 0;
    qsizetype other = 0;
    count(text, cjk, other);
    return int(cjk + (other + 3) / 4);
}

int LlmStream::estimatePromptTokens(const QList<ChatMessage> &messages)
{
    int tokens = 3; // the reply's priming, as OpenAI's cookbook counts it
    for (const ChatMessage &m : messages)
        tokens += 4 + estimateTokens(m.content); // role and separators per message
    return tokens;
}
