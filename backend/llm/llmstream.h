#pragma once

#include "llmtypes.h"
#include "thinksplitter.h"

#include <QObject>

#include <memory>

// One running chat completion. Emits `delta` per content fragment and `reasoning` per fragment
// of the model's reasoning (where the provider shows it), then exactly one of `finished` or
// `failed`, never anything after. `abort()` stops the upstream request at once;
// it emits `failed` with kind Aborted unless the stream already ended.
class LlmStream : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    virtual void abort() = 0;
    bool isFinished() const { return m_finished; }

    // Text relayed so far (the deltas emitted, concatenated), for saving a partial reply; empty
    // when the owner keeps the text itself (setKeepText(false): a reply of several rounds).
    const QString &text() const { return m_text; }
    void setKeepText(bool keep) { m_keepText = keep; }
    // estimateTokens() of all the text relayed (reasoning included), kept as it streams.
    int estimatedCompletionTokens() const { return int(m_cjkChars + (m_otherChars + 3) / 4); }
    // A `<think>…</think>` block opening the content is reasoning (ThinkSplitter); on by default
    // for the protocols whose servers may leave it in the text.
    void setSplitThinkTags(bool split);

    // Rough token count for when an upstream reports no usage: one per CJK character, one per
    // four other characters.
    static int estimateTokens(QStringView text);
    static int estimatePromptTokens(const QList<ChatMessage> &messages);

    // The tool calls so far (complete once the stream finished).
    const QList<ToolCall> &toolCalls() const { return m_toolCalls; }

Q_SIGNALS:
    void delta(const QString &text);
    void reasoning(const QString &text);
    // A fragment of the arguments of call `index` (0, 1, ... in the order the calls began); `name`
    // only with its first fragment.
    void toolCallDelta(int index, const QString &id, const QString &name, const QString &argumentsFragment);
    void finished(const LlmCompletion &completion);
    void failed(const LlmError &error);

protected:
    // A delta that ends in the first half of a UTF-16 surrogate pair (an emoji split across two
    // upstream chunks) is emitted without it: the half waits for the rest, so no half character
    // ever reaches a client or the database.
    void emitDelta(const QString &text);
    // A fragment of the model's reasoning, held back the same way.
    void emitReasoning(const QString &text);
    // A piece of a streamed tool call as OpenAI-style servers send it: `upstreamIndex` says which
    // call, except that some servers give every parallel call index 0 (then a new `id` tells).
    void emitToolCallDelta(int upstreamIndex, const QString &id, const QString &name,
                           const QString &arguments);
    void emitFinished(const LlmCompletion &completion);
    void emitFailed(const LlmError &error);

private:
    // Holds the first half of a surrogate pair that ends a fragment until its second half comes.
    struct PairJoiner
    {
        QChar held;
        // The fragment ready to emit (empty when all of it waits).
        QString join(const QString &text);
    };
    void emitContent(const QString &text); // after the think-tag split
    void emitReasoningPiece(const QString &text);
    void flushHeld();
    void countCharacters(QStringView text); // for the token estimate

    QString m_text;
    PairJoiner m_contentPair;
    PairJoiner m_reasoningPair;
    std::unique_ptr<ThinkSplitter> m_think;
    qsizetype m_cjkChars = 0;
    qsizetype m_otherChars = 0;
    bool m_keepText = true;
    QList<ToolCall> m_toolCalls;
    QList<int> m_toolCallUpstreamIndex; // per call
    bool m_finished = false;
};
