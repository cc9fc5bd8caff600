#include "chatturn.h"

#include "core/logging.h"
#include "core/outputbatch.h"
#include "files/filestore.h"
#include "llm/llmstream.h"
#include "storage/groupcommit.h"
#include "storage/sessionstore.h"

#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace {

QString toolKey(const ToolInfo &tool)
{
    return tool.server + u'/' + tool.name;
}

QString extensionFor(const QString &mediaType)
{
    const QString subtype = mediaType.section(u'/', 1).section(u'+', 0, 0);
    return subtype.isEmpty() ? u"bin"_s : subtype == "jpeg"_L1 ? u"jpg"_s : subtype;
}

} // namespace

ChatTurn::ChatTurn(SessionStore &store, const Session &session, const Message &userMessage,
                   const Message &reply, QObject *parent)
    : QObject(parent), m_store(store), m_session(session), m_userMessageId(userMessage.id), m_reply(reply),
      m_events(session.id, userMessage.id, reply.id), m_model(reply.model)
{}

ChatTurn::~ChatTurn()
{
    // Never leave a reply "streaming" behind, whoever deletes us: stored now, a queued write
    // would be dropped with us.
    m_commits = nullptr;
    if (!m_ended)
        interrupt();
}

void ChatTurn::start(LlmStream *stream)
{
    watch(stream);
}

void ChatTurn::setStored(bool stored)
{
    if (m_startState != Start::Pending)
        return;
    m_startState = stored ? Start::Stored : Start::Failed;
    if (!stored) {
        qCCritical(lcChat) << "Could not store the start of reply" << m_reply.id << "of session"
                           << m_session.id;
        // Withdrawn: its connection is closed, never reused. No tool can have started: calls come
        // with the model's answer, read in a later pass than the one that ends with this commit.
        if (m_stream) {
            m_stream->disconnect(this);
            m_stream->abort();
        }
    }
    // Ended first (its session and reply are released) and then answered, so that a retry finds the
    // session free. An end already queued is not stored either, and says so itself.
    if (!stored && !m_ended) {
        m_ended = true;
        ChatOutcome outcome;
        outcome.ok = false;
        outcome.finishReason = u"Error"_s;
        outcome.error = ApiError::storage();
        m_outcome = outcome;
        Q_EMIT ended(outcome);
    }
    const auto waiting = std::exchange(m_whenStored, {});
    for (const auto &[context, then] : waiting) {
        if (context)
            then(stored);
    }
}

void ChatTurn::whenStored(QObject *context, std::function<void(bool)> then)
{
    if (m_startState == Start::Pending)
        m_whenStored.append({context, std::move(then)});
    else
        then(m_startState == Start::Stored);
}

void ChatTurn::watch(LlmStream *stream)
{
    m_stream = stream;
    stream->setParent(this);
    stream->setKeepText(false); // the turn keeps the text of all rounds
    connect(stream, &LlmStream::delta, this, &ChatTurn::onDelta);
    connect(stream, &LlmStream::reasoning, this, &ChatTurn::onReasoning);
    connect(stream, &LlmStream::toolCallDelta, this, &ChatTurn::onToolCallDelta);
    connect(stream, &LlmStream::finished, this, &ChatTurn::onFinished);
    connect(stream, &LlmStream::failed, this, &ChatTurn::onFailed);
}

// --- events -----------------------------------------------------------------------------------

void ChatTurn::onDelta(const QString &delta)
{
    QString piece = delta;
    if (m_separate) {
        m_separate = false;
        // Text after tools reads as a new paragraph to a client that shows content alone.
        if (!m_text.isEmpty() && !m_text.endsWith(u'\n'))
            piece.prepend(u"\n\n"_s);
    }
    m_text += piece;
    m_log.append(logEntry(ContentEnd, m_text.size()));
    Q_EMIT content(eventCount(), piece);
}

void ChatTurn::onReasoning(const QString &text)
{
    QString piece = text;
    if (m_separateReasoning) {
        m_separateReasoning = false;
        // Each round's reasoning a paragraph of its own, as its text.
        if (!m_reasoning.isEmpty() && !m_reasoning.endsWith(u'\n'))
            piece.prepend(u"\n\n"_s);
    }
    m_reasoning += piece;
    m_log.append(logEntry(ReasoningEnd, m_reasoning.size()));
    Q_EMIT reasoning(eventCount(), piece);
}

void ChatTurn::emitOther(const QString &type, const QString &content, const QJsonObject &metadata)
{
    m_extras.append(m_events.otherJson(type, content, metadata));
    m_log.append(logEntry(Extra, m_extras.size() - 1));
    Q_EMIT other(eventCount(), m_extras.last());
}

QByteArray ChatTurn::eventBytes(int seq) const
{
    if (seq < 1 || seq > eventCount())
        return {};
    const int entry = m_log.at(seq - 1);
    const auto kind = LogKind(entry & 3);
    if (kind == Extra)
        return m_events.other(seq, m_extras.at(entry >> 2));
    // Where the text of the event before of the same kind ended.
    int begin = 0;
    for (int i = seq - 2; i >= 0; --i) {
        if ((m_log.at(i) & 3) == kind) {
            begin = m_log.at(i) >> 2;
            break;
        }
    }
    const int end = entry >> 2;
    if (kind == ReasoningEnd)
        return m_events.reasoning(seq, m_reasoning.sliced(begin, end - begin));
    return m_events.content(seq, m_text.sliced(begin, end - begin));
}

ReplyEventLog ChatTurn::eventLog() const
{
    ReplyEventLog log;
    log.chunks.reserve(m_log.size());
    int textBegin = 0;
    int reasoningBegin = 0;
    for (const int entry : m_log) {
        const int end = entry >> 2;
        switch (LogKind(entry & 3)) {
        case ContentEnd:
            log.chunks.append(end - textBegin);
            textBegin = end;
            break;
        case ReasoningEnd:
            log.chunks.append(ReplyEventLog::reasoningChunk(end - reasoningBegin));
            reasoningBegin = end;
            break;
        case Extra:
            log.chunks.append(ReplyEventLog::extraChunk);
            break;
        }
    }
    log.extras = m_extras;
    return log;
}

// --- rounds -----------------------------------------------------------------------------------

void ChatTurn::onToolCallDelta(int index, const QString &id, const QString &name, const QString &fragment)
{
    QJsonObject metadata{{u"tool_call_id"_s, id}, {u"index"_s, index}, {u"step"_s, m_step}};
    if (!name.isEmpty())
        metadata.insert(u"name"_s, name);
    emitOther(u"tool_call_delta"_s, fragment.isNull() ? u""_s : fragment, metadata);
}

void ChatTurn::addUsage(const LlmCompletion &completion)
{
    m_promptTokens += completion.promptTokens;
    m_completionTokens += completion.completionTokens;
    if (completion.reasoningTokens >= 0)
        m_reasoningTokens = qMax(0, m_reasoningTokens) + completion.reasoningTokens;
    m_tokensEstimated = m_tokensEstimated || completion.usageEstimated;
    if (!completion.model.isEmpty())
        m_model = completion.model;
}

void ChatTurn::flushRound()
{
    const QString reasoning = m_reasoning.mid(m_roundReasoningFrom);
    m_roundReasoningFrom = m_reasoning.size();
    if (!reasoning.trimmed().isEmpty()) {
        QJsonObject part{{u"type"_s, u"reasoning"_s}, {u"text"_s, reasoning.trimmed()}};
        // DeepSeek wants it back with this round in every later request: to that provider and model.
        if (m_echoReasoning) {
            part.insert(u"echo_for"_s, m_echoKey);
            if (!m_echoField.isEmpty())
                part.insert(u"echo_field"_s, m_echoField);
        }
        m_parts.append(part);
    }
    const QString text = m_text.mid(m_roundTextFrom);
    m_roundTextFrom = m_text.size();
    if (!text.trimmed().isEmpty())
        m_parts.append(QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text.trimmed()}});
}

void ChatTurn::onFinished(const LlmCompletion &completion)
{
    addUsage(completion);
    m_echoReasoning = m_echoReasoning || !completion.reasoningContent.isEmpty();
    if (!completion.reasoningField.isEmpty())
        m_echoField = completion.reasoningField;
    if (!completion.toolCalls.isEmpty() && (m_tools.host || !m_tools.clientFunctions.isEmpty())) {
        const QString roundText = m_text.mid(m_roundTextFrom).trimmed();
        flushRound();
        beginCalls(completion, roundText);
        return;
    }
    if (!m_parts.isEmpty())
        flushRound();
    ChatOutcome outcome;
    outcome.ok = true;
    outcome.finishReason = finishReasonName(completion.finishReason);
    end(outcome, u"complete"_s, {});
}

void ChatTurn::beginCalls(const LlmCompletion &completion, const QString &roundText)
{
    const QList<ToolCall> &calls = completion.toolCalls;
    QList<ToolCall> forCaller;
    for (const ToolCall &toolCall : calls) {
        if (m_tools.clientFunctions.contains(toolCall.name))
            forCaller.append(toolCall);
    }
    if (!forCaller.isEmpty())
        return handOver(forCaller);
    QJsonArray openAiCalls;
    for (const ToolCall &toolCall : calls) {
        openAiCalls.append(QJsonObject{
            {u"id"_s, toolCall.id},
            {u"type"_s, u"function"_s},
            {u"function"_s, QJsonObject{{u"name"_s, toolCall.name}, {u"arguments"_s, toolCall.arguments}}}});
    }
    ChatMessage assistant;
    assistant.role = u"assistant"_s;
    assistant.content = roundText;
    assistant.toolCalls = openAiCalls;
    // What the provider needs back to go on reasoning where it stopped.
    assistant.reasoningContent = completion.reasoningContent;
    assistant.reasoningField = completion.reasoningField;
    assistant.thinkingBlocks = completion.thinkingBlocks;
    m_roundMessages.append(assistant);

    m_calls.clear();
    for (const ToolCall &toolCall : calls) {
        Call call;
        call.id = toolCall.id;
        call.function = toolCall.name;
        call.arguments = toolCall.arguments;
        for (const ToolInfo &tool : std::as_const(m_tools.available)) {
            if (tool.function == toolCall.name) {
                call.tool = tool;
                break;
            }
        }
        const QJsonDocument arguments = QJsonDocument::fromJson(
            toolCall.arguments.trimmed().isEmpty() ? QByteArrayLiteral("{}") : toolCall.arguments.toUtf8());
        if (call.tool.server.isEmpty())
            call.problem =
                u"There is no tool named \"%1\". Use one of the tools you were given."_s.arg(toolCall.name);
        else if (!arguments.isObject())
            call.problem = u"The arguments are not a JSON object: %1"_s.arg(toolCall.arguments.left(200));
        else
            call.argumentsObject = arguments.object();
        call.status = u"pending"_s; // not done: the round waits for it
        call.part = int(m_parts.size());
        m_parts.append(QJsonObject{{u"type"_s, u"tool_call"_s},
                                   {u"id"_s, call.id},
                                   {u"function"_s, call.function},
                                   {u"server"_s, call.tool.server},
                                   {u"name"_s, call.tool.name.isEmpty() ? call.function : call.tool.name},
                                   {u"arguments"_s, call.arguments},
                                   {u"status"_s, QString()},
                                   {u"step"_s, m_step}});
        m_calls.append(call);
    }
    // Parallel calls run together; those that wait for a decision wait together. By index: the
    // last one to finish at once starts the next round, which clears the list.
    for (qsizetype i = 0; i < m_calls.size(); ++i) {
        Call &call = m_calls[i];
        if (!call.problem.isEmpty()) {
            call.decision = u"auto"_s;
            call.status = u"running"_s;
            emitToolCall(call);
            call.clock.start();
            finishCall(call, true, call.problem, {});
        } else if (m_tools.ask && !m_tools.allowed.contains(toolKey(call.tool)) && !m_tools.canAsk) {
            call.decision = u"deny"_s;
            call.status = u"denied"_s;
            emitToolCall(call);
            call.clock.start();
            finishCall(call, true,
                       u"This tool asks the user before it runs, and this conversation has no one to ask "
                       u"(the OpenAI-compatible API). It did not run."_s,
                       {});
        } else if (m_tools.ask && !m_tools.allowed.contains(toolKey(call.tool))) {
            call.status = u"awaiting_approval"_s;
            emitToolCall(call);
            emitOther(u"progress"_s, QString(),
                      {{u"phase"_s, u"awaiting_approval"_s}, {u"tool_call_id"_s, call.id}});
        } else {
            call.decision = u"auto"_s;
            run(call);
        }
    }
    nextRoundIfDone();
}

void ChatTurn::handOver(const QList<ToolCall> &calls)
{
    // The caller sends the results in its next request; a server tool called in the same round
    // would have its result lost with it, so only the caller's run, and the model can ask again.
    for (const ToolCall &call : calls)
        m_parts.append(QJsonObject{{u"type"_s, u"tool_call"_s},
                                   {u"id"_s, call.id},
                                   {u"function"_s, call.name},
                                   {u"server"_s, QString()},
                                   {u"name"_s, call.name},
                                   {u"arguments"_s, call.arguments},
                                   {u"status"_s, u"client"_s},
                                   {u"step"_s, m_step}});
    m_clientCalls = calls;
    ChatOutcome outcome;
    outcome.ok = true;
    outcome.finishReason = u"ToolCalls"_s;
    end(outcome, u"complete"_s, {});
}

ChatTurn::Call *ChatTurn::findCall(const QString &id)
{
    for (Call &call : m_calls) {
        if (call.id == id)
            return &call;
    }
    return nullptr;
}

void ChatTurn::emitToolCall(const Call &call)
{
    QJsonObject part = m_parts.at(call.part).toObject();
    part.insert(u"status"_s, call.status);
    part.insert(u"decision"_s,
                call.decision.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(call.decision));
    m_parts.replace(call.part, part);
    if (call.status == "done"_L1 || call.status == "cancelled"_L1)
        return; // the stream says these with tool_result (or the end)
    emitOther(u"tool_call"_s, QString(),
              {{u"tool_call_id"_s, call.id},
               {u"name"_s, call.tool.name.isEmpty() ? call.function : call.tool.name},
               {u"server"_s,
                call.tool.server.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(call.tool.server)},
               {u"arguments"_s,
                call.problem.isEmpty() ? QJsonValue(call.argumentsObject) : QJsonValue(call.arguments)},
               {u"status"_s, call.status},
               {u"step"_s, m_step}});
}

void ChatTurn::run(Call &call)
{
    call.status = u"running"_s;
    emitToolCall(call);
    call.clock.start();
    ToolCallJob *job =
        m_tools.host->call(m_session.tenantId, call.tool.server, call.tool.name, call.argumentsObject, this);
    call.job = job;
    const QString id = call.id;
    connect(
        job, &ToolCallJob::progress, this, [this, id](double progress, double total, const QString &message) {
            QJsonObject metadata{{u"phase"_s, u"tool"_s}, {u"tool_call_id"_s, id}, {u"progress"_s, progress}};
            metadata.insert(u"total"_s, total > 0 ? QJsonValue(total) : QJsonValue(QJsonValue::Null));
            metadata.insert(u"message"_s,
                            message.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(message));
            emitOther(u"progress"_s, QString(), metadata);
        });
    connect(job, &ToolCallJob::finished, this,
            [this, id](const ToolOutcome &outcome) { onToolFinished(id, outcome); });
}

ApiError ChatTurn::decide(const QString &toolCallId, const QString &decision)
{
    Call *call = findCall(toolCallId);
    if (!call && !m_ended) {
        // A call of a round already over (it was decided, and ran, before this decision came).
        for (const QJsonValue &value : std::as_const(m_parts)) {
            const QJsonObject part = value.toObject();
            if (part.value("type"_L1) == "tool_call"_L1 && part.value("id"_L1) == toolCallId)
                return {409, u"tool_call_decided"_s,
                        u"The tool call %1 is %2, not waiting for a decision"_s.arg(
                            toolCallId, part.value("status"_L1).toString())};
        }
    }
    if (!call || m_ended)
        return ApiError::notFound(u"tool_call_not_found"_s,
                                  u"No tool call %1 in this reply"_s.arg(toolCallId));
    if (decision != "allow"_L1 && decision != "deny"_L1 && decision != "always"_L1)
        return {400, u"invalid_decision"_s, u"decision must be \"allow\", \"deny\" or \"always\""_s};
    if (call->status != "awaiting_approval"_L1)
        return {409, u"tool_call_decided"_s,
                u"The tool call %1 is %2, not waiting for a decision"_s.arg(toolCallId, call->status)};
    call->decision = decision;
    if (decision == "deny"_L1) {
        call->status = u"denied"_s;
        emitToolCall(*call);
        call->clock.start();
        finishCall(*call, false, u"The user declined to run this tool call."_s, {});
        return {};
    }
    if (decision == "always"_L1) {
        const QString key = toolKey(call->tool);
        m_tools.allowed.append(key);
        if (m_tools.rememberAlways)
            m_tools.rememberAlways(key);
        run(*call);
        // The same tool waiting in this round needs no second question.
        for (Call &other : m_calls) {
            if (other.status == "awaiting_approval"_L1 && toolKey(other.tool) == key) {
                other.decision = u"always"_s;
                run(other);
            }
        }
        return {};
    }
    run(*call);
    return {};
}

void ChatTurn::onToolFinished(const QString &id, const ToolOutcome &outcome)
{
    Call *call = findCall(id);
    if (!call || m_ended)
        return;
    QStringList text;
    QJsonArray parts;
    int images = 0;
    for (const QJsonValue &value : outcome.content) {
        QJsonObject block = value.toObject();
        const QString type = block.value("type"_L1).toString();
        if (type == "text"_L1) {
            text.append(block.value("text"_L1).toString());
        } else if (type == "image"_L1 || type == "audio"_L1) {
            // Bytes never go in the stream: a file, and an attachment chunk that names it.
            const QByteArray bytes = QByteArray::fromBase64(block.value("data"_L1).toString().toLatin1());
            const QString mediaType = block.value("mimeType"_L1).toString();
            const QString name = u"%1-%2-%3.%4"_s.arg(call->tool.name)
                                     .arg(call->id)
                                     .arg(++images)
                                     .arg(extensionFor(mediaType));
            std::optional<FileRow> file;
            if (m_tools.files && !bytes.isEmpty())
                file = m_tools.files->put(m_session.tenantId, m_session.userId, m_session.id, mediaType, name,
                                          bytes);
            block.remove(u"data"_s);
            if (file) {
                const QString url = u"/api/files/"_s + file->id;
                emitOther(u"attachment"_s, QString(),
                          {{u"attachment_id"_s, file->id},
                           {u"media_type"_s, mediaType},
                           {u"name"_s, name},
                           {u"size"_s, file->size},
                           {u"url"_s, url},
                           {u"tool_call_id"_s, call->id}});
                block.insert(u"attachment_id"_s, file->id);
                block.insert(u"url"_s, url);
                text.append(u"[%1 %2 attached: %3]"_s.arg(type, mediaType, name));
            } else {
                text.append(u"[%1 %2 that could not be stored]"_s.arg(type, mediaType));
            }
        } else if (type == "resource"_L1) {
            QJsonObject resource = block.value("resource"_L1).toObject();
            if (resource.contains("text"_L1))
                text.append(resource.value("text"_L1).toString());
            resource.remove(u"blob"_s);
            block.insert(u"resource"_s, resource);
        } else if (type == "resource_link"_L1) {
            text.append(
                u"[%1: %2]"_s.arg(block.value("name"_L1).toString(), block.value("uri"_L1).toString()));
        }
        parts.append(block);
    }
    finishCall(*call, outcome.isError, text.join(u'\n'), parts);
}

void ChatTurn::finishCall(Call &call, bool isError, const QString &text, const QJsonArray &parts)
{
    if (call.job)
        call.job->deleteLater();
    call.job = nullptr;
    const qint64 durationMs = call.clock.isValid() ? call.clock.elapsed() : 0;
    QJsonArray resultParts = parts;
    if (resultParts.isEmpty() && !text.isEmpty())
        resultParts.append(QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text}});
    emitOther(u"tool_result"_s, text,
              {{u"tool_call_id"_s, call.id},
               {u"is_error"_s, isError},
               {u"duration_ms"_s, durationMs},
               {u"parts"_s, resultParts}});
    if (call.status != "denied"_L1) {
        call.status = u"done"_s;
        emitToolCall(call);
    }
    m_parts.append(QJsonObject{{u"type"_s, u"tool_result"_s},
                               {u"tool_call_id"_s, call.id},
                               {u"is_error"_s, isError},
                               {u"duration_ms"_s, durationMs},
                               {u"text"_s, text},
                               {u"parts"_s, resultParts}});
    ChatMessage result;
    result.role = u"tool"_s;
    result.toolCallId = call.id;
    result.content = isError ? u"Error: "_s + text : text;
    result.toolError = isError;
    m_roundMessages.append(result);
    nextRoundIfDone();
}

void ChatTurn::nextRoundIfDone()
{
    for (const Call &call : std::as_const(m_calls)) {
        if (call.status == "pending"_L1 || call.status == "awaiting_approval"_L1 ||
            call.status == "running"_L1)
            return;
    }
    if (m_ended || m_calls.isEmpty())
        return;
    m_calls.clear();
    if (m_step >= m_tools.maxSteps || !m_tools.nextRound) {
        // The model still wanted tools when the reply ran out of rounds.
        ChatOutcome outcome;
        outcome.ok = true;
        outcome.finishReason = u"ToolCalls"_s;
        end(outcome, u"complete"_s, {});
        return;
    }
    ++m_step;
    emitOther(u"progress"_s, QString(), {{u"phase"_s, u"thinking"_s}});
    m_separate = m_separateReasoning = true;
    m_roundTextFrom = m_text.size();
    m_roundReasoningFrom = m_reasoning.size();
    watch(m_tools.nextRound(m_roundMessages));
}

// --- ends -------------------------------------------------------------------------------------

void ChatTurn::cancel()
{
    stopUpstream(u"Cancelled"_s, u"cancelled"_s);
}

void ChatTurn::abandon()
{
    stopUpstream(u"Disconnected"_s, u"cancelled"_s);
}

void ChatTurn::interrupt()
{
    stopUpstream(u"Interrupted"_s, u"interrupted"_s);
}

void ChatTurn::stopUpstream(const QString &finishReason, const QString &status)
{
    if (m_ended)
        return;
    if (m_stream) {
        // Our own abort must not come back as an upstream failure.
        m_stream->disconnect(this);
        m_stream->abort();
    }
    for (Call &call : m_calls) {
        if (call.job) {
            call.job->disconnect(this);
            call.job->cancel(); // the server hears of it (notifications/cancelled)
            call.job->deleteLater();
            call.job = nullptr;
        }
        if (call.status == "pending"_L1 || call.status == "awaiting_approval"_L1 ||
            call.status == "running"_L1) {
            call.status = u"cancelled"_s;
            emitToolCall(call);
        }
    }
    if (!m_parts.isEmpty())
        flushRound();
    ChatOutcome outcome;
    outcome.ok = true;
    outcome.finishReason = finishReason;
    end(outcome, status, {});
}

QString ChatTurn::finishReasonName(const QString &upstreamReason)
{
    if (upstreamReason.isEmpty() || upstreamReason == "stop"_L1)
        return u"Stop"_s;
    if (upstreamReason == "function_call"_L1)
        return u"ToolCalls"_s;
    // snake_case -> CamelCase, as the reference's enum spells them ("tool_calls" -> "ToolCalls").
    QString name;
    bool upper = true;
    for (const QChar c : upstreamReason) {
        if (c == u'_' || c == u'-') {
            upper = true;
            continue;
        }
        name.append(upper ? c.toUpper() : c);
        upper = false;
    }
    return name;
}

void ChatTurn::onFailed(const LlmError &error)
{
    if (!m_parts.isEmpty())
        flushRound();
    ChatOutcome outcome;
    outcome.ok = false;
    outcome.finishReason = u"Error"_s;
    const int status = error.kind == LlmError::Timeout ? 504 : 502;
    // Say who failed, where and how: the upstream's own message alone ("Rate limit reached",
    // "Connection refused") names neither the provider nor the status, nor what to do.
    const QString named = m_providerName.isEmpty() ? u"model provider"_s
                                                   : u"model provider \u201c%1\u201d"_s.arg(m_providerName);
    const QString where = m_providerUrl.isEmpty() ? QString() : u" at %1"_s.arg(m_providerUrl);
    QString message;
    if (error.httpStatus == 401 || error.httpStatus == 403)
        message = u"The %1 refused the API key (HTTP %2: %3). Check the provider's API key in Settings."_s
                      .arg(named)
                      .arg(error.httpStatus)
                      .arg(error.message);
    else if (error.httpStatus > 0)
        message = u"The %1 answered HTTP %2: %3"_s.arg(named).arg(error.httpStatus).arg(error.message);
    else if (error.code == "upstream_unreachable"_L1)
        message = u"Cannot reach the %1%2: %3"_s.arg(named, where, error.message);
    else
        message = u"The %1%2: %3"_s.arg(named, where, error.message);
    outcome.error = {status, error.code.isEmpty() ? u"upstream_error"_s : error.code, message};
    outcome.upstreamStatus = error.httpStatus;
    outcome.upstreamMessage = error.message;
    end(outcome, u"error"_s, message);
}

void ChatTurn::end(ChatOutcome outcome, const QString &status, const QString &errorText)
{
    if (m_ended)
        return;
    m_ended = true;

    outcome.content = m_text;
    outcome.model = m_model;
    outcome.promptTokens = m_promptTokens;
    outcome.completionTokens = m_completionTokens;
    outcome.reasoningTokens = m_reasoningTokens;
    outcome.tokensEstimated = m_tokensEstimated;
    outcome.steps = m_step;
    outcome.clientCalls = m_clientCalls;
    m_reply.content = outcome.content;
    m_reply.reasoning = m_reasoning;
    m_reply.reasoningTokens = m_reasoningTokens;
    m_reply.status = status;
    m_reply.finishReason = outcome.finishReason;
    m_reply.model = outcome.model;
    m_reply.error = errorText;
    m_reply.promptTokens = outcome.promptTokens;
    m_reply.completionTokens = outcome.completionTokens;
    m_reply.tokensEstimated = outcome.tokensEstimated;
    m_reply.steps = m_step;
    m_reply.parts = m_parts.isEmpty()
                        ? QString()
                        : QString::fromUtf8(QJsonDocument(m_parts).toJson(QJsonDocument::Compact));
    OutputBatch::flush(); // the last events reach the client before the commit, not after it
    const auto write = [this] {
        return m_store.finishReply(m_reply, eventLog());
    };
    auto settle = [this, outcome](bool saved) mutable {
        outcome.saved = saved;
        if (!saved) {
            qCCritical(lcChat) << "Could not save reply" << m_reply.id << "of session" << m_session.id;
            if (outcome.ok) {
                // A `done` would promise a stored reply_id that does not exist.
                outcome.ok = false;
                outcome.error = ApiError::storage();
            }
        }
        m_outcome = outcome;
        Q_EMIT ended(outcome);
    };
    if (m_commits)
        m_commits->add(this, write, settle);
    else
        settle(write());
}

void ChatTurn::checkpoint()
{
    if (m_ended || !isStored() || eventCount() == m_savedEvents)
        return;
    const QString parts = m_parts.isEmpty()
                              ? QString()
                              : QString::fromUtf8(QJsonDocument(m_parts).toJson(QJsonDocument::Compact));
    if (m_store.saveReplyProgress(m_reply.id, m_text, m_reasoning, parts, eventLog()))
        m_savedEvents = eventCount();
}
