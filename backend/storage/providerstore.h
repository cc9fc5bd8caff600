#pragma once

#include "entities.h"

#include <QList>
#include <optional>

class Database;

// Configured upstream providers per tenant. API keys are not stored here (see SecretStore).
class ProviderStore
{
public:
    explicit ProviderStore(Database &db) : m_db(db) {}

    QList<ProviderRow> list(const QString &tenantId);
    std::optional<ProviderRow> byName(const QString &tenantId, const QString &name);
    std::optional<ProviderRow> defaultProvider(const QString &tenantId);
    bool upsert(ProviderRow &row); // by (tenant, name); setting isDefault clears the others
    bool remove(const QString &tenantId, const QString &name);

private:
    Database &m_db;
};
