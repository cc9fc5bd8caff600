#include "chatrequest.h"

#include "core/uuidutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QJsonValue>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {

// Twice ChatService::maxAttachments (a file named twice counts once): a bound on the ids checked
// before any is looked at.
constexpr qsizetype maxAttachmentIds = 40;

ApiError checkAgentId(const QString &segment, ChatInput *input)
{
    input->agentId = segment.toLower();
    if (!Uuid::isValid(input->agentId))
        return ApiError::badRequest(u"invalid_uuid"_s, u"The agent id is not a UUID"_s);
    return {};
}

// "attachments": a list of file ids, and "model": a string, null or "" (the agent's again).
ApiError checkOptions(const QJsonValue &attachments, const QJsonValue &model, ChatInput *input)
{
    if (!attachments.isUndefined() && !attachments.isNull()) {
        if (!attachments.isArray())
            return ApiError::badRequest(u"invalid_field"_s,
                                        u"Field \"attachments\" must be a list of file ids"_s);
        if (attachments.toArray().size() > maxAttachmentIds)
            return ApiError::badRequest(u"too_many_attachments"_s,
                                        u"A message can carry at most %1 files"_s.arg(maxAttachmentIds / 2));
        for (const QJsonValue &value : attachments.toArray()) {
            const QString id = value.toString().toLower();
            if (!value.isString() || !Uuid::isValid(id))
                return ApiError::badRequest(u"invalid_uuid"_s,
                                            u"Field \"attachments\" holds a file id that is not a UUID"_s);
            if (!input->attachments.contains(id))
                input->attachments.append(id);
        }
    }
    input->hasAttachments = !attachments.isUndefined();
    if (model.isNull()) {
        input->model = QString();
    } else if (!model.isUndefined()) {
        if (!model.isString() || model.toString().size() > 200)
            return ApiError::badRequest(u"invalid_field"_s,
                                        u"Field \"model\" must be a string of at most 200 characters"_s);
        input->model = model.toString().trimmed();
    }
    return {};
}

// The checks common to both forms, in the order clients see them.
ApiError checkFields(const QJsonValue &message, const QJsonValue &sessionId, ChatInput *input)
{
    const bool files = !input->attachments.isEmpty();
    if ((message.isUndefined() || message.isNull()) && !files)
        return ApiError::badRequest(u"missing_message"_s, u"Field \"message\" is required"_s);
    if (!message.isString() && !message.isUndefined() && !message.isNull())
        return ApiError::badRequest(u"invalid_field"_s, u"Field \"message\" must be a string"_s);
    input->message = message.toString();
    if (input->message.trimmed().isEmpty() && !files)
        return ApiError::badRequest(u"empty_message"_s, u"Field \"message\" must not be empty"_s);
    if (input->message.size() > ChatRequestDecoder::maxMessageLength)
        return {413, u"payload_too_large"_s,
                u"The message is over %1 characters"_s.arg(ChatRequestDecoder::maxMessageLength)};
    if (!sessionId.isUndefined() && !sessionId.isNull()) {
        input->sessionId = sessionId.toString().toLower();
        if (!sessionId.isString() || !Uuid::isValid(input->sessionId))
            return ApiError::badRequest(u"invalid_uuid"_s, u"Field \"session_id\" is not a UUID"_s);
    }
    return {};
}

} // namespace

ApiError ChatRequestDecoder::parseObject(const QByteArray &body, QJsonObject *object)
{
    if (body.trimmed().isEmpty())
        return ApiError::badRequest(u"invalid_json"_s, u"The request needs a JSON object body"_s);
    // RFC 8259 allows no raw control characters, in strings or between tokens; Qt's parser takes
    // them (a raw NUL inside a string, say). Escaped ("\u0000") they stay allowed.
    for (qsizetype i = 0; i < body.size(); ++i) {
        const auto c = static_cast<unsigned char>(body.at(i));
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return ApiError::badRequest(u"invalid_json"_s,
                                        u"The body is not valid JSON: control character 0x%1 at offset %2"_s
                                            .arg(uint(c), 2, 16, QChar(u'0'))
                                            .arg(i));
        }
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        return ApiError::badRequest(
            u"invalid_json"_s,
            u"The body is not valid JSON: %1 at offset %2"_s.arg(error.errorString()).arg(error.offset));
    }
    if (!document.isObject())
        return ApiError::badRequest(u"invalid_json"_s, u"The body must be a JSON object"_s);
    *object = document.object();
    return {};
}

ChatRequestDecoder::Result ChatRequestDecoder::fromBody(const QString &agentIdSegment, const QByteArray &body)
{
    Result result;
    if ((result.error = checkAgentId(agentIdSegment, &result.input)).isError())
        return result;
    QJsonObject object;
    if ((result.error = parseObject(body, &object)).isError())
        return result;
    const QJsonValue stream = object.value(u"stream"_s);
    if (!stream.isUndefined() && !stream.isNull() && !stream.isBool()) {
        result.error = ApiError::badRequest(u"invalid_field"_s, u"Field \"stream\" must be a boolean"_s);
        return result;
    }
    if ((result.error = checkOptions(object.value(u"attachments"_s), object.value(u"model"_s), &result.input))
            .isError())
        return result;
    result.error = checkFields(object.value(u"message"_s), object.value(u"session_id"_s), &result.input);
    return result;
}

ChatRequestDecoder::Result ChatRequestDecoder::fromQuery(const QString &agentIdSegment,
                                                         const QUrlQuery &query)
{
    Result result;
    if ((result.error = checkAgentId(agentIdSegment, &result.input)).isError())
        return result;
    QJsonValue message;
    QJsonValue sessionId;
    if (query.hasQueryItem(u"message"_s))
        message = query.queryItemValue(u"message"_s, QUrl::FullyDecoded);
    if (query.hasQueryItem(u"session_id"_s))
        sessionId = query.queryItemValue(u"session_id"_s, QUrl::FullyDecoded);
    // EventSource's GET: attachments=<id>,<id>. Absent means absent, not null (null clears).
    QJsonValue attachments(QJsonValue::Undefined);
    if (query.hasQueryItem(u"attachments"_s)) {
        const QStringList ids =
            query.queryItemValue(u"attachments"_s, QUrl::FullyDecoded).split(u',', Qt::SkipEmptyParts);
        attachments = QJsonArray::fromStringList(ids);
    }
    QJsonValue model(QJsonValue::Undefined);
    if (query.hasQueryItem(u"model"_s))
        model = query.queryItemValue(u"model"_s, QUrl::FullyDecoded);
    if ((result.error = checkOptions(attachments, model, &result.input)).isError())
        return result;
    result.error = checkFields(message, sessionId, &result.input);
    return result;
}

ChatRequestDecoder::Result ChatRequestDecoder::messageOnly(const QByteArray &body)
{
    Result result;
    QJsonObject object;
    if ((result.error = parseObject(body, &object)).isError())
        return result;
    if ((result.error = checkOptions(object.value(u"attachments"_s), object.value(u"model"_s), &result.input))
            .isError())
        return result;
    // Without "attachments" an edit keeps the message's files: its words alone may then be empty
    // only if it has some, which the service knows.
    if (!result.input.hasAttachments && object.value(u"message"_s).isString()) {
        result.input.message = object.value(u"message"_s).toString();
        if (result.input.message.size() > maxMessageLength)
            result.error = {413, u"payload_too_large"_s,
                            u"The message is over %1 characters"_s.arg(maxMessageLength)};
        return result;
    }
    result.error = checkFields(object.value(u"message"_s), QJsonValue(), &result.input);
    return result;
}

ChatRequestDecoder::Result ChatRequestDecoder::optionsOnly(const QByteArray &body)
{
    Result result;
    if (body.trimmed().isEmpty())
        return result;
    QJsonObject object;
    if ((result.error = parseObject(body, &object)).isError())
        return result;
    result.error = checkOptions(QJsonValue(), object.value(u"model"_s), &result.input);
    return result;
}
