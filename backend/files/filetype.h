#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// What a file is, told from its bytes (never from what the client declares): an image the models
// take (PNG, JPEG, WebP, GIF), a PDF, or text (UTF-8, UTF-16 with a byte order mark, or an 8-bit
// encoding; no NUL and hardly a control character: plain text, Markdown, source code), else
// unsupported. Pure, so it is tested and fuzzed on its own.
class FileType
{
public:
    enum class Kind { Unsupported, Image, Pdf, Text };

    struct Result
    {
        Kind kind = Kind::Unsupported;
        QString mediaType; // image/png, application/pdf, text/markdown, text/x-python, ...
    };

    // `name` only names the kind of text (a .py file is text/x-python): it never makes bytes text.
    static Result detect(QByteArrayView bytes, const QString &name = {});
    // Whether a type a client declared contradicts what the bytes are: an image that is not one, a
    // PDF that is not one. Generic types (application/octet-stream, none) never do; one image type
    // for another (a .png that is a JPEG) does not either, the bytes decide.
    static bool contradicts(const QString &declared, const Result &detected);
    // The text of a Text file: UTF-16 by its byte order mark, UTF-8, else Latin-1.
    static QString decodeText(QByteArrayView bytes);
    // The charset decodeText() reads text bytes in, as a Content-Type names it.
    static QByteArray charsetOf(QByteArrayView bytes);
    // The media type for a text file named `name`.
    static QString textType(const QString &name);
};
