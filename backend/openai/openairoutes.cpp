#include "openairoutes.h"

#include "chat/chatturn.h"
#include "completionrequest.h"
#include "completionwriter.h"
#include "core/uuidutil.h"
#include "files/fileintake.h"
#include "http/requestcontext.h"
#include "http/router.h"
#include "openaierror.h"

#include <QDateTime>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QPointer>
#include <QTcpSocket>
#include <QtConcurrent/QtConcurrentRun>

using namespace Qt::StringLiterals;

// One admitted completion until its reply starts: it holds a place in its user's count.
struct OpenAiRoutes::Call
{
    Principal principal;
    QString agentId;
    QString sessionId;
    CompletionRequest request;
    QList<QPair<QByteArray, QByteArray>> headers; // CORS
    bool chunked = true;
    std::shared_ptr<QHttpServerResponder> responder;
    QPointer<QTcpSocket> socket;
    bool released = false;

    QString userKey() const { return principal.tenantId + u'/' + principal.userId; }
    bool connected() const { return socket && socket->state() == QAbstractSocket::ConnectedState; }
};

namespace {
void sendOpenAiError(QHttpServerResponder &responder, const OpenAiError &error,
                     const QList<QPair<QByteArray, QByteArray>> &headers)
{
    HttpReply::sendJson(responder, error.body(), error.status, headers + error.headers());
}
} // namespace

OpenAiRoutes::OpenAiRoutes(Database &db, ChatService &chat, QObject *parent)
    : QObject(parent), m_chat(chat), m_agents(db)
{
    m_pool.setMaxThreadCount(2);
}

OpenAiRoutes::~OpenAiRoutes()
{
    m_pool.waitForDone();
}

void OpenAiRoutes::registerRoutes(Router &router)
{
    using Method = Router::Method;
    for (const QString &prefix : prefixes()) {
        router.add(Method::Get, prefix + u"models"_s, [this](RequestContext &c) { listModels(c); });
        router.add(Method::Get, prefix + u"models/{}"_s, [this](RequestContext &c) { getModel(c); });
        router.add(Method::Post, prefix + u"chat/completions"_s,
                   [this](RequestContext &c) { completions(c); });
    }
}

QJsonObject OpenAiRoutes::errorBody(int status, const QString &code, const QString &message)
{
    // What OpenAI itself says for these, so that tools which look at `code` understand.
    QString openAiCode = code;
    if (code == "unauthorized"_L1)
        openAiCode = u"invalid_api_key"_s;
    else if (code == "not_found"_L1)
        openAiCode = u"unknown_url"_s;
    return OpenAiError{status, openAiCode, message, {}}.body();
}

QJsonObject OpenAiRoutes::modelJson(const Agent &agent, const QString &owner) const
{
    return {{u"id"_s, agent.id},
            {u"object"_s, u"model"_s},
            {u"created"_s, agent.createdAt.toSecsSinceEpoch()},
            {u"owned_by"_s, owner},
            {u"name"_s, agent.name}};
}

void OpenAiRoutes::listModels(RequestContext &context)
{
    QJsonArray data;
    for (const Agent &agent : m_agents.list(context.principal.tenantId))
        data.append(modelJson(agent, context.principal.tenantName));
    context.sendJson({{u"object"_s, u"list"_s}, {u"data"_s, data}});
}

void OpenAiRoutes::getModel(RequestContext &context)
{
    if (const auto agent = agentFor(context, context.params.value(0)))
        context.sendJson(modelJson(*agent, context.principal.tenantName));
}

std::optional<Agent> OpenAiRoutes::agentFor(RequestContext &context, const QString &model)
{
    const QString tenantId = context.principal.tenantId;
    if (Uuid::isValid(model)) {
        if (auto agent = m_agents.get(tenantId, model.toLower()))
            return agent;
    }
    QList<Agent> named;
    for (const Agent &agent : m_agents.list(tenantId)) {
        if (agent.name == model)
            named.append(agent);
    }
    if (named.size() == 1)
        return named.first();
    const OpenAiError error =
        named.isEmpty()
            ? OpenAiError{404, u"model_not_found"_s,
                          u"The model `%1` does not exist: name one of this tenant's agents by its id or "
                          u"its name (GET /v1/models lists them)"_s.arg(model),
                          u"model"_s}
            : OpenAiError{
                  400, u"ambiguous_model"_s,
                  u"%1 agents are named \u201c%2\u201d: use the id of the one you mean"_s.arg(named.size())
                      .arg(model),
                  u"model"_s};
    sendOpenAiError(context.responder, error, context.extraHeaders);
    return std::nullopt;
}

void OpenAiRoutes::completions(RequestContext &context)
{
    const CompletionRequest::Result decoded = CompletionRequest::decode(context.request.body());
    if (!decoded.ok())
        return sendOpenAiError(context.responder, decoded.error, context.extraHeaders);
    const auto agent = agentFor(context, decoded.request.model);
    if (!agent)
        return;
    auto call = std::make_shared<Call>();
    call->sessionId = QString::fromLatin1(context.request.value("x-agentdesk-session").trimmed()).toLower();
    if (!call->sessionId.isEmpty() && !Uuid::isValid(call->sessionId))
        return sendOpenAiError(
            context.responder,
            {400, u"invalid_session"_s, u"X-AgentDesk-Session must be a session id (a UUID)"_s, {}},
            context.extraHeaders);
    call->principal = context.principal;
    int &running = m_running[call->userKey()];
    if (running >= m_maxPerUser)
        return sendOpenAiError(
            context.responder,
            {429,
             u"rate_limit_exceeded"_s,
             u"At most %1 completions of one user run at once; retry when one is done"_s.arg(m_maxPerUser),
             {}},
            context.extraHeaders);
    ++running; // from here until its reply ends, or it fails to start
    call->agentId = agent->id;
    call->request = decoded.request;
    call->headers = context.extraHeaders;
    call->chunked = !context.http10;
    call->responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    call->socket = call->responder->socket();
    const QList<ChatMessage> &messages = call->request.caller.messages;
    const bool images = std::any_of(messages.cbegin(), messages.cend(),
                                    [](const ChatMessage &m) { return !m.images.isEmpty(); });
    if (images)
        prepareImages(call);
    else
        begin(call);
}

void OpenAiRoutes::prepareImages(const std::shared_ptr<Call> &call)
{
    QList<QByteArray> images;
    for (const ChatMessage &m : std::as_const(call->request.caller.messages)) {
        for (const ChatImage &image : m.images)
            images.append(image.data);
    }
    FileIntake::Limits limits;
    limits.maxBytes = CompletionRequest::maxImageBytes;
    auto *watcher = new QFutureWatcher<QList<FileIntake::Result>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, call] {
        watcher->deleteLater();
        const QList<FileIntake::Result> results = watcher->result();
        qsizetype next = 0;
        for (qsizetype i = 0; i < call->request.caller.messages.size(); ++i) {
            ChatMessage &m = call->request.caller.messages[i];
            for (ChatImage &image : m.images) {
                const FileIntake::Result &result = results.at(next++);
                if (result.error.isError()) {
                    OpenAiError error = OpenAiError::from(result.error);
                    error.status = 400;
                    error.param = u"messages[%1].content"_s.arg(i);
                    return fail(call, error);
                }
                image = {result.mediaType, result.bytes};
            }
        }
        begin(call);
    });
    watcher->setFuture(QtConcurrent::run(&m_pool, [images, limits] {
        QList<FileIntake::Result> results;
        for (const QByteArray &bytes : images)
            results.append(FileIntake::process(bytes, {}, u"image"_s, limits));
        return results;
    }));
}

void OpenAiRoutes::begin(const std::shared_ptr<Call> &call, bool asked)
{
    if (!call->connected())
        return release(call); // the caller left while we waited
    ChatService::Options options;
    options.caller = call->request.caller;
    ChatService::Started started =
        m_chat.start(call->principal, call->agentId, call->request.record, call->sessionId, options);
    if (started.askModel && !asked) {
        // What the model can do is asked of its provider first (Ollama); the answer waits.
        m_chat.learnModel(*started.askModel, this, [this, call] { begin(call, true); });
        return;
    }
    if (started.askModel)
        started.error = {
            502, u"upstream_error"_s,
            u"Could not ask the model provider \u201c%1\u201d about \u201c%2\u201d: %3"_s.arg(
                started.askModel->name, started.askModel->model, m_chat.learnError(*started.askModel))};
    if (started.error.isError())
        return fail(call, OpenAiError::from(started.error));
    answer(call, started.turn);
}

void OpenAiRoutes::answer(const std::shared_ptr<Call> &call, ChatTurn *turn)
{
    if (!turn->isStored()) {
        // Its start is committed at the end of this pass; the caller sees nothing before that.
        return turn->whenStored(this, [this, call, turn](bool stored) {
            stored ? answer(call, turn) : fail(call, OpenAiError::from(ApiError::storage()));
        });
    }
    if (!call->connected()) { // the caller left while it was stored
        release(call);
        return turn->abandon();
    }
    CompletionWriter::Setup setup;
    setup.id = u"chatcmpl-"_s + turn->reply().id;
    setup.model = call->request.model;
    setup.created = QDateTime::currentSecsSinceEpoch();
    setup.stream = call->request.stream;
    setup.includeUsage = call->request.includeUsage;
    setup.callerFunctions = turn->clientFunctions();
    setup.keepAliveMs = m_keepAliveMs;
    setup.chunked = call->chunked;
    setup.headers = call->headers;
    // Where the call is kept: the next call continues it with X-AgentDesk-Session.
    setup.headers.append(qMakePair(QByteArray("X-AgentDesk-Session"), turn->session().id.toLatin1()));
    setup.headers.append(qMakePair(QByteArray("X-AgentDesk-Reply"), turn->reply().id.toLatin1()));
    new CompletionWriter(turn, std::move(*call->responder), setup);
    connect(turn, &ChatTurn::ended, this, [this, call] { release(call); });
}

void OpenAiRoutes::fail(const std::shared_ptr<Call> &call, const OpenAiError &error)
{
    release(call);
    if (!call->connected())
        return;
    HttpReply::sendJsonAndClose(*call->responder, error.body(), error.status,
                                call->headers + error.headers());
}

void OpenAiRoutes::release(const std::shared_ptr<Call> &call)
{
    if (call->released)
        return;
    call->released = true;
    const QString key = call->userKey();
    if (--m_running[key] <= 0)
        m_running.remove(key);
}
