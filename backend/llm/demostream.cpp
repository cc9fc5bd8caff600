#include "demostream.h"

#include <QRandomGenerator>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

DemoStream::DemoStream(const ChatRequest &request, QObject *parent)
    : LlmStream(parent), m_promptEstimate(estimatePromptTokens(request.messages))
{
    // Word-sized tokens, each keeping its leading whitespace, like a real tokenizer's output.
    static const QRegularExpression token(u"\\s*\\S+"_s);
    const QString text = replyText();
    auto it = token.globalMatch(text);
    while (it.hasNext())
        m_tokens.append(it.next().captured());

    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &DemoStream::emitNext);
    m_timer.start(QRandomGenerator::global()->bounded(25, 41));
}

QString DemoStream::replyText()
{
    return u"No language model is configured, so this is AgentDesk's built-in demo reply, not an "
           "answer from a model.\n\nTo connect one, set OPENAI_BASE_URL, OPENAI_API_KEY and "
           "OPENAI_MODEL before starting AgentDesk, or add a provider in Settings. Any "
           "OpenAI-compatible server works: OpenAI, DeepSeek, Qwen (DashScope), Moonshot, Ollama "
           "(http://localhost:11434/v1), llama.cpp, vLLM or LM Studio."_s;
}

void DemoStream::abort()
{
    m_timer.stop();
    emitFailed(LlmError{LlmError::Aborted, 0, u"aborted"_s, u"The request was cancelled."_s});
}

void DemoStream::emitNext()
{
    if (isFinished())
        return;
    if (m_next < m_tokens.size()) {
        const QString token = m_tokens.at(m_next++);
        m_timer.start(QRandomGenerator::global()->bounded(25, 41));
        emitDelta(token); // last: a handler may abort() us
        return;
    }
    LlmCompletion completion;
    completion.finishReason = u"stop"_s;
    completion.model = u"demo"_s;
    completion.promptTokens = m_promptEstimate;
    completion.completionTokens = int(m_tokens.size());
    completion.usageEstimated = true; // no upstream counted anything
    emitFinished(completion);
}
