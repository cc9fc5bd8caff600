#pragma once

#include "upstreamstream.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>

// One streamed reply from Anthropic's Messages API (`POST /v1/messages`, `stream: true`): text,
// extended thinking (with the signatures a tool loop must send back), tool_use blocks whose input
// streams as `input_json_delta`, usage from message_start and message_delta, and `error` events
// (overloaded_error) after the 200.
class AnthropicStream : public UpstreamStream
{
    Q_OBJECT
public:
    AnthropicStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent = nullptr);

    static constexpr const char *apiVersion = "2023-06-01";
    // Output tokens when the agent sets none: every Claude model since the third generation takes it.
    static constexpr int defaultMaxTokens = 4096;

    static QUrl messagesUrl(const QUrl &baseUrl);
    static QUrl modelsUrl(const QUrl &baseUrl);
    static QByteArray requestBody(const ProviderConfig &provider, const ChatRequest &request);
    // The thinking budget a reasoning effort asks for (0: no extended thinking).
    static int thinkingBudget(const QString &effort);

protected:
    void handleEvent(const SseEvent &event) override;
    void handleJsonBody(const QByteArray &body) override;
    void completeCompletion(LlmCompletion &completion) override;

private:
    void readUsage(const QJsonObject &usage);
    // The request's tool_choice and parallel_tool_calls as Anthropic's tool_choice (empty: none asked).
    static QJsonObject toolChoiceOf(const ChatRequest &request);
    static QString finishReasonOf(const QString &stopReason);

    QHash<int, QString> m_blockTypes; // by the event's block index
    QHash<int, int> m_thinkingBlock;  // block index -> index in m_thinkingBlocks
    QJsonArray m_thinkingBlocks;      // thinking and redacted_thinking, as the next round sends them
    int m_inputTokens = 0;
    int m_outputTokens = 0;
};
