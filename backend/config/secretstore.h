#pragma once

#include <QString>

// Where API keys live: never in the database, never in logs. The headless server uses a 0600
// file; the desktop app plugs in its keychain-backed store.
class SecretStore
{
public:
    virtual ~SecretStore() = default;
    virtual QString read(const QString &key) const = 0;
    virtual bool write(const QString &key, const QString &value) = 0;
    virtual bool remove(const QString &key) = 0;
};
