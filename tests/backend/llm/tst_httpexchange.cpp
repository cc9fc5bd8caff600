// HttpExchange: one HTTP/1.1 exchange told to its receiver by direct calls: the head once, each
// read's body in one call, the end once (or nothing after cancel()), a framing error after the body
// before it.
#include "dispatchermain.h"
#include "llm/directhttp.h"
#include "llm/httpexchange.h"

#include <QNetworkRequest>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

using namespace Qt::StringLiterals;

namespace {
struct Recorder : HttpExchange::Receiver
{
    int heads = 0;
    HttpExchange::Head head;
    QList<QByteArray> bodies;
    int ends = 0;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    std::function<void()> onBody;

    void exchangeHead(const HttpExchange::Head &h) override
    {
        ++heads;
        head = h;
    }
    void exchangeBody(QByteArrayView bytes) override
    {
        QVERIFY(heads == 1);
        bodies.append(bytes.toByteArray());
        if (onBody)
            onBody();
    }
    void exchangeEnd(QNetworkReply::NetworkError e, const QString &) override
    {
        ++ends;
        error = e;
    }
};
} // namespace

class HttpExchangeTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void headValueJoinsRepeats();
    void oneReadIsOneBodyCall();
    void eachReadIsOneBodyCall();
    void bodyBeforeAFramingError();
    void cancelTellsNothingAndCloses();
    void abortTellsTheEnd();
    void managerGoingAwayEndsItsExchanges();
    void nagleSenderGetsEveryAck_data();
    void nagleSenderGetsEveryAck();
    void anEndedExchangeReadsNoMore();

private:
    // A server that answers the first request with `pieces`, each written `gapMs` after the one
    // before, and keeps the connection open unless `close`.
    QUrl server(const QList<QByteArray> &pieces, int gapMs = 0, bool close = false);
    HttpExchange *post(const QUrl &url, Recorder *receiver);

    DirectNetworkAccessManager m_manager;
    QPointer<QTcpSocket> m_accepted;
    bool m_clientClosed = false;
};

QUrl HttpExchangeTest::server(const QList<QByteArray> &pieces, int gapMs, bool close)
{
    auto *server = new QTcpServer(this);
    if (!server->listen(QHostAddress::LocalHost))
        return {};
    m_clientClosed = false;
    connect(server, &QTcpServer::newConnection, this, [=, this] {
        QTcpSocket *socket = server->nextPendingConnection();
        m_accepted = socket;
        connect(socket, &QTcpSocket::disconnected, this, [this] { m_clientClosed = true; });
        connect(socket, &QTcpSocket::readyRead, socket, [=] {
            const QByteArray seen = socket->property("in").toByteArray() + socket->readAll();
            socket->setProperty("in", seen);
            if (!seen.contains("\r\n\r\n{}") || socket->property("answered").toBool())
                return;
            socket->setProperty("answered", true);
            for (qsizetype i = 0; i < pieces.size(); ++i) {
                QTimer::singleShot(int(i) * gapMs, socket, [=] {
                    socket->write(pieces.at(i));
                    socket->flush();
                    if (close && i == pieces.size() - 1)
                        socket->disconnectFromHost();
                });
            }
        });
    });
    return QUrl(u"http://127.0.0.1:%1/v1/chat/completions"_s.arg(server->serverPort()));
}

HttpExchange *HttpExchangeTest::post(const QUrl &url, Recorder *receiver)
{
    return new HttpExchange(QNetworkAccessManager::PostOperation, QNetworkRequest(url), "{}", &m_manager,
                            receiver, this);
}

void HttpExchangeTest::headValueJoinsRepeats()
{
    HttpExchange::Head head;
    head.headers = {{"Content-Type", "text/event-stream"}, {"X-A", "1"}, {"x-a", "2"}};
    QCOMPARE(head.value("content-type"), QByteArray("text/event-stream"));
    QCOMPARE(head.value("X-A"), QByteArray("1, 2"));
    QCOMPARE(head.value("missing"), QByteArray());
}

void HttpExchangeTest::oneReadIsOneBodyCall()
{
    // Three chunks in one write: one call with all their data (the relay's events of one read
    // leave together), then the end.
    Recorder r;
    post(server({"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n4\r\ndefg\r\n2\r\nhi\r\n0\r\n\r\n"}),
         &r);
    QTRY_COMPARE(r.ends, 1);
    QCOMPARE(r.error, QNetworkReply::NoError);
    QCOMPARE(r.heads, 1);
    QCOMPARE(r.head.status, 200);
    QCOMPARE(r.head.reason, QByteArray("OK"));
    QCOMPARE(r.head.value("content-type"), QByteArray("text/event-stream"));
    QCOMPARE(r.bodies, QList<QByteArray>{"abcdefghi"});
    QTRY_COMPARE(m_manager.idleConnectionCount(), 1); // ended by its framing: kept for the next
    m_manager.clearIdleConnections();
}

void HttpExchangeTest::eachReadIsOneBodyCall()
{
    // A paced stream: a chunk per read, a call per chunk, as it arrives.
    Recorder r;
    post(server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n", "4\r\ndefg\r\n",
                 "0\r\n\r\n"},
                100),
         &r);
    QTRY_COMPARE(r.bodies.size(), 1);
    QCOMPARE(r.bodies.first(), QByteArray("abc"));
    QCOMPARE(r.ends, 0);
    QTRY_COMPARE(r.ends, 1);
    QCOMPARE(r.error, QNetworkReply::NoError);
    QCOMPARE(r.bodies, (QList<QByteArray>{"abc", "defg"}));
    m_manager.clearIdleConnections();
}

void HttpExchangeTest::bodyBeforeAFramingError()
{
    Recorder r;
    post(server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n"}), &r);
    QTRY_COMPARE(r.ends, 1);
    QCOMPARE(r.error, QNetworkReply::ProtocolFailure);
    QCOMPARE(r.bodies, QList<QByteArray>{"abc"});
    QTRY_VERIFY(m_clientClosed);
    QCOMPARE(m_manager.idleConnectionCount(), 0);
}

void HttpExchangeTest::cancelTellsNothingAndCloses()
{
    // What the upstream streams do when they are done with a reply: no more calls, and the server
    // sees the connection close (so a model stops generating).
    Recorder r;
    HttpExchange *exchange = post(
        server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "3\r\ndef\r\n"}, 200),
        &r);
    r.onBody = [&] {
        exchange->cancel();
    };
    QTRY_COMPARE(r.bodies.size(), 1);
    QVERIFY(!exchange->isRunning());
    QTRY_VERIFY(m_clientClosed);
    QTest::qWait(300);
    QCOMPARE(r.bodies.size(), 1);
    QCOMPARE(r.ends, 0);
    QCOMPARE(m_manager.idleConnectionCount(), 0);
    exchange->cancel(); // twice is harmless
    delete exchange;
}

void HttpExchangeTest::abortTellsTheEnd()
{
    Recorder r;
    HttpExchange *exchange =
        post(server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"}), &r);
    QTRY_COMPARE(r.bodies.size(), 1);
    exchange->abort();
    QCOMPARE(r.ends, 1);
    QCOMPARE(r.error, QNetworkReply::OperationCanceledError);
    exchange->abort();
    QCOMPARE(r.ends, 1);
    QTRY_VERIFY(m_clientClosed);
    delete exchange;
}

void HttpExchangeTest::managerGoingAwayEndsItsExchanges()
{
    // The upstream streams own their exchanges: one may outlive the manager, which ends it.
    Recorder r;
    auto manager = std::make_unique<DirectNetworkAccessManager>();
    const QUrl url = server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"});
    auto *exchange = new HttpExchange(QNetworkAccessManager::PostOperation, QNetworkRequest(url), "{}",
                                      manager.get(), &r, this);
    QTRY_COMPARE(r.bodies.size(), 1);
    manager.reset();
    QCOMPARE(r.ends, 1);
    QCOMPARE(r.error, QNetworkReply::OperationCanceledError);
    QVERIFY(!exchange->isRunning());
    QTRY_VERIFY(m_clientClosed);
    delete exchange; // after its manager: must not reach for it
}

void HttpExchangeTest::nagleSenderGetsEveryAck_data()
{
    QTest::addColumn<bool>("noDelay");
    QTest::newRow("Nagle on (Qt's default)") << false;
    QTest::newRow("TCP_NODELAY") << true;
}

void HttpExchangeTest::nagleSenderGetsEveryAck()
{
    // Twice two tokens written back to back while the one before is not yet acknowledged: a Nagle
    // sender holds them until the delayed ACK goes (40 ms) and they come in one read after that
    // pause. On the second time, every segment is acknowledged as it is read from then on. A
    // sender without Nagle's algorithm sends them at once; the exchange keeps delaying its ACKs.
    QFETCH(bool, noDelay);
    auto *server = new QTcpServer(this);
    QVERIFY(server->listen(QHostAddress::LocalHost));
    connect(server, &QTcpServer::newConnection, this, [=, this] {
        QTcpSocket *socket = server->nextPendingConnection();
        socket->setSocketOption(QAbstractSocket::LowDelayOption, noDelay ? 1 : 0);
        connect(socket, &QTcpSocket::readyRead, socket, [=] {
            if (socket->property("answered").toBool() || !socket->readAll().contains("\r\n\r\n"))
                return;
            socket->setProperty("answered", true);
            const auto send = [socket](const QByteArray &bytes) {
                socket->write(bytes);
                socket->flush();
            };
            send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n");
            for (const int at : {100, 250}) {
                QTimer::singleShot(at, socket, [=] { send("1\r\nb\r\n"); });
                QTimer::singleShot(at + 10, socket, [=] {
                    send("1\r\nc\r\n");
                    send("1\r\nd\r\n");
                });
            }
            QTimer::singleShot(400, socket, [=] { send("0\r\n\r\n"); });
        });
    });
    Recorder r;
    HttpExchange *exchange =
        post(QUrl(u"http://127.0.0.1:%1/v1/chat/completions"_s.arg(server->serverPort())), &r);
    QVERIFY(exchange->delaysAcks());
    QTRY_COMPARE(r.bodies.size(), 1);
    QCOMPARE(exchange->readsDirectly(), EpollEventDispatcher::current() != nullptr);
    QTRY_COMPARE(r.ends, 1);
    QVERIFY(!exchange->readsDirectly()); // ended: its socket is Qt's again, in the pool
    QCOMPARE(r.bodies.join(), QByteArray("abcdbcd"));
    QCOMPARE(exchange->delaysAcks(), noDelay);
    delete exchange;
    m_manager.clearIdleConnections();
}

void HttpExchangeTest::anEndedExchangeReadsNoMore()
{
    // An answer that closes its connection: the socket stays with the exchange after the end,
    // read by Qt's notifier again, not by an exchange that no longer reads (the loop would report
    // the closing socket on every pass).
    Recorder r;
    HttpExchange *exchange =
        post(server({"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\n", "abc"}, 50), &r);
    QTRY_COMPARE(r.ends, 1);
    QCOMPARE(r.error, QNetworkReply::NoError);
    QCOMPARE(r.bodies.join(), QByteArray("abc"));
    QVERIFY(!exchange->readsDirectly());
    QCOMPARE(m_manager.idleConnectionCount(), 0);
    QTest::qWait(50);
    delete exchange;
    QTRY_VERIFY(m_clientClosed);
}

AGENTDESK_TEST_MAIN_EITHER_LOOP(HttpExchangeTest)
#include "tst_httpexchange.moc"
