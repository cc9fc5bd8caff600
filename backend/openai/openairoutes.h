#pragma once

#include "chat/chatservice.h"
#include "storage/agentstore.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QThreadPool>

#include <memory>

class Database;
class Router;
struct OpenAiError;
struct RequestContext;

// The OpenAI-compatible surface, at /v1 and /api/v1: the tenant's agents as models, and chat
// completions with them (streamed or whole) for every tool that speaks the OpenAI API. Calls use
// the same tokens and tenancy; each is kept as a session of its agent with origin "api", and
// `X-AgentDesk-Session` continues one. Errors come in OpenAI's shape (errorBody()).
class OpenAiRoutes : public QObject
{
    Q_OBJECT
public:
    OpenAiRoutes(Database &db, ChatService &chat, QObject *parent = nullptr);
    ~OpenAiRoutes() override;

    void registerRoutes(Router &router);
    void setKeepAliveInterval(int ms) { m_keepAliveMs = ms; }
    // Completions one user may run at once; more are answered 429 with Retry-After.
    void setMaxConcurrentPerUser(int n) { m_maxPerUser = n; }
    static constexpr int defaultMaxConcurrentPerUser = 16;

    // The path prefixes whose errors are OpenAI's shape, and that shape (ApiServer::setErrorBody).
    static QStringList prefixes() { return {QStringLiteral("/v1/"), QStringLiteral("/api/v1/")}; }
    static QJsonObject errorBody(int status, const QString &code, const QString &message);

private:
    struct Call;
    void listModels(RequestContext &context);
    void getModel(RequestContext &context);
    void completions(RequestContext &context);
    // The agent a `model` names: its id, or its name when one agent has it. Answers and returns
    // nothing when none (or several) does.
    std::optional<Agent> agentFor(RequestContext &context, const QString &model);
    QJsonObject modelJson(const Agent &agent, const QString &owner) const;
    // The caller's images as the models take them (scaled, turned upright), off this thread.
    void prepareImages(const std::shared_ptr<Call> &call);
    // Starts the reply (after asking the provider about its model once, where it must be).
    void begin(const std::shared_ptr<Call> &call, bool asked = false);
    // Answers with the turn once its start is stored.
    void answer(const std::shared_ptr<Call> &call, ChatTurn *turn);
    void fail(const std::shared_ptr<Call> &call, const OpenAiError &error);
    void release(const std::shared_ptr<Call> &call);

    ChatService &m_chat;
    AgentStore m_agents;
    int m_keepAliveMs = 15000;
    int m_maxPerUser = defaultMaxConcurrentPerUser;
    QHash<QString, int> m_running; // admitted calls, by tenant/user
    QThreadPool m_pool;            // reading the callers' images
};
