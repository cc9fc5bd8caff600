#include "logging.h"

Q_LOGGING_CATEGORY(lcClient, "agentdesk.client", QtInfoMsg)
