#pragma once

#include "core/apierror.h"
#include "storage/entities.h"

#include <QByteArray>
#include <QList>
#include <QString>

// Reads an import file into conversations ready to store: AgentDesk's own export
// (`{"format": "agentdesk.sessions", ...}`, every version of every turn) or ChatGPT's
// `conversations.json` (its `mapping` tree; system, tool and hidden messages left out, their
// children attached to the nearest message kept). Pure: no I/O, so it is unit-tested and fuzzed.
// A file with anything malformed is refused whole, naming where.
class ConversationImport
{
public:
    struct Conversation
    {
        QString importKey;       // "agentdesk:<session id>" or "chatgpt:<conversation id>"
        QString sourceSessionId; // AgentDesk exports only
        Session session;         // title, pinned, times
        QString agentId;         // AgentDesk exports: the agent it had, to reuse when it still exists
        QString agentName;
        QList<Message> messages; // source ids, parents first
        QString activeLeafId;
    };
    struct Result
    {
        QString format; // "agentdesk" or "chatgpt"
        QList<Conversation> conversations;
        ApiError error;
        bool ok() const { return !error.isError(); }
    };

    static constexpr int maxConversations = 20000;

    static Result parse(const QByteArray &body);
};
