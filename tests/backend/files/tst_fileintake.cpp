// What uploads become (FileIntake, FileType): the type told from the bytes, spoofed types refused,
// images measured and very large ones scaled, PDF text read through Poppler, text decoded.
#include "files/fileintake.h"
#include "files/filetype.h"
#include "testfiles.h"

#include <QBuffer>
#include <QImageReader>
#include <QTest>

using namespace Qt::StringLiterals;

class FileIntakeTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void detect_data();
    void detect();
    void spoofedTypes_data();
    void spoofedTypes();
    void imagesAreMeasured_data();
    void imagesAreMeasured();
    void largeImagesAreScaled();
    void transparentImagesStayPng();
    void brokenImageIsRefused();
    void truncatedImageIsRefused();
    void turnedPhotoIsStoredUpright();
    void animatedGifBecomesOneFrame();
    void pdfTextPageByPage();
    void pdfBrokenIsRefused();
    void pdfWithoutText();
    void textDecoded();
    void limits();
};

void FileIntakeTest::detect_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("mediaType");
    using K = FileType::Kind;
    QTest::newRow("png") << TestFiles::image(8, 8, "png") << u"a.bin"_s << int(K::Image) << u"image/png"_s;
    QTest::newRow("jpeg") << TestFiles::image(8, 8, "jpeg") << QString() << int(K::Image) << u"image/jpeg"_s;
    QTest::newRow("gif") << TestFiles::image(1, 1, "gif") << QString() << int(K::Image) << u"image/gif"_s;
    QTest::newRow("webp") << TestFiles::image(8, 8, "webp") << QString() << int(K::Image) << u"image/webp"_s;
    QTest::newRow("pdf") << TestFiles::pdf({u"Hello"_s}) << u"x.txt"_s << int(K::Pdf) << u"application/pdf"_s;
    QTest::newRow("markdown") << QByteArray("# Title\n\nSome *text*.\n") << u"notes.md"_s << int(K::Text)
                              << u"text/markdown"_s;
    QTest::newRow("python") << QByteArray("print('你好')\n") << u"hello.py"_s << int(K::Text)
                            << u"text/x-python"_s;
    QTest::newRow("plain") << QByteArray("just words") << QString() << int(K::Text) << u"text/plain"_s;
    QTest::newRow("utf16") << QByteArray("\xff\xfeh\0i\0", 6) << u"a.txt"_s << int(K::Text)
                           << u"text/plain"_s;
    QTest::newRow("zip") << QByteArray("PK\x03\x04\x14\0\0\0", 8) << u"a.zip"_s << int(K::Unsupported)
                         << QString();
    QTest::newRow("elf") << QByteArray("\x7f"
                                       "ELF\x02\x01\x01\0",
                                       8)
                         << u"a"_s << int(K::Unsupported) << QString();
    QTest::newRow("latin1") << QByteArray("caf\xe9 au lait") << u"a.csv"_s << int(K::Text) << u"text/csv"_s;
    QTest::newRow("random bytes") << QByteArray("\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11zz", 14)
                                  << u"a.txt"_s << int(K::Unsupported) << QString();
    QTest::newRow("empty") << QByteArray() << u"a.txt"_s << int(K::Unsupported) << QString();
    // A note about PDFs is still a note; a PDF behind a few bytes of junk (as mailers leave) is a PDF.
    QTest::newRow("pdf named in text")
        << QByteArray("Notes on %PDF-1.7 headers\n") << u"notes.txt"_s << int(K::Text) << u"text/plain"_s;
    QTest::newRow("pdf after junk") << QByteArray("\r\n\x01\x02") + TestFiles::pdf({u"Hi"_s}) << QString()
                                    << int(K::Pdf) << u"application/pdf"_s;
    // A byte order mark does not make binary bytes text.
    QTest::newRow("bom then binary") << QByteArray("\xef\xbb\xbf\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f", 13)
                                     << u"a.txt"_s << int(K::Unsupported) << QString();
    QTest::newRow("utf16 bom then binary")
        << QByteArray("\xff\xfe\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00", 12) << u"a.txt"_s
        << int(K::Unsupported) << QString();
}

void FileIntakeTest::detect()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, name);
    QFETCH(int, kind);
    QFETCH(QString, mediaType);
    const FileType::Result result = FileType::detect(bytes, name);
    QCOMPARE(int(result.kind), kind);
    QCOMPARE(result.mediaType, mediaType);
}

void FileIntakeTest::spoofedTypes_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("declared");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("stored");
    QTest::newRow("text as png") << QByteArray("<script>alert(1)</script>") << u"image/png"_s
                                 << u"content_type_mismatch"_s << QString();
    QTest::newRow("png as pdf") << TestFiles::image(4, 4) << u"application/pdf"_s
                                << u"content_type_mismatch"_s << QString();
    QTest::newRow("pdf as text") << TestFiles::pdf({u"x"_s}) << u"text/plain"_s << u"content_type_mismatch"_s
                                 << QString();
    QTest::newRow("exe as png") << QByteArray("MZ\x90\0\x03\0\0\0", 8) << u"image/png"_s
                                << u"unsupported_media_type"_s << QString();
    // A renamed photo is what it is; so is a file sent as octet-stream.
    QTest::newRow("jpeg as png") << TestFiles::image(4, 4, "jpeg") << u"image/png"_s << QString()
                                 << u"image/jpeg"_s;
    QTest::newRow("png as octet-stream")
        << TestFiles::image(4, 4) << u"application/octet-stream"_s << QString() << u"image/png"_s;
}

void FileIntakeTest::spoofedTypes()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, declared);
    QFETCH(QString, code);
    QFETCH(QString, stored);
    const FileIntake::Result result = FileIntake::process(bytes, declared, u"file"_s, {});
    QCOMPARE(result.error.code, code);
    if (code.isEmpty())
        QCOMPARE(result.mediaType, stored);
    else
        QCOMPARE(result.error.status, 415);
}

void FileIntakeTest::imagesAreMeasured_data()
{
    QTest::addColumn<QByteArray>("format");
    QTest::newRow("png") << QByteArray("png");
    QTest::newRow("jpeg") << QByteArray("jpeg");
    QTest::newRow("webp") << QByteArray("webp");
}

void FileIntakeTest::imagesAreMeasured()
{
    QFETCH(QByteArray, format);
    const QByteArray bytes = TestFiles::image(120, 80, format.constData());
    const FileIntake::Result result = FileIntake::process(bytes, {}, u"picture"_s, {});
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.size, QSize(120, 80));
    QCOMPARE(result.bytes, bytes); // small enough: kept as sent
    QVERIFY(!result.originalSize.isValid());
}

void FileIntakeTest::largeImagesAreScaled()
{
    const QByteArray bytes = TestFiles::image(4000, 1000, "png");
    const FileIntake::Result result = FileIntake::process(bytes, u"image/png"_s, u"wide.png"_s, {});
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.originalSize, QSize(4000, 1000));
    QCOMPARE(result.size, QSize(2048, 512));
    QCOMPARE(result.mediaType, u"image/jpeg"_s); // opaque: a photo's format
    QBuffer buffer(const_cast<QByteArray *>(&result.bytes));
    QImageReader reader(&buffer);
    QCOMPARE(reader.size(), QSize(2048, 512));
}

void FileIntakeTest::transparentImagesStayPng()
{
    const FileIntake::Result result =
        FileIntake::process(TestFiles::image(3000, 3000, "png", true), {}, u"a"_s, {});
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.mediaType, u"image/png"_s);
    QCOMPARE(result.size, QSize(2048, 2048));
}

void FileIntakeTest::brokenImageIsRefused()
{
    QByteArray bytes = TestFiles::image(64, 64, "png").left(30); // signature and half a header
    const FileIntake::Result result = FileIntake::process(bytes, {}, u"a.png"_s, {});
    QCOMPARE(result.error.status, 422);
    QCOMPARE(result.error.code, u"file_unreadable"_s);
}

void FileIntakeTest::truncatedImageIsRefused()
{
    // The header is whole, so its size reads; the pixels stop half way (an upload cut short).
    QImage noise(256, 256, QImage::Format_RGB32);
    for (int y = 0; y < noise.height(); ++y)
        for (int x = 0; x < noise.width(); ++x)
            noise.setPixel(x, y, qRgb((x * 37 + y * 11) % 256, (x * y) % 256, (x ^ y) % 256));
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    QVERIFY(noise.save(&buffer, "PNG"));
    const FileIntake::Result result = FileIntake::process(png.left(png.size() / 2), {}, u"cut.png"_s, {});
    QCOMPARE(result.error.status, 422);
    QCOMPARE(result.error.code, u"file_unreadable"_s);
}

void FileIntakeTest::turnedPhotoIsStoredUpright()
{
    // A phone's photo: stored landscape, with an Exif note to show it portrait. Providers do not
    // all read that note, so the picture is turned before it is kept.
    const QByteArray photo = TestFiles::withOrientation(TestFiles::image(40, 20, "jpeg"), 6);
    const FileIntake::Result result = FileIntake::process(photo, u"image/jpeg"_s, u"IMG_0001.jpg"_s, {});
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.size, QSize(20, 40));
    QVERIFY(result.bytes != photo);
    QBuffer buffer(const_cast<QByteArray *>(&result.bytes));
    QImageReader reader(&buffer);
    QCOMPARE(reader.transformation(), QImageIOHandler::TransformationNone);
    QCOMPARE(reader.size(), QSize(20, 40));
    // Upright already: kept as it came.
    const QByteArray upright = TestFiles::withOrientation(TestFiles::image(40, 20, "jpeg"), 1);
    QCOMPARE(FileIntake::process(upright, {}, u"a.jpg"_s, {}).bytes, upright);
}

void FileIntakeTest::animatedGifBecomesOneFrame()
{
    const QByteArray gif = TestFiles::animatedGif();
    {
        QBuffer buffer(const_cast<QByteArray *>(&gif));
        QImageReader reader(&buffer);
        QCOMPARE(reader.imageCount(), 2); // the test's GIF is animated
    }
    const FileIntake::Result result = FileIntake::process(gif, u"image/gif"_s, u"loop.gif"_s, {});
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QVERIFY(result.mediaType == "image/jpeg"_L1 || result.mediaType == "image/png"_L1);
    QBuffer buffer(const_cast<QByteArray *>(&result.bytes));
    QImageReader reader(&buffer);
    QCOMPARE(reader.imageCount(), 1);
    QCOMPARE(reader.read().pixelColor(0, 0), QColor(Qt::black)); // the first frame
}

void FileIntakeTest::pdfTextPageByPage()
{
    const QByteArray bytes = TestFiles::pdf({u"First page: the plan."_s, u"Second page (details)."_s});
    const FileIntake::Result result = FileIntake::process(bytes, u"application/pdf"_s, u"plan.pdf"_s, {});
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.pages, 2);
    QCOMPARE(result.mediaType, u"application/pdf"_s);
    QVERIFY2(result.text.contains(u"[Page 1]\nFirst page: the plan."_s), qPrintable(result.text));
    QVERIFY2(result.text.contains(u"[Page 2]\nSecond page (details)."_s), qPrintable(result.text));
    QCOMPARE(result.bytes, bytes);
}

void FileIntakeTest::pdfBrokenIsRefused()
{
    const FileIntake::Result result =
        FileIntake::process(QByteArray("%PDF-1.4\nnot really a pdf at all"), {}, u"x.pdf"_s, {});
    QCOMPARE(result.error.status, 422);
    QCOMPARE(result.error.code, u"file_unreadable"_s);
}

void FileIntakeTest::pdfWithoutText()
{
    const FileIntake::Result result = FileIntake::process(TestFiles::pdf({QString()}), {}, u"scan.pdf"_s, {});
    QVERIFY2(!result.error.isError(), qPrintable(result.error.message));
    QCOMPARE(result.pages, 1);
    QVERIFY(result.text.trimmed().isEmpty());
}

void FileIntakeTest::textDecoded()
{
    const QString text = u"# 笔记\n\nUTF-8 with Chinese and emoji 🎉\n"_s;
    FileIntake::Result result = FileIntake::process(text.toUtf8(), u"text/markdown"_s, u"笔记.md"_s, {});
    QVERIFY(!result.error.isError());
    QCOMPARE(result.text, text);
    QCOMPARE(result.mediaType, u"text/markdown"_s);
    // UTF-16 with its byte order mark, as Windows editors save.
    QByteArray utf16("\xff\xfe", 2);
    utf16.append(reinterpret_cast<const char *>(text.utf16()), text.size() * 2);
    result = FileIntake::process(utf16, {}, u"notes.txt"_s, {});
    QVERIFY(!result.error.isError());
    QCOMPARE(result.text, text);
    // A CSV saved by an older Windows program: not UTF-8, still text.
    result = FileIntake::process(QByteArray("name;city\nRen\xe9;Z\xfcrich\n"), {}, u"people.csv"_s, {});
    QVERIFY(!result.error.isError());
    QCOMPARE(result.text, u"name;city\nRené;Zürich\n"_s);
    // Windows' own code page: its curly quotes and dash, which Latin-1 would make control codes.
    result = FileIntake::process(QByteArray("\x93Quoted\x94 \x96 caf\xe9\n"), {}, u"memo.txt"_s, {});
    QVERIFY(!result.error.isError());
    QCOMPARE(result.text, u"\u201cQuoted\u201d \u2013 café\n"_s);
    // A NUL is binary, not text (and no database column would keep it).
    result = FileIntake::process(QByteArray("a\0b\n", 4), {}, u"x.txt"_s, {});
    QCOMPARE(result.error.status, 415);
}

void FileIntakeTest::limits()
{
    FileIntake::Limits limits;
    limits.maxBytes = 100;
    FileIntake::Result result = FileIntake::process(QByteArray(101, 'a'), {}, u"a.txt"_s, limits);
    QCOMPARE(result.error.status, 413);
    QCOMPARE(result.error.code, u"payload_too_large"_s);
    result = FileIntake::process(QByteArray(), {}, u"a.txt"_s, limits);
    QCOMPARE(result.error.code, u"empty_file"_s);
    // Text beyond what is kept is cut, and says so.
    limits.maxBytes = 1 << 20;
    limits.maxTextChars = 10;
    result = FileIntake::process(QByteArray(50, 'b'), {}, u"a.txt"_s, limits);
    QVERIFY(!result.error.isError());
    QCOMPARE(result.text,
             QString(10, u'b') + u"\n[… cut at upload: the remaining 40 characters were not kept.]"_s);
    QVERIFY(result.textCut);
    // A PDF's pages beyond the limit are named in its text: every later turn tells the model.
    limits.maxTextChars = 1000;
    limits.maxPdfPages = 2;
    result = FileIntake::process(TestFiles::pdf({u"One"_s, u"Two"_s, u"Three"_s, u"Four"_s}), {}, u"a.pdf"_s,
                                 limits);
    QVERIFY(!result.error.isError());
    QCOMPARE(result.pages, 4);
    QVERIFY(result.textCut);
    QVERIFY2(result.text.endsWith(u"[Page 2]\nTwo\n[… pages 3 to 4 were not read.]"_s),
             qPrintable(result.text));
}

QTEST_GUILESS_MAIN(FileIntakeTest)
#include "tst_fileintake.moc"
