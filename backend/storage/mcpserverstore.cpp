#include "mcpserverstore.h"

#include "database.h"
#include "statement.h"
#include "storageutil.h"

#include <QJsonArray>
#include <QJsonDocument>

using namespace Qt::StringLiterals;
using namespace StorageUtil;

namespace {
const QString columns = u"id, tenant_id, name, transport, command, args, url, env_names, header_names, timeout_ms,"
                        u" created_at, updated_at"_s;
}

QString McpServerStore::encodeList(const QStringList &list)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(list)).toJson(QJsonDocument::Compact));
}

QStringList McpServerStore::decodeList(const QString &json)
{
    QStringList list;
    const QJsonArray array = QJsonDocument::fromJson(json.toUtf8()).array();
    for (const QJsonValue &v : array)
        list.append(v.toString());
    return list;
}

QList<McpServerRow> McpServerStore::select(const QString &where, const QVariantList &values)
{
    Statement q(m_db, u"SELECT "_s + columns + u" FROM mcp_servers"_s + where + u" ORDER BY tenant_id, name"_s);
    for (const QVariant &value : values)
        q.bind(value);
    QList<McpServerRow> rows;
    if (!q.exec())
        return rows;
    while (q.next()) {
        McpServerRow row;
        row.id = q.value(0).toString();
        row.tenantId = q.value(1).toString();
        row.name = q.value(2).toString();
        row.transport = q.value(3).toString();
        row.command = q.value(4).toString();
        row.args = decodeList(q.value(5).toString());
        row.url = q.value(6).toString();
        row.envNames = decodeList(q.value(7).toString());
        row.headerNames = decodeList(q.value(8).toString());
        row.timeoutMs = q.value(9).toInt();
        row.createdAt = fromMs(q.value(10));
        row.updatedAt = fromMs(q.value(11));
        rows.append(row);
    }
    return rows;
}

QList<McpServerRow> McpServerStore::list(const QString &tenantId)
{
    return select(u" WHERE tenant_id = ?"_s, {tenantId});
}

QList<McpServerRow> McpServerStore::all()
{
    return select({}, {});
}

std::optional<McpServerRow> McpServerStore::byName(const QString &tenantId, const QString &name)
{
    const QList<McpServerRow> rows = select(u" WHERE tenant_id = ? AND name = ?"_s, {tenantId, name});
    if (rows.isEmpty())
        return std::nullopt;
    return rows.first();
}

bool McpServerStore::upsert(McpServerRow &row)
{
    if (row.tenantId.isEmpty() || row.name.isEmpty())
        return false;
    const qint64 now = nowMs();
    const auto existing = byName(row.tenantId, row.name);
    if (existing) {
        row.id = existing->id;
        row.createdAt = existing->createdAt;
        Statement q(m_db, u"UPDATE mcp_servers SET transport = ?, command = ?, args = ?, url = ?, env_names = ?,"
                          u" header_names = ?, timeout_ms = ?, updated_at = ? WHERE id = ?"_s);
        q.bind(row.transport)
            .bind(row.command)
            .bind(encodeList(row.args))
            .bind(row.url)
            .bind(encodeList(row.envNames))
            .bind(encodeList(row.headerNames))
            .bind(row.timeoutMs)
            .bind(now)
            .bind(row.id);
        if (!q.exec())
            return false;
    } else {
        row.id = newId();
        row.createdAt = fromMs(now);
        Statement q(m_db, u"INSERT INTO mcp_servers ("_s + columns + u") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
        q.bind(row.id)
            .bind(row.tenantId)
            .bind(row.name)
            .bind(row.transport)
            .bind(row.command)
            .bind(encodeList(row.args))
            .bind(row.url)
            .bind(encodeList(row.envNames))
            .bind(encodeList(row.headerNames))
            .bind(row.timeoutMs)
            .bind(now)
            .bind(now);
        if (!q.exec())
            return false;
    }
    row.updatedAt = fromMs(now);
    return true;
}

bool McpServerStore::remove(const QString &tenantId, const QString &name)
{
    Statement q(m_db, u"DELETE FROM mcp_servers WHERE tenant_id = ? AND name = ?"_s);
    q.bind(tenantId).bind(name);
    return q.exec() && q.rowsAffected() == 1;
}
