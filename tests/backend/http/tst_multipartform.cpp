// MultipartForm: the bodies browsers (FormData), curl -F and the SDKs send, and the ways they go wrong.
#include "http/multipartform.h"

#include <QTest>

using namespace Qt::StringLiterals;

class MultipartFormTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void boundary_data();
    void boundary();
    void curlStyleBody();
    void browserStyleWithFilenameStar();
    void binaryDataKeptExactly();
    void malformed_data();
    void malformed();
};

void MultipartFormTest::boundary_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("boundary");
    QTest::newRow("curl") << QByteArray(
                                 "multipart/form-data; boundary=------------------------d74496d66958873e")
                          << QByteArray("------------------------d74496d66958873e");
    QTest::newRow("quoted") << QByteArray("multipart/form-data; boundary=\"a b;c\"") << QByteArray("a b;c");
    QTest::newRow("any case") << QByteArray("Multipart/Form-Data; charset=utf-8; BOUNDARY=AbC")
                              << QByteArray("AbC"); // the value's case is kept
    QTest::newRow("other type") << QByteArray("multipart/mixed; boundary=x") << QByteArray();
    QTest::newRow("json") << QByteArray("application/json") << QByteArray();
    QTest::newRow("too long") << "multipart/form-data; boundary=" + QByteArray(71, 'x') << QByteArray();
}

void MultipartFormTest::boundary()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, boundary);
    QCOMPARE(MultipartForm::boundaryOf(contentType), boundary);
}

void MultipartFormTest::curlStyleBody()
{
    const QByteArray body = "--XyZ\r\n"
                            "Content-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                            "attachment\r\n"
                            "--XyZ\r\n"
                            "Content-Disposition: form-data; name=\"file\"; filename=\"notes.md\"\r\n"
                            "Content-Type: text/markdown\r\n\r\n"
                            "# Notes\r\n\r\nline two\r\n"
                            "--XyZ--\r\n";
    QList<MultipartForm::Part> parts;
    QVERIFY(MultipartForm::parse(body, "XyZ", &parts));
    QCOMPARE(parts.size(), 2);
    QCOMPARE(parts.at(0).name, u"purpose"_s);
    QVERIFY(parts.at(0).fileName.isEmpty());
    QCOMPARE(parts.at(0).data, QByteArrayView("attachment"));
    QCOMPARE(parts.at(1).name, u"file"_s);
    QCOMPARE(parts.at(1).fileName, u"notes.md"_s);
    QCOMPARE(parts.at(1).type, QByteArray("text/markdown"));
    QCOMPARE(parts.at(1).data, QByteArrayView("# Notes\r\n\r\nline two"));
}

void MultipartFormTest::browserStyleWithFilenameStar()
{
    const QByteArray body = "preamble to ignore\r\n"
                            "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                            "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"; "
                            "filename*=UTF-8''%E6%88%AA%E5%9B%BE.png\r\n"
                            "Content-Type: image/png\r\n\r\n"
                            "PNGDATA\r\n"
                            "------WebKitFormBoundary7MA4YWxkTrZu0gW--";
    QList<MultipartForm::Part> parts;
    QVERIFY(MultipartForm::parse(body, "----WebKitFormBoundary7MA4YWxkTrZu0gW", &parts));
    QCOMPARE(parts.size(), 1);
    QCOMPARE(parts.first().fileName, u"截图.png"_s);
    QCOMPARE(parts.first().data, QByteArrayView("PNGDATA"));
}

void MultipartFormTest::binaryDataKeptExactly()
{
    // Bytes that look like line ends and like the delimiter without its CRLF stay data.
    QByteArray data("\x89PNG\r\n\x1a\n--B\r--Bx\0\xff", 18);
    const QByteArray body = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n" +
                            data + "\r\n--B--\r\n";
    QList<MultipartForm::Part> parts;
    QVERIFY(MultipartForm::parse(body, "B", &parts));
    QCOMPARE(parts.size(), 1);
    QCOMPARE(parts.first().data.toByteArray(), data);
}

void MultipartFormTest::malformed_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("no delimiter") << QByteArray("just some text");
    QTest::newRow("no end of headers") << QByteArray("--B\r\nContent-Disposition: form-data; name=\"a\"");
    QTest::newRow("not closed") << QByteArray(
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue");
    QTest::newRow("garbage after delimiter") << QByteArray("--Bxyz\r\n\r\nvalue\r\n--B--");
    QTest::newRow("empty") << QByteArray();
}

void MultipartFormTest::malformed()
{
    QFETCH(QByteArray, body);
    QList<MultipartForm::Part> parts;
    QVERIFY(!MultipartForm::parse(body, "B", &parts));
}

QTEST_GUILESS_MAIN(MultipartFormTest)
#include "tst_multipartform.moc"
