#include "demostream.h"

#include <QRandomGenerator>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

DemoStream::DemoStream(const ChatRequest &request, QObject *parent)
    : LlmStream(parent), m_promptEstimate(estimatePromptTokens(request.messages))
{
    // Word-sized tokens, each keeping its leading whitespace, like a real tokenizer's output;
    // Chinese, which has no spaces, two characters at a time.
    static const QRegularExpression token(
        u"\\s*(?:[\\x{3000}-\\x{9fff}\\x{ff00}-\\x{ffef}]{1,2}|[^\\s\\x{3000}-\\x{9fff}\\x{ff00}-\\x{ffef}]+)"_s);
    const QString text = replyText(writesChinese(request));
    auto it = token.globalMatch(text);
    while (it.hasNext())
        m_tokens.append(it.next().captured());

    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &DemoStream::emitNext);
    m_timer.start(QRandomGenerator::global()->bounded(25, 41));
}

bool DemoStream::writesChinese(const ChatRequest &request)
{
    for (qsizetype i = request.messages.size() - 1; i >= 0; --i) {
        const ChatMessage &m = request.messages.at(i);
        if (m.role != "user"_L1)
            continue;
        for (const QChar c : m.content)
            if (c.script() == QChar::Script_Han)
                return true;
        return false;
    }
    return false;
}

QString DemoStream::replyText(bool chinese)
{
    if (chinese)
        return u"还没有配置语言模型，所以这是 AgentDesk 内置的演示回复，不是模型的回答。\n\n"
               "要连接模型，请在启动 AgentDesk 前设置 OPENAI_BASE_URL、OPENAI_API_KEY 和 OPENAI_MODEL，"
               "或在“设置”中添加服务商：任何兼容 OpenAI 的服务（OpenAI、DeepSeek、通义千问（DashScope）、"
               "Moonshot、OpenRouter、llama.cpp、vLLM、LM Studio），以及原生的 Anthropic 和 Ollama"
               "（http://localhost:11434）。"_s;
    return u"No language model is configured, so this is AgentDesk's built-in demo reply, not an "
           "answer from a model.\n\nTo connect one, set OPENAI_BASE_URL, OPENAI_API_KEY and "
           "OPENAI_MODEL before starting AgentDesk, or add a provider in Settings: any "
           "OpenAI-compatible server (OpenAI, DeepSeek, Qwen (DashScope), Moonshot, OpenRouter, "
           "llama.cpp, vLLM, LM Studio), or Anthropic and Ollama (http://localhost:11434) natively."_s;
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
