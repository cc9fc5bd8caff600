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
    QCOMPARE(result.text.size(), 10);
    QVERIFY(result.textCut);
}

QTEST_GUILESS_MAIN(FileIntakeTest)
#include "tst_fileintake.moc"
