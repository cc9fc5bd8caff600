#include "chatservice.h"

#include "chatturn.h"
#include "config/providerresolver.h"
#include "core/logging.h"
#include "core/uuidutil.h"
#include "files/filestore.h"
#include "llm/llmclient.h"
#include "llm/llmstream.h"
#include "llm/modelcatalog.h"
#include "storage/database.h"
#include "storage/groupcommit.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSet>

#include <algorithm>

using namespace Qt::StringLiterals;

ChatService::ChatService(Database &db, LlmClient &llm, ProviderResolver &providers, ModelCatalog &catalog,
                         QObject *parent)
    : QObject(parent), m_db(db), m_llm(llm), m_providers(providers), m_catalog(catalog), m_agents(db),
      m_sessions(db), m_commits(new GroupCommit(db, this))
{
    m_progressTimer.setInterval(m_progressIntervalMs);
    connect(&m_progressTimer, &QTimer::timeout, this, &ChatService::checkpointAll);
}

void ChatService::setProgressInterval(int ms)
{
    m_progressIntervalMs = ms;
    m_progressTimer.setInterval(qMax(1, ms));
    if (ms <= 0)
        m_progressTimer.stop();
    else if (!m_turns.isEmpty())
        m_progressTimer.start();
}

void ChatService::checkpointAll()
{
    if (m_turns.isEmpty()) {
        m_progressTimer.stop();
        return;
    }
    Transaction tx(m_db);
    for (ChatTurn *turn : std::as_const(m_turns))
        turn->checkpoint();
    if (tx.isActive() && !tx.commit())
        qCWarning(lcChat) << "Could not checkpoint" << m_turns.size() << "growing replies";
}

ChatService::~ChatService()
{
    interruptAll();
}

QString ChatService::titleFor(const QString &message)
{
    const QString simplified = message.simplified();
    constexpr int maxLength = 48;
    if (simplified.size() <= maxLength)
        return simplified;
    // Cut on a character boundary, never inside a surrogate pair.
    int cut = maxLength;
    if (simplified.at(cut - 1).isHighSurrogate())
        --cut;
    return simplified.left(cut) + u'…';
}

namespace {

QStringList attachmentIds(const QList<FileRow> &files)
{
    QStringList ids;
    for (const FileRow &file : files)
        ids.append(file.id);
    return ids;
}

// Message::attachments: what a client needs to show each file without fetching it.
QString attachmentsJson(const QList<FileRow> &files)
{
    QJsonArray list;
    for (const FileRow &file : files) {
        QJsonObject o{{u"id"_s, file.id},
                      {u"media_type"_s, file.mediaType},
                      {u"name"_s, file.name},
                      {u"size"_s, file.size}};
        if (file.width > 0) {
            o.insert(u"width"_s, file.width);
            o.insert(u"height"_s, file.height);
        }
        if (file.pages > 0)
            o.insert(u"pages"_s, file.pages);
        list.append(o);
    }
    return QString::fromUtf8(QJsonDocument(list).toJson(QJsonDocument::Compact));
}

ChatMessage plain(const QString &role, const QString &content)
{
    ChatMessage message;
    message.role = role;
    message.content = content;
    return message;
}

// A reply's parts as the rounds the model had: text and tool calls as one assistant message, then
// one tool message per call; the reasoning of a round with it where its provider wants it back
// (`echoFor`, ChatService::echoKey(), names who may get it). A call without a result (the reply was stopped,
// or the server crashed) still gets one: the model must see every call answered.
void appendRounds(const QJsonArray &parts, const QString &echoFor, QList<ChatMessage> &out)
{
    QString text;
    QString reasoning; // only what the provider wants back (DeepSeek's reasoning_content)
    QString reasoningField;
    QJsonArray calls;
    QStringList answered;
    const auto flush = [&] {
        if (calls.isEmpty()) {
            if (!text.isEmpty()) {
                ChatMessage assistant = plain(u"assistant"_s, text);
                assistant.reasoningContent = reasoning;
                assistant.reasoningField = reasoningField;
                out.append(assistant);
            }
        } else {
            ChatMessage assistant = plain(u"assistant"_s, text);
            assistant.toolCalls = calls;
            assistant.reasoningContent = reasoning;
            assistant.reasoningField = reasoningField;
            out.append(assistant);
        }
        text.clear();
        reasoning.clear();
        calls = {};
    };
    QList<ChatMessage> results;
    for (const QJsonValue &value : parts) {
        const QJsonObject part = value.toObject();
        const QString type = part.value("type"_L1).toString();
        if (type == "reasoning"_L1) {
            if (!results.isEmpty()) { // a new round
                flush();
                out += results;
                results.clear();
            }
            // Only to the provider and model that wrote it: another may refuse the field.
            if (!echoFor.isEmpty() && part.value("echo_for"_L1).toString() == echoFor) {
                reasoning += part.value("text"_L1).toString();
                reasoningField = part.value("echo_field"_L1).toString();
            }
        } else if (type == "text"_L1) {
            if (!results.isEmpty()) {
                flush();
                out += results;
                results.clear();
            }
            text += (text.isEmpty() ? QString() : u"\n\n"_s) + part.value("text"_L1).toString();
        } else if (type == "tool_call"_L1) {
            if (!results.isEmpty()) { // a new round
                flush();
                out += results;
                results.clear();
            }
            calls.append(
                QJsonObject{{u"id"_s, part.value("id"_L1)},
                            {u"type"_s, u"function"_s},
                            {u"function"_s, QJsonObject{{u"name"_s, part.value("function"_L1)},
                                                        {u"arguments"_s, part.value("arguments"_L1)}}}});
        } else if (type == "tool_result"_L1) {
            ChatMessage result;
            result.role = u"tool"_s;
            result.toolCallId = part.value("tool_call_id"_L1).toString();
            const QString resultText = part.value("text"_L1).toString();
            result.toolError = part.value("is_error"_L1).toBool();
            result.content = result.toolError ? u"Error: "_s + resultText : resultText;
            results.append(result);
            answered.append(result.toolCallId);
        }
    }
    for (const QJsonValue &call : std::as_const(calls)) {
        const QString id = call.toObject().value("id"_L1).toString();
        if (!answered.contains(id)) {
            ChatMessage missing;
            missing.role = u"tool"_s;
            missing.toolCallId = id;
            missing.content = u"Error: the tool call did not finish (the reply was stopped)."_s;
            missing.toolError = true;
            results.append(missing);
        }
    }
    flush();
    out += results;
}

} // namespace

QList<ChatMessage> ChatService::history(const Agent &agent, const QList<Message> &messages,
                                        const AttachmentReader &attachments, const QString &echoFor)
{
    QList<ChatMessage> result;
    result.reserve(messages.size() + 2);
    if (!agent.systemPrompt.isEmpty())
        result.append(plain(u"system"_s, agent.systemPrompt));
    if (!agent.greeting.isEmpty())
        result.append(plain(u"assistant"_s, agent.greeting));
    for (const Message &message : messages) {
        // A reply cut short still was seen by the user, so it stays part of the conversation.
        if (message.status == "streaming"_L1)
            continue;
        if (message.role == "assistant"_L1 && !message.parts.isEmpty()) {
            appendRounds(QJsonDocument::fromJson(message.parts.toUtf8()).array(), echoFor, result);
            continue;
        }
        if (message.content.isEmpty() && message.attachments.isEmpty())
            continue;
        if (message.role == "user"_L1) {
            ChatMessage user = plain(message.role, message.content);
            if (attachments && !message.attachments.isEmpty())
                attachments(message, user);
            result.append(user);
        } else if (message.role == "assistant"_L1) {
            result.append(plain(message.role, message.content));
        }
    }
    return result;
}

QString ChatService::withDocuments(const QString &text, const QList<FileRow> &documents, int maxChars)
{
    if (documents.isEmpty())
        return text;
    // A document's own text cannot close its element early and pose as the user.
    static const QRegularExpression closing(u"</(document)"_s, QRegularExpression::CaseInsensitiveOption);
    QString out;
    for (const FileRow &file : documents) {
        out += u"<document name=\"%1\" type=\"%2\""_s.arg(file.name.toHtmlEscaped(), file.mediaType);
        if (file.pages > 0)
            out += u" pages=\"%1\""_s.arg(file.pages);
        out += u">\n"_s;
        if (file.text.trimmed().isEmpty()) {
            out += file.pages > 0
                       ? u"[This PDF has no text layer (a scan?): its pages could not be read as text.]"_s
                       : u"[This file is empty.]"_s;
        } else if (file.text.size() > maxChars) {
            int cut = maxChars;
            if (cut > 0 && file.text.at(cut - 1).isHighSurrogate())
                --cut;
            out += file.text.left(cut).replace(closing, u"<\\/\\1"_s);
            out += u"\n[… cut here: the remaining %1 characters of %2 were not included.]"_s.arg(
                QString::number(file.text.size() - cut), file.name);
        } else {
            out += QString(file.text).replace(closing, u"<\\/\\1"_s);
        }
        out += u"\n</document>\n\n"_s;
    }
    return out + text;
}

QJsonArray ChatService::functionsFor(const QList<ToolInfo> &tools)
{
    QJsonArray functions;
    for (const ToolInfo &tool : tools) {
        QJsonObject parameters = tool.inputSchema;
        if (parameters.isEmpty())
            parameters = {{u"type"_s, u"object"_s}, {u"properties"_s, QJsonObject{}}};
        parameters.remove(u"$schema"_s);
        functions.append(
            QJsonObject{{u"type"_s, u"function"_s},
                        {u"function"_s, QJsonObject{{u"name"_s, tool.function},
                                                    {u"description"_s, tool.description.left(1024)},
                                                    {u"parameters"_s, parameters}}}});
    }
    return functions;
}

ChatService::Started ChatService::start(const Principal &principal, const QString &agentId,
                                        const QString &message, const QString &sessionId,
                                        const Options &options)
{
    const auto agent = m_agents.get(principal.tenantId, agentId);
    if (!agent)
        return refused(
            ApiError::notFound(u"agent_not_found"_s, u"No agent %1 in this tenant"_s.arg(agentId)));
    Turn turn;
    turn.text = message;
    auto release = qScopeGuard([this, &turn] { unclaim(turn); });
    if (!sessionId.isEmpty()) {
        const auto existing = m_sessions.session(principal.tenantId, principal.userId, sessionId);
        if (!existing || existing->agentId != agent->id)
            return refused(ApiError::notFound(
                u"session_not_found"_s, u"No session %1 with this agent for this user"_s.arg(sessionId)));
        turn.session = *existing;
        // Claimed before its branch is read: a reply on another loop could add to it meanwhile.
        if (!claim(turn))
            return refused(busy());
        turn.before = m_sessions.branch(sessionId).value_or(QList<Message>{});
        turn.parentId = turn.before.isEmpty() ? QString() : turn.before.constLast().id;
        if (options.caller) // its messages are the history
            turn.before.clear();
    }
    if (const ApiError error = readFiles(principal, options.attachments, &turn.files); error.isError())
        return refused(error);
    const Started started = launch(principal, *agent, turn, options);
    if (started.turn)
        release.dismiss();
    return started;
}

ChatService::Started ChatService::regenerate(const Principal &principal, const QString &messageId,
                                             const Options &options)
{
    const auto found = m_sessions.ownedMessage(principal.tenantId, principal.userId, messageId);
    if (!found)
        return refused(
            ApiError::notFound(u"message_not_found"_s, u"No message %1 for this user"_s.arg(messageId)));
    Turn turn;
    turn.session = found->first;
    turn.regenerate = true;
    // A reply is regenerated by answering its user message again; a user message gets another answer.
    const QString userMessageId = found->second.role == "user"_L1 ? found->second.id : found->second.parentId;
    return continueAt(principal, turn, userMessageId, options);
}

ChatService::Started ChatService::edit(const Principal &principal, const QString &messageId,
                                       const QString &text, const Options &options)
{
    const auto found = m_sessions.ownedMessage(principal.tenantId, principal.userId, messageId);
    if (!found)
        return refused(
            ApiError::notFound(u"message_not_found"_s, u"No message %1 for this user"_s.arg(messageId)));
    if (found->second.role != "user"_L1)
        return refused(
            ApiError::badRequest(u"not_a_user_message"_s,
                                 u"Only the user's messages can be edited; regenerate a reply instead"_s));
    Turn turn;
    turn.session = found->first;
    turn.text = text;
    // The files go with the words unless the edit names others.
    if (options.keepAttachments)
        turn.files = filesOf(principal, found->second);
    else if (const ApiError error = readFiles(principal, options.attachments, &turn.files); error.isError())
        return refused(error);
    if (text.trimmed().isEmpty() && turn.files.isEmpty())
        return refused(ApiError::badRequest(u"empty_message"_s, u"Field \"message\" must not be empty"_s));
    return continueAt(principal, turn, messageId, options);
}

ChatService::Started ChatService::continueAt(const Principal &principal, Turn &turn,
                                             const QString &userMessageId, const Options &options)
{
    if (!claim(turn))
        return refused(busy());
    auto release = qScopeGuard([this, &turn] { unclaim(turn); });
    const auto agent = m_agents.get(principal.tenantId, turn.session.agentId);
    if (!agent)
        return refused(ApiError::notFound(u"agent_not_found"_s, u"The agent of this session was deleted"_s));
    const auto path = m_sessions.branch(turn.session.id, userMessageId);
    if (!path)
        return refused(
            ApiError::notFound(u"message_not_found"_s, u"No message %1 for this user"_s.arg(userMessageId)));
    for (const Message &message : *path) {
        if (message.id == userMessageId) {
            if (turn.regenerate) { // the same words and files, answered again
                turn.existingUser = message;
                turn.files = filesOf(principal, message);
            }
            turn.parentId = message.parentId;
            break;
        }
        turn.before.append(message);
    }
    if (turn.regenerate && !turn.existingUser)
        return refused(ApiError::badRequest(u"nothing_to_regenerate"_s, u"This reply answers no message"_s));
    const Started started = launch(principal, *agent, turn, options);
    if (started.turn)
        release.dismiss();
    return started;
}

bool ChatService::remember(const Principal &principal, const QString &key, const QString &replyId)
{
    return key.isEmpty() ||
           m_sessions.rememberIdempotencyKey(principal.tenantId, principal.userId, key, replyId);
}

bool ChatService::claim(Turn &turn)
{
    turn.claimed = m_directory->claimSession(turn.session.id, this);
    return turn.claimed;
}

void ChatService::unclaim(Turn &turn)
{
    if (std::exchange(turn.claimed, false))
        m_directory->releaseSession(turn.session.id);
}

ApiError ChatService::readFiles(const Principal &principal, const QStringList &ids, QList<FileRow> *files)
{
    if (ids.isEmpty())
        return {};
    if (ids.size() > maxAttachments)
        return ApiError::badRequest(u"too_many_attachments"_s,
                                    u"A message can carry at most %1 files"_s.arg(maxAttachments));
    for (const QString &id : ids) {
        const auto row = m_files ? m_files->get(principal.tenantId, principal.userId, id) : std::nullopt;
        if (!row)
            return ApiError::notFound(u"file_not_found"_s, u"No file %1 for this user"_s.arg(id));
        files->append(*row);
    }
    return {};
}

QList<FileRow> ChatService::filesOf(const Principal &principal, const Message &message)
{
    QList<FileRow> files;
    if (message.attachments.isEmpty() || !m_files)
        return files;
    for (const QJsonValue &value : QJsonDocument::fromJson(message.attachments.toUtf8()).array()) {
        if (const auto row = m_files->get(principal.tenantId, principal.userId,
                                          value.toObject().value("id"_L1).toString()))
            files.append(*row);
    }
    return files;
}

void ChatService::attach(const QList<FileRow> &files, bool vision, ChatMessage &out,
                         const QSet<QString> *included) const
{
    QList<FileRow> documents;
    QStringList notes;
    for (const FileRow &file : files) {
        const bool sent = !included || included->contains(file.id);
        if (!file.isImage() && sent) {
            documents.append(file);
        } else if (!file.isImage()) {
            notes.append(u"[Document %1 was attached here (%2 characters); it is not repeated.]"_s.arg(
                file.name, QString::number(file.text.size())));
        } else if (!vision) {
            // An image in the history of a chat that now talks to a model that cannot see.
            notes.append(u"[Image %1 not shown: this model cannot see images.]"_s.arg(file.name));
        } else if (!sent) {
            notes.append(u"[Image %1 was shown here; it is not repeated.]"_s.arg(file.name));
        } else {
            out.images.append({file.mediaType, m_files->read(file)});
        }
    }
    out.content = withDocuments(out.content, documents, m_maxDocumentChars);
    for (const QString &note : std::as_const(notes))
        out.content += u'\n' + note;
}

QString ChatService::echoKey(const ProviderConfig &provider, const QString &model)
{
    // A provider removed and made again under its name may speak another protocol, elsewhere.
    return provider.name + u'|' + provider.kind + u'|' + provider.baseUrl.host() + u'|' + model;
}

ApiError ChatService::modelRefusal(const ProviderConfig &provider, const QString &model)
{
    if (provider.allowedModels.isEmpty() || provider.allowedModels.contains(model))
        return {};
    return {
        403, u"model_not_allowed"_s,
        u"The provider \u201c%1\u201d is limited by its admin to %2; \u201c%3\u201d is not one of them"_s.arg(
            provider.name, provider.allowedModels.join(u", "_s), model)};
}

bool ChatService::refusedImages(const ChatOutcome &outcome)
{
    // A request refused for its images says so ("image_url is only supported by certain models",
    // "does not support image input", "unknown variant `image_url`"); a 400 for anything else
    // (too long, a bad parameter) teaches nothing about sight.
    if (outcome.upstreamStatus != 400 && outcome.upstreamStatus != 422)
        return false;
    // The upstream's own words only: the provider's or the model's name may say "vision".
    static const QRegularExpression about(u"image|multimodal|vision (is )?not supported"_s,
                                          QRegularExpression::CaseInsensitiveOption);
    return outcome.upstreamMessage.contains(about);
}

QString ChatService::learnError(const ProviderConfig &provider) const
{
    return m_catalog.learnError(provider, provider.model);
}

void ChatService::learnModel(const ProviderConfig &provider, QObject *context, std::function<void()> done)
{
    m_catalog.learnModel(provider, provider.model, context, std::move(done));
}

ChatService::Started ChatService::refused(const ApiError &error)
{
    Started started;
    started.error = error;
    return started;
}

ApiError ChatService::busy()
{
    return {409, u"session_busy"_s, u"A reply is still being generated in this session; cancel it or wait"_s};
}

ChatService::Started ChatService::launch(const Principal &principal, const Agent &agent, Turn &turn,
                                         const Options &options)
{
    Started started;
    ApiError providerError;
    const auto provider = m_providers.resolve(principal.tenantId, agent.provider, &providerError);
    if (!provider)
        return refused(providerError);

    ChatRequest request;
    // The session's own model, else the agent's, else the provider's.
    const QString sessionModel = options.model ? options.model->trimmed() : turn.session.model;
    request.model = !sessionModel.isEmpty()  ? sessionModel
                    : !agent.model.isEmpty() ? agent.model
                                             : provider->model;
    const QString model = provider->isDemo() ? u"demo"_s : request.model;
    if (const ApiError refusal = modelRefusal(*provider, request.model); refusal.isError())
        return refused(refusal);
    // Ollama says what a model can do and how long a context it has: asked once an hour per model
    // (a failure is not waited for again: the turn goes on without it).
    if (provider->kind == "ollama"_L1) {
        if (!m_catalog.asked(*provider, request.model)) {
            started.askModel = *provider;
            started.askModel->model = request.model;
            return started;
        }
        request.contextWindow = m_catalog.contextLength(*provider, request.model);
    }

    // Images need a model that sees them: asked of the provider when only it can tell, refused
    // before anything starts when it cannot. Images earlier in the chat are described instead.
    const auto hasImages = [](const QList<FileRow> &files) {
        return std::any_of(files.cbegin(), files.cend(), [](const FileRow &f) { return f.isImage(); });
    };
    const bool imagesNow =
        hasImages(turn.files) ||
        (options.caller && std::any_of(options.caller->messages.cbegin(), options.caller->messages.cend(),
                                       [](const ChatMessage &m) { return !m.images.isEmpty(); }));
    const bool imagesBefore = std::any_of(turn.before.cbegin(), turn.before.cend(), [](const Message &m) {
        return m.attachments.contains("\"image/"_L1);
    });
    bool vision = false;
    bool visionAssumed = false;
    if (imagesNow || imagesBefore) {
        const std::optional<bool> known = m_catalog.vision(*provider, request.model);
        if (!known) {
            started.askModel = *provider;
            started.askModel->model = request.model;
            return started;
        }
        vision = *known;
        visionAssumed = vision && !m_catalog.knownVision(*provider, request.model);
        if (imagesNow && !vision)
            return refused(ApiError::badRequest(
                u"model_no_vision"_s,
                provider->isDemo()
                    ? u"The built-in demo cannot look at images; configure a provider whose model can"_s
                    : u"The model \u201c%1\u201d of provider \u201c%2\u201d cannot take images; choose a "
                      u"model that can, or send the message without them"_s.arg(request.model,
                                                                                provider->name)));
    }
    // What of the history's files goes again, newest first within a budget: the images only to a
    // model known to see (one merely assumed to might refuse them, and every later turn with it),
    // the documents up to some times one document's worth of text.
    QHash<QString, QList<FileRow>> historyFiles; // by message id
    QSet<QString> included;
    int images = int(
        std::count_if(turn.files.cbegin(), turn.files.cend(), [](const FileRow &f) { return f.isImage(); }));
    qsizetype documentChars = 0;
    for (auto it = turn.before.crbegin(); it != turn.before.crend(); ++it) {
        if (it->role != "user"_L1 || it->attachments.isEmpty())
            continue;
        const QList<FileRow> files = filesOf(principal, *it);
        historyFiles.insert(it->id, files);
        for (const FileRow &file : files) {
            if (file.isImage() && vision && !visionAssumed && images < maxImagesPerRequest) {
                ++images;
                included.insert(file.id);
            } else if (!file.isImage()) {
                const qsizetype chars = qMin<qsizetype>(file.text.size(), m_maxDocumentChars);
                if (documentChars + chars <= qsizetype(m_maxDocumentChars) * historyDocumentsFactor) {
                    documentChars += chars;
                    included.insert(file.id);
                }
            }
        }
    }
    const AttachmentReader reader = [this, &historyFiles, &included, vision](const Message &message,
                                                                             ChatMessage &out) {
        attach(historyFiles.value(message.id), vision, out, &included);
    };
    const QString echoFor = echoKey(*provider, request.model);
    if (options.caller) {
        if (!agent.systemPrompt.isEmpty())
            request.messages.append(plain(u"system"_s, agent.systemPrompt));
        request.messages += options.caller->messages;
    } else {
        request.messages = history(agent, turn.before, reader, echoFor);
        ChatMessage user = plain(u"user"_s, turn.existingUser ? turn.existingUser->content : turn.text);
        attach(turn.files, vision, user);
        request.messages.append(user);
    }
    QList<ToolInfo> tools;
    QSet<QString> callerFunctions;
    if (options.caller) {
        for (const QJsonValue &tool : options.caller->tools)
            callerFunctions.insert(
                tool.toObject().value("function"_L1).toObject().value("name"_L1).toString());
    }
    if (m_toolHost && !agent.tools.isEmpty()) {
        // The caller's function wins where one of the agent's has its name.
        const QList<ToolInfo> agentTools = m_toolHost->tools(principal.tenantId, agent.tools);
        for (const ToolInfo &tool : agentTools) {
            if (!callerFunctions.contains(tool.function))
                tools.append(tool);
        }
        request.tools = functionsFor(tools);
    }
    request.temperature = agent.temperature;
    request.maxTokens = agent.maxTokens;
    request.reasoningEffort = agent.reasoningEffort;
    if (options.caller) {
        const ChatRequest &caller = *options.caller;
        for (const QJsonValue &tool : caller.tools)
            request.tools.append(tool);
        request.toolChoice = caller.toolChoice;
        request.parallelToolCalls = caller.parallelToolCalls;
        if (caller.temperature)
            request.temperature = caller.temperature;
        if (caller.maxTokens)
            request.maxTokens = caller.maxTokens;
        request.stop = caller.stop;
        request.seed = caller.seed;
    }

    // The request goes upstream first (at once on a kept-alive connection), so the model works on
    // its first token while the user's words are committed; the client sees the stream open only
    // after the commit, and a failed commit withdraws the request.
    LlmStream *stream = m_llm.startChat(*provider, request, this);

    // The session, the user's message and the empty reply are stored in the commit that ends this
    // pass of the loop, with the other starts and ends of the pass (one WAL append for all): their
    // ids are known now, what storing adds (order, parents, times) is not needed before.
    Session &session = turn.session;
    const bool newSession = session.id.isEmpty();
    if (newSession) {
        session.id = Uuid::create();
        session.tenantId = principal.tenantId;
        session.userId = principal.userId;
        session.agentId = agent.id;
        session.title = titleFor(
            turn.text.trimmed().isEmpty() && !turn.files.isEmpty() ? turn.files.first().name : turn.text);
        session.origin = options.caller ? u"api"_s : u"chat"_s;
    }
    const bool modelChanged = !newSession && options.model && sessionModel != session.model;
    session.model = sessionModel;
    Message userMessage = turn.existingUser ? *turn.existingUser : SessionStore::newUserMessage(turn.text);
    if (!turn.existingUser)
        userMessage.id = Uuid::create();
    Message reply = SessionStore::newReply(model);
    reply.id = Uuid::create();
    const auto write = [this, principal, session, newSession, modelChanged, userMessage, reply,
                        existing = bool(turn.existingUser), parentId = turn.parentId,
                        fileIds = attachmentIds(turn.files), key = options.idempotencyKey] {
        // All or nothing, also when it runs again alone (another write of the group failed): from
        // the same copies each time.
        Transaction tx(m_db);
        if (!tx.isActive())
            return false;
        Message user = userMessage;
        Message answer = reply;
        Session newRow = session;
        // A new chat without files: the session and its two messages in one go (the start of most
        // replies, between the request and the first token). Files need the session stored first.
        if (newSession && fileIds.isEmpty())
            return m_sessions.createSession(newRow, {&user, &answer}) &&
                   remember(principal, key, answer.id) && tx.commit();
        if (newSession ? !m_sessions.createSession(newRow)
                       : modelChanged && !m_sessions.setModel(principal.tenantId, principal.userId,
                                                              session.id, session.model))
            return false;
        // The files become the session's (deleted with it) and the message names them.
        if (!existing && !fileIds.isEmpty()) {
            const auto claimed = m_files->claim(principal.tenantId, principal.userId, session.id, fileIds);
            if (!claimed)
                return false;
            user.attachments = attachmentsJson(*claimed);
        }
        const bool appended = existing ? m_sessions.appendMessages(session.id, {&answer}, user.id)
                                       : m_sessions.appendMessages(session.id, {&user, &answer}, parentId);
        return appended && remember(principal, key, answer.id) && tx.commit();
    };
    // Where it runs is known before the reply is: another loop that finds it committed (by its
    // Idempotency-Key) must not take it for a stored reply that is not running anywhere.
    m_directory->addReply(reply.id, this);

    // Checkpoints come from checkpointAll(), for every turn at once.
    auto *chatTurn = new ChatTurn(m_sessions, session, userMessage, reply, this);
    chatTurn->setGroupCommit(m_commits);
    if (!provider->isDemo())
        chatTurn->setProvider(provider->name, provider->baseUrl);
    chatTurn->setEchoKey(echoFor);
    if (!tools.isEmpty() || !callerFunctions.isEmpty()) {
        ChatTurn::Tools config;
        config.clientFunctions = callerFunctions;
        config.canAsk = !options.caller;
        config.host = tools.isEmpty() ? nullptr : m_toolHost;
        config.available = tools;
        config.ask = agent.toolApproval != "auto"_L1;
        config.allowed = agent.allowedTools;
        config.maxSteps = qMax(1, agent.maxSteps);
        config.files = m_files;
        const ProviderConfig providerConfig = *provider;
        config.nextRound = [this, providerConfig, request, chatTurn](const QList<ChatMessage> &round) {
            ChatRequest next = request;
            next.messages += round;
            // A tool the caller forced is for the first answer only, as with OpenAI: forced again,
            // the model could never answer in words.
            if (next.toolChoice.isObject() || next.toolChoice == QJsonValue(u"required"_s))
                next.toolChoice = u"auto"_s;
            return m_llm.startChat(providerConfig, next, chatTurn);
        };
        const QString tenantId = principal.tenantId;
        const QString agentId = agent.id;
        config.rememberAlways = [this, tenantId, agentId](const QString &tool) {
            if (!m_agents.allowTool(tenantId, agentId, tool))
                qCWarning(lcChat) << "could not remember that" << tool << "runs without asking";
        };
        chatTurn->setTools(config);
    }
    if (m_progressIntervalMs > 0 && !m_progressTimer.isActive())
        m_progressTimer.start();
    if (!turn.claimed) // a new session: nobody else knows its id yet
        claim(turn);
    m_turns.insert(session.id, chatTurn);
    m_replies.insert(reply.id, chatTurn);
    const ProviderConfig providerConfig = *provider;
    const QString requestModel = request.model;
    const bool imagesSent = imagesNow && visionAssumed;
    connect(chatTurn, &ChatTurn::ended, this,
            [this, chatTurn, providerConfig, requestModel, imagesSent](const ChatOutcome &outcome) {
                m_turns.remove(chatTurn->session().id);
                m_replies.remove(chatTurn->reply().id);
                m_directory->releaseSession(chatTurn->session().id);
                m_directory->removeReply(chatTurn->reply().id);
                chatTurn->deleteLater();
                // A model only assumed to see has now shown whether it does: images went, and it answered,
                // or refused the request.
                if (imagesSent) {
                    if (outcome.ok && outcome.finishReason != "Cancelled"_L1 &&
                        outcome.finishReason != "Disconnected"_L1)
                        m_catalog.remember(providerConfig, requestModel, true);
                    else if (refusedImages(outcome))
                        m_catalog.remember(providerConfig, requestModel, false);
                }
            });
    qCDebug(lcChat) << "reply" << reply.id << "session" << session.id << "provider" << provider->name
                    << model;
    chatTurn->start(stream);
    chatTurn->setStorePending();
    m_commits->add(chatTurn, write, [chatTurn](bool saved) { chatTurn->setStored(saved); });
    started.turn = chatTurn;
    return started;
}

ApiError ChatService::cancel(const Principal &principal, const QString &sessionId, bool *running)
{
    *running = false;
    if (!m_sessions.session(principal.tenantId, principal.userId, sessionId))
        return ApiError::notFound(u"session_not_found"_s, u"No session %1 for this user"_s.arg(sessionId));
    if (ChatTurn *turn = m_turns.value(sessionId))
        *running = stop(turn);
    return {};
}

ApiError ChatService::cancelReply(const Principal &principal, const QString &replyId, bool *running)
{
    *running = false;
    const Reply found = reply(principal, replyId);
    if (!found.found())
        return ApiError::notFound(u"reply_not_found"_s, u"No reply %1 for this user"_s.arg(replyId));
    if (found.running)
        *running = stop(found.running);
    return {};
}

bool ChatService::stop(ChatTurn *turn)
{
    const bool running = !turn->hasEnded(); // it may have ended in this pass, its end not stored yet
    turn->cancel();
    m_commits->flush(); // ended and stored on return: deleting a session waits for this
    return running;
}

ApiError ChatService::decideToolCall(const Principal &principal, const QString &replyId,
                                     const QString &toolCallId, const QString &decision)
{
    const Reply found = reply(principal, replyId);
    if (!found.found())
        return ApiError::notFound(u"reply_not_found"_s, u"No reply %1 for this user"_s.arg(replyId));
    if (!found.running || found.running->hasEnded())
        return {409, u"reply_ended"_s, u"The reply %1 has ended"_s.arg(replyId)};
    return found.running->decide(toolCallId, decision);
}

void ChatService::onOwner(ChatService *owner, QObject *context,
                          std::function<OwnerAnswer(ChatService &)> work,
                          std::function<void(const OwnerAnswer &)> done)
{
    if (!owner || owner == this)
        return done(work(*this));
    // This service outlives the others' (the server stops them first), so it carries the answer
    // back; `context` is only looked at here, on its own thread.
    QMetaObject::invokeMethod(
        owner,
        [this, owner, guard = QPointer<QObject>(context), work = std::move(work),
         done = std::move(done)]() mutable {
            const OwnerAnswer answer = work(*owner);
            QMetaObject::invokeMethod(
                this,
                [guard = std::move(guard), done = std::move(done), answer] {
                    if (guard)
                        done(answer);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

ChatService::Reply ChatService::reply(const Principal &principal, const QString &replyId)
{
    Reply found;
    ChatTurn *turn = m_replies.value(replyId);
    if (turn && !turn->isStored()) {
        m_commits->flush(); // its start is stored now, or it failed and has ended
        turn = m_replies.value(replyId);
    }
    if (turn) {
        if (turn->session().tenantId == principal.tenantId && turn->session().userId == principal.userId)
            found.running = turn;
        return found;
    }
    if (ChatService *owner = m_directory->replyOwner(replyId); owner && owner != this) {
        found.elsewhere = owner; // that loop checks whose it is
        return found;
    }
    found.stored = m_sessions.storedReply(principal.tenantId, principal.userId, replyId);
    return found;
}

QString ChatService::replyForIdempotencyKey(const Principal &principal, const QString &key)
{
    m_commits->flush(); // a start of this pass may hold the key
    return m_sessions.replyForIdempotencyKey(principal.tenantId, principal.userId, key);
}

void ChatService::interruptAll()
{
    const auto turns = m_turns.values();
    for (ChatTurn *turn : turns)
        turn->interrupt();
    m_commits->flush(); // stored now, not in a pass that may never come
}
