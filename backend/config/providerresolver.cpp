#include "providerresolver.h"

#include "config/secretstore.h"
#include "llm/llmclient.h"
#include "storage/providerstore.h"

ProviderResolver::ProviderResolver(ProviderStore &store, SecretStore *secrets,
                                   std::optional<ProviderConfig> environment)
    : m_store(store), m_secrets(secrets), m_environment(std::move(environment))
{}

std::optional<ProviderConfig> ProviderResolver::resolve(const QString &tenantId, const QString &providerName,
                                                        ApiError *error) const
{
    if (!providerName.isEmpty() && providerName != QLatin1String("default")) {
        if (providerName == QLatin1String("demo"))
            return LlmClient::demoProvider();
        if (providerName == QLatin1String("env") && m_environment)
            return *m_environment;
        if (const auto row = m_store.byName(tenantId, providerName))
            return fromRow(*row);
        if (error)
            *error = ApiError::notFound(
                QStringLiteral("provider_not_found"),
                QStringLiteral("The agent's provider \"%1\" is not configured").arg(providerName));
        return std::nullopt;
    }
    if (const auto row = m_store.defaultProvider(tenantId))
        return fromRow(*row);
    if (m_environment)
        return *m_environment;
    return LlmClient::demoProvider();
}

ProviderConfig ProviderResolver::fromRow(const ProviderRow &row) const
{
    ProviderConfig config;
    config.name = row.name;
    config.kind = row.kind.isEmpty() ? QStringLiteral("openai") : row.kind;
    config.baseUrl = QUrl(row.baseUrl);
    config.model = row.model;
    config.vision = row.vision.isEmpty() ? QStringLiteral("auto") : row.vision;
    config.allowedModels = row.allowedModels;
    config.connectTimeoutMs = row.connectTimeoutMs;
    config.stallTimeoutMs = row.stallTimeoutMs;
    if (m_secrets)
        config.apiKey = m_secrets->read(secretKey(row.id));
    return config;
}
