// Fuzz target: what takes an upload apart before anything else sees it: the multipart/form-data
// parser (backend/http/multipartform.*) and the file type told from the bytes
// (backend/files/filetype.*). Parts must lie inside the body and in order; detection is a pure
// function of the bytes, and text it accepts decodes.
#include "files/filetype.h"
#include "fuzzutil.h"
#include "http/multipartform.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    // The first line is the Content-Type, the rest the body.
    const qsizetype eol = bytes.indexOf('\n');
    const QByteArrayView contentType = eol < 0 ? bytes : bytes.first(eol);
    const QByteArrayView body = eol < 0 ? QByteArrayView() : bytes.sliced(eol + 1);
    const QByteArray boundary = MultipartForm::boundaryOf(contentType);
    FUZZ_CHECK(boundary.size() <= 70);
    QList<MultipartForm::Part> parts;
    MultipartForm::parse(body, boundary.isEmpty() ? QByteArrayView("b") : QByteArrayView(boundary), &parts);
    const char *previousEnd = body.data();
    for (const MultipartForm::Part &part : parts) {
        FUZZ_CHECK(part.data.data() >= previousEnd);
        FUZZ_CHECK(part.data.data() + part.data.size() <= body.data() + body.size());
        previousEnd = part.data.data() + part.data.size();
        const FileType::Result type = FileType::detect(part.data, part.fileName);
        FUZZ_CHECK(FileType::detect(part.data, part.fileName).kind == type.kind);
    }
    const FileType::Result whole = FileType::detect(bytes, QStringLiteral("x.txt"));
    FUZZ_CHECK((whole.kind == FileType::Kind::Unsupported) == whole.mediaType.isEmpty());
    if (whole.kind == FileType::Kind::Text)
        FUZZ_CHECK(!FileType::decodeText(bytes).isNull() || bytes.isEmpty());
    return 0;
}
