#include "resourceroutes.h"

#include "chat/chatservice.h"
#include "clientconnection.h"
#include "config/providerresolver.h"
#include "config/secretstore.h"
#include "core/uuidutil.h"
#include "files/filestore.h"
#include "jsonview.h"
#include "llm/llmclient.h"
#include "llm/llmstream.h"
#include "llm/modelcatalog.h"
#include "requestcontext.h"
#include "router.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QPointer>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

ResourceRoutes::ResourceRoutes(Database &db, ChatService &chat, ProviderResolver &providers, LlmClient &llm,
                               ModelCatalog &catalog, FileStore *files, QObject *parent)
    : QObject(parent), m_chat(chat), m_providers(providers), m_llm(llm), m_catalog(catalog), m_files(files),
      m_agents(db), m_sessions(db), m_stats(db), m_providerStore(db)
{}

void ResourceRoutes::registerRoutes(Router &router)
{
    using Method = Router::Method;
    const auto bind = [this](void (ResourceRoutes::*handler)(RequestContext &)) {
        return [this, handler](RequestContext &context) {
            (this->*handler)(context);
        };
    };
    router.add(
        Method::Get, u"/api/health"_s,
        [](RequestContext &c) {
            c.sendJson({{u"status"_s, u"ok"_s}, {u"version"_s, QCoreApplication::applicationVersion()}});
        },
        Router::Public);
    router.add(Method::Get, u"/api/agents"_s, bind(&ResourceRoutes::listAgents));
    router.add(Method::Post, u"/api/agents"_s, bind(&ResourceRoutes::createAgent));
    router.add(Method::Get, u"/api/agents/{}"_s, bind(&ResourceRoutes::getAgent));
    router.add(Method::Put, u"/api/agents/{}"_s, bind(&ResourceRoutes::updateAgent));
    router.add(Method::Patch, u"/api/agents/{}"_s, bind(&ResourceRoutes::updateAgent));
    router.add(Method::Delete, u"/api/agents/{}"_s, bind(&ResourceRoutes::deleteAgent));
    router.add(Method::Get, u"/api/agents/{}/stats"_s, bind(&ResourceRoutes::agentStats));
    router.add(Method::Get, u"/api/sessions"_s, bind(&ResourceRoutes::listSessions));
    router.add(Method::Get, u"/api/sessions/{}"_s, bind(&ResourceRoutes::getSession));
    router.add(Method::Patch, u"/api/sessions/{}"_s, bind(&ResourceRoutes::renameSession));
    router.add(Method::Delete, u"/api/sessions/{}"_s, bind(&ResourceRoutes::deleteSession));
    router.add(Method::Get, u"/api/sessions/{}/messages"_s, bind(&ResourceRoutes::sessionMessages));
    router.add(Method::Post, u"/api/sessions/{}/branch"_s, bind(&ResourceRoutes::switchBranch));
    router.add(Method::Post, u"/api/sessions/{}/fork"_s, bind(&ResourceRoutes::forkSession));
    router.add(Method::Get, u"/api/providers"_s, bind(&ResourceRoutes::listProviders));
    router.add(Method::Put, u"/api/providers/{}"_s, bind(&ResourceRoutes::putProvider), Router::AdminOnly);
    router.add(Method::Delete, u"/api/providers/{}"_s, bind(&ResourceRoutes::deleteProvider),
               Router::AdminOnly);
    router.add(Method::Post, u"/api/providers/{}/test"_s, bind(&ResourceRoutes::testProvider),
               Router::AdminOnly);
    router.add(Method::Get, u"/api/providers/{}/models"_s, bind(&ResourceRoutes::providerModels));
    router.add(Method::Get, u"/api/stats"_s, bind(&ResourceRoutes::tenantStats));
}

bool ResourceRoutes::readId(RequestContext &context, int index, QString *id, const QString &what)
{
    *id = context.params.value(index).toLower();
    if (Uuid::isValid(*id))
        return true;
    context.sendError(400, u"invalid_uuid"_s, u"The %1 id is not a UUID"_s.arg(what));
    return false;
}

// --- agents

void ResourceRoutes::listAgents(RequestContext &context)
{
    QJsonArray agents;
    for (const Agent &agent : m_agents.list(context.principal.tenantId))
        agents.append(JsonView::agent(agent));
    context.sendJson({{u"agents"_s, agents}});
}

void ResourceRoutes::createAgent(RequestContext &context)
{
    const auto body = context.jsonBody();
    if (!body)
        return;
    Agent agent;
    agent.tenantId = context.principal.tenantId;
    if (const ApiError error = JsonView::applyAgent(*body, agent, true); error.isError())
        return context.sendError(error.status, error.code, error.message);
    if (!m_agents.create(agent))
        return context.sendError(500, u"storage_error"_s, u"The agent could not be saved"_s);
    context.sendJson(JsonView::agent(agent), 201);
}

void ResourceRoutes::getAgent(RequestContext &context)
{
    QString id;
    if (!readId(context, 0, &id, u"agent"_s))
        return;
    const auto agent = m_agents.get(context.principal.tenantId, id);
    if (!agent)
        return context.sendError(404, u"agent_not_found"_s, u"No agent %1 in this tenant"_s.arg(id));
    context.sendJson(JsonView::agent(*agent));
}

void ResourceRoutes::updateAgent(RequestContext &context)
{
    QString id;
    if (!readId(context, 0, &id, u"agent"_s))
        return;
    auto agent = m_agents.get(context.principal.tenantId, id);
    if (!agent)
        return context.sendError(404, u"agent_not_found"_s, u"No agent %1 in this tenant"_s.arg(id));
    const auto body = context.jsonBody();
    if (!body)
        return;
    if (const ApiError error = JsonView::applyAgent(*body, *agent, false); error.isError())
        return context.sendError(error.status, error.code, error.message);
    if (!m_agents.update(*agent))
        return context.sendError(500, u"storage_error"_s, u"The agent could not be saved"_s);
    context.sendJson(JsonView::agent(*agent));
}

void ResourceRoutes::deleteAgent(RequestContext &context)
{
    QString id;
    if (!readId(context, 0, &id, u"agent"_s))
        return;
    if (!m_agents.remove(context.principal.tenantId, id))
        return context.sendError(404, u"agent_not_found"_s, u"No agent %1 in this tenant"_s.arg(id));
    context.sendNoContent();
}

void ResourceRoutes::agentStats(RequestContext &context)
{
    QString id;
    if (!readId(context, 0, &id, u"agent"_s))
        return;
    if (!m_agents.get(context.principal.tenantId, id))
        return context.sendError(404, u"agent_not_found"_s, u"No agent %1 in this tenant"_s.arg(id));
    AgentStats stats = m_stats.agentStats(context.principal.tenantId, id);
    stats.agentId = id;
    context.sendJson(JsonView::stats(stats));
}

void ResourceRoutes::tenantStats(RequestContext &context)
{
    AgentStats stats = m_stats.tenantStats(context.principal.tenantId);
    stats.agentId.clear();
    context.sendJson(JsonView::stats(stats));
}

// --- sessions

void ResourceRoutes::listSessions(RequestContext &context)
{
    const QUrlQuery query = context.request.query();
    const QString agentId = query.queryItemValue(u"agent_id"_s, QUrl::FullyDecoded).toLower();
    if (!agentId.isEmpty() && !Uuid::isValid(agentId))
        return context.sendError(400, u"invalid_uuid"_s, u"Parameter agent_id is not a UUID"_s);
    const QString filter = query.queryItemValue(u"q"_s, QUrl::FullyDecoded);
    // The /v1 surface's sessions (one per call) would bury the window's: listed only when asked.
    QString origin = query.queryItemValue(u"origin"_s, QUrl::FullyDecoded);
    if (origin.isEmpty())
        origin = u"chat"_s;
    else if (origin == "all"_L1)
        origin.clear();
    else if (origin != "chat"_L1 && origin != "api"_L1)
        return context.sendError(400, u"invalid_origin"_s, u"Parameter origin must be chat, api or all"_s);
    QJsonArray sessions;
    for (const Session &session :
         m_sessions.sessions(context.principal.tenantId, context.principal.userId, agentId, filter, origin))
        sessions.append(JsonView::session(session, m_chat.isStreaming(session.id)));
    context.sendJson({{u"sessions"_s, sessions}});
}

void ResourceRoutes::getSession(RequestContext &context)
{
    QString id;
    if (!readId(context, 0, &id, u"session"_s))
        return;
    const auto session = m_sessions.session(context.principal.tenantId, context.principal.userId, id);
    if (!session)
        return context.sendError(404, u"session_not_found"_s, u"No session %1 for this user"_s.arg(id));
    context.sendJson(JsonView::session(*session, m_chat.isStreaming(id)));
}

std::optional<Session> ResourceRoutes::ownSession(RequestContext &context)
{
    QString id;
    if (!readId(context, 0, &id, u"session"_s))
        return std::nullopt;
    auto session = m_sessions.session(context.principal.tenantId, context.principal.userId, id);
    if (!session)
        context.sendError(404, u"session_not_found"_s, u"No session %1 for this user"_s.arg(id));
    return session;
}

// A message id from the query or the body: empty when absent; false (answered) when malformed.
static bool readMessageId(RequestContext &context, const QJsonValue &value, QString *id)
{
    if (value.isUndefined() || value.isNull())
        return true;
    *id = value.toString().toLower();
    if (!value.isString() || !Uuid::isValid(*id)) {
        context.sendError(400, u"invalid_uuid"_s, u"Field \"message_id\" is not a UUID"_s);
        return false;
    }
    return true;
}

void ResourceRoutes::sendBranch(RequestContext &context, const Session &session, const QString &throughId)
{
    const auto branch = m_sessions.branch(session.id, throughId);
    if (!branch)
        return context.sendError(404, u"message_not_found"_s,
                                 u"No message %1 in session %2"_s.arg(throughId, session.id));
    QJsonArray messages;
    for (const Message &message : *branch)
        messages.append(JsonView::message(message));
    context.sendJson({{u"messages"_s, messages},
                      {u"leaf_id"_s, branch->isEmpty() ? QJsonValue() : QJsonValue(branch->constLast().id)}});
}

void ResourceRoutes::sessionMessages(RequestContext &context)
{
    const auto session = ownSession(context);
    if (!session)
        return;
    const QUrlQuery query = context.request.query();
    QString through;
    if (query.hasQueryItem(u"branch"_s) &&
        !readMessageId(context, query.queryItemValue(u"branch"_s, QUrl::FullyDecoded), &through))
        return;
    sendBranch(context, *session, through);
}

void ResourceRoutes::switchBranch(RequestContext &context)
{
    const auto session = ownSession(context);
    if (!session)
        return;
    const auto body = context.jsonBody();
    if (!body)
        return;
    QString through;
    if (!readMessageId(context, body->value(u"message_id"_s), &through))
        return;
    if (through.isEmpty())
        return context.sendError(400, u"missing_field"_s, u"Field \"message_id\" is required"_s);
    // Held while the branch changes: a reply starting on another loop would build on the old one.
    TurnDirectory &directory = m_chat.directory();
    if (!directory.claimSession(session->id, &m_chat))
        return context.sendError(ChatService::busy());
    const bool activated = m_sessions.activateBranch(session->id, through).has_value();
    directory.releaseSession(session->id);
    if (!activated)
        return context.sendError(404, u"message_not_found"_s,
                                 u"No message %1 in session %2"_s.arg(through, session->id));
    sendBranch(context, *session, {});
}

void ResourceRoutes::forkSession(RequestContext &context)
{
    const auto session = ownSession(context);
    if (!session)
        return;
    const auto body = context.jsonBody();
    if (!body)
        return;
    QString at;
    if (!readMessageId(context, body->value(u"message_id"_s), &at))
        return;
    const QJsonValue title = body->value(u"title"_s);
    if (!title.isUndefined() &&
        (!title.isString() || title.toString().trimmed().isEmpty() || title.toString().size() > 200))
        return context.sendError(400, u"invalid_field"_s,
                                 u"Field \"title\" must be a non-empty string of at most 200 characters"_s);
    if (at.isEmpty()) { // the whole active branch
        const auto branch = m_sessions.branch(session->id);
        if (!branch || branch->isEmpty())
            return context.sendError(400, u"empty_session"_s, u"The session has no messages to fork"_s);
        at = branch->constLast().id;
    }
    const auto message = m_sessions.message(session->id, at);
    if (!message)
        return context.sendError(404, u"message_not_found"_s,
                                 u"No message %1 in session %2"_s.arg(at, session->id));
    if (message->status == "streaming"_L1)
        return context.sendError(409, u"reply_streaming"_s,
                                 u"The reply is still being generated; fork it once it ends"_s);
    const auto forked =
        m_sessions.fork(*session, at, title.isString() ? title.toString().trimmed() : session->title);
    if (!forked)
        return context.sendError(500, u"storage_error"_s, u"Could not store the new session"_s);
    context.sendJson(JsonView::session(*forked, false), 201);
}

void ResourceRoutes::renameSession(RequestContext &context)
{
    const auto session = ownSession(context);
    if (!session)
        return;
    const auto body = context.jsonBody();
    if (!body)
        return;
    const QJsonValue title = body->value(u"title"_s);
    const QJsonValue pinned = body->value(u"pinned"_s);
    const QJsonValue model = body->value(u"model"_s);
    if (title.isUndefined() && pinned.isUndefined() && model.isUndefined())
        return context.sendError(400, u"missing_field"_s, u"Give \"title\", \"pinned\" or \"model\""_s);
    if (!model.isUndefined() && !model.isNull() && (!model.isString() || model.toString().size() > 200))
        return context.sendError(400, u"invalid_field"_s,
                                 u"Field \"model\" must be a string of at most 200 characters, or null"_s);
    if (!title.isUndefined() &&
        (!title.isString() || title.toString().trimmed().isEmpty() || title.toString().size() > 200))
        return context.sendError(400, u"invalid_field"_s,
                                 u"Field \"title\" must be a non-empty string of at most 200 characters"_s);
    if (!pinned.isUndefined() && !pinned.isBool())
        return context.sendError(400, u"invalid_field"_s, u"Field \"pinned\" must be a boolean"_s);
    const Principal &p = context.principal;
    if (model.isString() && !model.toString().trimmed().isEmpty()) {
        // Refused now rather than at the next message: the provider's admin may limit its models.
        const auto agent = m_agents.get(p.tenantId, session->agentId);
        const auto provider =
            agent ? m_providers.resolve(p.tenantId, agent->provider, nullptr) : std::nullopt;
        if (provider) {
            if (const ApiError refusal = ChatService::modelRefusal(*provider, model.toString().trimmed());
                refusal.isError())
                return context.sendError(refusal);
        }
    }
    if ((!title.isUndefined() &&
         !m_sessions.rename(p.tenantId, p.userId, session->id, title.toString().trimmed())) ||
        (!pinned.isUndefined() &&
         !m_sessions.setPinned(p.tenantId, p.userId, session->id, pinned.toBool())) ||
        (!model.isUndefined() &&
         !m_sessions.setModel(p.tenantId, p.userId, session->id, model.toString().trimmed())))
        return context.sendError(404, u"session_not_found"_s,
                                 u"No session %1 for this user"_s.arg(session->id));
    context.sendJson(JsonView::session(*m_sessions.session(p.tenantId, p.userId, session->id),
                                       m_chat.isStreaming(session->id)));
}

void ResourceRoutes::deleteSession(RequestContext &context)
{
    QString id;
    if (!readId(context, 0, &id, u"session"_s))
        return;
    const Principal &p = context.principal;
    if (!m_sessions.session(p.tenantId, p.userId, id))
        return context.sendError(404, u"session_not_found"_s, u"No session %1 for this user"_s.arg(id));
    // A reply still streaming into it would write to a deleted session: it is stopped first, on
    // the loop that runs it, and the session is held while it goes (nothing starts in it meanwhile).
    const auto cancel = [p, id](ChatService &chat) {
        ChatService::OwnerAnswer answer;
        answer.error = chat.cancel(p, id, &answer.running);
        return answer;
    };
    ChatService *owner = m_chat.directory().sessionOwner(id);
    if (!owner || owner == &m_chat) {
        cancel(m_chat);
        if (const ApiError error = removeSession(p, id); error.isError())
            return context.sendError(error);
        return context.sendNoContent();
    }
    m_chat.onOwner(owner, this, cancel,
                   [this, p, id, client = ClientConnection::take(context)](const ChatService::OwnerAnswer &) {
                       if (const ApiError error = removeSession(p, id); error.isError())
                           return client.sendError(error);
                       client.sendNoContent();
                   });
}

ApiError ResourceRoutes::removeSession(const Principal &p, const QString &id)
{
    TurnDirectory &directory = m_chat.directory();
    if (!directory.claimSession(id, &m_chat))
        return ChatService::busy(); // a new reply started in it meanwhile
    // Its files go with it, and their bytes when no other file names them.
    const QStringList hashes = m_files ? m_files->hashesOf(id) : QStringList();
    m_sessions.remove(p.tenantId, p.userId, id);
    if (m_files)
        m_files->drop(hashes);
    directory.releaseSession(id);
    return {};
}

// --- providers

static bool validProviderName(const QString &name)
{
    static const QRegularExpression pattern(u"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"_s);
    return pattern.match(name).hasMatch() && name != "demo"_L1 && name != "env"_L1 && name != "default"_L1;
}

void ResourceRoutes::listProviders(RequestContext &context)
{
    QJsonArray providers;
    SecretStore *secrets = m_providers.secrets();
    for (const ProviderRow &row : m_providerStore.list(context.principal.tenantId)) {
        const bool hasKey = secrets && !secrets->read(ProviderResolver::secretKey(row.id)).isEmpty();
        providers.append(JsonView::provider(row, hasKey));
    }
    if (const auto &env = m_providers.environmentProvider()) {
        ProviderRow row;
        row.name = env->name;
        row.kind = env->kind;
        row.baseUrl = env->baseUrl.toString();
        row.model = env->model;
        row.connectTimeoutMs = env->connectTimeoutMs;
        row.stallTimeoutMs = env->stallTimeoutMs;
        row.vision = env->vision;
        QJsonObject json = JsonView::provider(row, !env->apiKey.isEmpty());
        json.insert(u"read_only"_s, true); // comes from OPENAI_* variables
        providers.append(json);
    }
    context.sendJson({{u"providers"_s, providers}});
}

void ResourceRoutes::putProvider(RequestContext &context)
{
    const QString name = context.params.value(0);
    if (!validProviderName(name))
        return context.sendError(400, u"invalid_field"_s,
                                 u"Provider names are 1-64 letters, digits, '.', '_' or '-' "
                                 "(demo, env and default are reserved)"_s);
    const auto body = context.jsonBody();
    if (!body)
        return;
    const QString tenantId = context.principal.tenantId;
    ProviderRow row = m_providerStore.byName(tenantId, name).value_or(ProviderRow{});
    row.tenantId = tenantId;
    row.name = name;
    if (row.kind.isEmpty())
        row.kind = u"openai"_s;
    for (const char *field : {"base_url", "model", "api_key", "kind", "vision"}) {
        const QJsonValue value = body->value(QLatin1String(field));
        if (!value.isUndefined() && !value.isString())
            return context.sendError(400, u"invalid_field"_s,
                                     u"Field \"%1\" must be a string"_s.arg(QLatin1String(field)));
    }
    if (body->contains(u"base_url"_s)) {
        const QUrl url(body->value(u"base_url"_s).toString(), QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != "http"_L1 && url.scheme() != "https"_L1) ||
            url.host().isEmpty())
            return context.sendError(400, u"invalid_field"_s, u"Field \"base_url\" must be an http(s) URL"_s);
        row.baseUrl = url.toString();
    }
    if (row.baseUrl.isEmpty())
        return context.sendError(400, u"invalid_field"_s, u"Field \"base_url\" is required"_s);
    if (body->contains(u"model"_s))
        row.model = body->value(u"model"_s).toString();
    if (body->contains(u"kind"_s)) {
        row.kind = body->value(u"kind"_s).toString();
        if (!ProviderConfig::isKnownKind(row.kind))
            return context.sendError(400, u"invalid_field"_s,
                                     u"Field \"kind\" must be \"openai\", \"anthropic\" or \"ollama\""_s);
    }
    if (body->contains(u"vision"_s)) {
        row.vision = body->value(u"vision"_s).toString();
        if (row.vision != "auto"_L1 && row.vision != "yes"_L1 && row.vision != "no"_L1)
            return context.sendError(400, u"invalid_field"_s,
                                     u"Field \"vision\" must be \"auto\", \"yes\" or \"no\""_s);
    }
    if (body->contains(u"allowed_models"_s)) {
        const QJsonValue value = body->value(u"allowed_models"_s);
        QStringList models;
        for (const QJsonValue &item : value.toArray()) {
            const QString model = item.toString().trimmed();
            if (!item.isString() || model.isEmpty() || model.size() > 200)
                return context.sendError(400, u"invalid_field"_s,
                                         u"Field \"allowed_models\" must be a list of model names"_s);
            if (!models.contains(model))
                models.append(model);
        }
        if ((!value.isArray() && !value.isNull()) || models.size() > 500)
            return context.sendError(
                400, u"invalid_field"_s,
                u"Field \"allowed_models\" must be a list of at most 500 model names, or null"_s);
        row.allowedModels = models;
    }
    for (auto [field, member] : {std::pair{"connect_timeout_ms", &ProviderRow::connectTimeoutMs},
                                 std::pair{"stall_timeout_ms", &ProviderRow::stallTimeoutMs}}) {
        const QJsonValue value = body->value(QLatin1String(field));
        if (value.isUndefined())
            continue;
        if (!value.isDouble() || value.toDouble() < 100 || value.toDouble() > 3600000)
            return context.sendError(
                400, u"invalid_field"_s,
                u"Field \"%1\" must be milliseconds from 100 to 3600000"_s.arg(QLatin1String(field)));
        row.*member = value.toInt();
    }
    if (body->contains(u"is_default"_s))
        row.isDefault = body->value(u"is_default"_s).toBool();
    if (!m_providerStore.upsert(row))
        return context.sendError(500, u"storage_error"_s, u"The provider could not be saved"_s);
    SecretStore *secrets = m_providers.secrets();
    if (body->contains(u"api_key"_s) && secrets) {
        const QString key = body->value(u"api_key"_s).toString();
        if (key.isEmpty())
            secrets->remove(ProviderResolver::secretKey(row.id));
        else if (!secrets->write(ProviderResolver::secretKey(row.id), key))
            return context.sendError(500, u"storage_error"_s, u"The API key could not be stored"_s);
    }
    const bool hasKey = secrets && !secrets->read(ProviderResolver::secretKey(row.id)).isEmpty();
    context.sendJson(JsonView::provider(row, hasKey));
}

void ResourceRoutes::deleteProvider(RequestContext &context)
{
    const QString name = context.params.value(0);
    const auto row = m_providerStore.byName(context.principal.tenantId, name);
    if (!row)
        return context.sendError(404, u"provider_not_found"_s, u"No provider named %1"_s.arg(name));
    m_providerStore.remove(context.principal.tenantId, name);
    if (SecretStore *secrets = m_providers.secrets())
        secrets->remove(ProviderResolver::secretKey(row->id));
    context.sendNoContent();
}

void ResourceRoutes::testProvider(RequestContext &context)
{
    const QString name = context.params.value(0);
    ApiError error;
    const auto provider = m_providers.resolve(context.principal.tenantId, name, &error);
    if (!provider)
        return context.sendError(error.status, error.code, error.message);
    ChatRequest request;
    request.messages = {{u"user"_s, u"Reply with the word OK."_s}};
    request.model = provider->model;
    request.maxTokens = 5;
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    QPointer<QTcpSocket> socket = responder->socket();
    auto timer = std::make_shared<QElapsedTimer>();
    timer->start();
    LlmStream *stream = m_llm.startChat(*provider, request, this);
    connect(stream, &LlmStream::finished, this, [=](const LlmCompletion &completion) {
        stream->deleteLater();
        if (!socket)
            return; // the client left; writing now would crash Qt 6.4
        HttpReply::sendJsonAndClose(
            *responder,
            {{u"ok"_s, true}, {u"model"_s, completion.model}, {u"latency_ms"_s, timer->elapsed()}});
    });
    connect(stream, &LlmStream::failed, this, [=](const LlmError &failure) {
        stream->deleteLater();
        if (!socket)
            return;
        HttpReply::sendJsonAndClose(*responder,
                                    {{u"ok"_s, false},
                                     {u"latency_ms"_s, timer->elapsed()},
                                     {u"error"_s, QJsonObject{{u"code"_s, failure.code},
                                                              {u"message"_s, failure.message},
                                                              {u"status"_s, failure.httpStatus}}}});
    });
}

void ResourceRoutes::providerModels(RequestContext &context)
{
    const QString name = context.params.value(0);
    ApiError error;
    const auto provider = m_providers.resolve(context.principal.tenantId, name, &error);
    if (!provider)
        return context.sendError(error.status, error.code, error.message);
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    QPointer<QTcpSocket> socket = responder->socket();
    const auto headers = context.extraHeaders;
    const ProviderConfig config = *provider;
    m_catalog.models(
        config, this, [this, responder, socket, headers, config](const ModelCatalog::Listing &listing) {
            if (!socket || socket->state() != QAbstractSocket::ConnectedState)
                return; // the client left; writing now would crash Qt 6.4
            // An admin's list is what users may pick from, whatever else the provider has.
            const QStringList &allowed = config.allowedModels;
            if (!listing.ok() && allowed.isEmpty()) {
                const int status = listing.error.kind == LlmError::Timeout ? 504 : 502;
                QString message = u"The model provider \u201c%1\u201d did not list its models: %2"_s.arg(
                    config.name, listing.error.message);
                if (listing.error.httpStatus == 401 || listing.error.httpStatus == 403)
                    message += u" Check the provider's API key in Settings."_s;
                return HttpReply::sendJsonAndClose(
                    *responder, HttpReply::errorBody(listing.error.code, message), status, headers);
            }
            QJsonArray models;
            QList<ModelInfo> listed = listing.models;
            if (!allowed.isEmpty()) {
                listed.removeIf([&allowed](const ModelInfo &m) { return !allowed.contains(m.id); });
                for (const QString &id : allowed) {
                    if (std::none_of(listed.cbegin(), listed.cend(),
                                     [&id](const ModelInfo &m) { return m.id == id; }))
                        listed.append(ModelInfo{id});
                }
                std::sort(listed.begin(), listed.end(),
                          [](const ModelInfo &a, const ModelInfo &b) { return a.id < b.id; });
            }
            for (const ModelInfo &model : std::as_const(listed)) {
                QJsonObject json{{u"id"_s, model.id}};
                json.insert(u"name"_s,
                            model.name.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(model.name));
                json.insert(u"owned_by"_s, model.ownedBy.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                   : QJsonValue(model.ownedBy));
                if (model.created > 0)
                    json.insert(u"created"_s, model.created);
                if (model.size > 0)
                    json.insert(u"size"_s, model.size);
                const std::optional<bool> vision = m_catalog.knownVision(config, model.id);
                json.insert(u"vision"_s, vision ? QJsonValue(*vision) : QJsonValue(QJsonValue::Null));
                models.append(json);
            }
            HttpReply::sendJsonAndClose(*responder,
                                        {{u"provider"_s, config.name},
                                         {u"kind"_s, config.kind},
                                         {u"default_model"_s, config.model},
                                         {u"models"_s, models},
                                         {u"cached"_s, listing.cached}},
                                        200, headers);
        });
}
