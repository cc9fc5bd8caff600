#include "multipartform.h"

#include <QUrl>

using namespace Qt::StringLiterals;

namespace {

// A header parameter's value: name="value" (quoted, with backslash escapes) or name=token. The
// name is matched whatever its case; `name` is given in lower case.
QByteArray parameter(QByteArrayView header, QByteArrayView name)
{
    const QByteArray lower = header.toByteArray().toLower();
    qsizetype at = 0;
    while ((at = lower.indexOf(name, at)) >= 0) {
        const bool startsWord =
            at == 0 || header.at(at - 1) == ';' || header.at(at - 1) == ' ' || header.at(at - 1) == '\t';
        qsizetype i = at + name.size();
        while (i < header.size() && (header.at(i) == ' ' || header.at(i) == '\t'))
            ++i;
        if (!startsWord || i >= header.size() || header.at(i) != '=') {
            at += name.size();
            continue;
        }
        ++i;
        while (i < header.size() && (header.at(i) == ' ' || header.at(i) == '\t'))
            ++i;
        QByteArray value;
        if (i < header.size() && header.at(i) == '"') {
            for (++i; i < header.size() && header.at(i) != '"'; ++i) {
                if (header.at(i) == '\\' && i + 1 < header.size())
                    ++i;
                value += header.at(i);
            }
        } else {
            while (i < header.size() && header.at(i) != ';' && header.at(i) != ' ' && header.at(i) != '\t')
                value += header.at(i++);
        }
        return value;
    }
    return {};
}

// RFC 5987's filename*=UTF-8''percent-encoded, which wins over filename when both are there.
QString fileNameOf(QByteArrayView disposition)
{
    const QByteArray extended = parameter(disposition, "filename*");
    const qsizetype quote = extended.indexOf("''");
    if (quote > 0 && extended.left(quote).toLower() == "utf-8")
        return QUrl::fromPercentEncoding(extended.mid(quote + 2));
    return QString::fromUtf8(parameter(disposition, "filename"));
}

} // namespace

QByteArray MultipartForm::boundaryOf(QByteArrayView contentType)
{
    const QByteArray type = contentType.toByteArray().trimmed().toLower();
    if (!type.startsWith("multipart/form-data"))
        return {};
    // The boundary's case matters: read it from the original.
    const QByteArray boundary = parameter(contentType, "boundary");
    return boundary.size() <= 70 ? boundary : QByteArray();
}

bool MultipartForm::parse(QByteArrayView body, QByteArrayView boundary, QList<Part> *parts)
{
    if (boundary.isEmpty())
        return false;
    const QByteArray delimiter = "--" + boundary.toByteArray();
    // The first delimiter may come after a preamble; every later one follows a CRLF.
    qsizetype at = body.startsWith(delimiter) ? 0 : body.indexOf("\r\n" + delimiter);
    if (at < 0)
        return false;
    if (at > 0)
        at += 2;
    for (;;) {
        at += delimiter.size();
        if (body.sliced(at).startsWith("--"))
            return true; // the close delimiter; an epilogue may follow
        // Transport padding, then the CRLF that ends the delimiter line.
        while (at < body.size() && (body.at(at) == ' ' || body.at(at) == '\t'))
            ++at;
        if (!body.sliced(at).startsWith("\r\n"))
            return false;
        at += 2;
        const qsizetype headEnd = body.indexOf("\r\n\r\n", at - 2);
        if (headEnd < 0)
            return false;
        Part part;
        const QByteArrayView head = headEnd >= at ? body.sliced(at, headEnd - at) : QByteArrayView();
        for (const QByteArrayView line : head.toByteArray().split('\n')) {
            const QByteArray text = line.toByteArray().trimmed();
            const qsizetype colon = text.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = text.left(colon).trimmed().toLower();
            const QByteArray value = text.mid(colon + 1).trimmed();
            if (name == "content-disposition") {
                part.name = QString::fromUtf8(parameter(value, "name"));
                part.fileName = fileNameOf(value);
            } else if (name == "content-type") {
                part.type = value;
            }
        }
        const qsizetype dataStart = headEnd + 4;
        const qsizetype next = body.indexOf("\r\n" + delimiter, dataStart);
        if (next < 0)
            return false;
        part.data = body.sliced(dataStart, next - dataStart);
        parts->append(part);
        at = next + 2;
    }
}
