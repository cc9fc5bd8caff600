#include "llmstream.h"

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
    m_text += piece;
    Q_EMIT delta(piece);
}

void LlmStream::flushHeldSurrogate()
{
    // The stream ended on half a pair: the other half is never coming. Say so visibly.
    if (m_heldSurrogate.isNull())
        return;
    m_heldSurrogate = QChar();
    m_text += QChar(QChar::ReplacementCharacter);
    Q_EMIT delta(QString(QChar(QChar::ReplacementCharacter)));
}

void LlmStream::emitFinished(const LlmCompletion &completion)
{
    if (m_finished)
        return;
    flushHeldSurrogate();
    m_finished = true;
    Q_EMIT finished(completion);
}

void LlmStream::emitFailed(const LlmError &error)
{
    if (m_finished)
        return;
    m_heldSurrogate = QChar(); // a partial reply: keep it to what was relayed
    m_finished = true;
    Q_EMIT failed(error);
}

static bool isCjk(char32_t c)
{
    return (c >= 0x2E80 && c <= 0x9FFF)       // radicals, CJK punctuation, kana, unified ideographs
           || (c >= 0xAC00 && c <= 0xD7AF)    // Hangul syllables
           || (c >= 0xF900 && c <= 0xFAFF)    // compatibility ideographs
           || (c >= 0xFF00 && c <= 0xFFEF)    // full-width forms
           || (c >= 0x20000 && c <= 0x3FFFF); // extension planes
}

int LlmStream::estimateTokens(QStringView text)
{
    qsizetype cjk = 0;
    qsizetype other = 0;
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
    return int(cjk + (other + 3) / 4);
}

int LlmStream::estimatePromptTokens(const QList<ChatMessage> &messages)
{
    int tokens = 3; // the reply's priming, as OpenAI's cookbook counts it
    for (const ChatMessage &m : messages)
        tokens += 4 + estimateTokens(m.content); // role and separators per message
    return tokens;
}
