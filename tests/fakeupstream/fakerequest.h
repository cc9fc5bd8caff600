#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>

// One HTTP request as the fake upstream received it.
struct FakeRequest
{
    QByteArray method;
    QByteArray path;
    QList<QPair<QByteArray, QByteArray>> headers; // names lower-cased, in arrival order
    QByteArray body;
    QJsonObject json; // the body parsed, when it was a JSON object

    QByteArray header(const QByteArray &lowerCaseName) const
    {
        for (const auto &h : headers) {
            if (h.first == lowerCaseName)
                return h.second;
        }
        return {};
    }
};
