#include "authstore.h"

#include "core/logging.h"
#include "database.h"
#include "statement.h"
#include "storageutil.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

#include <array>

using namespace Qt::StringLiterals;
using namespace StorageUtil;

namespace {

const auto tokenScheme = "adk_"_L1;
constexpr qsizetype tokenLength = 4 + 43; // "adk_" + 32 bytes in unpadded base64url
constexpr qsizetype prefixLength = 8;
constexpr qint64 lastUsedResolutionMs = 60 * 1000;

QString generateToken()
{
    std::array<quint32, 8> words;
    QRandomGenerator::system()->fillRange(words.data(), qsizetype(words.size()));
    const QByteArray bytes(reinterpret_cast<const char *>(words.data()), qsizetype(sizeof(words)));
    return tokenScheme + QString::fromLatin1(
                             bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

bool looksLikeToken(const QString &text)
{
    return text.size() == tokenLength && text.startsWith(tokenScheme);
}

} // namespace

QByteArray AuthStore::hashToken(const QString &token)
{
    return QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256).toHex();
}

std::optional<Tenant> AuthStore::tenantByName(const QString &name)
{
    Statement q(m_db, u"SELECT id, name, created_at FROM tenants WHERE name = ?"_s);
    q.bind(name);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return Tenant{q.value(0).toString(), q.value(1).toString(), fromMs(q.value(2))};
}

std::optional<Tenant> AuthStore::ensureTenant(const QString &name)
{
    if (name.trimmed().isEmpty())
        return std::nullopt;
    if (auto tenant = tenantByName(name))
        return tenant;
    const Tenant tenant{newId(), name, fromMs(nowMs())};
    {
        Statement q(m_db, u"INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)"_s);
        q.bind(tenant.id).bind(tenant.name).bind(tenant.createdAt.toMSecsSinceEpoch());
        if (q.exec())
            return tenant;
    }
    // Another process may have created it in between; the UNIQUE name decides.
    return tenantByName(name);
}

std::optional<User> AuthStore::ensureUser(const QString &tenantId, const QString &name)
{
    if (tenantId.isEmpty() || name.trimmed().isEmpty())
        return std::nullopt;
    const auto find = [&]() -> std::optional<User> {
        Statement q(m_db, u"SELECT id, created_at FROM users WHERE tenant_id = ? AND name = ?"_s);
        q.bind(tenantId).bind(name);
        if (!q.exec() || !q.next())
            return std::nullopt;
        return User{q.value(0).toString(), tenantId, name, fromMs(q.value(1))};
    };
    if (auto user = find())
        return user;
    const User user{newId(), tenantId, name, fromMs(nowMs())};
    {
        Statement q(m_db, u"INSERT INTO users (id, tenant_id, name, created_at) VALUES (?, ?, ?, ?)"_s);
        q.bind(user.id).bind(tenantId).bind(name).bind(user.createdAt.toMSecsSinceEpoch());
        if (q.exec())
            return user;
    }
    return find();
}

std::optional<AuthStore::NewToken> AuthStore::createToken(const QString &tenantName, const QString &userName,
                                                          const QString &label, bool admin)
{
    Transaction tx(m_db);
    if (!tx.isActive())
        return std::nullopt;
    const auto tenant = ensureTenant(tenantName);
    if (!tenant)
        return std::nullopt;
    const auto user = ensureUser(tenant->id, userName);
    if (!user)
        return std::nullopt;

    NewToken result;
    result.token = generateToken();
    result.info.id = newId();
    result.info.tenantName = tenant->name;
    result.info.userName = user->name;
    result.info.prefix = result.token.mid(tokenScheme.size(), prefixLength);
    result.info.label = label;
    result.info.admin = admin;
    result.info.createdAt = fromMs(nowMs());
    {
        Statement q(m_db,
                    u"INSERT INTO api_tokens (id, tenant_id, user_id, token_hash, prefix, label, created_at, is_admin)"
                    u" VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
        q.bind(result.info.id)
            .bind(tenant->id)
            .bind(user->id)
            .bind(QString::fromLatin1(hashToken(result.token)))
            .bind(result.info.prefix)
            .bind(label)
            .bind(result.info.createdAt.toMSecsSinceEpoch())
            .bind(admin);
        if (!q.exec())
            return std::nullopt;
    }
    if (!tx.commit())
        return std::nullopt;
    qCInfo(lcStorage).noquote() << "created API token" << result.info.prefix << "for" << userName << "in"
                                << tenantName;
    return result;
}

QList<ApiTokenInfo> AuthStore::listTokens(const QString &tenantName)
{
    static const QString base =
        u"SELECT t.id, n.name, u.name, t.prefix, t.label, t.created_at, t.last_used_at, t.revoked_at, t.is_admin"
        u" FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN tenants n ON n.id = t.tenant_id"_s;
    Statement q(m_db, tenantName.isEmpty() ? base + u" ORDER BY n.name, t.created_at, t.id"_s
                                           : base + u" WHERE n.name = ? ORDER BY t.created_at, t.id"_s);
    if (!tenantName.isEmpty())
        q.bind(tenantName);
    QList<ApiTokenInfo> tokens;
    if (!q.exec())
        return tokens;
    while (q.next()) {
        ApiTokenInfo info;
        info.id = q.value(0).toString();
        info.tenantName = q.value(1).toString();
        info.userName = q.value(2).toString();
        info.prefix = q.value(3).toString();
        info.label = q.value(4).toString();
        info.createdAt = fromMs(q.value(5));
        info.lastUsedAt = optionalFromMs(q.value(6));
        info.revokedAt = optionalFromMs(q.value(7));
        info.admin = q.value(8).toInt() != 0;
        tokens.append(info);
    }
    return tokens;
}

bool AuthStore::revokeToken(const QString &idOrPrefix)
{
    const QString key = idOrPrefix.trimmed();
    if (key.isEmpty())
        return false;
    const qint64 now = nowMs();
    const auto revokeWhere = [&](const QString &column, const QString &value) {
        Statement q(
            m_db, u"UPDATE api_tokens SET revoked_at = ? WHERE %1 = ? AND revoked_at IS NULL"_s.arg(column));
        q.bind(now).bind(value);
        return q.exec() && q.rowsAffected() == 1;
    };
    if (revokeWhere(u"id"_s, key))
        return true;
    // The whole token works too: someone holding it may revoke it.
    if (looksLikeToken(key))
        return revokeWhere(u"token_hash"_s, QString::fromLatin1(hashToken(key)));

    // A prefix as listed, with or without the "adk_" in front. Compared with SUBSTR, not LIKE:
    // tokens are case-sensitive and SQLite's LIKE is not.
    const QString prefix = key.startsWith(tokenScheme) ? key.mid(tokenScheme.size()) : key;
    if (prefix.size() < 4 || prefix.size() > prefixLength)
        return false;
    QStringList ids;
    {
        Statement q(m_db,
                    u"SELECT id FROM api_tokens WHERE SUBSTR(prefix, 1, ?) = ? AND revoked_at IS NULL"_s);
        q.bind(int(prefix.size())).bind(prefix);
        if (!q.exec())
            return false;
        while (q.next() && ids.size() < 2)
            ids.append(q.value(0).toString());
    }
    if (ids.size() != 1) {
        if (ids.size() > 1)
            qCWarning(lcStorage).noquote() << "token prefix" << prefix << "is ambiguous; nothing revoked";
        return false;
    }
    return revokeWhere(u"id"_s, ids.constFirst());
}

std::optional<Principal> AuthStore::authenticate(const QString &token)
{
    if (!looksLikeToken(token))
        return std::nullopt;
    Principal principal;
    std::optional<qint64> lastUsed;
    {
        Statement q(
            m_db, u"SELECT t.id, t.user_id, t.tenant_id, u.name, n.name, t.last_used_at, t.is_admin"
                  u" FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN tenants n ON n.id = t.tenant_id"
                  u" WHERE t.token_hash = ? AND t.revoked_at IS NULL"_s);
        q.bind(QString::fromLatin1(hashToken(token)));
        if (!q.exec() || !q.next())
            return std::nullopt;
        principal.tokenId = q.value(0).toString();
        principal.userId = q.value(1).toString();
        principal.tenantId = q.value(2).toString();
        principal.userName = q.value(3).toString();
        principal.tenantName = q.value(4).toString();
        if (!q.value(5).isNull())
            lastUsed = q.value(5).toLongLong();
        principal.admin = q.value(6).toInt() != 0;
    }
    // A write per request would serialise all readers behind the writer: once a minute is
    // enough to tell a live token from a forgotten one.
    const qint64 now = nowMs();
    if (!lastUsed || now - *lastUsed >= lastUsedResolutionMs) {
        Statement q(m_db, u"UPDATE api_tokens SET last_used_at = ? WHERE id = ?"_s);
        q.bind(now).bind(principal.tokenId);
        q.exec(); // best effort: failing to record use must not fail the request
    }
    return principal;
}
