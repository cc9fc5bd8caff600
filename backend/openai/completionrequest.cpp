#include "completionrequest.h"

#include "files/filetype.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <cmath>

using namespace Qt::StringLiterals;

namespace {

OpenAiError invalid(const QString &param, const QString &message, const QString &code = u"invalid_value"_s)
{
    return {400, code, message, param};
}

// An image_url part: a data URL whose bytes are an image the models take.
bool imageOf(const QJsonObject &part, const QString &param, ChatImage *image, OpenAiError *error)
{
    const QString url = part.value("image_url"_L1).toObject().value("url"_L1).toString();
    const QString at = param + u".image_url.url"_s;
    static const QRegularExpression dataUrl(u"^data:([\\w.+-]+/[\\w.+-]+)?(;[^,;]+)*;base64,"_s);
    const QRegularExpressionMatch match = dataUrl.match(url);
    if (!match.hasMatch()) {
        *error = invalid(at, url.startsWith("http"_L1, Qt::CaseInsensitive)
                                 ? u"Images must be sent inline as data URLs (data:image/png;base64,...); "
                                   u"AgentDesk does not fetch URLs for a caller"_s
                                 : u"An image must be a data URL: data:image/png;base64,..."_s);
        return false;
    }
    const auto result = QByteArray::fromBase64Encoding(url.mid(match.capturedLength()).toLatin1(),
                                                       QByteArray::AbortOnBase64DecodingErrors);
    const QByteArray *decoded = &result.decoded;
    if (!result || decoded->isEmpty()) {
        *error = invalid(at, u"The image's base64 is damaged"_s);
        return false;
    }
    if (decoded->size() > CompletionRequest::maxImageBytes) {
        *error =
            invalid(at, u"An image may have at most %1 MiB"_s.arg(CompletionRequest::maxImageBytes >> 20));
        return false;
    }
    const FileType::Result type = FileType::detect(*decoded);
    if (type.kind != FileType::Kind::Image) {
        *error = invalid(at, u"The data is not a PNG, JPEG, WebP or GIF image"_s, u"invalid_image_format"_s);
        return false;
    }
    *image = {type.mediaType, *decoded};
    return true;
}

// A message's content: a string, or parts: text, and image_url where `images` (user messages).
// System, tool and assistant messages may also have none.
bool contentOf(const QJsonValue &content, const QString &param, bool images, ChatMessage *out,
               OpenAiError *error)
{
    if (content.isString() || (!images && (content.isNull() || content.isUndefined()))) {
        out->content = content.toString();
        return true;
    }
    if (!content.isArray()) {
        *error = invalid(param, u"%1 must be a string or an array of content parts"_s.arg(param),
                         u"invalid_type"_s);
        return false;
    }
    QStringList pieces;
    const QJsonArray parts = content.toArray();
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const QJsonObject part = parts.at(i).toObject();
        const QString type = part.value("type"_L1).toString();
        const QString at = u"%1[%2]"_s.arg(param).arg(i);
        if (type == "text"_L1 && part.value("text"_L1).isString()) {
            pieces.append(part.value("text"_L1).toString());
        } else if (type == "image_url"_L1 && images) {
            ChatImage image;
            if (!imageOf(part, at, &image, error))
                return false;
            out->images.append(image);
        } else {
            *error = invalid(at, images ? u"Content parts of type \"%1\" are not supported: send text and "
                                          u"image_url parts"_s.arg(type)
                                        : u"Only text parts are allowed here (type \"text\" with a string "
                                          u"\"text\")"_s);
            return false;
        }
    }
    out->content = pieces.join(u"\n"_s);
    return true;
}

bool toolCallsOf(const QJsonValue &value, const QString &param, QJsonArray *calls, OpenAiError *error)
{
    if (value.isUndefined() || value.isNull())
        return true;
    if (!value.isArray()) {
        *error = invalid(param, u"tool_calls must be an array"_s, u"invalid_type"_s);
        return false;
    }
    const QJsonArray list = value.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject call = list.at(i).toObject();
        const QJsonObject function = call.value("function"_L1).toObject();
        const QString at = u"%1[%2]"_s.arg(param).arg(i);
        if (!call.value("id"_L1).isString() || call.value("id"_L1).toString().isEmpty() ||
            !function.value("name"_L1).isString()) {
            *error = invalid(at, u"A tool call needs an \"id\" and a function \"name\""_s);
            return false;
        }
        const QJsonValue arguments = function.value("arguments"_L1);
        calls->append(QJsonObject{
            {u"id"_s, call.value("id"_L1)},
            {u"type"_s, u"function"_s},
            {u"function"_s,
             QJsonObject{{u"name"_s, function.value("name"_L1)},
                         {u"arguments"_s, arguments.isString() ? arguments.toString() : u"{}"_s}}}});
    }
    return true;
}

bool messagesOf(const QJsonValue &value, CompletionRequest *out, OpenAiError *error)
{
    if (!value.isArray() || value.toArray().isEmpty()) {
        *error = invalid(u"messages"_s, u"messages must be a non-empty array"_s,
                         value.isUndefined() ? u"missing_required_parameter"_s : u"invalid_value"_s);
        return false;
    }
    const QJsonArray list = value.toArray();
    if (list.size() > CompletionRequest::maxMessages) {
        *error = invalid(u"messages"_s, u"At most %1 messages"_s.arg(CompletionRequest::maxMessages));
        return false;
    }
    int images = 0;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString at = u"messages[%1]"_s.arg(i);
        if (!list.at(i).isObject()) {
            *error = invalid(at, u"Each message must be an object"_s, u"invalid_type"_s);
            return false;
        }
        const QJsonObject message = list.at(i).toObject();
        const QString role = message.value("role"_L1).toString();
        const QJsonValue content = message.value("content"_L1);
        ChatMessage m;
        if (role == "system"_L1 || role == "developer"_L1) {
            m.role = u"system"_s;
            if (!contentOf(content, at + u".content"_s, false, &m, error))
                return false;
        } else if (role == "user"_L1) {
            m.role = role;
            if (!contentOf(content, at + u".content"_s, true, &m, error))
                return false;
            images += int(m.images.size());
        } else if (role == "assistant"_L1) {
            m.role = role;
            if (!contentOf(content, at + u".content"_s, false, &m, error) ||
                !toolCallsOf(message.value("tool_calls"_L1), at + u".tool_calls"_s, &m.toolCalls, error))
                return false;
            // DeepSeek's thinking mode wants it back within a tool loop.
            m.reasoningContent = message.value("reasoning_content"_L1).toString();
        } else if (role == "tool"_L1) {
            m.role = role;
            m.toolCallId = message.value("tool_call_id"_L1).toString();
            if (m.toolCallId.isEmpty()) {
                *error =
                    invalid(at + u".tool_call_id"_s, u"A tool message needs the tool_call_id it answers"_s,
                            u"missing_required_parameter"_s);
                return false;
            }
            if (!contentOf(content, at + u".content"_s, false, &m, error))
                return false;
        } else {
            *error =
                invalid(at + u".role"_s,
                        u"role must be system, developer, user, assistant or tool, not \"%1\""_s.arg(role));
            return false;
        }
        out->caller.messages.append(m);
    }
    if (images > CompletionRequest::maxImages) {
        *error =
            invalid(u"messages"_s, u"At most %1 images in one request"_s.arg(CompletionRequest::maxImages));
        return false;
    }
    return true;
}

bool toolsOf(const QJsonObject &body, ChatRequest *caller, OpenAiError *error)
{
    const QJsonValue value = body.value("tools"_L1);
    const QJsonValue choice = body.value("tool_choice"_L1);
    if (value.isUndefined() || value.isNull()) {
        if (choice.isObject() || choice == "required"_L1) {
            *error = invalid(u"tool_choice"_s, u"tool_choice asks for a tool, and there are no tools"_s);
            return false;
        }
        return true;
    }
    if (!value.isArray()) {
        *error = invalid(u"tools"_s, u"tools must be an array"_s, u"invalid_type"_s);
        return false;
    }
    static const QRegularExpression name(u"^[a-zA-Z0-9_-]{1,64}$"_s);
    QStringList names;
    const QJsonArray list = value.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject tool = list.at(i).toObject();
        const QJsonObject function = tool.value("function"_L1).toObject();
        const QString at = u"tools[%1]"_s.arg(i);
        if (tool.value("type"_L1) != "function"_L1) {
            *error = invalid(at + u".type"_s, u"Only tools of type \"function\" are supported"_s);
            return false;
        }
        const QString functionName = function.value("name"_L1).toString();
        if (!name.match(functionName).hasMatch()) {
            *error = invalid(at + u".function.name"_s,
                             u"A function name is 1 to 64 letters, digits, underscores or dashes"_s);
            return false;
        }
        if (names.contains(functionName)) {
            *error = invalid(at + u".function.name"_s, u"Two tools are named \"%1\""_s.arg(functionName));
            return false;
        }
        names.append(functionName);
        QJsonObject parameters = function.value("parameters"_L1).toObject();
        if (parameters.isEmpty())
            parameters = {{u"type"_s, u"object"_s}, {u"properties"_s, QJsonObject{}}};
        QJsonObject copy{{u"name"_s, functionName}, {u"parameters"_s, parameters}};
        if (function.value("description"_L1).isString())
            copy.insert(u"description"_s, function.value("description"_L1));
        caller->tools.append(QJsonObject{{u"type"_s, u"function"_s}, {u"function"_s, copy}});
    }
    if (choice.isString()) {
        const QString mode = choice.toString();
        if (mode != "none"_L1 && mode != "auto"_L1 && mode != "required"_L1) {
            *error = invalid(u"tool_choice"_s, u"tool_choice must be none, auto, required or a function"_s);
            return false;
        }
        caller->toolChoice = choice;
    } else if (choice.isObject()) {
        const QString named = choice.toObject().value("function"_L1).toObject().value("name"_L1).toString();
        if (!names.contains(named)) {
            *error = invalid(u"tool_choice"_s,
                             u"tool_choice names \"%1\", which is not one of the tools"_s.arg(named));
            return false;
        }
        caller->toolChoice =
            QJsonObject{{u"type"_s, u"function"_s}, {u"function"_s, QJsonObject{{u"name"_s, named}}}};
    } else if (!choice.isUndefined() && !choice.isNull()) {
        *error = invalid(u"tool_choice"_s, u"tool_choice must be a string or an object"_s, u"invalid_type"_s);
        return false;
    }
    if (choice == "required"_L1 && names.isEmpty()) {
        *error = invalid(u"tool_choice"_s, u"tool_choice asks for a tool, and there are no tools"_s);
        return false;
    }
    const QJsonValue parallel = body.value("parallel_tool_calls"_L1);
    if (parallel.isBool())
        caller->parallelToolCalls = parallel.toBool();
    else if (!parallel.isUndefined() && !parallel.isNull()) {
        *error =
            invalid(u"parallel_tool_calls"_s, u"parallel_tool_calls must be a boolean"_s, u"invalid_type"_s);
        return false;
    }
    return true;
}

bool samplingOf(const QJsonObject &body, ChatRequest *caller, OpenAiError *error)
{
    const QJsonValue temperature = body.value("temperature"_L1);
    if (temperature.isDouble()) {
        if (temperature.toDouble() < 0 || temperature.toDouble() > 2) {
            *error = invalid(u"temperature"_s, u"temperature must be between 0 and 2"_s);
            return false;
        }
        caller->temperature = temperature.toDouble();
    } else if (!temperature.isUndefined() && !temperature.isNull()) {
        *error = invalid(u"temperature"_s, u"temperature must be a number"_s, u"invalid_type"_s);
        return false;
    }
    for (const QString &field : {u"max_completion_tokens"_s, u"max_tokens"_s}) {
        const QJsonValue value = body.value(field);
        if (value.isUndefined() || value.isNull())
            continue;
        const double n = value.toDouble(-1);
        if (!value.isDouble() || n < 1 || n > 1e7 || n != std::floor(n)) {
            *error = invalid(field, u"%1 must be a positive integer"_s.arg(field));
            return false;
        }
        if (!caller->maxTokens)
            caller->maxTokens = int(n);
    }
    const QJsonValue stop = body.value("stop"_L1);
    if (stop.isString()) {
        caller->stop = {stop.toString()};
    } else if (stop.isArray()) {
        const QJsonArray list = stop.toArray();
        if (list.size() > CompletionRequest::maxStops) {
            *error = invalid(u"stop"_s, u"At most %1 stop sequences"_s.arg(CompletionRequest::maxStops));
            return false;
        }
        for (const QJsonValue &s : list) {
            if (!s.isString() || s.toString().isEmpty()) {
                *error = invalid(u"stop"_s, u"stop must hold non-empty strings"_s, u"invalid_type"_s);
                return false;
            }
            caller->stop.append(s.toString());
        }
    } else if (!stop.isUndefined() && !stop.isNull()) {
        *error = invalid(u"stop"_s, u"stop must be a string or an array of strings"_s, u"invalid_type"_s);
        return false;
    }
    const QJsonValue seed = body.value("seed"_L1);
    if (seed.isDouble() && seed.toDouble() == std::floor(seed.toDouble()) &&
        std::abs(seed.toDouble()) < 9e15) {
        caller->seed = qint64(seed.toDouble());
    } else if (!seed.isUndefined() && !seed.isNull()) {
        *error = invalid(u"seed"_s, u"seed must be an integer"_s, u"invalid_type"_s);
        return false;
    }
    return true;
}

// What the session keeps of this call: the tool results it answers with, or the newest user words.
QString recordOf(const QList<ChatMessage> &messages)
{
    QStringList results;
    qsizetype i = messages.size();
    while (i > 0 && messages.at(i - 1).role == "tool"_L1) {
        --i;
        results.prepend(u"[%1] %2"_s.arg(messages.at(i).toolCallId, messages.at(i).content));
    }
    if (!results.isEmpty())
        return u"Tool results:\n"_s + results.join(u'\n');
    for (auto it = messages.crbegin(); it != messages.crend(); ++it) {
        if (it->role != "user"_L1)
            continue;
        QString text = it->content;
        if (!it->images.isEmpty())
            text += (text.isEmpty() ? QString() : u"\n"_s) + u"[%1 image(s)]"_s.arg(it->images.size());
        return text;
    }
    return {};
}

} // namespace

CompletionRequest::Result CompletionRequest::decode(const QByteArray &body)
{
    Result result;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        result.error = {400,
                        u"invalid_json"_s,
                        u"The body must be a JSON object (%1)"_s.arg(
                            parseError.error != QJsonParseError::NoError ? parseError.errorString()
                                                                         : u"it is not an object"_s),
                        {}};
        return result;
    }
    const QJsonObject object = doc.object();
    CompletionRequest &request = result.request;
    const QJsonValue model = object.value("model"_L1);
    if (!model.isString() || model.toString().trimmed().isEmpty()) {
        result.error =
            invalid(u"model"_s, u"model must name an agent (its id or its name; GET /v1/models lists them)"_s,
                    model.isUndefined() ? u"missing_required_parameter"_s : u"invalid_value"_s);
        return result;
    }
    request.model = model.toString().trimmed();
    const QJsonValue n = object.value("n"_L1);
    if (!n.isUndefined() && !n.isNull() && n.toDouble() != 1) {
        result.error = invalid(u"n"_s, u"Only n = 1 is supported"_s);
        return result;
    }
    const QJsonValue stream = object.value("stream"_L1);
    if (!stream.isBool() && !stream.isUndefined() && !stream.isNull()) {
        result.error = invalid(u"stream"_s, u"stream must be a boolean"_s, u"invalid_type"_s);
        return result;
    }
    request.stream = stream.toBool();
    const QJsonValue streamOptions = object.value("stream_options"_L1);
    if (!streamOptions.isUndefined() && !streamOptions.isNull() &&
        (!request.stream || !streamOptions.isObject())) {
        result.error =
            invalid(u"stream_options"_s, streamOptions.isObject()
                                             ? u"stream_options is only allowed when stream is true"_s
                                             : u"stream_options must be an object"_s);
        return result;
    }
    request.includeUsage =
        request.stream && object.value("stream_options"_L1).toObject().value("include_usage"_L1).toBool();
    if (!messagesOf(object.value("messages"_L1), &request, &result.error) ||
        !toolsOf(object, &request.caller, &result.error) ||
        !samplingOf(object, &request.caller, &result.error))
        return result;
    request.record = recordOf(request.caller.messages);
    return result;
}
