#pragma once

#include "entities.h"

#include <QList>
#include <optional>

class Database;

// Tenants, users and API tokens. Tokens are stored as SHA-256 hashes; the clear token exists
// only in the return value of createToken().
class AuthStore
{
public:
    explicit AuthStore(Database &db) : m_db(db) {}

    struct NewToken
    {
        QString token; // "adk_" + 43 url-safe base64 characters (32 random bytes)
        ApiTokenInfo info;
    };

    std::optional<Tenant> ensureTenant(const QString &name);
    std::optional<Tenant> tenantByName(const QString &name);
    std::optional<User> ensureUser(const QString &tenantId, const QString &name);

    // Creates tenant and user when missing. An admin token may also configure the tenant's
    // providers and MCP servers.
    std::optional<NewToken> createToken(const QString &tenantName, const QString &userName,
                                        const QString &label = {}, bool admin = false);
    QList<ApiTokenInfo> listTokens(const QString &tenantName = {});
    // By id or by the token's prefix; true when exactly one live token was revoked.
    bool revokeToken(const QString &idOrPrefix);
    // Nothing for unknown or revoked tokens. Updates last_used_at at most once a minute.
    std::optional<Principal> authenticate(const QString &token);

    static QByteArray hashToken(const QString &token);

private:
    Database &m_db;
};
