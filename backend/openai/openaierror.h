#pragma once

#include "core/apierror.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>

// An error as OpenAI's API words it, `{"error": {"message", "type", "param", "code"}}`, which the
// official SDKs turn into their error classes (by the HTTP status) and raise from a stream (by the
// `error` member of an event). The AgentDesk code of the error is kept as `code`.
struct OpenAiError
{
    int status = 400;
    QString code;
    QString message;
    QString param; // the request field at fault ("messages[2].content"), empty: none

    bool isError() const { return !code.isEmpty(); }
    // OpenAI's type for a status: invalid_request_error, authentication_error, ...
    static QString typeFor(int status);
    QJsonObject body() const;
    // Retry-After for the errors worth retrying (429, 503), none for the others.
    QList<QPair<QByteArray, QByteArray>> headers() const;
    static OpenAiError from(const ApiError &error);
};
