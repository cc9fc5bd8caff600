#pragma once

#include "entities.h"

#include <QList>
#include <optional>

class Database;

// The MCP servers configured per tenant. Secret values (env, headers) are not here: see
// McpServerRow and the SecretStore.
class McpServerStore
{
public:
    explicit McpServerStore(Database &db) : m_db(db) {}

    QList<McpServerRow> list(const QString &tenantId);
    QList<McpServerRow> all(); // every tenant's, for start-up
    std::optional<McpServerRow> byName(const QString &tenantId, const QString &name);
    bool upsert(McpServerRow &row); // by (tenant, name); fills id and times
    bool remove(const QString &tenantId, const QString &name);

    static QString encodeList(const QStringList &list);
    static QStringList decodeList(const QString &json);

private:
    QList<McpServerRow> select(const QString &where, const QVariantList &values);

    Database &m_db;
};
