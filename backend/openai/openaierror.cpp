#include "openaierror.h"

using namespace Qt::StringLiterals;

QString OpenAiError::typeFor(int status)
{
    switch (status) {
    case 401:
        return u"authentication_error"_s;
    case 403:
        return u"permission_error"_s;
    case 404:
        return u"invalid_request_error"_s; // OpenAI's own for model_not_found
    case 429:
        return u"rate_limit_error"_s;
    default:
        return status >= 500 ? u"server_error"_s : u"invalid_request_error"_s;
    }
}

QJsonObject OpenAiError::body() const
{
    return {{u"error"_s, QJsonObject{{u"message"_s, message},
                                     {u"type"_s, typeFor(status)},
                                     {u"param"_s, param.isEmpty() ? QJsonValue() : QJsonValue(param)},
                                     {u"code"_s, code}}}};
}

QList<QPair<QByteArray, QByteArray>> OpenAiError::headers() const
{
    if (status == 429 || status == 503)
        return {qMakePair(QByteArray("Retry-After"), QByteArray("1"))};
    return {};
}

OpenAiError OpenAiError::from(const ApiError &error)
{
    return {error.status, error.code, error.message, {}};
}
