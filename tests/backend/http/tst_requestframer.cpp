// RequestFramer: request boundaries and early refusals on a byte stream split anywhere.
#include "http/requestframer.h"

#include <QTest>

using namespace Qt::StringLiterals;

class RequestFramerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void framesRequests_data();
    void framesRequests();
    void refuses_data();
    void refuses();
    void refusesLargeBodyBeforeItArrives();
    void inRequestTracksPartialRequests();
    void staysRefused();
    void importTakesItsOwnLimit();
    void headsAreSeenBeforeTheirBodies();
};

using Verdict = RequestFramer::Verdict;
Q_DECLARE_METATYPE(RequestFramer::Verdict)

namespace {

RequestFramer::Limits smallLimits()
{
    RequestFramer::Limits limits;
    limits.maxHeaderBytes = 256;
    limits.maxBodyBytes = 100;
    return limits;
}

} // namespace

void RequestFramerTest::framesRequests_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<int>("requests");
    QTest::addColumn<bool>("partial");

    QTest::newRow("get") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r\n") << 1 << false;
    QTest::newRow("lf only") << QByteArray("GET / HTTP/1.1\nHost: a\n\n") << 1 << false;
    QTest::newRow("no headers") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 1 << false;
    QTest::newRow("post") << QByteArray("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello") << 1 << false;
    QTest::newRow("post, body short")
        << QByteArray("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhell") << 0 << true;
    QTest::newRow("header name any case")
        << QByteArray("POST /x HTTP/1.1\r\ncOnTeNt-LeNgTh:  3 \r\n\r\nabcGET / HTTP/1.1\r\n\r\n") << 2
        << false;
    QTest::newRow("zero length") << QByteArray("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n") << 1 << false;
    QTest::newRow("pipelined") << QByteArray("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: "
                                             "2\r\n\r\n{}GET /c HTTP/1.1\r\n\r\n")
                               << 3 << false;
    QTest::newRow("blank lines between") << QByteArray("\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\n") << 1 << false;
    QTest::newRow("chunked") << QByteArray("POST /x HTTP/1.1\r\nTransfer-Encoding: "
                                           "chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n")
                             << 1 << false;
    QTest::newRow("chunked beats length")
        << QByteArray("POST /x HTTP/1.1\r\nContent-Length: 500\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                      "A\r\n0123456789\r\n0\r\n\r\n")
        << 1 << false;
    QTest::newRow("chunked, unfinished")
        << QByteArray("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel") << 0 << true;
    QTest::newRow("identity encoding uses length")
        << QByteArray("POST /x HTTP/1.1\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nab") << 1
        << false;
    QTest::newRow("same length twice")
        << QByteArray("POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab") << 1 << false;
    QTest::newRow("line without colon is skipped")
        << QByteArray("GET / HTTP/1.1\r\nnonsense\r\n\r\n") << 1 << false;
}

void RequestFramerTest::framesRequests()
{
    QFETCH(QByteArray, stream);
    QFETCH(int, requests);
    QFETCH(bool, partial);
    // Whole, and split at every possible place: the framing must not depend on the reads.
    RequestFramer whole(smallLimits());
    QCOMPARE(whole.feed(stream), Verdict::Ok);
    QCOMPARE(whole.completedRequests(), qint64(requests));
    QCOMPARE(whole.inRequest(), partial);
    for (qsizetype cut = 1; cut < stream.size(); ++cut) {
        RequestFramer split(smallLimits());
        QCOMPARE(split.feed(QByteArrayView(stream).first(cut)), Verdict::Ok);
        QCOMPARE(split.feed(QByteArrayView(stream).sliced(cut)), Verdict::Ok);
        QCOMPARE(split.completedRequests(), qint64(requests));
        QCOMPARE(split.inRequest(), partial);
    }
    RequestFramer bytewise(smallLimits());
    for (const char c : stream)
        QCOMPARE(bytewise.feed(QByteArrayView(&c, 1)), Verdict::Ok);
    QCOMPARE(bytewise.completedRequests(), qint64(requests));
}

void RequestFramerTest::refuses_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<Verdict>("verdict");

    QTest::newRow("endless request line")
        << QByteArray("GET /" + QByteArray(300, 'a')) << Verdict::HeaderTooLarge;
    QTest::newRow("endless header") << QByteArray("GET / HTTP/1.1\r\nX-A: " + QByteArray(300, 'a'))
                                    << Verdict::HeaderTooLarge;
    QTest::newRow("many headers") << QByteArray("GET / HTTP/1.1\r\n" + QByteArray("X: y\r\n").repeated(60))
                                  << Verdict::HeaderTooLarge;
    QTest::newRow("length over limit")
        << QByteArray("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n") << Verdict::BodyTooLarge;
    QTest::newRow("length huge") << QByteArray(
                                        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n")
                                 << Verdict::BodyTooLarge;
    QTest::newRow("length negative") << QByteArray("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
                                     << Verdict::Malformed;
    QTest::newRow("length not a number")
        << QByteArray("POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n") << Verdict::Malformed;
    QTest::newRow("length list") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n")
                                 << Verdict::Malformed;
    QTest::newRow("lengths differ")
        << QByteArray("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        << Verdict::Malformed;
    QTest::newRow("chunks over limit")
        << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + QByteArray(64, 'a') +
                      "\r\n40\r\n")
        << Verdict::BodyTooLarge;
    QTest::newRow("chunk size huge")
        << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n")
        << Verdict::BodyTooLarge;
    QTest::newRow("chunk size not hex")
        << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n") << Verdict::Malformed;
    QTest::newRow("chunk size empty")
        << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n") << Verdict::Malformed;
    QTest::newRow("chunk size line endless")
        << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + QByteArray(2000, 'e'))
        << Verdict::Malformed;
    QTest::newRow("chunk without crlf")
        << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY") << Verdict::Malformed;
    QTest::newRow("trailer fields")
        << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n")
        << Verdict::Malformed;
}

void RequestFramerTest::refuses()
{
    QFETCH(QByteArray, stream);
    QFETCH(Verdict, verdict);
    RequestFramer whole(smallLimits());
    QCOMPARE(whole.feed(stream), verdict);
    RequestFramer bytewise(smallLimits());
    Verdict last = Verdict::Ok;
    for (const char c : stream) {
        last = bytewise.feed(QByteArrayView(&c, 1));
        if (last != Verdict::Ok)
            break;
    }
    QCOMPARE(last, verdict);
}

void RequestFramerTest::refusesLargeBodyBeforeItArrives()
{
    RequestFramer framer;
    QCOMPARE(framer.feed("POST /api/agents HTTP/1.1\r\nContent-Length: 10737418240\r\n"), Verdict::Ok);
    QCOMPARE(framer.feed("\r\n"), Verdict::BodyTooLarge);
}

void RequestFramerTest::inRequestTracksPartialRequests()
{
    RequestFramer framer(smallLimits());
    QVERIFY(!framer.inRequest());
    framer.feed("\r\n");
    QVERIFY(!framer.inRequest()); // line ends between requests are nothing
    framer.feed("G");
    QVERIFY(framer.inRequest());
    framer.feed("ET / HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
    QVERIFY(framer.inRequest());
    QCOMPARE(framer.contentLength(), qint64(3));
    framer.feed("abc");
    QVERIFY(!framer.inRequest());
    QCOMPARE(framer.completedRequests(), qint64(1));
}

void RequestFramerTest::staysRefused()
{
    RequestFramer framer(smallLimits());
    QCOMPARE(framer.feed(QByteArray(300, 'x')), Verdict::HeaderTooLarge);
    QCOMPARE(framer.feed("GET / HTTP/1.1\r\n\r\n"), Verdict::HeaderTooLarge);
    QCOMPARE(framer.completedRequests(), qint64(0));
}

void RequestFramerTest::headsAreSeenBeforeTheirBodies()
{
    RequestFramer framer;
    QCOMPARE(framer.feed("POST /api/files HTTP/1.1\r\nauthorization: Bearer t1\r\nExpect: 100-Continue\r\n"
                         "Content-Length: 4\r\n"),
             Verdict::Ok);
    QCOMPARE(framer.headsCompleted(), 0);
    framer.feed("\r\n");
    QCOMPARE(framer.headsCompleted(), 1);
    QVERIFY(framer.awaitingBody() && framer.inBody());
    QVERIFY(framer.expectsContinue());
    QVERIFY(!framer.http10());
    QCOMPARE(framer.unanswered(), 0);
    QCOMPARE(framer.authorization(), QByteArray("Bearer t1"));
    framer.feed("ab");
    QVERIFY(!framer.awaitingBody() && framer.inBody()); // some of it came: no 100 Continue now
    framer.feed("cd");
    QCOMPARE(framer.completedRequests(), 1);
    QCOMPARE(framer.unanswered(), 1); // until ApiServer answers it
    QVERIFY(!framer.inBody());
    QVERIFY(!framer.expectsContinue());
    QVERIFY(framer.authorization().isEmpty());
    // Chunked, and a request without a body.
    framer.feed("POST /api/files HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    QVERIFY(framer.awaitingBody() && !framer.expectsContinue());
    framer.feed("0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    QCOMPARE(framer.headsCompleted(), 3);
    QVERIFY(!framer.awaitingBody());
}

void RequestFramerTest::importTakesItsOwnLimit()
{
    RequestFramer::Limits limits = smallLimits();
    limits.maxImportBodyBytes = 1000;
    const QByteArray body(500, 'x');
    for (const QByteArray target : {QByteArray("/api/import"), QByteArray("/api/import?agent_id=x")}) {
        RequestFramer framer(limits);
        QCOMPARE(framer.feed("POST " + target + " HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + body),
                 Verdict::Ok);
        QCOMPARE(framer.completedRequests(), 1);
        QCOMPARE(framer.feed("POST " + target + " HTTP/1.1\r\nContent-Length: 1001\r\n\r\n"),
                 Verdict::BodyTooLarge);
    }
    // Every other route keeps the small limit, on the same connection too.
    RequestFramer framer(limits);
    QCOMPARE(framer.feed("POST /api/import HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + body), Verdict::Ok);
    QCOMPARE(framer.feed("POST /api/importer HTTP/1.1\r\nContent-Length: 500\r\n\r\n"),
             Verdict::BodyTooLarge);
    RequestFramer chunked(limits);
    QCOMPARE(chunked.feed("POST /api/import HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1f4\r\n" + body +
                          "\r\n0\r\n\r\n"),
             Verdict::Ok);
    QVERIFY(RequestFramer::isImportTarget("/api/import/"));
    QVERIFY(!RequestFramer::isImportTarget("/api/imports"));
}

QTEST_GUILESS_MAIN(RequestFramerTest)
#include "tst_requestframer.moc"
