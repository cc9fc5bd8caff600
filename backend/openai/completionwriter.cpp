#include "completionwriter.h"

#include "chat/chatoutcome.h"
#include "chat/chatturn.h"
#include "chat/streamchunk.h"
#include "http/cors.h"
#include "http/requestcontext.h"
#include "http/ssestream.h"
#include "openaierror.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>

using namespace Qt::StringLiterals;

CompletionWriter::CompletionWriter(ChatTurn *turn, QHttpServerResponder &&responder, const Setup &setup)
    : QObject(turn), m_turn(turn), m_responder(std::make_unique<QHttpServerResponder>(std::move(responder))),
      m_socket(m_responder->socket()), m_setup(setup)
{
    m_head = "{\"id\":";
    StreamChunk::appendJsonString(m_head, setup.id);
    m_head += ",\"object\":\"chat.completion.chunk\",\"created\":" + QByteArray::number(setup.created) +
              ",\"model\":";
    StreamChunk::appendJsonString(m_head, setup.model);
    m_head += ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":";

    if (m_socket) // a caller gone is a reply nobody reads: no grace period on /v1
        connect(m_socket, &QTcpSocket::disconnected, turn, &ChatTurn::abandon);
    connect(turn, &ChatTurn::ended, this, &CompletionWriter::onEnded);
    if (!setup.stream)
        return;
    connect(turn, &ChatTurn::content, this, [this](int, const QString &text) { onContent(text); });
    connect(turn, &ChatTurn::reasoning, this, [this](int, const QString &text) { onReasoning(text); });
    connect(turn, &ChatTurn::other, this, [this](int, const QByteArray &json) { onOther(json); });
    // A model that takes long for its first word (loading, a queue) still gets its stream opened.
    m_openTimer.setSingleShot(true);
    connect(&m_openTimer, &QTimer::timeout, this, &CompletionWriter::open);
    m_openTimer.start(setup.keepAliveMs);
}

QByteArray CompletionWriter::chunk(const QByteArray &delta, const QByteArray &finishReason) const
{
    QByteArray json = m_head;
    json += delta;
    json += ",\"logprobs\":null,\"finish_reason\":";
    json += finishReason;
    json += m_setup.includeUsage ? "}],\"usage\":null}" : "}]}";
    return "data: " + json + "\n\n";
}

void CompletionWriter::send(const QByteArray &delta, const QByteArray &finishReason)
{
    open();
    if (!m_stream)
        return;
    QByteArray event;
    if (!m_roleSent) {
        m_roleSent = true;
        event = chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null");
    }
    m_stream->send(event + chunk(delta, finishReason));
}

void CompletionWriter::open()
{
    if (m_stream || !m_responder || !m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    m_openTimer.stop();
    m_stream = new SseStream(std::move(*m_responder), m_setup.keepAliveMs, Cors::lines(m_setup.headers),
                             m_setup.chunked);
    m_responder.reset();
    connect(m_stream, &SseStream::clientGone, m_turn, &ChatTurn::abandon);
}

void CompletionWriter::onContent(const QString &text)
{
    if (text.isEmpty())
        return;
    QByteArray delta = "{\"content\":";
    StreamChunk::appendJsonString(delta, text);
    send(delta + '}');
}

void CompletionWriter::onReasoning(const QString &text)
{
    if (text.isEmpty())
        return;
    // As DeepSeek streams it, which the clients that show reasoning read.
    QByteArray delta = "{\"reasoning_content\":";
    StreamChunk::appendJsonString(delta, text);
    send(delta + '}');
}

void CompletionWriter::onOther(const QByteArray &json)
{
    if (!json.startsWith("{\"type\":\"tool_call_delta\""))
        return; // the agent's own tools, progress, attachments: not the caller's to see
    const QJsonObject event = QJsonDocument::fromJson(json).object();
    const QJsonObject metadata = event.value("metadata"_L1).toObject();
    const QPair<int, int> key{metadata.value("step"_L1).toInt(), metadata.value("index"_L1).toInt()};
    const QString fragment = event.value("content"_L1).toString();
    if (m_agentCalls.contains(key))
        return;
    if (const auto found = m_callerIndex.constFind(key); found != m_callerIndex.cend()) {
        const QJsonObject call{{u"index"_s, *found},
                               {u"function"_s, QJsonObject{{u"arguments"_s, fragment}}}};
        send("{\"tool_calls\":[" + QJsonDocument(call).toJson(QJsonDocument::Compact) + "]}");
        return;
    }
    // Some servers name the function after the first fragments: those wait for the name.
    Unnamed &waiting = m_unnamed[key];
    waiting.arguments += fragment;
    if (waiting.id.isEmpty())
        waiting.id = metadata.value("tool_call_id"_L1).toString();
    const QString name = metadata.value("name"_L1).toString();
    if (name.isEmpty())
        return;
    const Unnamed call = m_unnamed.take(key);
    if (!m_setup.callerFunctions.contains(name)) {
        m_agentCalls.insert(key);
        return;
    }
    const int index = m_callsInRound[key.first]++;
    m_callerIndex.insert(key, index);
    const QJsonObject first{
        {u"index"_s, index},
        {u"id"_s, call.id},
        {u"type"_s, u"function"_s},
        {u"function"_s, QJsonObject{{u"name"_s, name}, {u"arguments"_s, call.arguments}}}};
    send("{\"tool_calls\":[" + QJsonDocument(first).toJson(QJsonDocument::Compact) + "]}");
}

QJsonObject CompletionWriter::usageOf(const ChatOutcome &outcome)
{
    QJsonObject usage = {{u"prompt_tokens"_s, outcome.promptTokens},
                         {u"completion_tokens"_s, outcome.completionTokens},
                         {u"total_tokens"_s, outcome.promptTokens + outcome.completionTokens}};
    if (outcome.reasoningTokens >= 0)
        usage.insert(u"completion_tokens_details"_s,
                     QJsonObject{{u"reasoning_tokens"_s, outcome.reasoningTokens}});
    return usage;
}

QString CompletionWriter::finishReason(const ChatOutcome &outcome)
{
    if (outcome.finishReason == "Length"_L1)
        return u"length"_s;
    if (outcome.finishReason == "ContentFilter"_L1)
        return u"content_filter"_s;
    if (outcome.finishReason == "ToolCalls"_L1)
        // The agent's tools ran out of rounds: the answer was cut, as by a length limit.
        return outcome.clientCalls.isEmpty() ? u"length"_s : u"tool_calls"_s;
    return u"stop"_s;
}

void CompletionWriter::sendError(const OpenAiError &error)
{
    if (!m_responder || !m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    HttpReply::sendJsonAndClose(*m_responder, error.body(), error.status, m_setup.headers + error.headers());
    m_responder.reset();
}

void CompletionWriter::onEnded(const ChatOutcome &outcome)
{
    m_openTimer.stop();
    if (outcome.finishReason == "Disconnected"_L1) {
        if (m_stream)
            m_stream->finish(); // nobody to tell; it goes
        return;
    }
    OpenAiError error;
    if (!outcome.ok) {
        error = OpenAiError::from(outcome.error);
        // The provider's rate limit is the caller's to wait for; its refused key is our problem (502).
        if (outcome.upstreamStatus == 429)
            error.status = 429;
    } else if (outcome.finishReason == "Cancelled"_L1 || outcome.finishReason == "Interrupted"_L1) {
        error = {503,
                 u"reply_stopped"_s,
                 outcome.finishReason == "Cancelled"_L1 ? u"The reply was cancelled in AgentDesk"_s
                                                        : u"The AgentDesk server is shutting down"_s,
                 {}};
    }
    if (!m_stream) {
        if (error.isError()) {
            return sendError(error);
        }
        if (!m_setup.stream)
            return answerWhole(outcome);
    }
    if (error.isError()) {
        // The SDKs raise an event with an `error` member; no [DONE] after it.
        m_stream->send("data: " + QJsonDocument(error.body()).toJson(QJsonDocument::Compact) + "\n\n");
        m_stream->finish();
        return;
    }
    send("{}", '"' + finishReason(outcome).toLatin1() + '"'); // opens the stream of a reply without a word
    if (!m_stream)
        return;
    if (m_setup.includeUsage) {
        QByteArray json = m_head;
        json.chop(QByteArrayLiteral("{\"index\":0,\"delta\":").size());
        json += "],\"usage\":" + QJsonDocument(usageOf(outcome)).toJson(QJsonDocument::Compact) + '}';
        m_stream->send("data: " + json + "\n\n");
    }
    m_stream->send("data: [DONE]\n\n");
    m_stream->finish();
}

void CompletionWriter::answerWhole(const ChatOutcome &outcome)
{
    if (!m_responder || !m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    QJsonObject message{{u"role"_s, u"assistant"_s},
                        {u"content"_s, outcome.content.isEmpty() && !outcome.clientCalls.isEmpty()
                                           ? QJsonValue()
                                           : QJsonValue(outcome.content)},
                        {u"refusal"_s, QJsonValue()}};
    if (!m_turn->reasoningText().isEmpty())
        message.insert(u"reasoning_content"_s, m_turn->reasoningText());
    if (!outcome.clientCalls.isEmpty()) {
        QJsonArray calls;
        for (const ToolCall &call : outcome.clientCalls)
            calls.append(QJsonObject{
                {u"id"_s, call.id},
                {u"type"_s, u"function"_s},
                {u"function"_s, QJsonObject{{u"name"_s, call.name}, {u"arguments"_s, call.arguments}}}});
        message.insert(u"tool_calls"_s, calls);
    }
    const QJsonObject body{
        {u"id"_s, m_setup.id},
        {u"object"_s, u"chat.completion"_s},
        {u"created"_s, m_setup.created},
        {u"model"_s, m_setup.model},
        {u"system_fingerprint"_s, QJsonValue()},
        {u"choices"_s, QJsonArray{QJsonObject{{u"index"_s, 0},
                                              {u"message"_s, message},
                                              {u"logprobs"_s, QJsonValue()},
                                              {u"finish_reason"_s, finishReason(outcome)}}}},
        {u"usage"_s, usageOf(outcome)}};
    HttpReply::sendJsonAndClose(*m_responder, body, 200, m_setup.headers);
    m_responder.reset();
}
