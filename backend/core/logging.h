#pragma once

#include <QLoggingCategory>

// One category per area, so `QT_LOGGING_RULES="agentdesk.http.debug=true"` narrows the output.
Q_DECLARE_LOGGING_CATEGORY(lcApp)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcChat)
Q_DECLARE_LOGGING_CATEGORY(lcLlm)
Q_DECLARE_LOGGING_CATEGORY(lcStorage)
Q_DECLARE_LOGGING_CATEGORY(lcAuth)
Q_DECLARE_LOGGING_CATEGORY(lcMcp)

namespace Logging {
// Keeps Qt categories that print request headers and URLs (bearer tokens, ?access_token=) off,
// whatever QT_LOGGING_RULES says. Called by Server::start; idempotent.
void keepSecretsOutOfLogs();
} // namespace Logging
