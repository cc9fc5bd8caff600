#include "logging.h"

Q_LOGGING_CATEGORY(lcApp, "agentdesk.app", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "agentdesk.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcChat, "agentdesk.chat", QtInfoMsg)
Q_LOGGING_CATEGORY(lcLlm, "agentdesk.llm", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStorage, "agentdesk.storage", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAuth, "agentdesk.auth", QtInfoMsg)
