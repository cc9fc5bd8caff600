#include "logging.h"

Q_LOGGING_CATEGORY(lcApp, "agentdesk.app", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "agentdesk.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcChat, "agentdesk.chat", QtInfoMsg)
Q_LOGGING_CATEGORY(lcLlm, "agentdesk.llm", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStorage, "agentdesk.storage", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAuth, "agentdesk.auth", QtInfoMsg)
Q_LOGGING_CATEGORY(lcMcp, "agentdesk.mcp", QtInfoMsg)

namespace {

QLoggingCategory::CategoryFilter previousFilter = nullptr;

// Qt's own categories that print whole requests: qt.httpserver's debug output holds every header
// (Authorization: Bearer ...) and the URL (?access_token=...).
bool printsSecrets(const char *category)
{
    return qstrncmp(category, "qt.httpserver", 13) == 0;
}

void secretSafeFilter(QLoggingCategory *category)
{
    if (previousFilter)
        previousFilter(category);
    if (printsSecrets(category->categoryName())) {
        category->setEnabled(QtDebugMsg, false);
        category->setEnabled(QtInfoMsg, false);
    }
}

} // namespace

void Logging::keepSecretsOutOfLogs()
{
    static const bool installed = [] {
        previousFilter = QLoggingCategory::installFilter(secretSafeFilter);
        return true;
    }();
    Q_UNUSED(installed);
}
