#pragma once

#include "cors.h"
#include "requestcontext.h"
#include "requestframer.h"

#include <QBasicTimer>
#include <QDeadlineTimer>
#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>

class QTcpSocket;

// Limits for one client connection to the API. Qt 6.4's QAbstractHttpServer has none: it reads a
// request line, header or body of any size into memory and waits for the rest forever.
struct ConnectionLimits
{
    qint64 maxHeaderBytes = 64 * 1024;            // request line + header fields; more answers 431
    qint64 maxBodyBytes = 1024 * 1024;            // declared or chunked body; more answers 413 at once
    qint64 maxImportBodyBytes = 64 * 1024 * 1024; // the same for POST /api/import
    qint64 maxUploadBodyBytes = 21 * 1024 * 1024; // and for POST /api/files
    int requestTimeoutMs = 30000;                 // a request must arrive whole within this (else 408)
    int idleTimeoutMs = 60000;                    // a keep-alive connection with nothing to do is closed
    int lingerMs = 1000; // after refusing, how long to read and drop what still comes
};

// Watches one connection for ApiServer: sees every byte before QAbstractHttpServer reads it, and
// refuses a request the moment it breaks a limit (431, 413, 400, 408), closes idle keep-alive
// connections, closes a connection after an answer when the client asked for that (HTTP/1.0,
// `Connection: close`), and stops reading requests while an answer that closes the connection is
// running (an SSE stream, a reply waiting for the upstream). A child of its socket.
class ConnectionGuard : public QObject
{
    Q_OBJECT
public:
    struct Shared
    {
        ConnectionLimits limits;
        Cors cors;              // for the refusals' headers
        int open = 0;           // guards alive (= connections open)
        qint64 refused = 0;     // requests refused for a limit or a time-out
        qint64 timedOut = 0;    // of those, request time-outs
        qint64 idleClosed = 0;  // keep-alive connections closed for idleness
        qint64 bytesFramed = 0; // request bytes the guards have followed, each counted once
        // Whether an `Authorization` header names a token that may send a large body (uploads,
        // imports): checked before the body is read, so that strangers cannot make the server
        // buffer megabytes. Unset: only that the header is there.
        std::function<bool(const QByteArray &authorization)> credentialsValid;
        // Paths whose errors are worded in another API's dialect (ApiServer::setErrorBody).
        QList<QPair<QByteArray, HttpReply::ErrorBody>> errorBodies;
        HttpReply::ErrorBody errorBodyFor(QByteArrayView path) const;
    };

    ConnectionGuard(QTcpSocket *socket, std::shared_ptr<Shared> shared);
    ~ConnectionGuard() override;

    static ConnectionGuard *of(QTcpSocket *socket);

    // Connects the slot that runs after the HTTP server's own readyRead handler. Call once the
    // server has connected its handler (ApiServer's QTcpServer does).
    void hookAfterServer();

    // A complete request reached ApiServer::handleRequest and was answered, or its responder was
    // taken to answer later (`deferred`).
    void requestAnswered(bool deferred);
    // The request being answered is HTTP/1.0 (which knows no chunked encoding).
    bool answeringHttp10() const { return m_framer.nextToAnswer().http10; }

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    enum class Phase { Open, Deferred, Closing };

    void beforeServerRead();
    void afterServerRead();
    void discardInput();
    void stopServerReading();
    void refuse(int status, const QByteArray &reason, const QString &code, const QString &message,
                const QByteArray &extraLines = {});
    // A head just read whole, its body still coming: a large body is refused without credentials,
    // and a client waiting for `100 Continue` gets it.
    void headRead();
    void rearm();

    QTcpSocket *m_socket;
    std::shared_ptr<Shared> m_shared;
    RequestFramer m_framer;
    Phase m_phase = Phase::Open;
    QBasicTimer m_timer;
    QDeadlineTimer m_requestDeadline;
    qint64 m_leftover = 0; // bytes the server left unread after its last readyRead
    bool m_hooked = false;
    bool m_answeredAny = false;
    bool m_lingerDone = false;
    qint64 m_headsSeen = 0;
};
