#pragma once

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

#include <functional>
#include <optional>

class ChatStream;
class FileNetworkFactory;

// What a request ended with. ok() for a 2xx answer; otherwise `code` is the server's stable
// error code (docs/api.md) or a client one: "network_error" (offline is then true when the
// server could not be reached at all), "timeout", "invalid_response".
struct ApiResult
{
    int status = 0;
    QJsonObject json;
    QByteArray body; // as received (an export, Markdown or JSON)
    QString code;
    QString message;
    bool offline = false;

    bool ok() const { return status >= 200 && status < 300 && code.isEmpty(); }
};

// Talks to one AgentDesk server (base URL + bearer token) per docs/api.md. Every call is
// asynchronous: the handler runs later on the GUI thread, and not at all when `context` is gone.
// It also watches reachability: a request that cannot reach the server turns `online` false,
// and a periodic GET /api/health brings it back.
class ApiClient : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool online READ isOnline NOTIFY onlineChanged)
    Q_PROPERTY(QString offlineReason READ offlineReason NOTIFY onlineChanged)

public:
    using Handler = std::function<void(const ApiResult &)>;

    explicit ApiClient(QObject *parent = nullptr);
    ~ApiClient() override;

    void setServer(const QUrl &baseUrl, const QString &token);
    QUrl baseUrl() const { return m_baseUrl; }
    bool hasToken() const { return !m_token.isEmpty(); }

    bool isOnline() const { return m_online; }
    QString offlineReason() const { return m_offlineReason; }

    // Health polling: every `onlineMs` while online, every `offlineMs` while not.
    void setHealthIntervals(int onlineMs, int offlineMs);
    void startHealthChecks();
    void checkHealthNow();
    void setRequestTimeout(int ms) { m_requestTimeoutMs = ms; }
    void setStallTimeout(int ms) { m_stallTimeoutMs = ms; }

    // Generic verbs; `path` starts with "/api/".
    void get(const QString &path, const QUrlQuery &query, QObject *context, Handler handler);
    void post(const QString &path, const QJsonObject &body, QObject *context, Handler handler);
    void put(const QString &path, const QJsonObject &body, QObject *context, Handler handler);
    void patch(const QString &path, const QJsonObject &body, QObject *context, Handler handler);
    void del(const QString &path, QObject *context, Handler handler);
    // A body sent as it is (a file to import), with a time-out of its own.
    void postBytes(const QString &path, const QUrlQuery &query, const QByteArray &body, QObject *context,
                   Handler handler, int timeoutMs);

    // docs/api.md, one by one.
    void listAgents(QObject *context, Handler handler);
    void createAgent(const QJsonObject &agent, QObject *context, Handler handler);
    void updateAgent(const QString &id, const QJsonObject &agent, QObject *context, Handler handler);
    void deleteAgent(const QString &id, QObject *context, Handler handler);
    // `origin`: "chat" (empty: the server's default), "api" or "all".
    void listSessions(const QString &agentId, const QString &query, const QString &origin, QObject *context,
                      Handler handler);
    void renameSession(const QString &id, const QString &title, QObject *context, Handler handler);
    void pinSession(const QString &id, bool pinned, QObject *context, Handler handler);
    void deleteSession(const QString &id, QObject *context, Handler handler);
    void listMessages(const QString &sessionId, QObject *context, Handler handler);
    // Makes the branch through `messageId` the one the session follows; answers its messages.
    void switchBranch(const QString &sessionId, const QString &messageId, QObject *context, Handler handler);
    void forkSession(const QString &sessionId, const QString &messageId, const QString &title,
                     QObject *context, Handler handler);
    void cancel(const QString &sessionId, QObject *context, Handler handler);
    void cancelReply(const QString &replyId, QObject *context, Handler handler);
    void listProviders(QObject *context, Handler handler);
    void putProvider(const QString &name, const QJsonObject &provider, QObject *context, Handler handler);
    void deleteProvider(const QString &name, QObject *context, Handler handler);
    void testProvider(const QString &name, QObject *context, Handler handler);
    void listMcpServers(QObject *context, Handler handler);
    void putMcpServer(const QString &name, const QJsonObject &server, QObject *context, Handler handler);
    void deleteMcpServer(const QString &name, QObject *context, Handler handler);
    // decision: "allow", "deny" or "always".
    void decideToolCall(const QString &replyId, const QString &toolCallId, const QString &decision,
                        QObject *context, Handler handler);
    // A server path (a tool's image, `/api/files/{id}`) as a URL a QML Image can load; the
    // engine's FileNetworkFactory, kept on this server and token, adds the Authorization.
    QUrl fileUrl(const QString &path) const;
    void setFileNetworkFactory(FileNetworkFactory *factory);
    void health(QObject *context, Handler handler);

    // Uploads a file (POST /api/files): `mediaType` as the client believes it (the server reads
    // the bytes). The answer's JSON is the file (docs/api.md).
    void uploadFile(const QByteArray &bytes, const QString &name, const QString &mediaType, QObject *context,
                    Handler handler);
    // The models a provider offers (GET /api/providers/{name}/models).
    void providerModels(const QString &provider, QObject *context, Handler handler);
    // A chat's own model ("" for its agent's again).
    void setSessionModel(const QString &sessionId, const QString &model, QObject *context, Handler handler);

    // What a new turn carries beyond its words.
    struct TurnOptions
    {
        QStringList attachments;      // file ids
        std::optional<QString> model; // the chat's model from now on (nullopt: unchanged)
    };
    // Starts a streamed reply. The stream belongs to the caller (parented to `parent`). The same
    // `idempotencyKey` again attaches to the reply the first request started instead.
    ChatStream *chatStream(const QString &agentId, const QString &message, const QString &sessionId,
                           const QString &idempotencyKey, QObject *parent, const TurnOptions &options = {});
    // A new version of a turn, streamed like a chat: another answer to the user message
    // `messageId` (text empty), or `text` in that message's place and the answer to it.
    ChatStream *versionStream(const QString &messageId, const QString &text, const QString &idempotencyKey,
                              QObject *parent);
    // Follows a reply again after a dropped connection: the events after `lastEventId`.
    ChatStream *replyStream(const QString &replyId, const QByteArray &lastEventId, QObject *parent);

    static bool isUnreachableError(int networkError);

Q_SIGNALS:
    void onlineChanged();
    void reconnected();
    void unauthorized(); // a 401: the token is missing, unknown or revoked

public Q_SLOTS:
    // Marks the server unreachable (e.g. a stream failed to connect) and polls health faster.
    void markOffline(const QString &reason);

private:
    QNetworkRequest request(const QString &path, const QUrlQuery &query = {}) const;
    void send(const QByteArray &verb, const QString &path, const QUrlQuery &query, const QByteArray &body,
              QObject *context, Handler handler, int timeoutMs = -1);
    // Reads `reply`'s answer into an ApiResult for `handler` (errors, offline, 401).
    void sendRequest(QNetworkReply *reply, const QByteArray &verb, const QString &path, QObject *context,
                     Handler handler);
    void setOnline(bool online, const QString &reason = {});
    ChatStream *watch(QNetworkReply *reply, QObject *parent);
    void scheduleHealth();

    QNetworkAccessManager m_nam;
    QNetworkAccessManager m_healthNam; // its own connection, so health is not queued behind a stream
    QUrl m_baseUrl;
    QString m_token;
    FileNetworkFactory *m_files = nullptr;
    bool m_online = true;
    QString m_offlineReason;
    QTimer m_healthTimer;
    bool m_healthRunning = false;
    bool m_healthInFlight = false;
    int m_healthOnlineMs = 10000;
    int m_healthOfflineMs = 2000;
    int m_requestTimeoutMs = 15000;
    int m_stallTimeoutMs = 90000;
};
