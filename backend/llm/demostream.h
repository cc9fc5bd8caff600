#pragma once

#include "llmstream.h"

#include <QStringList>
#include <QTimer>

// The `demo` provider: streams a fixed reply at a human pace saying that no model is configured
// and how to configure one. It never pretends to be a model.
class DemoStream : public LlmStream
{
    Q_OBJECT
public:
    explicit DemoStream(const ChatRequest &request, QObject *parent = nullptr);

    void abort() override;

    // In Chinese when the user's last message is (most models answer in the user's language).
    static QString replyText(bool chinese = false);
    static bool writesChinese(const ChatRequest &request);

private:
    void emitNext();

    QTimer m_timer;
    QStringList m_tokens;
    qsizetype m_next = 0;
    int m_promptEstimate;
};
