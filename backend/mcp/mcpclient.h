#pragma once

#include "chat/toolhost.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QProcessEnvironment>
#include <QTimer>
#include <QUrl>

class McpTransport;
class QNetworkAccessManager;
class QProcess;

// One MCP server, spoken to over a transport: the initialize handshake (protocol version
// negotiated), the tool list (paginated, fetched again on notifications/tools/list_changed),
// tools/call with a progress token, notifications/progress and notifications/cancelled, and a
// time-out per call that progress pushes back. When the connection dies it is opened again
// with back-off; calls in flight then end with an error result.
class McpClient : public QObject
{
    Q_OBJECT
public:
    enum class Status { Stopped, Connecting, Connected, Error };

    struct Config
    {
        QString name;
        QString transport; // "stdio" | "http"
        QString command;
        QStringList args;
        QHash<QString, QString> env; // on top of the server's own environment
        QUrl url;
        QList<QPair<QByteArray, QByteArray>> headers;
        int timeoutMs = 120000; // per call, without progress
    };

    static const QStringList &supportedProtocolVersions(); // newest first; the first is asked for

    McpClient(const Config &config, QNetworkAccessManager *network, QObject *parent = nullptr);
    ~McpClient() override;

    void start();
    // Closes the connection (stdin, SIGTERM, SIGKILL for a process) and fails what runs;
    // `stopped` follows once it is closed.
    void stop();
    // For shutdown, when there is no event loop left to wait in: the server's process, if any.
    QProcess *process() const;

    const Config &config() const { return m_config; }
    Status status() const { return m_status; }
    QString statusName() const;
    QString error() const { return m_error; }
    QString protocolVersion() const { return m_protocolVersion; }
    QString serverName() const { return m_serverInfoName; }
    const QList<ToolInfo> &tools() const { return m_tools; }

    ToolCallJob *callTool(const QString &tool, const QJsonObject &arguments, QObject *parent);

    // Restart back-off: 1 s, 2 s, 4 s ... at most this.
    static constexpr int maxBackoffMs = 60000;
    static constexpr int handshakeTimeoutMs = 30000;

Q_SIGNALS:
    void statusChanged();
    void toolsChanged();
    void stopped();

private:
    class Call;
    friend class Call;
    using Handler = std::function<void(const QJsonObject &response)>;

    void openTransport();
    void onOpened();
    void onMessage(const QJsonObject &message);
    void onFailed(const QString &error);
    void request(const QString &method, const QJsonObject &params, Handler handler, int timeoutMs,
                 qint64 *id = nullptr);
    void notify(const QString &method, const QJsonObject &params);
    void listTools(const QString &cursor, QList<ToolInfo> collected);
    void setStatus(Status status, const QString &error = {});
    void failAll(const QString &error);
    void onRequestTimeout(qint64 id);

    struct Pending
    {
        QString method;
        Handler handler;
        QTimer *timer = nullptr;
    };

    Config m_config;
    QPointer<QNetworkAccessManager> m_network;
    McpTransport *m_transport = nullptr;
    Status m_status = Status::Stopped;
    QString m_error;
    QString m_protocolVersion;
    QString m_serverInfoName;
    QList<ToolInfo> m_tools;
    QHash<qint64, Pending> m_pending;
    QHash<QString, QPointer<Call>> m_calls; // by progress token
    qint64 m_nextId = 1;
    QTimer m_restart;
    int m_failures = 0;
    bool m_wanted = false; // started and not stopped
    bool m_listAgain = false;
};
