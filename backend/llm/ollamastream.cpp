#include "ollamastream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

OllamaStream::OllamaStream(const ProviderConfig &provider, const ChatRequest &request, QObject *parent)
    : UpstreamStream(provider, request, Framing::Lines, parent)
{
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!provider.apiKey.isEmpty()) // Ollama's cloud, or a proxy in front of a local one
        headers.append({"Authorization", "Bearer " + provider.apiKey.toUtf8()});
    setRequest(apiUrl(provider.baseUrl, "chat"_L1), requestBody(provider, request), headers);
    setSplitThinkTags(true); // without `think`, thinking models write <think> into the content
}

QUrl OllamaStream::apiUrl(const QUrl &baseUrl, QLatin1String endpoint)
{
    QUrl url = baseUrl;
    QString path = basePath(baseUrl);
    if (path.endsWith("/v1"_L1) || path.endsWith("/api"_L1))
        path.chop(path.size() - path.lastIndexOf(u'/'));
    url.setPath(path + "/api/"_L1 + endpoint);
    return url;
}

QByteArray OllamaStream::requestBody(const ProviderConfig &provider, const ChatRequest &request)
{
    QJsonArray messages;
    QHash<QString, QString> toolNames; // call id -> function, for the results
    for (const ChatMessage &m : request.messages) {
        QJsonObject message{{u"role"_s, m.role}, {u"content"_s, m.content}};
        if (!m.images.isEmpty()) {
            QJsonArray images;
            for (const ChatImage &image : m.images)
                images.append(QString::fromLatin1(image.data.toBase64()));
            message.insert(u"images"_s, images);
        }
        if (!m.toolCalls.isEmpty()) {
            QJsonArray calls;
            for (const QJsonValue &value : m.toolCalls) {
                const QJsonObject call = value.toObject();
                const QJsonObject function = call.value("function"_L1).toObject();
                const QString name = function.value("name"_L1).toString();
                toolNames.insert(call.value("id"_L1).toString(), name);
                const QJsonDocument arguments =
                    QJsonDocument::fromJson(function.value("arguments"_L1).toString().toUtf8());
                calls.append(QJsonObject{
                    {u"function"_s, QJsonObject{{u"name"_s, name},
                                                {u"arguments"_s, arguments.isObject() ? arguments.object()
                                                                                      : QJsonObject()}}}});
            }
            message.insert(u"tool_calls"_s, calls);
            if (!m.reasoningContent.isEmpty())
                message.insert(u"thinking"_s, m.reasoningContent);
        }
        if (m.role == "tool"_L1)
            message.insert(u"tool_name"_s, toolNames.value(m.toolCallId));
        messages.append(message);
    }
    QJsonObject body{
        {u"model"_s, request.model.isEmpty() ? provider.model : request.model},
        {u"messages"_s, messages},
        {u"stream"_s, true},
    };
    // Ollama has no tool_choice: "none" is no tools at all.
    if (!request.tools.isEmpty() && request.toolChoice != QJsonValue(u"none"_s))
        body.insert(u"tools"_s, request.tools);
    if (!request.reasoningEffort.isEmpty())
        body.insert(u"think"_s, request.reasoningEffort != "off"_L1);
    QJsonObject options;
    if (request.temperature)
        options.insert(u"temperature"_s, *request.temperature);
    if (request.maxTokens)
        options.insert(u"num_predict"_s, *request.maxTokens);
    if (!request.stop.isEmpty())
        options.insert(u"stop"_s, QJsonArray::fromStringList(request.stop));
    if (request.seed)
        options.insert(u"seed"_s, *request.seed);
    // Ollama's context is a few thousand tokens unless asked for more, and it drops the start of
    // a longer prompt without a word (the system prompt, the documents): ask for what this one
    // needs (the tools' schemas too), in steps of 8192 so that the model is not reloaded for every
    // new length, and never more than the model has.
    const int tools =
        estimateTokens(QString::fromUtf8(QJsonDocument(request.tools).toJson(QJsonDocument::Compact)));
    const int needed = estimatePromptTokens(request.messages) + (request.tools.isEmpty() ? 0 : tools) +
                       (request.maxTokens ? *request.maxTokens : 2048);
    const int most = request.contextWindow > 0 ? qMin(maxContext, request.contextWindow) : maxContext;
    if (needed > defaultContext)
        options.insert(u"num_ctx"_s, qMin(most, (needed + 8191) / 8192 * 8192));
    if (!options.isEmpty())
        body.insert(u"options"_s, options);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

void OllamaStream::handleLine(QByteArrayView line)
{
    const QJsonDocument doc = QJsonDocument::fromJson(line.toByteArray());
    if (!doc.isObject()) {
        skip("a line that is not a JSON object", QString::fromUtf8(line));
        return;
    }
    const QJsonObject o = doc.object();
    if (o.value("error"_L1).isString() || o.value("error"_L1).isObject()) {
        failInBand(errorMessage(line.toByteArray()));
        return;
    }
    if (!o.contains("message"_L1) && !o.contains("done"_L1)) {
        skip("a line without a message", QString::fromUtf8(line));
        return;
    }
    m_sawChunk = true;
    const QString model = o.value("model"_L1).toString();
    if (!model.isEmpty())
        m_model = model;
    const QJsonObject message = o.value("message"_L1).toObject();
    const QString thinking = message.value("thinking"_L1).toString();
    m_thinking += thinking;
    emitReasoning(thinking);
    if (isFinished())
        return;
    emitDelta(message.value("content"_L1).toString());
    if (isFinished())
        return;
    // Whole calls, each in one line (or several in one).
    for (const QJsonValue &value : message.value("tool_calls"_L1).toArray()) {
        const QJsonObject call = value.toObject();
        const QJsonObject function = call.value("function"_L1).toObject();
        const QJsonValue arguments = function.value("arguments"_L1);
        const QString text =
            arguments.isString()
                ? arguments.toString()
                : QString::fromUtf8(QJsonDocument(arguments.toObject()).toJson(QJsonDocument::Compact));
        emitToolCallDelta(m_calls++, call.value("id"_L1).toString(), function.value("name"_L1).toString(),
                          text);
        if (isFinished())
            return;
    }
    if (!o.value("done"_L1).toBool())
        return;
    // "stop" even after tool calls; "load" and "unload" for a reply that had nothing to say.
    const QString reason = o.value("done_reason"_L1).toString(u"stop"_s);
    m_finishReason = m_calls > 0 ? u"tool_calls"_s : reason == "length"_L1 ? reason : u"stop"_s;
    if (o.contains("eval_count"_L1) || o.contains("prompt_eval_count"_L1))
        setUsage(o.value("prompt_eval_count"_L1).toInt(), o.value("eval_count"_L1).toInt());
    finish();
}

void OllamaStream::completeCompletion(LlmCompletion &completion)
{
    completion.reasoningContent = m_thinking;
}

void OllamaStream::handleJsonBody(const QByteArray &body)
{
    handleLine(body); // `stream: false` answers the last line's shape, with the whole message
    if (!isFinished())
        fail(LlmError::Protocol, u"upstream_protocol"_s, u"The upstream's answer was not a finished chat."_s);
}
