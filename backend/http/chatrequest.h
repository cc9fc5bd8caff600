#pragma once

#include "core/apierror.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>

class QUrlQuery;

// What a chat request asks for, once decoded and checked.
struct ChatInput
{
    QString agentId;   // lower-case canonical UUID
    QString message;   // at most ChatRequestDecoder::maxMessageLength UTF-16 units; empty only with files
    QString sessionId; // empty: start a new session; else a lower-case canonical UUID
    QStringList attachments;     // file ids (lower-case canonical UUIDs)
    bool hasAttachments = false; // the request named them (an edit without them keeps the old ones)
    // The session's model from now on ("" for the agent's again); nullopt: not asked.
    std::optional<QString> model;
};

// Decodes the chat routes' input (the JSON body of POST, or the query of the EventSource GET)
// into a ChatInput or the error the client gets. Pure: no I/O, no state, so it is unit-tested
// and fuzzed on its own (tests/fuzz/fuzz_requestbody.cpp).
class ChatRequestDecoder
{
public:
    static constexpr int maxMessageLength = 200000;

    struct Result
    {
        ChatInput input;
        ApiError error; // isError(): the request is refused with this status/code/message

        bool ok() const { return !error.isError(); }
    };

    // POST /api/agents/{agentIdSegment}/chat[/stream] with `body`.
    static Result fromBody(const QString &agentIdSegment, const QByteArray &body);
    // GET /api/agents/{agentIdSegment}/chat/stream?message=…&session_id=…
    static Result fromQuery(const QString &agentIdSegment, const QUrlQuery &query);

    // `{"message": …, "attachments": […], "model": …}` (editing a message): the same checks.
    static Result messageOnly(const QByteArray &body);
    // `{"model": …}` or nothing (regenerating): an empty body is fine.
    static Result optionsOnly(const QByteArray &body);
    // A request body that must be one JSON object; `invalid_json` otherwise.
    static ApiError parseObject(const QByteArray &body, QJsonObject *object);
};
