#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPair>
#include <QPointer>
#include <QUrl>

#include "eventloop/epolleventdispatcher.h"

class DirectNetworkAccessManager;
class QTcpSocket;

// One HTTP/1.1 exchange on a connection of a DirectNetworkAccessManager's pool, told to a Receiver
// by direct calls: the head once, the body (de-chunked) as it arrives, the end once. It keeps
// neither the head nor the body: a streamed completion needs neither once read, and a QNetworkReply
// would hold two 1.9 KiB hashes, its buffers and half a dozen signal connections for the life of
// every stream. DirectHttpReply wraps it for code that wants a QNetworkReply. No redirects,
// proxies, compression or cookies: the callers (LLM streaming APIs, MCP) need none of them. A
// kept-alive connection the server closed before answering (its idle timeout raced our request) is
// retried once on a fresh one, invisibly to the receiver. Under an EpollEventDispatcher, once the
// request is out, the exchange reads its socket itself, called by the dispatcher.
class HttpExchange : public QObject, private EpollEventDispatcher::Reader
{
    Q_OBJECT
public:
    struct Head
    {
        int status = 0;
        QByteArray reason;
        QList<QPair<QByteArray, QByteArray>> headers; // as received, in order
        // The header's value, repeated ones joined with ", " (names compare case-insensitively).
        QByteArray value(const char *name) const;
    };

    // Calls never come from the constructor; a receiver must not delete the exchange from one
    // (deleteLater() is fine).
    class Receiver
    {
    public:
        virtual void exchangeHead(const Head &head) = 0;
        // All the body bytes one read of the connection brought.
        virtual void exchangeBody(QByteArrayView bytes) = 0;
        // NoError after the whole body; otherwise what failed (OperationCanceledError after abort()).
        virtual void exchangeEnd(QNetworkReply::NetworkError error, const QString &message) = 0;

    protected:
        ~Receiver() = default;
    };

    // `manager` (may be null) lends and takes back kept-alive connections.
    HttpExchange(QNetworkAccessManager::Operation op, const QNetworkRequest &request, const QByteArray &body,
                 DirectNetworkAccessManager *manager, Receiver *receiver, QObject *parent);
    ~HttpExchange() override;

    bool isRunning() const { return !m_done; }
    // False once the peer looked like a Nagle sender (see onReadyRead()).
    bool delaysAcks() const { return m_delayAcks; }
    // Whether the dispatcher calls it to read (under an EpollEventDispatcher, once the request is out).
    bool readsDirectly() const { return m_direct; }
    // Closes the connection (the server sees it and stops) and ends with OperationCanceledError.
    void abort();
    // Closes the connection and tells the receiver nothing more.
    void cancel();

private:
    friend class DirectNetworkAccessManager;
    enum class Body { Head, Chunked, Trailers, Length, UntilClose, Done };

    void attach(QTcpSocket *socket);
    void connectFresh();
    bool retryOnFreshConnection();
    void onConnected();
    void onReadyRead();
    void socketReadable() override;
    void readSocket(int directFd);
    void readDirectly(bool on);
    void onDisconnected();
    void onSocketError();
    bool parseHead();
    // True when the read held several body pieces (chunks).
    bool decodeBody();
    void fail(QNetworkReply::NetworkError code, const QString &message);
    void complete();
    void closeSocket();

    QPointer<DirectNetworkAccessManager> m_manager;
    Receiver *m_receiver;
    QUrl m_url;
    QString m_key;
    QPointer<QTcpSocket> m_socket;
    QPointer<EpollEventDispatcher> m_direct; // set while it calls socketReadable()
    int m_directFd = -1;
    QByteArray m_request; // kept on a reused connection until the first response byte, for a retry
    QByteArray m_in;      // raw bytes not yet parsed
    QByteArray m_gather;  // the body pieces of one read, when it held several chunks
    Body m_body = Body::Head;
    qint64 m_remaining = 0;      // Length: body bytes to come; Chunked: bytes left in this chunk
    bool m_chunkDataEnd = false; // Chunked: the CRLF after a chunk's data is next
    bool m_reused = false;       // the connection came from the idle pool
    bool m_received = false;     // a response byte arrived on this connection
    bool m_keepAlive = false;    // HTTP/1.1 without Connection: close
    bool m_peerClosed = false;
    bool m_done = false;
    bool m_delayAcks = true; // until the peer looks like a Nagle sender
    int m_nagleSigns = 0;
    qint64 m_lastReadMs = 0;
};
