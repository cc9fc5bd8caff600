// DirectNetworkAccessManager / DirectHttpReply: plain-http requests on the caller's thread, read
// as they arrive, with the framings and answers real servers give; anything else goes to Qt.
// Kept-alive connections are reused, and only when that is safe.
#include "dispatchermain.h"
#include "fakeupstream.h"
#include "llm/directhttp.h"

#include <QEventLoop>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <memory>

using namespace Qt::StringLiterals;

class DirectHttpTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void framings_data();
    void framings();
    void requestOnTheWire();
    void errorStatusKeepsBody();
    void refusedConnection();
    void truncatedChunkedBody();
    void abortClosesTheConnection();
    void onlyPlainHttpWithoutProxy();

    // keep-alive
    void sequentialRequestsReuseOneConnection();
    void reuseWritesTheRequestAtOnce();
    void concurrentRequestsOpenSeveralThenReuse();
    void closingResponsesAreNotReused_data();
    void closingResponsesAreNotReused();
    void serverIdleCloseBetweenRequests();
    void staleConnectionIsRetriedOnce();
    void freshConnectionIsNeverRetried();
    void noRetryAfterAResponseByte();
    void trailersAndOddAnswers();
    void abortMidStreamNeverPools();
    void idleTimeoutDropsSockets();
    void idleCaps();
    void destroyingTheManagerClosesIdleConnections();
    void replyOutlivingItsManager();

private:
    // A one-shot server: answers the first complete request with `response` and closes.
    QUrl server(const QByteArray &response, QByteArray *request = nullptr, bool close = true);
    struct Result
    {
        int status = 0;
        QByteArray contentType;
        QByteArray body;
        QNetworkReply::NetworkError error = QNetworkReply::NoError;
        int finished = 0;
    };
    Result post(const QUrl &url, const QByteArray &body = "{}");
    Result post(QNetworkAccessManager &manager, const QUrl &url, const QByteArray &body);
    // A streamed chat completion from the fake, as OpenAiStream asks for it.
    Result chat(QNetworkAccessManager &manager, const FakeUpstream &fake, const QString &model);
    static QUrl completions(const FakeUpstream &fake)
    {
        return QUrl(fake.baseUrl().toString() + "/chat/completions"_L1);
    }
    static QByteArray chatBody(const QString &model, bool stream = true);
    // A server that keeps connections and answers each request (by arrival order, counted over
    // all connections) with the next of `responses`; `accepted` counts its connections.
    QUrl keepAliveServer(const QList<QByteArray> &responses, int *accepted);

    DirectNetworkAccessManager m_manager;
};

QUrl DirectHttpTest::server(const QByteArray &response, QByteArray *request, bool close)
{
    auto *server = new QTcpServer(this);
    if (!server->listen(QHostAddress::LocalHost))
        return {};
    connect(server, &QTcpServer::newConnection, server, [=] {
        QTcpSocket *socket = server->nextPendingConnection();
        connect(socket, &QTcpSocket::readyRead, socket, [=] {
            QByteArray seen = socket->property("in").toByteArray() + socket->readAll();
            socket->setProperty("in", seen);
            const qsizetype end = seen.indexOf("\r\n\r\n");
            if (end < 0 || socket->property("answered").toBool())
                return;
            const qsizetype cl = seen.toLower().indexOf("content-length:");
            const int length =
                cl < 0 ? 0 : seen.mid(cl + 15, seen.indexOf('\r', cl) - cl - 15).trimmed().toInt();
            if (seen.size() < end + 4 + length)
                return;
            socket->setProperty("answered", true);
            if (request)
                *request = seen;
            socket->write(response);
            if (close)
                socket->disconnectFromHost();
        });
    });
    return QUrl(u"http://127.0.0.1:%1/v1/chat/completions?x=1"_s.arg(server->serverPort()));
}

DirectHttpTest::Result DirectHttpTest::post(const QUrl &url, const QByteArray &body)
{
    return post(m_manager, url, body);
}

DirectHttpTest::Result DirectHttpTest::post(QNetworkAccessManager &manager, const QUrl &url,
                                            const QByteArray &body)
{
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = manager.post(request, body);
    Result result;
    connect(reply, &QNetworkReply::metaDataChanged, this, [&] {
        result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        result.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    });
    connect(reply, &QNetworkReply::readyRead, this, [&] { result.body += reply->readAll(); });
    connect(reply, &QNetworkReply::finished, this, [&] {
        ++result.finished;
        result.body += reply->readAll();
        result.error = reply->error();
    });
    // A real event loop: QTest::qWaitFor sleeps 10 ms a pass, and the fake's split mode writes
    // one piece a pass.
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(5000, &loop, &QEventLoop::quit);
    if (!result.finished)
        loop.exec();
    if (!result.finished)
        reply->abort();
    QTest::qWait(20); // room for a (wrong) second finished()
    reply->deleteLater();
    return result;
}

void DirectHttpTest::framings_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("chunked, extensions and trailers")
        << QByteArray(
               "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
               "6;name=value\r\ndata: \r\n"
               "a\r\n1234567890\r\n"
               "0\r\nX-Trailer: 1\r\n\r\n")
        << QByteArray("data: 1234567890");
    QTest::newRow("content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                                  "Content-Length: 7\r\n\r\n{\"a\":1}")
                                    << QByteArray("{\"a\":1}");
    QTest::newRow("close-delimited") << QByteArray(
                                            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                                            "data: x\n\n")
                                     << QByteArray("data: x\n\n");
    QTest::newRow("100 continue first") << QByteArray("HTTP/1.1 100 Continue\r\n\r\n"
                                                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                                      "Content-Length: 2\r\n\r\nok")
                                        << QByteArray("ok");
}

void DirectHttpTest::framings()
{
    QFETCH(QByteArray, response);
    QFETCH(QByteArray, body);
    const Result r = post(server(response));
    QCOMPARE(r.finished, 1);
    QCOMPARE(r.error, QNetworkReply::NoError);
    QCOMPARE(r.status, 200);
    QVERIFY(!r.contentType.isEmpty());
    QCOMPARE(r.body, body);
}

void DirectHttpTest::requestOnTheWire()
{
    QByteArray request;
    const QUrl url = server("HTTP/1.1 204 No Content\r\n\r\n", &request);
    const Result r = post(url, "{\"stream\":true}");
    QCOMPARE(r.status, 204);
    QCOMPARE(r.finished, 1);
    QVERIFY2(request.startsWith("POST /v1/chat/completions?x=1 HTTP/1.1\r\n"), request.constData());
    QVERIFY(request.contains("\r\nHost: 127.0.0.1:" + QByteArray::number(url.port()) + "\r\n"));
    QVERIFY(request.contains("\r\nContent-Type: application/json\r\n"));
    QVERIFY(request.contains("\r\nContent-Length: 15\r\n"));
    QVERIFY(!request.toLower().contains("\r\nconnection:")); // HTTP/1.1: kept alive by default
    QVERIFY(request.endsWith("\r\n\r\n{\"stream\":true}"));
}

void DirectHttpTest::errorStatusKeepsBody()
{
    // As with Qt's backend, an HTTP error is a status, not a network error: the body is readable.
    const Result r = post(server("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 11\r\n\r\n{\"error\":1}"));
    QCOMPARE(r.status, 429);
    QCOMPARE(r.error, QNetworkReply::NoError);
    QCOMPARE(r.body, QByteArray("{\"error\":1}"));
}

void DirectHttpTest::refusedConnection()
{
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const quint16 port = probe.serverPort();
    probe.close();
    const Result r = post(QUrl(u"http://127.0.0.1:%1/v1"_s.arg(port)));
    QCOMPARE(r.finished, 1);
    QCOMPARE(r.status, 0);
    QCOMPARE(r.error, QNetworkReply::ConnectionRefusedError);
}

void DirectHttpTest::truncatedChunkedBody()
{
    const Result r = post(server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
    QCOMPARE(r.finished, 1);
    QCOMPARE(r.body, QByteArray("hello"));
    QCOMPARE(r.error, QNetworkReply::RemoteHostClosedError);
}

void DirectHttpTest::abortClosesTheConnection()
{
    // A server that sends the head and then keeps the connection open, as a model mid-reply does.
    QTcpServer upstream;
    QVERIFY(upstream.listen(QHostAddress::LocalHost));
    QPointer<QTcpSocket> accepted;
    bool closedByClient = false;
    connect(&upstream, &QTcpServer::newConnection, this, [&] {
        accepted = upstream.nextPendingConnection();
        connect(accepted, &QTcpSocket::readyRead, accepted, [&] {
            accepted->readAll();
            accepted->write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        });
        connect(accepted, &QTcpSocket::disconnected, this, [&] { closedByClient = true; });
    });
    QNetworkRequest request(QUrl(u"http://127.0.0.1:%1/v1"_s.arg(upstream.serverPort())));
    QNetworkReply *reply = m_manager.post(request, QByteArray("{}"));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QVERIFY(QTest::qWaitFor([&] { return reply->bytesAvailable() == 3; }, 5000));
    QVERIFY(reply->isRunning());
    reply->abort();
    QCOMPARE(finished.size(), 1);
    QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError);
    QVERIFY(!reply->isRunning());
    QVERIFY(QTest::qWaitFor([&] { return closedByClient; }, 5000));
    reply->abort(); // twice is harmless
    QCOMPARE(finished.size(), 1);
    delete reply;
}

void DirectHttpTest::onlyPlainHttpWithoutProxy()
{
    QVERIFY(DirectNetworkAccessManager::handles(QUrl(u"http://127.0.0.1:8080/v1"_s)));
    QVERIFY(!DirectNetworkAccessManager::handles(QUrl(u"https://api.openai.com/v1"_s)));
    QVERIFY(!DirectNetworkAccessManager::handles(QUrl(u"ftp://example.com/"_s)));
    // With a proxy configured the stock backend (which knows proxies) takes the request.
    QNetworkProxy::setApplicationProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, 3128));
    QVERIFY(!DirectNetworkAccessManager::handles(QUrl(u"http://10.0.0.1:8080/v1"_s)));
    QNetworkProxy::setApplicationProxy(QNetworkProxy(QNetworkProxy::NoProxy));
    QVERIFY(DirectNetworkAccessManager::handles(QUrl(u"http://10.0.0.1:8080/v1"_s)));
}

QByteArray DirectHttpTest::chatBody(const QString &model, bool stream)
{
    return R"({"model":")" + model.toUtf8() + R"(","stream":)" + (stream ? "true" : "false") +
           R"(,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})";
}

DirectHttpTest::Result DirectHttpTest::chat(QNetworkAccessManager &manager, const FakeUpstream &fake,
                                            const QString &model)
{
    return post(manager, completions(fake), chatBody(model));
}

QUrl DirectHttpTest::keepAliveServer(const QList<QByteArray> &responses, int *accepted)
{
    auto *server = new QTcpServer(this);
    if (!server->listen(QHostAddress::LocalHost))
        return {};
    auto answered = std::make_shared<int>(0);
    connect(server, &QTcpServer::newConnection, server, [=] {
        QTcpSocket *socket = server->nextPendingConnection();
        ++*accepted;
        connect(socket, &QTcpSocket::readyRead, socket, [=] {
            QByteArray seen = socket->property("in").toByteArray() + socket->readAll();
            for (;;) {
                const qsizetype end = seen.indexOf("\r\n\r\n");
                if (end < 0)
                    break;
                const qsizetype cl = seen.toLower().indexOf("content-length:");
                const int length =
                    cl < 0 || cl > end
                        ? 0
                        : seen.mid(cl + 15, seen.indexOf('\r', cl) - cl - 15).trimmed().toInt();
                if (seen.size() < end + 4 + length)
                    break;
                seen.remove(0, end + 4 + length);
                const QByteArray response = responses.value((*answered)++);
                if (response.isEmpty()) {
                    socket->disconnectFromHost();
                    return;
                }
                const bool close = response.endsWith("<close>"); // a marker: close after the rest
                socket->write(close ? response.chopped(7) : response);
                if (close)
                    socket->disconnectFromHost();
            }
            socket->setProperty("in", seen);
        });
    });
    return QUrl(u"http://127.0.0.1:%1/v1"_s.arg(server->serverPort()));
}

void DirectHttpTest::sequentialRequestsReuseOneConnection()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    DirectNetworkAccessManager manager;
    // Streams (chunked), an error with a JSON body and a plain JSON answer (Content-Length).
    const QStringList models = {u"fake:tokens=3"_s,        u"fake:tokens=1"_s, u"fake:status=429"_s,
                                u"fake:tokens=2,json=1"_s, u"fake:tokens=3"_s, u"fake:tokens=2,split=5"_s,
                                u"fake:tokens=1,split=2"_s}; // split: the terminator comes over several reads
    for (const QString &model : models) {
        const Result r = chat(manager, fake, model);
        QCOMPARE(r.finished, 1);
        QCOMPARE(r.error, QNetworkReply::NoError);
        if (model.contains("429"_L1)) {
            QCOMPARE(r.status, 429);
            QVERIFY(r.body.contains("rate_limit_exceeded"));
        } else {
            QCOMPARE(r.status, 200);
            QVERIFY2(r.body.contains("\"finish_reason\":\"stop\""), r.body.constData());
        }
        QCOMPARE(manager.idleConnectionCount(), 1);
    }
    QCOMPARE(fake.requestsReceived(), int(models.size()));
    QCOMPARE(fake.connectionsAccepted(), 1);
    QCOMPARE(fake.clientAborts(), 0);
    QCOMPARE(manager.idleConnectionCount(completions(fake)), 1);
}

void DirectHttpTest::reuseWritesTheRequestAtOnce()
{
    // The request goes out inside post(), before any event-loop turn: the server (read blocking
    // here, without an event loop) has it whole.
    QTcpServer upstream;
    QVERIFY(upstream.listen(QHostAddress::LocalHost));
    DirectNetworkAccessManager manager;
    const QUrl url(u"http://127.0.0.1:%1/v1/chat/completions"_s.arg(upstream.serverPort()));
    QNetworkReply *first = manager.post(QNetworkRequest(url), QByteArray("{\"n\":1}"));
    QTRY_VERIFY(upstream.hasPendingConnections());
    QTcpSocket *socket = upstream.nextPendingConnection();
    QByteArray seen;
    QTRY_VERIFY((seen += socket->readAll()).endsWith("{\"n\":1}"));
    socket->write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    QTRY_VERIFY(first->isFinished());
    QCOMPARE(first->readAll(), QByteArray("ok"));
    delete first;
    QCOMPARE(manager.idleConnectionCount(), 1);

    QNetworkReply *second = manager.post(QNetworkRequest(url), QByteArray("{\"n\":2}"));
    QCOMPARE(manager.idleConnectionCount(), 0);
    QVERIFY(socket->waitForReadyRead(1000));
    const QByteArray request = socket->readAll();
    QVERIFY2(request.startsWith("POST /v1/chat/completions HTTP/1.1\r\n"), request.constData());
    QVERIFY(request.endsWith("\r\n\r\n{\"n\":2}"));
    QVERIFY(!upstream.hasPendingConnections());
    socket->write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok2");
    QTRY_VERIFY(second->isFinished());
    QCOMPARE(second->error(), QNetworkReply::NoError);
    QCOMPARE(second->readAll(), QByteArray("ok2"));
    delete second;
}

void DirectHttpTest::concurrentRequestsOpenSeveralThenReuse()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    DirectNetworkAccessManager manager;
    for (int round = 0; round < 3; ++round) {
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 4; ++i) {
            QNetworkRequest request(completions(fake));
            replies.append(manager.post(request, chatBody(u"fake:tokens=3,delay=30"_s)));
        }
        QCOMPARE(manager.idleConnectionCount(), 0); // all four in use
        QVERIFY(QTest::qWaitFor(
            [&] {
                return std::all_of(replies.cbegin(), replies.cend(),
                                   [](QNetworkReply *r) { return r->isFinished(); });
            },
            5000));
        for (QNetworkReply *reply : std::as_const(replies)) {
            QCOMPARE(reply->error(), QNetworkReply::NoError);
            QVERIFY(reply->readAll().contains("[DONE]"));
            delete reply;
        }
        QCOMPARE(fake.maxConcurrentStreams(), 4);
        QCOMPARE(manager.idleConnectionCount(), 4);
    }
    QCOMPARE(fake.connectionsAccepted(), 4);
    QCOMPARE(fake.requestsReceived(), 12);
}

void DirectHttpTest::closingResponsesAreNotReused_data()
{
    QTest::addColumn<QString>("model");
    QTest::newRow("Connection: close") << u"fake:tokens=2,close=1"_s;
    QTest::newRow("error with Connection: close") << u"fake:status=503,close=1"_s;
    QTest::newRow("close-delimited") << u"fake:tokens=2,chunked=0"_s;
}

void DirectHttpTest::closingResponsesAreNotReused()
{
    QFETCH(QString, model);
    FakeUpstream fake;
    QVERIFY(fake.listen());
    DirectNetworkAccessManager manager;
    for (int i = 0; i < 3; ++i) {
        const Result r = chat(manager, fake, model);
        QCOMPARE(r.finished, 1);
        QCOMPARE(r.error, QNetworkReply::NoError);
        QCOMPARE(manager.idleConnectionCount(), 0);
    }
    QCOMPARE(fake.connectionsAccepted(), 3);
    QTRY_COMPARE(fake.openConnections(), 0);
    QCOMPARE(fake.clientAborts(), 0);
}

void DirectHttpTest::serverIdleCloseBetweenRequests()
{
    // uvicorn (vLLM) closes a connection idle for 5 s; here 50 ms. The close arrives while the
    // connection waits in the pool, which drops it: the next request opens a new one, unharmed.
    FakeUpstream fake;
    QVERIFY(fake.listen());
    DirectNetworkAccessManager manager;
    const Result first = chat(manager, fake, u"fake:tokens=2,idle=50"_s);
    QCOMPARE(first.error, QNetworkReply::NoError);
    QTRY_COMPARE(fake.openConnections(), 0);
    QTRY_COMPARE(manager.idleConnectionCount(), 0);
    const Result second = chat(manager, fake, u"fake:tokens=2"_s);
    QCOMPARE(second.finished, 1);
    QCOMPARE(second.error, QNetworkReply::NoError);
    QVERIFY(second.body.contains("[DONE]"));
    QCOMPARE(fake.connectionsAccepted(), 2);
    QCOMPARE(fake.requestsReceived(), 2);
}

void DirectHttpTest::staleConnectionIsRetriedOnce()
{
    // The race the idle watch cannot see: the server closes the connection just as our request
    // goes out on it. The request is sent again on a new connection; the caller sees one answer.
    FakeUpstream fake;
    QVERIFY(fake.listen());
    DirectNetworkAccessManager manager;
    QCOMPARE(chat(manager, fake, u"fake:tokens=2"_s).error, QNetworkReply::NoError);
    fake.closeOnNextReuse();
    QNetworkRequest request(completions(fake));
    QNetworkReply *reply = manager.post(request, chatBody(u"fake:tokens=3,text=retried"_s));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QSignalSpy errors(reply, &QNetworkReply::errorOccurred);
    QByteArray body;
    connect(reply, &QNetworkReply::readyRead, this, [&] { body += reply->readAll(); });
    QVERIFY(finished.wait(5000));
    QTest::qWait(20);
    QCOMPARE(finished.size(), 1);
    QCOMPARE(errors.size(), 0);
    QCOMPARE(reply->error(), QNetworkReply::NoError);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QVERIFY(body.contains("[DONE]"));
    QVERIFY(body.contains("ret"));
    QCOMPARE(fake.closedOnReuse(), 1);
    QCOMPARE(fake.connectionsAccepted(), 2);
    QCOMPARE(fake.requestsReceived(), 2);
    QCOMPARE(manager.idleConnectionCount(), 1); // the new one, for the next request
    delete reply;
}

void DirectHttpTest::freshConnectionIsNeverRetried()
{
    // On a new connection, a close before any answer is the server's: no second attempt.
    int accepted = 0;
    const QUrl url = keepAliveServer({}, &accepted); // closes on the first request
    DirectNetworkAccessManager manager;
    const Result r = post(manager, url, "{}");
    QCOMPARE(r.finished, 1);
    QCOMPARE(r.error, QNetworkReply::RemoteHostClosedError);
    QCOMPARE(accepted, 1);
}

void DirectHttpTest::noRetryAfterAResponseByte()
{
    // A reused connection that closes after part of the answer: that request reached the server,
    // so it is not sent again (it would run a generation twice); the caller sees the failure.
    int accepted = 0;
    const QUrl url =
        keepAliveServer({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n<close>"},
                        &accepted);
    DirectNetworkAccessManager manager;
    const Result first = post(manager, url, "{}");
    QCOMPARE(first.error, QNetworkReply::NoError);
    QCOMPARE(first.body, QByteArray("ok"));
    QCOMPARE(manager.idleConnectionCount(), 1);
    const Result second = post(manager, url, "{}");
    QCOMPARE(second.finished, 1);
    QCOMPARE(second.status, 200);
    QVERIFY(second.body.startsWith("hi"));
    QCOMPARE(second.error, QNetworkReply::RemoteHostClosedError);
    QCOMPARE(accepted, 1);
    QCOMPARE(manager.idleConnectionCount(), 0);
}

void DirectHttpTest::trailersAndOddAnswers()
{
    // Trailers are read to their end, so the next answer starts clean; an HTTP/1.0 answer and one
    // with bytes past its end are not reused.
    int accepted = 0;
    const QUrl url =
        keepAliveServer({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-A: 1\r\n"
                         "X-B: 2\r\n\r\n",
                         "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nv0",
                         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
                         "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: Keep-Alive, Close\r\n\r\nlast"},
                        &accepted);
    DirectNetworkAccessManager manager;
    const Result trailers = post(manager, url, "{}");
    QCOMPARE(trailers.error, QNetworkReply::NoError);
    QCOMPARE(trailers.body, QByteArray("ok"));
    QCOMPARE(manager.idleConnectionCount(), 1);
    const Result empty = post(manager, url, "{}");
    QCOMPARE(empty.status, 204);
    QCOMPARE(manager.idleConnectionCount(), 1);
    QCOMPARE(accepted, 1);
    const Result http10 = post(manager, url, "{}");
    QCOMPARE(http10.body, QByteArray("v0"));
    QCOMPARE(manager.idleConnectionCount(), 0);
    const Result extra = post(manager, url, "{}");
    QCOMPARE(extra.body, QByteArray("ok"));
    QCOMPARE(manager.idleConnectionCount(), 0);
    const Result closing = post(manager, url, "{}");
    QCOMPARE(closing.body, QByteArray("last"));
    QCOMPARE(manager.idleConnectionCount(), 0);
    QCOMPARE(accepted, 3);
}

void DirectHttpTest::abortMidStreamNeverPools()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    DirectNetworkAccessManager manager;
    QCOMPARE(chat(manager, fake, u"fake:tokens=1"_s).error, QNetworkReply::NoError);
    QNetworkRequest request(completions(fake));
    QNetworkReply *reply = manager.post(request, chatBody(u"fake:tokens=100,delay=20"_s)); // reuses
    QVERIFY(QTest::qWaitFor([&] { return reply->bytesAvailable() > 0; }, 5000));
    QCOMPARE(fake.connectionsAccepted(), 1);
    reply->abort();
    QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError);
    QCOMPARE(manager.idleConnectionCount(), 0);
    QTRY_COMPARE(fake.clientAborts(), 1); // the upstream saw the close and stopped
    QTRY_COMPARE(fake.openConnections(), 0);
    delete reply;
    QCOMPARE(chat(manager, fake, u"fake:tokens=1"_s).error, QNetworkReply::NoError);
    QCOMPARE(fake.connectionsAccepted(), 2);
}

void DirectHttpTest::idleTimeoutDropsSockets()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    DirectNetworkAccessManager manager;
    QCOMPARE(manager.idleTimeout(), 4000);
    manager.setIdleTimeout(150);
    QCOMPARE(chat(manager, fake, u"fake:tokens=1"_s).error, QNetworkReply::NoError);
    QCOMPARE(manager.idleConnectionCount(), 1);
    QElapsedTimer clock;
    clock.start();
    QTRY_COMPARE_WITH_TIMEOUT(manager.idleConnectionCount(), 0, 2000);
    QVERIFY2(clock.elapsed() >= 100, qPrintable(QString::number(clock.elapsed())));
    QTRY_COMPARE(fake.openConnections(), 0); // closed, not just forgotten
    QCOMPARE(fake.clientAborts(), 0);
    QCOMPARE(chat(manager, fake, u"fake:tokens=1"_s).error, QNetworkReply::NoError);
    QCOMPARE(fake.connectionsAccepted(), 2);
}

void DirectHttpTest::idleCaps()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    FakeUpstream other;
    QVERIFY(other.listen());
    DirectNetworkAccessManager manager;
    manager.setMaxIdlePerHost(2);
    QList<QNetworkReply *> replies;
    for (int i = 0; i < 5; ++i) {
        replies.append(
            manager.post(QNetworkRequest(completions(fake)), chatBody(u"fake:tokens=2,delay=20"_s)));
        replies.append(
            manager.post(QNetworkRequest(completions(other)), chatBody(u"fake:tokens=2,delay=20"_s)));
    }
    QVERIFY(QTest::qWaitFor(
        [&] {
            return std::all_of(replies.cbegin(), replies.cend(),
                               [](QNetworkReply *r) { return r->isFinished(); });
        },
        5000));
    qDeleteAll(replies);
    QCOMPARE(manager.idleConnectionCount(completions(fake)), 2);
    QCOMPARE(manager.idleConnectionCount(completions(other)), 2);
    QTRY_COMPARE(fake.openConnections(), 2);
    manager.setMaxIdleTotal(3);
    QCOMPARE(manager.idleConnectionCount(), 3);
    manager.setMaxIdlePerHost(0); // no pooling at all
    QCOMPARE(manager.idleConnectionCount(), 0);
    QTRY_COMPARE(fake.openConnections() + other.openConnections(), 0);
    QCOMPARE(chat(manager, fake, u"fake:tokens=1"_s).error, QNetworkReply::NoError);
    QCOMPARE(manager.idleConnectionCount(), 0);
}

void DirectHttpTest::destroyingTheManagerClosesIdleConnections()
{
    FakeUpstream fake;
    QVERIFY(fake.listen());
    {
        DirectNetworkAccessManager manager;
        QCOMPARE(chat(manager, fake, u"fake:tokens=1"_s).error, QNetworkReply::NoError);
        QCOMPARE(manager.idleConnectionCount(), 1);
        QCOMPARE(fake.openConnections(), 1);
    }
    QTRY_COMPARE(fake.openConnections(), 0);
}

void DirectHttpTest::replyOutlivingItsManager()
{
    // LlmClient's streams own their replies: one may outlive the manager. The manager ends it
    // (QNetworkAccessManager handles every reply's finished() on itself), closing the connection.
    FakeUpstream fake;
    QVERIFY(fake.listen());
    auto manager = std::make_unique<DirectNetworkAccessManager>();
    QNetworkReply *reply =
        manager->post(QNetworkRequest(completions(fake)), chatBody(u"fake:tokens=50,delay=30"_s));
    reply->setParent(nullptr);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QVERIFY(QTest::qWaitFor([&] { return reply->bytesAvailable() > 0; }, 5000));
    manager.reset();
    QCOMPARE(finished.size(), 1);
    QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError);
    QTRY_COMPARE(fake.clientAborts(), 1);
    QTest::qWait(50);
    QCOMPARE(finished.size(), 1);
    delete reply;
}

AGENTDESK_TEST_MAIN_EITHER_LOOP(DirectHttpTest)
#include "tst_directhttp.moc"
