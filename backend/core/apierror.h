#pragma once

#include <QString>

// An error that reaches a client: HTTP status, a stable machine-readable code and a human
// message. Errors cross the library boundary as values like this one, never as exceptions.
struct ApiError
{
    int status = 0; // 0 = no error
    QString code;
    QString message;

    bool isError() const { return status != 0; }
    static ApiError badRequest(const QString &code, const QString &message) { return {400, code, message}; }
    static ApiError notFound(const QString &code, const QString &message) { return {404, code, message}; }
    static ApiError storage()
    {
        return {500, QStringLiteral("storage_error"), QStringLiteral("The database refused the operation")};
    }
};
