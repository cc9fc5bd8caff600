#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

// A multipart/form-data body (RFC 7578), as browsers' FormData, curl -F and the SDKs send files.
// Pure: no I/O, fuzzed on its own.
class MultipartForm
{
public:
    struct Part
    {
        QString name;        // the form field
        QString fileName;    // empty for a plain field
        QByteArray type;     // the part's Content-Type, as sent
        QByteArrayView data; // into the body given to parse()
    };

    // The boundary of a `multipart/form-data; boundary=...` Content-Type; empty when it has none.
    static QByteArray boundaryOf(QByteArrayView contentType);
    // The parts of `body`; false when it is not a well-formed multipart body with that boundary.
    static bool parse(QByteArrayView body, QByteArrayView boundary, QList<Part> *parts);
};
