#pragma once

// The window's start-up together with the backend, for app/main.cpp only: desktopapp.h pulls
// this in where AGENTDESK_HAVE_GUI is defined (the app target), so the agentdesk_client library
// itself never depends on backend/.

#include "desktopapp.h"
#include "logging.h"
#include "server/server.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QUrl>

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
        DesktopApp desktop;
        if (!desktop.start(url, token, false))
            return 1;
        return QCoreApplication::exec();
    }

    // In-process mode: the backend on 127.0.0.1 (a free port unless --port), and a token for
    // the local desktop user.
    Server server;
    if (!server.start(options)) {
        qCCritical(lcClient).noquote() << server.errorString();
        return 1;
    }
    QString user = qEnvironmentVariable("USER");
    if (user.isEmpty())
        user = u"desktop"_s;
    const std::optional<QString> token = server.createToken(u"local"_s, user, u"desktop window"_s);
    if (!token) {
        qCCritical(lcClient) << "could not create a token for the desktop user";
        return 1;
    }
    int code = 1;
    {
        DesktopApp desktop;
        if (desktop.start(server.url(), *token, true))
            code = QCoreApplication::exec();
    }
    server.stop();
    // The window's token lives as long as the window; a fresh one is made at the next start.
    server.revokeToken(*token);
    return code;
}
