#pragma once

#include "core/apierror.h"
#include "storage/entities.h"

#include <QJsonArray>
#include <QJsonObject>

// The API's JSON shapes (docs/api.md) for storage rows, and the reverse for request bodies.
namespace JsonView {
QJsonObject agent(const Agent &agent);
QJsonObject session(const Session &session, bool streaming);
QJsonObject message(const Message &message);
// An assistant message's stored parts as the API shows them.
QJsonArray publicParts(const QString &stored);
// A user message's files, each with its url.
QJsonArray attachments(const Message &message);
QJsonObject stats(const AgentStats &stats);
QJsonObject provider(const ProviderRow &row, bool hasApiKey);
QString timestamp(const QDateTime &time);

// Applies the fields present in `body` to `agent`; `creating` requires a name.
ApiError applyAgent(const QJsonObject &body, Agent &agent, bool creating);
} // namespace JsonView
