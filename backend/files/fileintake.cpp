#include "fileintake.h"

#include "filetype.h"

#include <QBuffer>
#include <QImage>
#include <QImageReader>
#include <QImageWriter>

#include <poppler-qt6.h>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

ApiError unsupported(const QString &message)
{
    return {415, u"unsupported_media_type"_s, message};
}

void readImage(FileIntake::Result &result, const FileIntake::Limits &limits)
{
    QBuffer buffer(&result.bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    reader.setAutoTransform(true); // a phone photo's EXIF rotation, as viewers show it
    const QSize size = reader.size();
    if (!size.isValid()) {
        result.error = {422, u"file_unreadable"_s,
                        u"The image cannot be read (%1)"_s.arg(reader.errorString())};
        return;
    }
    result.size = size;
    const bool animated = reader.supportsAnimation() && reader.imageCount() > 1;
    const bool tooLarge =
        qMax(size.width(), size.height()) > limits.maxImageEdge || result.bytes.size() > limits.maxImageBytes;
    if (!tooLarge || animated)
        return;
    QImage image = reader.read();
    if (image.isNull()) {
        result.error = {422, u"file_unreadable"_s,
                        u"The image cannot be decoded (%1)"_s.arg(reader.errorString())};
        return;
    }
    if (qMax(image.width(), image.height()) > limits.maxImageEdge)
        image = image.scaled(limits.maxImageEdge, limits.maxImageEdge, Qt::KeepAspectRatio,
                             Qt::SmoothTransformation);
    // A photo as JPEG; anything with transparency (a screenshot's rounded corners) as PNG.
    const bool alpha = image.hasAlphaChannel();
    QByteArray scaled;
    QBuffer out(&scaled);
    out.open(QIODevice::WriteOnly);
    QImageWriter writer(&out, alpha ? "png" : "jpeg");
    if (!alpha)
        writer.setQuality(88);
    if (!writer.write(image)) {
        result.error = {422, u"file_unreadable"_s,
                        u"The image could not be scaled down (%1)"_s.arg(writer.errorString())};
        return;
    }
    result.originalSize = size;
    result.size = image.size();
    result.bytes = scaled;
    result.mediaType = alpha ? u"image/png"_s : u"image/jpeg"_s;
}

void cut(FileIntake::Result &result, const FileIntake::Limits &limits)
{
    if (result.text.size() <= limits.maxTextChars)
        return;
    int at = limits.maxTextChars;
    if (result.text.at(at - 1).isHighSurrogate())
        --at;
    result.text.truncate(at);
    result.textCut = true;
}

} // namespace

FileIntake::Result FileIntake::pdfText(const QByteArray &bytes, const Limits &limits)
{
    Result result;
    const std::unique_ptr<Poppler::Document> document = Poppler::Document::loadFromData(bytes);
    if (!document) {
        result.error = {422, u"file_unreadable"_s, u"The PDF cannot be read: it is damaged or not a PDF"_s};
        return result;
    }
    if (document->isLocked()) {
        result.error = {422, u"file_unreadable"_s, u"The PDF is protected by a password"_s};
        return result;
    }
    result.pages = document->numPages();
    const int pages = qMin(result.pages, limits.maxPdfPages);
    for (int i = 0; i < pages && result.text.size() <= limits.maxTextChars; ++i) {
        const std::unique_ptr<Poppler::Page> page = document->page(i);
        if (!page)
            continue;
        const QString text = page->text(QRectF()).trimmed();
        // The model can say which page it read something on.
        if (result.pages > 1)
            result.text += u"[Page %1]\n"_s.arg(i + 1);
        result.text += text + u"\n\n"_s;
    }
    result.text = result.text.trimmed();
    result.textCut = pages < result.pages;
    cut(result, limits);
    return result;
}

FileIntake::Result FileIntake::process(QByteArray bytes, const QString &declaredType, const QString &name,
                                       const Limits &limits)
{
    Result result;
    if (bytes.isEmpty()) {
        result.error = ApiError::badRequest(u"empty_file"_s, u"The file is empty"_s);
        return result;
    }
    if (bytes.size() > limits.maxBytes) {
        result.error = {413, u"payload_too_large"_s,
                        u"The file is over the limit of %1 bytes"_s.arg(limits.maxBytes)};
        return result;
    }
    const FileType::Result type = FileType::detect(bytes, name);
    if (type.kind == FileType::Kind::Unsupported) {
        result.error = unsupported(u"Only PNG, JPEG, WebP and GIF images, PDFs and text files (plain text, "
                                   u"Markdown, source code) can be attached"_s);
        return result;
    }
    if (FileType::contradicts(declaredType, type)) {
        result.error = {415, u"content_type_mismatch"_s,
                        u"The file was sent as %1 but its content is %2"_s.arg(
                            declaredType.section(u';', 0, 0).trimmed(), type.mediaType)};
        return result;
    }
    result.mediaType = type.mediaType;
    switch (type.kind) {
    case FileType::Kind::Image:
        result.bytes = std::move(bytes);
        readImage(result, limits);
        break;
    case FileType::Kind::Pdf: {
        Result pdf = pdfText(bytes, limits);
        if (pdf.error.isError())
            return pdf;
        result.text = pdf.text;
        result.pages = pdf.pages;
        result.textCut = pdf.textCut;
        result.bytes = std::move(bytes);
        break;
    }
    case FileType::Kind::Text:
        result.text = FileType::decodeText(bytes);
        cut(result, limits);
        result.bytes = std::move(bytes);
        break;
    case FileType::Kind::Unsupported:
        break;
    }
    return result;
}
