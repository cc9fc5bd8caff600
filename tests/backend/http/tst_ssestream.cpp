// SseStream over a real socket: chunked events, and events written inside an OutputBatch leaving
// together, before the stream's end when it finishes inside the batch.
#include "apitestclient.h"
#include "core/outputbatch.h"
#include "http/ssestream.h"

#include <QAbstractHttpServer>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

namespace {

class StreamServer : public QAbstractHttpServer
{
public:
    QPointer<SseStream> stream;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        stream = new SseStream(makeResponder(request, socket), 0);
        return true;
    }
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override {}
};

// The body of a chunked response, its chunks joined; `ended` when the last chunk came.
QByteArray dechunk(const QByteArray &response, bool *ended)
{
    const qsizetype at = response.indexOf("\r\n\r\n");
    ChunkedDecoder decoder;
    const QByteArray body = at < 0 ? QByteArray() : decoder.feed(response.mid(at + 4));
    *ended = decoder.complete();
    return body;
}

} // namespace

class SseStreamTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void eventsAreChunked();
    void eventsInABatchWaitForItsClose();
    void finishInsideABatchSendsEverythingFirst();
    void aClientGoneInsideABatchDropsItsEvents();

private:
    StreamServer *m_server = nullptr;
    QTcpSocket *m_client = nullptr;
    QByteArray m_received;
};

void SseStreamTest::init()
{
    m_server = new StreamServer;
    auto *tcp = new QTcpServer(m_server);
    QVERIFY(tcp->listen(QHostAddress::LocalHost));
    m_server->bind(tcp);
    m_client = new QTcpSocket;
    m_received.clear();
    connect(m_client, &QTcpSocket::readyRead, this, [this] { m_received += m_client->readAll(); });
    m_client->connectToHost(QHostAddress::LocalHost, tcp->serverPort());
    QVERIFY(m_client->waitForConnected(5000));
    m_client->write("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
    QTRY_VERIFY(m_server->stream);
    QTRY_VERIFY(m_received.contains("retry: 3000"));
}

void SseStreamTest::cleanup()
{
    delete m_server->stream.data(); // a stream the test left open
    delete m_client;
    m_client = nullptr;
    delete m_server;
    m_server = nullptr;
}

void SseStreamTest::eventsAreChunked()
{
    m_server->stream->send("data: one\n\n");
    m_server->stream->send("data: 二\n\n");
    bool ended = false;
    QTRY_COMPARE(dechunk(m_received, &ended), QByteArray("retry: 3000\ndata: one\n\ndata: 二\n\n"));
    QVERIFY(!ended);
    QVERIFY(m_received.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(m_received.contains("Transfer-Encoding: chunked\r\n"));
}

void SseStreamTest::eventsInABatchWaitForItsClose()
{
    const qsizetype before = m_received.size();
    {
        const OutputBatch batch;
        for (int i = 0; i < 3; ++i)
            m_server->stream->send("data: " + QByteArray::number(i) + "\n\n");
        QTest::qWait(50); // the loop runs, the socket stays quiet
        QCOMPARE(m_received.size(), before);
    }
    bool ended = false;
    QTRY_COMPARE(dechunk(m_received, &ended), QByteArray("retry: 3000\ndata: 0\n\ndata: 1\n\ndata: 2\n\n"));
    QVERIFY(!ended);
}

void SseStreamTest::finishInsideABatchSendsEverythingFirst()
{
    QSignalSpy closed(m_client, &QTcpSocket::disconnected);
    {
        const OutputBatch batch;
        m_server->stream->send("data: last\n\n");
        m_server->stream->finish();
    }
    QTRY_COMPARE(closed.size(), 1);
    m_received += m_client->readAll();
    bool ended = false;
    QCOMPARE(dechunk(m_received, &ended), QByteArray("retry: 3000\ndata: last\n\n"));
    QVERIFY(ended);
    QTRY_VERIFY(!m_server->stream); // deleted once finished
}

void SseStreamTest::aClientGoneInsideABatchDropsItsEvents()
{
    QPointer<SseStream> stream = m_server->stream;
    QSignalSpy gone(stream.data(), &SseStream::clientGone);
    m_client->abort();
    QTRY_COMPARE(gone.size(), 1);
    {
        const OutputBatch batch;
        stream->send("data: nobody\n\n"); // not open: nothing is held or written
        QVERIFY(!stream->isOpen());
    }
    stream->finish();
    QTRY_VERIFY(!stream);
}

QTEST_GUILESS_MAIN(SseStreamTest)
#include "tst_ssestream.moc"
