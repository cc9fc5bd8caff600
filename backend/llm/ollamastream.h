#pragma once

#include "upstreamstream.h"

// One streamed reply from Ollama's native `POST /api/chat`: NDJSON lines with content, `thinking`,
// whole tool calls (ids made up where the server gives none), images as base64, and the counts of
// the last line (`done_reason`, `prompt_eval_count`, `eval_count`). An `{"error": ...}` line after
// the 200 is a failure.
class OllamaStream : public UpstreamStream
{
    Q_OBJECT
public:
    OllamaStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent = nullptr);

    // A base URL as Ollama's own (http://localhost:11434) or its OpenAI one (.../v1).
    static QUrl apiUrl(const QUrl &baseUrl, QLatin1String endpoint);
    static QByteArray requestBody(const ProviderConfig &provider, const ChatRequest &request);
    // The context Ollama gives unless asked, and the most asked for.
    static constexpr int defaultContext = 4096;
    static constexpr int maxContext = 131072;

protected:
    void handleLine(QByteArrayView line) override;
    void handleJsonBody(const QByteArray &body) override;
    void completeCompletion(LlmCompletion &completion) override;

private:
    int m_calls = 0;
    QString m_thinking; // sent back with the calls, as Ollama's tool loop expects
};
