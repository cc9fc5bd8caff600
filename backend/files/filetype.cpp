#include "filetype.h"

#include <QFileInfo>
#include <QHash>
#include <QStringDecoder>

#include <optional>

using namespace Qt::StringLiterals;

namespace {

bool startsWith(QByteArrayView bytes, QByteArrayView prefix)
{
    return bytes.size() >= prefix.size() && bytes.first(prefix.size()) == prefix;
}

// UTF-8 text, or nothing when the bytes are not UTF-8.
std::optional<QString> fromUtf8(QByteArrayView bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8); // drops a byte order mark
    QString text = decoder.decode(bytes);
    if (decoder.hasError())
        return std::nullopt;
    return text;
}

// Text has no NUL bytes and few control characters besides tab, line feed, carriage return and
// form feed; a binary file that happens to be valid UTF-8 (rare, but short ones can be) has many.
bool looksLikeText(QByteArrayView bytes)
{
    qsizetype controls = 0;
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u == 0)
            return false;
        if (u < 0x20 && u != '\t' && u != '\n' && u != '\r' && u != '\f' && u != 0x1b)
            ++controls;
    }
    return controls * 100 <= bytes.size(); // at most 1 %
}

// Readers find a PDF's header within its first kilobyte, after junk some producers put first;
// text that merely mentions "%PDF-" is still text.
bool isPdf(QByteArrayView bytes)
{
    if (startsWith(bytes, "%PDF-"))
        return true;
    const qsizetype at = bytes.first(qMin<qsizetype>(bytes.size(), 1024)).indexOf("%PDF-");
    return at > 0 && !looksLikeText(bytes.first(at));
}

// Decoded text as text is: no NUL, hardly a control character, no half of a surrogate pair.
bool isPlainText(QStringView text)
{
    qsizetype controls = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c.isNull())
            return false;
        if (c.isHighSurrogate() && (i + 1 == text.size() || !text.at(i + 1).isLowSurrogate()))
            return false;
        if (c.isLowSurrogate() && (i == 0 || !text.at(i - 1).isHighSurrogate()))
            return false;
        if (c.unicode() < 0x20 && c != u'\t' && c != u'\n' && c != u'\r' && c != u'\f')
            ++controls;
    }
    return !text.isEmpty() && controls * 100 <= text.size();
}

} // namespace

QString FileType::textType(const QString &name)
{
    static const QHash<QString, QString> types = {
        {u"md"_s, u"text/markdown"_s},
        {u"markdown"_s, u"text/markdown"_s},
        {u"csv"_s, u"text/csv"_s},
        {u"tsv"_s, u"text/tab-separated-values"_s},
        {u"json"_s, u"application/json"_s},
        {u"xml"_s, u"application/xml"_s},
        {u"html"_s, u"text/html"_s},
        {u"htm"_s, u"text/html"_s},
        {u"css"_s, u"text/css"_s},
        {u"js"_s, u"text/javascript"_s},
        {u"mjs"_s, u"text/javascript"_s},
        {u"ts"_s, u"text/x-typescript"_s},
        {u"tsx"_s, u"text/x-typescript"_s},
        {u"jsx"_s, u"text/javascript"_s},
        {u"py"_s, u"text/x-python"_s},
        {u"c"_s, u"text/x-c"_s},
        {u"h"_s, u"text/x-c"_s},
        {u"cpp"_s, u"text/x-c++"_s},
        {u"cc"_s, u"text/x-c++"_s},
        {u"cxx"_s, u"text/x-c++"_s},
        {u"hpp"_s, u"text/x-c++"_s},
        {u"java"_s, u"text/x-java"_s},
        {u"kt"_s, u"text/x-kotlin"_s},
        {u"go"_s, u"text/x-go"_s},
        {u"rs"_s, u"text/x-rust"_s},
        {u"rb"_s, u"text/x-ruby"_s},
        {u"php"_s, u"text/x-php"_s},
        {u"swift"_s, u"text/x-swift"_s},
        {u"cs"_s, u"text/x-csharp"_s},
        {u"sh"_s, u"text/x-shellscript"_s},
        {u"bash"_s, u"text/x-shellscript"_s},
        {u"sql"_s, u"text/x-sql"_s},
        {u"yaml"_s, u"text/yaml"_s},
        {u"yml"_s, u"text/yaml"_s},
        {u"toml"_s, u"text/x-toml"_s},
        {u"ini"_s, u"text/plain"_s},
        {u"qml"_s, u"text/x-qml"_s},
        {u"lua"_s, u"text/x-lua"_s},
        {u"tex"_s, u"text/x-tex"_s},
        {u"rst"_s, u"text/x-rst"_s},
    };
    return types.value(QFileInfo(name).suffix().toLower(), u"text/plain"_s);
}

FileType::Result FileType::detect(QByteArrayView bytes, const QString &name)
{
    Result result;
    if (startsWith(bytes, "\x89PNG\r\n\x1a\n")) {
        result = {Kind::Image, u"image/png"_s};
    } else if (startsWith(bytes, "\xff\xd8\xff")) {
        result = {Kind::Image, u"image/jpeg"_s};
    } else if (startsWith(bytes, "GIF87a") || startsWith(bytes, "GIF89a")) {
        result = {Kind::Image, u"image/gif"_s};
    } else if (bytes.size() >= 12 && startsWith(bytes, "RIFF") && bytes.sliced(8, 4) == "WEBP") {
        result = {Kind::Image, u"image/webp"_s};
    } else if (isPdf(bytes)) {
        result = {Kind::Pdf, u"application/pdf"_s};
    } else if (startsWith(bytes, "\xff\xfe") || startsWith(bytes, "\xfe\xff")) {
        // UTF-16 with its byte order mark: text if what it decodes to is.
        if (isPlainText(decodeText(bytes)))
            result = {Kind::Text, textType(name)};
    } else if (!bytes.isEmpty() && looksLikeText(bytes)) {
        // UTF-8, or an older 8-bit encoding (a CSV from a Windows program): text either way.
        result = {Kind::Text, textType(name)};
    }
    return result;
}

bool FileType::contradicts(const QString &declared, const Result &detected)
{
    const QString type = declared.section(u';', 0, 0).trimmed().toLower();
    if (type.isEmpty() || type == "application/octet-stream"_L1 || type == "multipart/form-data"_L1)
        return false;
    if (type.startsWith("image/"_L1))
        return detected.kind != Kind::Image;
    if (type == "application/pdf"_L1)
        return detected.kind != Kind::Pdf;
    if (type.startsWith("text/"_L1))
        return detected.kind != Kind::Text;
    return false;
}

QByteArray FileType::charsetOf(QByteArrayView bytes)
{
    if (startsWith(bytes, "\xff\xfe"))
        return "utf-16le";
    if (startsWith(bytes, "\xfe\xff"))
        return "utf-16be";
    return fromUtf8(bytes) ? "utf-8" : "windows-1252";
}

QString FileType::decodeText(QByteArrayView bytes)
{
    // Each decoder drops the byte order mark it starts with.
    if (startsWith(bytes, "\xff\xfe"))
        return QStringDecoder(QStringDecoder::Utf16LE).decode(bytes);
    if (startsWith(bytes, "\xfe\xff"))
        return QStringDecoder(QStringDecoder::Utf16BE).decode(bytes);
    if (const std::optional<QString> utf8 = fromUtf8(bytes))
        return *utf8;
    // Not UTF-8: most likely Windows' Western encoding (its quotes and dashes are where Latin-1 has
    // control characters); Latin-1, in which every byte is valid, where that is not available.
    QStringDecoder windows("windows-1252");
    return windows.isValid() ? windows.decode(bytes) : QString::fromLatin1(bytes);
}
