#include "connectionguard.h"

#include "core/logging.h"
#include "requestcontext.h"

#include <QJsonDocument>
#include <QTcpSocket>
#include <QTimerEvent>

using namespace Qt::StringLiterals;

namespace {
constexpr int closeGraceMs = 5000; // after the linger, how long a close may wait for a slow reader
}

ConnectionGuard::ConnectionGuard(QTcpSocket *socket, std::shared_ptr<Shared> shared)
    : QObject(socket), m_socket(socket), m_shared(std::move(shared)),
      m_framer({m_shared->limits.maxHeaderBytes, m_shared->limits.maxBodyBytes,
                m_shared->limits.maxImportBodyBytes, m_shared->limits.maxUploadBodyBytes})
{
    ++m_shared->open;
    // The first request has its whole time-out from the moment the client connected.
    m_requestDeadline = QDeadlineTimer(qMax(1, m_shared->limits.requestTimeoutMs));
    // Connected before the HTTP server connects its own handler, so this runs first.
    connect(socket, &QTcpSocket::readyRead, this, &ConnectionGuard::beforeServerRead);
    connect(socket, &QTcpSocket::bytesWritten, this, [this] {
        if (m_phase == Phase::Open && !m_framer.inRequest() && m_answeredAny)
            rearm(); // a long answer to a slow reader is not idleness
    });
    rearm();
}

ConnectionGuard::~ConnectionGuard()
{
    --m_shared->open;
}

ConnectionGuard *ConnectionGuard::of(QTcpSocket *socket)
{
    return socket ? socket->findChild<ConnectionGuard *>(QString(), Qt::FindDirectChildrenOnly) : nullptr;
}

void ConnectionGuard::hookAfterServer()
{
    if (m_hooked)
        return;
    m_hooked = true;
    connect(m_socket, &QTcpSocket::readyRead, this, &ConnectionGuard::afterServerRead);
}

void ConnectionGuard::beforeServerRead()
{
    if (m_phase != Phase::Open) {
        discardInput();
        return;
    }
    const qint64 available = m_socket->bytesAvailable();
    const qint64 fresh = available - m_leftover;
    m_leftover = 0; // the server reads all it can; afterServerRead corrects this when it did not
    if (fresh <= 0)
        return;
    // peek() starts where the server's read transaction stands: only bytes it has not read.
    const QByteArray bytes = m_socket->peek(available);
    const qint64 skip = qMax<qint64>(0, bytes.size() - fresh);
    m_shared->bytesFramed += bytes.size() - skip;
    const bool wasInRequest = m_framer.inRequest();
    const qint64 completedBefore = m_framer.completedRequests();
    switch (m_framer.feed(QByteArrayView(bytes).sliced(skip))) {
    case RequestFramer::Verdict::Ok:
        break;
    case RequestFramer::Verdict::HeaderTooLarge:
        refuse(431, "Request Header Fields Too Large", u"header_too_large"_s,
               u"The request line and headers are over the limit of %1 bytes"_s.arg(
                   m_shared->limits.maxHeaderBytes));
        return;
    case RequestFramer::Verdict::BodyTooLarge:
        refuse(413, "Payload Too Large", u"payload_too_large"_s,
               u"The request body is over the limit of %1 bytes"_s.arg(m_framer.bodyLimit()));
        return;
    case RequestFramer::Verdict::Malformed:
        refuse(400, "Bad Request", u"bad_request"_s,
               u"The request's Content-Length or chunked framing is malformed"_s);
        return;
    }
    // A head whose body is still coming (some of it may be here already): looked at before the rest.
    if (m_framer.headsCompleted() != m_headsSeen) {
        m_headsSeen = m_framer.headsCompleted();
        if (m_framer.inBody()) {
            headRead();
            if (m_phase != Phase::Open)
                return;
        }
    }
    // A request after the first gets its time-out from its own first byte.
    if (m_framer.inRequest() && m_answeredAny &&
        (!wasInRequest || m_framer.completedRequests() > completedBefore))
        m_requestDeadline = QDeadlineTimer(qMax(1, m_shared->limits.requestTimeoutMs));
    rearm();
}

void ConnectionGuard::afterServerRead()
{
    if (m_phase == Phase::Open)
        m_leftover = m_socket->bytesAvailable();
    else
        discardInput();
}

void ConnectionGuard::discardInput()
{
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    if (m_socket->isOpen()) // not after a hand-off to another loop closed it here
        m_socket->skip(m_socket->bytesAvailable());
    m_leftover = 0;
}

void ConnectionGuard::stopServerReading()
{
    // The server's handler and ours alike; only ours comes back, and it drops what arrives.
    disconnect(m_socket, &QTcpSocket::readyRead, nullptr, nullptr);
    connect(m_socket, &QTcpSocket::readyRead, this, &ConnectionGuard::discardInput);
}

void ConnectionGuard::requestAnswered(bool deferred)
{
    if (m_phase != Phase::Open)
        return;
    const bool closeAfter = m_framer.takeAnswered().closeAfter;
    if (closeAfter && !deferred) {
        m_phase = Phase::Closing;
        m_lingerDone = true;
        stopServerReading();
        discardInput();
        m_socket->disconnectFromHost(); // once the answer is out
        m_timer.start(closeGraceMs, this);
        return;
    }
    if (deferred) {
        // The answer runs on and closes the connection when done; a request pipelined behind it
        // would be answered in the middle of it, so nothing more is read from this client.
        m_phase = Phase::Deferred;
        m_timer.stop();
        stopServerReading();
        discardInput();
        return;
    }
    m_answeredAny = true;
    rearm();
}

void ConnectionGuard::headRead()
{
    if (m_framer.bodyLimit() > m_shared->limits.maxBodyBytes) {
        const QByteArray authorization = m_framer.authorization();
        const bool valid = !authorization.isEmpty() &&
                           (!m_shared->credentialsValid || m_shared->credentialsValid(authorization));
        if (!valid) {
            refuse(401, "Unauthorized", u"unauthorized"_s,
                   authorization.isEmpty() ? u"Send Authorization: Bearer <token>"_s
                                           : u"The token is unknown or revoked"_s,
                   "WWW-Authenticate: Bearer\r\n");
            return;
        }
    }
    // Not to HTTP/1.0, which knows no interim answers, nor before the answer to a request ahead of
    // this one: the client would take it for that answer. Such a client sends after its own wait.
    if (m_framer.expectsContinue() && m_framer.awaitingBody() && !m_framer.http10() &&
        m_framer.unanswered() == 0)
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
}

HttpReply::ErrorBody ConnectionGuard::Shared::errorBodyFor(QByteArrayView path) const
{
    for (const auto &[prefix, body] : errorBodies) {
        if (path.startsWith(prefix) || path == QByteArrayView(prefix).chopped(1))
            return body;
    }
    return nullptr;
}

void ConnectionGuard::refuse(int status, const QByteArray &reason, const QString &code,
                             const QString &message, const QByteArray &extraLines)
{
    ++m_shared->refused;
    qCDebug(lcHttp) << "refusing a request from" << m_socket->peerAddress().toString() << "with" << status
                    << code;
    m_phase = Phase::Closing;
    stopServerReading();
    discardInput();
    const HttpReply::ErrorBody shape = m_shared->errorBodyFor(m_framer.path());
    const QByteArray body =
        QJsonDocument(shape ? shape(status, code, message) : HttpReply::errorBody(code, message))
            .toJson(QJsonDocument::Compact);
    m_socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                    "\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store"
                    "\r\nConnection: close\r\n" +
                    extraLines + Cors::lines(m_shared->cors.headers(m_framer.origin())) +
                    "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    m_socket->flush();
    // Closing now, with the client's bytes still coming, would reset the connection and could
    // destroy the answer before the client reads it: read and drop for a moment first.
    m_timer.start(qMax(1, m_shared->limits.lingerMs), this);
}

void ConnectionGuard::rearm()
{
    if (m_phase != Phase::Open)
        return;
    if (m_framer.inRequest() || !m_answeredAny)
        m_timer.start(int(qMax<qint64>(1, m_requestDeadline.remainingTime())), this);
    else
        m_timer.start(qMax(1, m_shared->limits.idleTimeoutMs), this);
}

void ConnectionGuard::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId())
        return QObject::timerEvent(event);
    m_timer.stop();
    switch (m_phase) {
    case Phase::Deferred:
        return;
    case Phase::Closing:
        if (!m_lingerDone) {
            m_lingerDone = true;
            m_socket->disconnectFromHost(); // once the answer is out
            m_timer.start(closeGraceMs, this);
        } else {
            m_socket->abort(); // the client reads nothing
        }
        return;
    case Phase::Open:
        break;
    }
    if (m_framer.inRequest()) {
        ++m_shared->timedOut;
        refuse(
            408, "Request Timeout", u"request_timeout"_s,
            u"The request did not arrive completely within %1 ms"_s.arg(m_shared->limits.requestTimeoutMs));
        return;
    }
    // A client that connected and said nothing, or a keep-alive connection left idle.
    if (m_answeredAny)
        ++m_shared->idleClosed;
    else
        ++m_shared->timedOut;
    m_phase = Phase::Closing;
    m_lingerDone = true;
    stopServerReading();
    m_socket->disconnectFromHost();
    m_timer.start(closeGraceMs, this);
}
