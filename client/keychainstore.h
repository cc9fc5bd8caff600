#pragma once

#include <QObject>
#include <QString>

#include <functional>

class QJsonObject;

// Secrets of the desktop client (provider API keys, a remote server's token). They go to the
// system keychain through QtKeychain; where there is none (a headless Linux session: the job
// fails with NoBackendAvailable or OtherError), the store says so (`backend`, `statusText`) and
// falls back to a file readable by the owner only (0600) in the app's config folder, never to
// QSettings. Every call is asynchronous; nothing waits on the GUI thread.
class KeychainStore : public QObject
{
    Q_OBJECT
    Q_PROPERTY(Backend backend READ backend NOTIFY backendChanged)
    Q_PROPERTY(QString statusText READ statusText NOTIFY backendChanged)

public:
    enum class Backend { Unknown, Keychain, File };
    Q_ENUM(Backend)

    using ReadHandler = std::function<void(bool found, const QString &value, const QString &error)>;
    using WriteHandler = std::function<void(bool ok, const QString &error)>;

    explicit KeychainStore(QObject *parent = nullptr);
    // `service` names the keychain entries; `fallbackPath` overrides the file (tests).
    KeychainStore(const QString &service, const QString &fallbackPath, QObject *parent = nullptr);

    Backend backend() const { return m_backend; }
    QString statusText() const;
    QString fallbackPath() const { return m_fallbackPath; }
    static QString defaultFallbackPath();

    // Skip the keychain (AGENTDESK_SECRETS=file does the same): tests and kiosk setups.
    void setForceFile(bool force);

    void read(const QString &key, QObject *context, ReadHandler handler);
    void write(const QString &key, const QString &value, QObject *context, WriteHandler handler = {});
    void remove(const QString &key, QObject *context, WriteHandler handler = {});

    // The file fallback itself (synchronous: a small local file).
    bool fileRead(const QString &key, QString *value) const;
    bool fileWrite(const QString &key, const QString &value, QString *error);
    bool fileRemove(const QString &key, QString *error);
    // That file's format (a JSON object, 0600), also read and cleaned by KeychainSecretStore
    // when it moves the keys of the backend's older secrets.json into the keychain.
    static QJsonObject loadFile(const QString &path);
    static bool saveFile(const QString &path, const QJsonObject &secrets, QString *error);

Q_SIGNALS:
    void backendChanged();

private:
    void useFile(const QString &why);
    bool useKeychain() const;

    QString m_service;
    QString m_fallbackPath;
    Backend m_backend = Backend::Unknown;
    QString m_keychainProblem;
    bool m_forceFile = false;
};
