#pragma once

// The window's start-up together with the backend, for app/main.cpp only: desktopapp.h pulls
// this in where AGENTDESK_HAVE_GUI is defined (the app target), so the agentdesk_client library
// itself never depends on backend/.

#include "desktopapp.h"
#include "keychainsecretstore.h"
#include "keychainstore.h"
#include "logging.h"
#include "server/server.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QStandardPaths>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <optional>

// With --data-dir, everything the window keeps goes there too (its cache, and the file its secrets
// fall back to without a keychain); without it, the user's data and config directories.
inline DesktopApp::Options windowOptions(const QCommandLineParser &parser, const QString &dataDir)
{
    using namespace Qt::StringLiterals;
    DesktopApp::Options options;
    if (parser.isSet(u"data-dir"_s)) {
        options.cachePath = QDir(dataDir).filePath(u"client-cache.db"_s);
        // Not secrets.json: that is the backend's older key file, which moves into the keychain.
        options.secretsFile = QDir(dataDir).filePath(u"window-secrets.json"_s);
    }
    return options;
}

template<typename ServerOptions>
int DesktopApp::run(const QCommandLineParser &parser, const ServerOptions &options)
{
    using namespace Qt::StringLiterals;
    prepareApplication();

    // Remote mode: a window on another machine's server. The token: --token, else
    // AGENTDESK_TOKEN, else the one saved in the keychain by an earlier run (DesktopApp::start).
    const QString remote = parser.value(u"server"_s);
    if (!remote.isEmpty()) {
        const QUrl url = QUrl::fromUserInput(remote);
        if (!url.isValid() || url.host().isEmpty()) {
            qCCritical(lcClient).noquote() << "--server needs a URL such as http://host:8080, got" << remote;
            return 2;
        }
        QString token = parser.value(u"token"_s);
        if (token.isEmpty())
            token = qEnvironmentVariable("AGENTDESK_TOKEN");
        DesktopApp desktop(windowOptions(parser, options.dataDir));
        if (!desktop.start(url, token, false))
            return 1;
        return QCoreApplication::exec();
    }

    // In-process mode: the backend on 127.0.0.1 (a free port unless --port), and a token for
    // the local desktop user. Its provider API keys live in the keychain, through the window's
    // KeychainStore (whose Settings notice says when there is none and a 0600 file is used);
    // keys an older version left in <data dir>/secrets.json move there. The backend starts once
    // the keys are loaded, from the event loop: nothing waits, and no request goes out without
    // its key.
    const DesktopApp::Options ownFiles = windowOptions(parser, options.dataDir);
    KeychainStore keychain(u"AgentDesk"_s, ownFiles.secretsFile.isEmpty()
                                               ? KeychainStore::defaultFallbackPath()
                                               : ownFiles.secretsFile);
    const QString dataDir = options.dataDir.isEmpty()
                                ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                                : options.dataDir;
    KeychainSecretStore secrets(&keychain, options.secretsPath.isEmpty()
                                               ? QDir(dataDir).filePath(u"secrets.json"_s)
                                               : options.secretsPath);
    Server server;
    server.setSecretStore(&secrets);
    std::optional<QString> token;
    std::unique_ptr<DesktopApp> desktop;
    QObject::connect(
        &secrets, &KeychainSecretStore::ready, &server,
        [&] {
            if (!server.start(options)) {
                qCCritical(lcClient).noquote() << server.errorString();
                QCoreApplication::exit(1);
                return;
            }
            QString user = qEnvironmentVariable("USER");
            if (user.isEmpty())
                user = u"desktop"_s;
            token =
                server.createToken(u"local"_s, user, u"desktop window"_s, true); // the desktop user is admin
            if (!token) {
                qCCritical(lcClient) << "could not create a token for the desktop user";
                QCoreApplication::exit(1);
                return;
            }
            DesktopApp::Options desktopOptions = ownFiles;
            desktopOptions.secrets = &keychain;
            desktop = std::make_unique<DesktopApp>(desktopOptions);
            if (!desktop->start(server.url(), *token, true))
                QCoreApplication::exit(1);
        },
        Qt::SingleShotConnection);
    secrets.start(); // ready() comes from the event loop, so exit() above ends the exec() below
    const int code = QCoreApplication::exec();
    desktop.reset();
    server.stop();
    // The window's token lives as long as the window; a fresh one is made at the next start.
    if (token)
        server.revokeToken(*token);
    // A key saved just before quitting may still be on its way to the keychain: the event loop
    // has ended, so give those jobs a few seconds of their own to land.
    if (secrets.hasPendingWrites()) {
        QEventLoop flush;
        QObject::connect(&secrets, &KeychainSecretStore::writesFinished, &flush, &QEventLoop::quit);
        QTimer::singleShot(5000, &flush, &QEventLoop::quit);
        flush.exec();
    }
    return code;
}
