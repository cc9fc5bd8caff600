#pragma once

#include <QCoreApplication>
#include <QString>

// The server's error texts in the window's language. The server writes English for every API
// client; the window recognizes its sentences (chatturn.cpp, providerresolver.cpp) and says them
// with tr(), keeping what they name (provider, URL, HTTP status, the upstream's own words).
// In English each comes back exactly as the server wrote it; anything else comes back as it was.
class ServerText
{
    Q_DECLARE_TR_FUNCTIONS(ServerText)

public:
    static QString localized(const QString &text);
};
