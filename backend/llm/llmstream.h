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

    // Text received so far, for saving a partial reply.
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
    void emitDelta(const QString &text);
    void emitFinished(const LlmCompletion &completion);
    void emitFailed(const LlmError &error);

private:
    QString m_text;
    bool m_finished = false;
};
