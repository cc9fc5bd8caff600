#include "openaistream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace {
// A message's content: its text alone, or OpenAI's parts when images go with it.
QJsonValue contentOf(const ChatMessage &m)
{
    if (m.images.isEmpty())
        return m.content;
    QJsonArray parts;
    if (!m.content.isEmpty())
        parts.append(QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, m.content}});
    for (const ChatImage &image : m.images) {
        const QString url =
            u"data:"_s + image.mediaType + u";base64,"_s + QString::fromLatin1(image.data.toBase64());
        parts.append(
            QJsonObject{{u"type"_s, u"image_url"_s}, {u"image_url"_s, QJsonObject{{u"url"_s, url}}}});
    }
    return parts;
}
} // namespace

OpenAiStream::OpenAiStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent)
    : UpstreamStream(provider, request, Framing::Sse, parent)
{
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!provider.apiKey.isEmpty())
        headers.append({"Authorization", "Bearer " + provider.apiKey.toUtf8()});
    setRequest(completionsUrl(provider.baseUrl), requestBody(provider, request), headers);
    setSplitThinkTags(true);
}

QUrl OpenAiStream::completionsUrl(const QUrl &baseUrl)
{
    QUrl url = baseUrl;
    url.setPath(basePath(baseUrl) + "/chat/completions"_L1);
    return url;
}

QUrl OpenAiStream::modelsUrl(const QUrl &baseUrl)
{
    QUrl url = baseUrl;
    url.setPath(basePath(baseUrl) + "/models"_L1);
    return url;
}

QByteArray OpenAiStream::requestBody(const ProviderConfig &provider, const ChatRequest &request)
{
    QJsonArray messages;
    for (const ChatMessage &m : request.messages) {
        QJsonObject message{{u"role"_s, m.role}, {u"content"_s, contentOf(m)}};
        if (!m.toolCalls.isEmpty()) {
            message.insert(u"tool_calls"_s, m.toolCalls);
            if (m.content.isEmpty())
                message.insert(u"content"_s, QJsonValue::Null);
        }
        if (!m.toolCallId.isEmpty())
            message.insert(u"tool_call_id"_s, m.toolCallId);
        // In the field it came in: a server that says `reasoning` may not know `reasoning_content`.
        if (!m.reasoningContent.isEmpty())
            message.insert(m.reasoningField.isEmpty() ? u"reasoning_content"_s : m.reasoningField,
                           m.reasoningContent);
        messages.append(message);
    }
    QJsonObject body{
        {u"messages"_s, messages},
        {u"stream"_s, true},
        // Without this OpenAI sends no usage at all in streaming mode.
        {u"stream_options"_s, QJsonObject{{u"include_usage"_s, true}}},
    };
    if (!request.tools.isEmpty()) {
        body.insert(u"tools"_s, request.tools);
        if (!request.toolChoice.isUndefined())
            body.insert(u"tool_choice"_s, request.toolChoice);
        if (request.parallelToolCalls)
            body.insert(u"parallel_tool_calls"_s, *request.parallelToolCalls);
    }
    if (!request.stop.isEmpty())
        body.insert(u"stop"_s, QJsonArray::fromStringList(request.stop));
    if (request.seed)
        body.insert(u"seed"_s, *request.seed);
    const QString model = request.model.isEmpty() ? provider.model : request.model;
    if (!model.isEmpty()) // llama.cpp's server needs none; everyone else gets one
        body.insert(u"model"_s, model);
    if (request.temperature)
        body.insert(u"temperature"_s, *request.temperature);
    if (request.maxTokens)
        body.insert(u"max_tokens"_s, *request.maxTokens);
    // OpenAI's reasoning models take an effort; none of them can be told not to reason.
    if (!request.reasoningEffort.isEmpty() && request.reasoningEffort != "off"_L1)
        body.insert(u"reasoning_effort"_s, request.reasoningEffort);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

void OpenAiStream::handleEvent(const SseEvent &event)
{
    if (!event.event.isEmpty() && event.event != "message"_L1 && event.event != "error"_L1) {
        skip("event of unknown type", event.event);
        return;
    }
    if (event.data == "[DONE]") {
        finish();
        return;
    }
    OpenAiChunkReader::Chunk common;
    if (OpenAiChunkReader::read(event.data, common))
        return handleCommonChunk(common);
    const QJsonDocument doc = SseParser::json(event.data);
    if (!doc.isObject()) {
        skip("data that is not a JSON object", QString::fromUtf8(event.data));
        return;
    }
    const QJsonObject chunk = doc.object();
    const QJsonValue error = chunk.value("error"_L1);
    if ((error.isObject() || error.isString()) && !chunk.contains("choices"_L1)) {
        failInBand(errorMessage(event.data));
        return;
    }
    handleChunk(chunk);
}

void OpenAiStream::readUsage(const QJsonObject &object)
{
    // Usage may come in its own chunk (OpenAI, `choices: []`) or with the last choice (Ollama,
    // llama.cpp); `"usage": null` on every other chunk means nothing.
    const QJsonValue usage = object.value("usage"_L1);
    if (!usage.isObject())
        return;
    const QJsonObject u = usage.toObject();
    const QJsonValue reasoning =
        u.value("completion_tokens_details"_L1).toObject().value("reasoning_tokens"_L1);
    setUsage(u.value("prompt_tokens"_L1).toInt(), u.value("completion_tokens"_L1).toInt(),
             reasoning.isDouble() ? reasoning.toInt() : -1);
}

void OpenAiStream::readReasoning(const QJsonObject &delta)
{
    // DeepSeek and Qwen say `reasoning_content`; OpenRouter and newer vLLM `reasoning`.
    const QJsonValue content = delta.value("reasoning_content"_L1);
    if (content.isString()) {
        m_reasoningContent += content.toString();
        emitReasoning(content.toString());
        return;
    }
    const QJsonValue reasoning = delta.value("reasoning"_L1);
    if (reasoning.isString()) {
        m_reasoningContent += reasoning.toString();
        m_reasoningField = u"reasoning"_s;
        emitReasoning(reasoning.toString());
    }
}

void OpenAiStream::handleCommonChunk(const OpenAiChunkReader::Chunk &chunk)
{
    // What handleChunk() does with such a chunk.
    if (!chunk.model.empty() && !QAnyStringView::equal(QUtf8StringView(chunk.model), m_model))
        m_model = QString::fromUtf8(chunk.model.data(), qsizetype(chunk.model.size()));
    m_sawChunk = true;
    if (!chunk.finishReason.empty())
        m_finishReason = QString::fromUtf8(chunk.finishReason.data(), qsizetype(chunk.finishReason.size()));
    if (chunk.hasContent && !isFinished())
        emitDelta(QString::fromUtf8(chunk.content.data(), qsizetype(chunk.content.size())));
}

void OpenAiStream::handleChunk(const QJsonObject &chunk)
{
    const QString model = chunk.value("model"_L1).toString();
    if (!model.isEmpty())
        m_model = model;
    readUsage(chunk);
    const QJsonValue choices = chunk.value("choices"_L1);
    if (!choices.isArray()) {
        if (chunk.value("usage"_L1).isObject())
            m_sawChunk = true;
        else
            skip("chunk without choices",
                 QString::fromUtf8(QJsonDocument(chunk).toJson(QJsonDocument::Compact)));
        return;
    }
    m_sawChunk = true;
    const QJsonArray list = choices.toArray();
    for (const QJsonValue &value : list) {
        const QJsonObject choice = value.toObject();
        if (choice.value("index"_L1).toInt() != 0) // we ask for one choice; ignore extras
            continue;
        // Some servers send "" instead of null until the end.
        const QString reason = choice.value("finish_reason"_L1).toString();
        if (!reason.isEmpty())
            m_finishReason = reason;
        const QJsonObject delta = choice.value("delta"_L1).toObject();
        readReasoning(delta);
        if (isFinished())
            return;
        const QJsonValue content = delta.value("content"_L1);
        if (content.isString())
            emitDelta(content.toString());
        if (isFinished())
            return;
        const QJsonArray toolCalls = delta.value("tool_calls"_L1).toArray();
        for (const QJsonValue &v : toolCalls) {
            const QJsonObject call = v.toObject();
            const QJsonObject function = call.value("function"_L1).toObject();
            emitToolCallDelta(call.value("index"_L1).toInt(), call.value("id"_L1).toString(),
                              function.value("name"_L1).toString(),
                              function.value("arguments"_L1).toString());
            if (isFinished())
                return;
        }
    }
}

void OpenAiStream::handleJsonBody(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if ((o.value("error"_L1).isObject() || o.value("error"_L1).isString()) && !o.contains("choices"_L1)) {
        failInBand(errorMessage(body));
        return;
    }
    const QJsonArray choices = o.value("choices"_L1).toArray();
    if (choices.isEmpty()) {
        fail(LlmError::Protocol, u"upstream_protocol"_s, u"The upstream answered without any choices."_s);
        return;
    }
    m_sawChunk = true;
    const QString model = o.value("model"_L1).toString();
    if (!model.isEmpty())
        m_model = model;
    readUsage(o);
    const QJsonObject choice = choices.first().toObject();
    m_finishReason = choice.value("finish_reason"_L1).toString();
    const QJsonObject message = choice.value("message"_L1).toObject();
    readReasoning(message);
    emitDelta(message.value("content"_L1).toString());
    const QJsonArray toolCalls = message.value("tool_calls"_L1).toArray();
    for (qsizetype i = 0; i < toolCalls.size() && !isFinished(); ++i) {
        const QJsonObject call = toolCalls.at(i).toObject();
        const QJsonObject function = call.value("function"_L1).toObject();
        emitToolCallDelta(int(i), call.value("id"_L1).toString(), function.value("name"_L1).toString(),
                          function.value("arguments"_L1).toString());
    }
    if (!isFinished())
        finish();
}

void OpenAiStream::completeCompletion(LlmCompletion &completion)
{
    completion.reasoningContent = m_reasoningContent;
    completion.reasoningField = m_reasoningField;
}
