#pragma once

#include "core/apierror.h"
#include "llm/llmtypes.h"
#include "storage/entities.h"

#include <optional>

class ProviderStore;
class SecretStore;

// Turns an agent's provider name into a ready ProviderConfig: the tenant's named provider,
// else its default, else the OpenAI SDK environment variables, else the built-in demo.
class ProviderResolver
{
public:
    ProviderResolver(ProviderStore &store, SecretStore *secrets, std::optional<ProviderConfig> environment);

    // An agent naming a provider that does not exist is an error, not a silent fallback.
    std::optional<ProviderConfig> resolve(const QString &tenantId, const QString &providerName,
                                          ApiError *error = nullptr) const;
    ProviderConfig fromRow(const ProviderRow &row) const;

    static QString secretKey(const QString &providerId) { return QStringLiteral("provider/") + providerId; }
    SecretStore *secrets() const { return m_secrets; }
    const std::optional<ProviderConfig> &environmentProvider() const { return m_environment; }

private:
    ProviderStore &m_store;
    SecretStore *m_secrets;
    std::optional<ProviderConfig> m_environment;
};
