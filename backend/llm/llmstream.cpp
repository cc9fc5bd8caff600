#include "llmstream.h"

#include <QUuid>

QString LlmStream::PairJoiner::join(const QString &text)
{
    QString piece = text;
    if (!held.isNull()) {
        piece.prepend(held);
        held = QChar();
    }
    if (!piece.isEmpty() && piece.back().isHighSurrogate()) {
        held = piece.back();
        piece.chop(1);
    }
    return piece;
}

void LlmStream::setSplitThinkTags(bool split)
{
    if (split && !m_think)
        m_think = std::make_unique<ThinkSplitter>();
    else if (!split)
        m_think.reset();
}

void LlmStream::emitDelta(const QString &text)
{
    if (m_finished || text.isEmpty())
        return;
    if (!m_think) {
        emitContent(text);
        return;
    }
    const ThinkSplitter::Pieces pieces = m_think->feed(text);
    if (!pieces.reasoning.isEmpty())
        emitReasoningPiece(pieces.reasoning);
    if (!pieces.content.isEmpty() && !m_finished) // a reasoning handler may abort() us
        emitContent(pieces.content);
}

void LlmStream::emitReasoning(const QString &text)
{
    if (m_finished || text.isEmpty())
        return;
    emitReasoningPiece(text);
}

void LlmStream::emitContent(const QString &text)
{
    const QString piece = m_contentPair.join(text);
    if (piece.isEmpty())
        return;
    if (m_keepText)
        m_text += piece;
    countCharacters(piece);
    Q_EMIT delta(piece);
}

void LlmStream::emitReasoningPiece(const QString &text)
{
    const QString piece = m_reasoningPair.join(text);
    if (piece.isEmpty())
        return;
    countCharacters(piece);
    Q_EMIT reasoning(piece);
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

void LlmStream::flushHeld()
{
    if (m_think) {
        const ThinkSplitter::Pieces pieces = m_think->flush();
        if (!pieces.reasoning.isEmpty())
            emitReasoningPiece(pieces.reasoning);
        if (!pieces.content.isEmpty())
            emitContent(pieces.content);
    }
    // A fragment that ended on half a pair: the other half is never coming. Say so visibly.
    const QString replacement(QChar(QChar::ReplacementCharacter));
    if (!m_reasoningPair.held.isNull()) {
        m_reasoningPair.held = QChar();
        emitReasoningPiece(replacement);
    }
    if (!m_contentPair.held.isNull()) {
        m_contentPair.held = QChar();
        emitContent(replacement);
    }
}

void LlmStream::emitFinished(const LlmCompletion &completion)
{
    if (m_finished)
        return;
    flushHeld();
    if (m_finished) // a handler of what was held back aborted us
        return;
    m_finished = true;
    LlmCompletion complete = completion;
    complete.toolCalls = m_toolCalls;
    Q_EMIT finished(complete);
}

void LlmStream::emitFailed(const LlmError &error)
{
    if (m_finished)
        return;
    // A partial reply: keep it to what was relayed.
    m_contentPair.held = m_reasoningPair.held = QChar();
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
    for (const ChatMessage &m : messages) {
        tokens += 4 + estimateTokens(m.content); // role and separators per message
        // An image costs about as much as a 1024 x 1024 one at OpenAI's high detail.
        tokens += 765 * int(m.images.size());
    }
    return tokens;
}
