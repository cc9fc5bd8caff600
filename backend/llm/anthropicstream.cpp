#include "anthropicstream.h"

#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace {
// A base URL given with or without its /v1 (https://api.anthropic.com or .../v1).
QUrl apiUrl(const QUrl &baseUrl, QLatin1String endpoint)
{
    QUrl url = baseUrl;
    QString path = UpstreamStream::basePath(baseUrl);
    if (!path.endsWith("/v1"_L1))
        path += "/v1"_L1;
    url.setPath(path + u'/' + endpoint);
    return url;
}

QJsonObject textBlock(const QString &text)
{
    return {{u"type"_s, u"text"_s}, {u"text"_s, text}};
}

// Anthropic needs user and assistant to take turns: a message of the same role as the one before
// joins it.
void appendMessage(QJsonArray &messages, const QString &role, const QJsonArray &blocks)
{
    if (blocks.isEmpty())
        return;
    if (!messages.isEmpty() && messages.last().toObject().value("role"_L1).toString() == role) {
        QJsonObject last = messages.last().toObject();
        QJsonArray content = last.value("content"_L1).toArray();
        for (const QJsonValue &block : blocks)
            content.append(block);
        last.insert(u"content"_s, content);
        messages.replace(messages.size() - 1, last);
        return;
    }
    messages.append(QJsonObject{{u"role"_s, role}, {u"content"_s, blocks}});
}
} // namespace

AnthropicStream::AnthropicStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent)
    : UpstreamStream(provider, request, Framing::Sse, parent)
{
    QList<QPair<QByteArray, QByteArray>> headers{{"anthropic-version", apiVersion}};
    if (!provider.apiKey.isEmpty())
        headers.append({"x-api-key", provider.apiKey.toUtf8()});
    setRequest(messagesUrl(provider.baseUrl), requestBody(provider, request), headers);
}

QUrl AnthropicStream::messagesUrl(const QUrl &baseUrl)
{
    return apiUrl(baseUrl, "messages"_L1);
}

QUrl AnthropicStream::modelsUrl(const QUrl &baseUrl)
{
    return apiUrl(baseUrl, "models"_L1);
}

int AnthropicStream::thinkingBudget(const QString &effort)
{
    if (effort == "low"_L1)
        return 1024; // the least Anthropic takes
    if (effort == "medium"_L1)
        return 4096;
    if (effort == "high"_L1)
        return 16384;
    return 0;
}

QByteArray AnthropicStream::requestBody(const ProviderConfig &provider, const ChatRequest &request)
{
    QStringList system;
    QJsonArray messages;
    for (const ChatMessage &m : request.messages) {
        if (m.role == "system"_L1) {
            system.append(m.content);
        } else if (m.role == "user"_L1) {
            QJsonArray blocks;
            // Images before the text, as Anthropic advises.
            for (const ChatImage &image : m.images) {
                blocks.append(QJsonObject{
                    {u"type"_s, u"image"_s},
                    {u"source"_s, QJsonObject{{u"type"_s, u"base64"_s},
                                              {u"media_type"_s, image.mediaType},
                                              {u"data"_s, QString::fromLatin1(image.data.toBase64())}}}});
            }
            if (!m.content.isEmpty())
                blocks.append(textBlock(m.content));
            appendMessage(messages, u"user"_s, blocks);
        } else if (m.role == "assistant"_L1) {
            // Thinking first, as the model wrote it, then the text, then the calls.
            QJsonArray blocks = m.thinkingBlocks;
            if (!m.content.trimmed().isEmpty())
                blocks.append(textBlock(m.content));
            for (const QJsonValue &value : m.toolCalls) {
                const QJsonObject call = value.toObject();
                const QJsonObject function = call.value("function"_L1).toObject();
                const QJsonDocument input =
                    QJsonDocument::fromJson(function.value("arguments"_L1).toString().toUtf8());
                blocks.append(QJsonObject{{u"type"_s, u"tool_use"_s},
                                          {u"id"_s, call.value("id"_L1)},
                                          {u"name"_s, function.value("name"_L1)},
                                          {u"input"_s, input.isObject() ? input.object() : QJsonObject()}});
            }
            appendMessage(messages, u"assistant"_s, blocks);
        } else if (m.role == "tool"_L1) {
            // Results go back as the user's turn, all of a round's in one message.
            QJsonObject result{
                {u"type"_s, u"tool_result"_s}, {u"tool_use_id"_s, m.toolCallId}, {u"content"_s, m.content}};
            if (m.toolError)
                result.insert(u"is_error"_s, true);
            appendMessage(messages, u"user"_s, QJsonArray{result});
        }
    }
    // The conversation must open with the user: a greeting before the first message cannot go as
    // an assistant turn, so the model is told it in the system prompt.
    if (!messages.isEmpty() && messages.first().toObject().value("role"_L1) == "assistant"_L1) {
        QStringList greeting;
        for (const QJsonValue &block : messages.first().toObject().value("content"_L1).toArray())
            greeting.append(block.toObject().value("text"_L1).toString());
        system.append(u"You opened this conversation by saying: "_s + greeting.join(u"\n"_s).trimmed());
        messages.removeFirst();
    }

    const QString model = request.model.isEmpty() ? provider.model : request.model;
    const int budget = thinkingBudget(request.reasoningEffort);
    const int answerTokens = request.maxTokens ? *request.maxTokens : defaultMaxTokens;
    QJsonObject body{
        {u"model"_s, model},
        // The thinking budget counts against max_tokens: the answer keeps what the agent asked for.
        {u"max_tokens"_s, budget + answerTokens},
        {u"messages"_s, messages},
        {u"stream"_s, true},
    };
    if (!system.isEmpty())
        body.insert(u"system"_s, system.join(u"\n\n"_s));
    if (budget > 0)
        body.insert(u"thinking"_s, QJsonObject{{u"type"_s, u"enabled"_s}, {u"budget_tokens"_s, budget}});
    else if (request.temperature) // thinking takes no temperature but the default
        body.insert(u"temperature"_s, qMin(1.0, *request.temperature));
    if (!request.tools.isEmpty()) {
        QJsonArray tools;
        for (const QJsonValue &value : request.tools) {
            const QJsonObject function = value.toObject().value("function"_L1).toObject();
            tools.append(QJsonObject{{u"name"_s, function.value("name"_L1)},
                                     {u"description"_s, function.value("description"_L1)},
                                     {u"input_schema"_s, function.value("parameters"_L1)}});
        }
        body.insert(u"tools"_s, tools);
        const QJsonObject choice = toolChoiceOf(request);
        if (!choice.isEmpty())
            body.insert(u"tool_choice"_s, choice);
    }
    if (!request.stop.isEmpty())
        body.insert(u"stop_sequences"_s, QJsonArray::fromStringList(request.stop));
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QJsonObject AnthropicStream::toolChoiceOf(const ChatRequest &request)
{
    // OpenAI's "none" / "auto" / "required" / a named function, and parallel_tool_calls: false.
    QJsonObject choice;
    const QJsonValue asked = request.toolChoice;
    if (asked.isString()) {
        const QString name = asked.toString();
        choice.insert(u"type"_s, name == "required"_L1 ? u"any"_s
                                 : name == "none"_L1   ? u"none"_s
                                                       : u"auto"_s);
    } else if (asked.isObject()) {
        choice = {{u"type"_s, u"tool"_s},
                  {u"name"_s, asked.toObject().value("function"_L1).toObject().value("name"_L1)}};
    }
    if (request.parallelToolCalls == false && choice.value("type"_L1) != "none"_L1) {
        if (choice.isEmpty())
            choice.insert(u"type"_s, u"auto"_s);
        choice.insert(u"disable_parallel_tool_use"_s, true);
    }
    return choice;
}

QString AnthropicStream::finishReasonOf(const QString &stopReason)
{
    if (stopReason == "end_turn"_L1 || stopReason == "stop_sequence"_L1 || stopReason == "pause_turn"_L1)
        return u"stop"_s;
    if (stopReason == "max_tokens"_L1 || stopReason == "model_context_window_exceeded"_L1)
        return u"length"_s;
    if (stopReason == "tool_use"_L1)
        return u"tool_calls"_s;
    if (stopReason == "refusal"_L1)
        return u"content_filter"_s;
    return stopReason;
}

void AnthropicStream::readUsage(const QJsonObject &usage)
{
    if (usage.isEmpty())
        return;
    // Input counts cached tokens apart; all of them were the prompt. Output is cumulative.
    if (usage.contains("input_tokens"_L1))
        m_inputTokens = usage.value("input_tokens"_L1).toInt() +
                        usage.value("cache_creation_input_tokens"_L1).toInt() +
                        usage.value("cache_read_input_tokens"_L1).toInt();
    if (usage.contains("output_tokens"_L1))
        m_outputTokens = usage.value("output_tokens"_L1).toInt();
    setUsage(m_inputTokens, m_outputTokens);
}

void AnthropicStream::handleEvent(const SseEvent &event)
{
    const QJsonDocument doc = SseParser::json(event.data);
    if (!doc.isObject()) {
        skip("data that is not a JSON object", QString::fromUtf8(event.data));
        return;
    }
    const QJsonObject data = doc.object();
    const QString type = data.value("type"_L1).toString(event.event);
    if (type == "message_start"_L1) {
        m_sawChunk = true;
        const QJsonObject message = data.value("message"_L1).toObject();
        m_model = message.value("model"_L1).toString();
        readUsage(message.value("usage"_L1).toObject());
    } else if (type == "content_block_start"_L1) {
        const int index = data.value("index"_L1).toInt();
        const QJsonObject block = data.value("content_block"_L1).toObject();
        const QString blockType = block.value("type"_L1).toString();
        m_blockTypes.insert(index, blockType);
        if (blockType == "thinking"_L1 || blockType == "redacted_thinking"_L1) {
            m_thinkingBlock.insert(index, int(m_thinkingBlocks.size()));
            m_thinkingBlocks.append(block);
            emitReasoning(block.value("thinking"_L1).toString());
        } else if (blockType == "tool_use"_L1) {
            emitToolCallDelta(index, block.value("id"_L1).toString(), block.value("name"_L1).toString(), {});
        } else if (blockType == "text"_L1) {
            emitDelta(block.value("text"_L1).toString());
        }
    } else if (type == "content_block_delta"_L1) {
        const int index = data.value("index"_L1).toInt();
        const QJsonObject delta = data.value("delta"_L1).toObject();
        const QString deltaType = delta.value("type"_L1).toString();
        if (deltaType == "text_delta"_L1) {
            emitDelta(delta.value("text"_L1).toString());
        } else if (deltaType == "thinking_delta"_L1 || deltaType == "signature_delta"_L1) {
            const bool thinking = deltaType == "thinking_delta"_L1;
            const QString field = thinking ? u"thinking"_s : u"signature"_s;
            const int at = m_thinkingBlock.value(index, -1);
            if (at >= 0) {
                QJsonObject block = m_thinkingBlocks.at(at).toObject();
                block.insert(field, block.value(field).toString() + delta.value(field).toString());
                m_thinkingBlocks.replace(at, block);
            }
            if (thinking)
                emitReasoning(delta.value("thinking"_L1).toString());
        } else if (deltaType == "input_json_delta"_L1 && m_blockTypes.value(index) == "tool_use"_L1) {
            // Only our tools' calls: a server tool's (web search) runs at Anthropic.
            emitToolCallDelta(index, {}, {}, delta.value("partial_json"_L1).toString());
        }
    } else if (type == "message_delta"_L1) {
        const QString stopReason = data.value("delta"_L1).toObject().value("stop_reason"_L1).toString();
        if (!stopReason.isEmpty())
            m_finishReason = finishReasonOf(stopReason);
        readUsage(data.value("usage"_L1).toObject());
    } else if (type == "message_stop"_L1) {
        if (m_finishReason.isEmpty())
            m_finishReason = u"stop"_s;
        finish();
    } else if (type == "error"_L1) {
        const QJsonObject error = data.value("error"_L1).toObject();
        const QString kind = error.value("type"_L1).toString();
        const QString message = error.value("message"_L1).toString();
        failInBand(kind.isEmpty() ? message : u"%1 (%2)"_s.arg(message, kind));
    }
    // ping, content_block_stop and event types added later need nothing.
}

void AnthropicStream::handleJsonBody(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if (o.value("type"_L1) == "error"_L1 || !o.contains("content"_L1)) {
        failInBand(errorMessage(body));
        return;
    }
    m_sawChunk = true;
    m_model = o.value("model"_L1).toString();
    readUsage(o.value("usage"_L1).toObject());
    const QJsonArray blocks = o.value("content"_L1).toArray();
    for (qsizetype i = 0; i < blocks.size() && !isFinished(); ++i) {
        const QJsonObject block = blocks.at(i).toObject();
        const QString type = block.value("type"_L1).toString();
        if (type == "text"_L1) {
            emitDelta(block.value("text"_L1).toString());
        } else if (type == "thinking"_L1 || type == "redacted_thinking"_L1) {
            m_thinkingBlocks.append(block);
            emitReasoning(block.value("thinking"_L1).toString());
        } else if (type == "tool_use"_L1) {
            emitToolCallDelta(
                int(i), block.value("id"_L1).toString(), block.value("name"_L1).toString(),
                QString::fromUtf8(
                    QJsonDocument(block.value("input"_L1).toObject()).toJson(QJsonDocument::Compact)));
        }
    }
    m_finishReason = finishReasonOf(o.value("stop_reason"_L1).toString(u"end_turn"_s));
    if (!isFinished())
        finish();
}

void AnthropicStream::completeCompletion(LlmCompletion &completion)
{
    completion.thinkingBlocks = m_thinkingBlocks;
}
