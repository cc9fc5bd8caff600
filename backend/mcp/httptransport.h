#pragma once

#include "mcptransport.h"

#include <QHash>
#include <QList>
#include <QNetworkRequest>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;
class QNetworkReply;
class SseParser;

// MCP's Streamable HTTP transport: every message a POST to the server's URL that accepts a JSON
// or an SSE answer, the `Mcp-Session-Id` the server hands out sent back on each request, and a
// GET stream for what the server sends on its own (tools/list_changed). A request whose POST
// fails gets a JSON-RPC error answer from here, so the client sees every request answered.
class HttpTransport : public McpTransport
{
    Q_OBJECT
public:
    HttpTransport(const QString &serverName, const QUrl &url, const QList<QPair<QByteArray, QByteArray>> &headers,
                  QNetworkAccessManager *network, QObject *parent = nullptr);
    ~HttpTransport() override;

    void open() override;
    void send(const QJsonObject &message) override;
    void close() override;
    void setNegotiated(const QString &protocolVersion) override;

    QByteArray sessionId() const { return m_sessionId; }

private:
    QNetworkRequest request(bool stream) const;
    void onReplyFinished(QNetworkReply *reply, const QJsonValue &requestId);
    void readEvents(QNetworkReply *reply);
    void deliver(const QByteArray &json);
    void answerWithError(const QJsonValue &requestId, const QString &message);
    void openListener();

    QString m_name;
    QUrl m_url;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QPointer<QNetworkAccessManager> m_network;
    QByteArray m_sessionId;
    QByteArray m_protocolVersion;
    QList<QPointer<QNetworkReply>> m_inFlight;
    QHash<QNetworkReply *, std::shared_ptr<SseParser>> m_parsers; // of the answers that stream
    QPointer<QNetworkReply> m_listener;
    QTimer m_relisten;
    bool m_listen = false; // the server offers a GET stream (not 405)
    bool m_closed = false;
};
