#pragma once

#include "openaichunkreader.h"
#include "upstreamstream.h"

class QJsonObject;

// One streamed chat completion against an OpenAI-compatible `/chat/completions` endpoint.
// Tolerates what real servers do (comments as keep-alives, `data:` without a space, usage in the
// last choice chunk or in its own chunk, no [DONE]); reads reasoning from `reasoning_content`
// (DeepSeek, Qwen), `reasoning` (OpenRouter, vLLM) or a `<think>` block in the content.
class OpenAiStream : public UpstreamStream
{
    Q_OBJECT
public:
    OpenAiStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent = nullptr);

    static QUrl completionsUrl(const QUrl &baseUrl);
    static QUrl modelsUrl(const QUrl &baseUrl);
    static QByteArray requestBody(const ProviderConfig &provider, const ChatRequest &request);

protected:
    void handleEvent(const SseEvent &event) override;
    void handleJsonBody(const QByteArray &body) override;
    void completeCompletion(LlmCompletion &completion) override;

private:
    void handleChunk(const QJsonObject &chunk);
    void handleCommonChunk(const OpenAiChunkReader::Chunk &chunk);
    void readUsage(const QJsonObject &object);
    void readReasoning(const QJsonObject &delta);

    // What came as `reasoning_content` or `reasoning`: DeepSeek wants it back in a tool loop, and
    // OpenRouter the reasoning of models that carry it between calls.
    QString m_reasoningContent;
    QString m_reasoningField; // empty: reasoning_content
};
