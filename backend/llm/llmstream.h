#pragma once

#include "llmtypes.h"

#include <QObject>

// One running chat completion. Emits `delta` per content fragment, then exactly one of
// `finished` or `failed`, never anything after. `abort()` stops the upstream request at once;
// it emits `failed` with kind Aborted unless the stream already ended.
class LlmStream : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    virtual void abort() = 0;
    bool isFinished() const { return m_finished; }

    // Text relayed so far (the deltas emitted, concatenated), for saving a partial reply.
    const QString &text() const { return m_text; }

    // Rough token count for when an upstream reports no usage: one per CJK character, one per
    // four other characters.
    static int estimateTokens(QStringView text);
    static int estimatePromptTokens(const QList<ChatMessage> &messages);

Q_SIGNALS:
    void delta(const QString &text);
    void finished(const LlmCompletion &completion);
    void failed(const LlmError &error);

protected:
    // A delta that ends in the first half of a UTF-16 surrogate pair (an emoji split across two
    // upstream chunks) is emitted without it: the half waits for the rest, so no half character
    // ever reaches a client or the database.
    void emitDelta(const QString &text);
    void emitFinished(const LlmCompletion &completion);
    void emitFailed(const LlmError &error);

private:
    void flushHeldSurrogate();

    QString m_text;
    QChar m_heldSurrogate;
    bool m_finished = false;
};
