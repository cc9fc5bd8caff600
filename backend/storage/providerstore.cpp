#include "providerstore.h"

#include "database.h"
#include "mcpserverstore.h"
#include "statement.h"
#include "storageutil.h"

using namespace Qt::StringLiterals;
using namespace StorageUtil;

namespace {

const QString columns =
    u"id, tenant_id, name, kind, base_url, model, connect_timeout_ms, stall_timeout_ms, is_default, vision,"
    u" allowed_models"_s;

ProviderRow readProvider(const Statement &q)
{
    ProviderRow row;
    row.id = q.value(0).toString();
    row.tenantId = q.value(1).toString();
    row.name = q.value(2).toString();
    row.kind = q.value(3).toString();
    row.baseUrl = q.value(4).toString();
    row.model = q.value(5).toString();
    row.connectTimeoutMs = q.value(6).toInt();
    row.stallTimeoutMs = q.value(7).toInt();
    row.isDefault = q.value(8).toInt() != 0;
    row.vision = q.value(9).toString();
    row.allowedModels = McpServerStore::decodeList(q.value(10).toString());
    return row;
}

} // namespace

QList<ProviderRow> ProviderStore::list(const QString &tenantId)
{
    Statement q(m_db, u"SELECT "_s + columns + u" FROM providers WHERE tenant_id = ? ORDER BY name"_s);
    q.bind(tenantId);
    QList<ProviderRow> rows;
    if (!q.exec())
        return rows;
    while (q.next())
        rows.append(readProvider(q));
    return rows;
}

std::optional<ProviderRow> ProviderStore::byName(const QString &tenantId, const QString &name)
{
    Statement q(m_db, u"SELECT "_s + columns + u" FROM providers WHERE tenant_id = ? AND name = ?"_s);
    q.bind(tenantId).bind(name);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return readProvider(q);
}

std::optional<ProviderRow> ProviderStore::defaultProvider(const QString &tenantId)
{
    // The one marked default, else the first one added: adding another provider never changes
    // which one the agents without a provider of their own use.
    Statement q(
        m_db,
        u"SELECT "_s + columns +
            u" FROM providers WHERE tenant_id = ? ORDER BY is_default DESC, created_at, name LIMIT 1"_s);
    q.bind(tenantId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return readProvider(q);
}

bool ProviderStore::upsert(ProviderRow &row)
{
    if (row.tenantId.isEmpty() || row.name.trimmed().isEmpty())
        return false;
    Transaction tx(m_db);
    if (!tx.isActive())
        return false;
    const qint64 now = nowMs();
    if (row.isDefault) {
        Statement q(m_db, u"UPDATE providers SET is_default = 0, updated_at = ?"
                          u" WHERE tenant_id = ? AND name <> ? AND is_default <> 0"_s);
        q.bind(now).bind(row.tenantId).bind(row.name);
        if (!q.exec())
            return false;
    }
    QString id;
    {
        Statement q(m_db, u"SELECT id FROM providers WHERE tenant_id = ? AND name = ?"_s);
        q.bind(row.tenantId).bind(row.name);
        if (!q.exec())
            return false;
        if (q.next())
            id = q.value(0).toString();
    }
    if (id.isEmpty()) {
        // A tenant's first provider is its default, marked so, as every client then shows it.
        Statement any(m_db, u"SELECT COUNT(*) FROM providers WHERE tenant_id = ? AND is_default <> 0"_s);
        any.bind(row.tenantId);
        if (!any.exec() || !any.next())
            return false;
        if (any.value(0).toInt() == 0)
            row.isDefault = true;
        any.finish();
        id = row.id.isEmpty() ? newId() : row.id;
        Statement q(m_db, u"INSERT INTO providers ("_s + columns +
                              u", created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
        q.bind(id)
            .bind(row.tenantId)
            .bind(row.name)
            .bind(row.kind)
            .bind(row.baseUrl)
            .bind(row.model)
            .bind(row.connectTimeoutMs)
            .bind(row.stallTimeoutMs)
            .bind(row.isDefault)
            .bind(row.vision)
            .bind(McpServerStore::encodeList(row.allowedModels))
            .bind(now)
            .bind(now);
        if (!q.exec())
            return false;
    } else {
        Statement q(m_db,
                    u"UPDATE providers SET kind = ?, base_url = ?, model = ?, connect_timeout_ms = ?,"
                    u" stall_timeout_ms = ?, is_default = ?, vision = ?, allowed_models = ?, updated_at = ?"
                    u" WHERE id = ? AND tenant_id = ?"_s);
        q.bind(row.kind)
            .bind(row.baseUrl)
            .bind(row.model)
            .bind(row.connectTimeoutMs)
            .bind(row.stallTimeoutMs)
            .bind(row.isDefault)
            .bind(row.vision)
            .bind(McpServerStore::encodeList(row.allowedModels))
            .bind(now)
            .bind(id)
            .bind(row.tenantId);
        if (!q.exec())
            return false;
    }
    if (!tx.commit())
        return false;
    row.id = id;
    return true;
}

bool ProviderStore::remove(const QString &tenantId, const QString &name)
{
    Statement q(m_db, u"DELETE FROM providers WHERE tenant_id = ? AND name = ?"_s);
    q.bind(tenantId).bind(name);
    return q.exec() && q.rowsAffected() == 1;
}
