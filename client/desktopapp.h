#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <memory>

class ApiClient;
class FileNetworkFactory;
class QCommandLineParser;
class ChatController;
class TransferController;
class LocalCache;
class QQmlApplicationEngine;
class QQuickWindow;
class QTranslator;
class KeychainStore;
class SettingsController;

// The desktop window, ready to be started by app/main.cpp:
//
//     QGuiApplication app(argc, argv);
//     DesktopApp::prepareApplication();          // names, style, translations
//     DesktopApp desktop;
//     if (!desktop.start(serverUrl, token, inProcess)) return 1;
//     return app.exec();
//
// or, with the backend and the command line of app/main.cpp, `DesktopApp::run(parser, options)`
// (desktopentry.h) does all of that.
//
// In-process mode: `serverUrl` is the backend this process runs on 127.0.0.1 and `token` the
// local desktop user's. Remote mode: `serverUrl` is another machine's server; an empty `token`
// is looked up in the KeychainStore (saved there by an earlier run or from Settings), and a given
// one is saved there for next time. The local cache keys its data by server (all in-process
// runs share one key, since their port changes every start).
class DesktopApp : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QString cachePath;        // default: AppDataLocation/client-cache.db
        QString secretsFile;      // default: AppConfigLocation/secrets.json (keychain fallback)
        bool fileSecrets = false; // skip the keychain (tests)
        // A store shared with the in-process backend (not owned): the Settings page then tells
        // where the backend's API keys went. Null: the window makes its own.
        KeychainStore *secrets = nullptr;
        int healthOnlineMs = 10000;
        int healthOfflineMs = 2000;
        bool showWindow = true;
    };

    explicit DesktopApp(QObject *parent = nullptr);
    explicit DesktopApp(const Options &options, QObject *parent = nullptr);
    ~DesktopApp() override;

    // Application name, organisation, Qt Quick Controls style and translator (by system locale).
    // Call once after the QGuiApplication exists and before start().
    static void prepareApplication();

    bool start(const QUrl &serverUrl, const QString &token, bool inProcess);

    // The whole desktop start-up for app/main.cpp, after the QGuiApplication exists: with
    // --server URL a remote window (token from --token, AGENTDESK_TOKEN or the keychain),
    // otherwise the backend in-process (Server::Options from the command line) and a window on
    // it. Returns the exit code. Defined in desktopentry.h (needs backend/server).
    template<typename ServerOptions>
    static int run(const QCommandLineParser &parser, const ServerOptions &options);

    QQmlApplicationEngine *engine() const { return m_engine.get(); }
    QQuickWindow *window() const;
    ChatController *chat() const { return m_chat; }
    SettingsController *settings() const { return m_settings; }
    TransferController *transfer() const { return m_transfer; }
    ApiClient *api() const { return m_api; }
    KeychainStore *secrets() const { return m_secrets; }
    LocalCache *cache() const { return m_cache.get(); }
    // Every QML warning seen since start() (tests check there are none).
    QStringList qmlWarnings() const { return m_warnings; }

    static QString cacheKeyFor(const QUrl &serverUrl, bool inProcess);

Q_SIGNALS:
    void ready(); // the window is up

private:
    void startScreenshotDriver();

    Options m_options;
    std::unique_ptr<LocalCache> m_cache;
    ApiClient *m_api = nullptr;
    KeychainStore *m_secrets = nullptr;
    std::unique_ptr<KeychainStore> m_ownSecrets;
    ChatController *m_chat = nullptr;
    SettingsController *m_settings = nullptr;
    TransferController *m_transfer = nullptr;
    std::unique_ptr<FileNetworkFactory> m_files; // outlives the engine that uses it
    std::unique_ptr<QQmlApplicationEngine> m_engine;
    QStringList m_warnings;
};

#ifdef AGENTDESK_HAVE_GUI
#include "desktopentry.h"
#endif
