#pragma once

#include "core/apierror.h"

#include <QByteArray>
#include <QSize>
#include <QString>

// What an upload becomes before it is stored, done off the serving thread (decoding an image or
// a PDF takes long): its type checked from the bytes, an image's size read (and a very large image
// scaled down to what models take), a document's text extracted (PDF pages through Poppler, text
// decoded). Everything refused says why with the status the client gets.
class FileIntake
{
public:
    struct Limits
    {
        qint64 maxBytes = 20 * 1024 * 1024;
        // Images larger than this (either side) are scaled to fit: no model looks at more (OpenAI
        // scales to 2048, Anthropic to 1568), and Anthropic refuses images over 8000 px or whose
        // base64 is over 5 MiB (so 3.75 MiB of bytes).
        int maxImageEdge = 2048;
        qint64 maxImageBytes = 5 * 1024 * 1024 / 4 * 3;
        int maxPdfPages = 1000;
        int maxTextChars = 2 * 1000 * 1000; // kept of a document's text
    };

    struct Result
    {
        ApiError error;
        QString mediaType;
        QByteArray bytes; // as stored: the upload, or its scaled copy
        QString text;
        int pages = 0;
        QSize size;         // an image's, as stored
        QSize originalSize; // before scaling, when it was scaled
        bool textCut = false;
    };

    static Result process(QByteArray bytes, const QString &declaredType, const QString &name,
                          const Limits &limits);
    // A PDF's text, page by page; `error` when it cannot be read (damaged, encrypted).
    static Result pdfText(const QByteArray &bytes, const Limits &limits);
};
