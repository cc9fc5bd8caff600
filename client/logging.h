#pragma once

#include <QLoggingCategory>

// The desktop client's log category: `QT_LOGGING_RULES="agentdesk.client.debug=true"`.
Q_DECLARE_LOGGING_CATEGORY(lcClient)
