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

QByteArray encode(const QImage &image, const char *format, int quality)
{
    QByteArray bytes;
    QBuffer out(&bytes);
    out.open(QIODevice::WriteOnly);
    QImageWriter writer(&out, format);
    writer.setQuality(quality);
    return writer.write(image) ? bytes : QByteArray();
}

// Every image is decoded whole (a damaged one is refused here, not by the model provider later).
// One that is too large, turned (a phone photo's EXIF orientation) or animated (models see one
// frame; OpenAI takes no animated GIF) is stored as the picture models get: its first frame,
// upright, at most maxImageEdge on a side and maxImageBytes long.
void readImage(FileIntake::Result &result, const FileIntake::Limits &limits)
{
    QBuffer buffer(&result.bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (!size.isValid()) {
        result.error = {422, u"file_unreadable"_s,
                        u"The image cannot be read (%1)"_s.arg(reader.errorString())};
        return;
    }
    // Decoding may hold every pixel (GIF and PNG readers cannot decode smaller): a panorama may come
    // in, a picture of a billion pixels may not. 50 million 32-bit pixels stay within Qt's own
    // allocation limit (256 MiB), so several uploads read at once stay bounded too.
    constexpr qint64 maxPixels = 50 * 1000 * 1000;
    if (qint64(size.width()) * size.height() > maxPixels) {
        result.error = {
            413, u"payload_too_large"_s,
            u"The image is %1 × %2 pixels; at most %3 million pixels are taken"_s.arg(size.width())
                .arg(size.height())
                .arg(maxPixels / 1000000)};
        return;
    }
    const bool turned = reader.transformation() != QImageIOHandler::TransformationNone;
    const bool animated = reader.supportsAnimation() && reader.imageCount() > 1;
    const bool tooLarge = qMax(size.width(), size.height()) > limits.maxImageEdge;
    // A very large picture is decoded at the size it is stored at: whole, it could be gigabytes.
    if (tooLarge)
        reader.setScaledSize(size.scaled(limits.maxImageEdge, limits.maxImageEdge, Qt::KeepAspectRatio));
    QImage image = reader.read();
    if (image.isNull()) {
        result.error = {
            422, u"file_unreadable"_s,
            u"The image cannot be decoded: it is damaged or incomplete (%1)"_s.arg(reader.errorString())};
        return;
    }
    result.size = image.size();
    if (!tooLarge && !turned && !animated && result.bytes.size() <= limits.maxImageBytes)
        return; // as sent
    // A photo as JPEG; anything with transparency (a screenshot's rounded corners) as PNG. Made
    // smaller until it fits: less quality first, then fewer pixels.
    const bool alpha = image.hasAlphaChannel();
    QByteArray bytes = encode(image, alpha ? "png" : "jpeg", 88);
    for (int quality = 75; bytes.size() > limits.maxImageBytes && !alpha && quality >= 55; quality -= 10)
        bytes = encode(image, "jpeg", quality);
    while (bytes.size() > limits.maxImageBytes && image.width() > 64 && image.height() > 64) {
        image = image.scaled(image.width() * 3 / 4, image.height() * 3 / 4, Qt::KeepAspectRatio,
                             Qt::SmoothTransformation);
        bytes = encode(image, alpha ? "png" : "jpeg", alpha ? -1 : 75);
    }
    if (bytes.isEmpty()) {
        result.error = {422, u"file_unreadable"_s, u"The image could not be stored in a form models take"_s};
        return;
    }
    if (image.size() != size)
        result.originalSize = size;
    result.size = image.size();
    result.bytes = bytes;
    result.mediaType = alpha ? u"image/png"_s : u"image/jpeg"_s;
}

// What is kept of a text too long to keep says so itself: every later turn sends it to the model
// as it is stored.
void cut(FileIntake::Result &result, const FileIntake::Limits &limits)
{
    if (result.text.size() <= limits.maxTextChars)
        return;
    int at = limits.maxTextChars;
    if (result.text.at(at - 1).isHighSurrogate())
        --at;
    const qsizetype dropped = result.text.size() - at;
    result.text.truncate(at);
    result.text += u"\n[… cut at upload: the remaining %1 characters were not kept.]"_s.arg(dropped);
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
    int read = 0;
    for (; read < pages && result.text.size() <= limits.maxTextChars; ++read) {
        const std::unique_ptr<Poppler::Page> page = document->page(read);
        if (!page)
            continue;
        const QString text = page->text(QRectF()).trimmed();
        // The model can say which page it read something on.
        if (result.pages > 1)
            result.text += u"[Page %1]\n"_s.arg(read + 1);
        result.text += text + u"\n\n"_s;
    }
    result.text = result.text.trimmed();
    result.text.remove(QChar(0));
    cut(result, limits);
    if (read < result.pages) {
        result.text += u"\n[… pages %1 to %2 were not read.]"_s.arg(read + 1).arg(result.pages);
        result.textCut = true;
    }
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
        result.text.remove(QChar(0)); // no database keeps it in text
        cut(result, limits);
        result.bytes = std::move(bytes);
        break;
    case FileType::Kind::Unsupported:
        break;
    }
    return result;
}
