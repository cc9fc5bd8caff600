#pragma once

#include <QObject>

class McpRegistry;
class Router;
struct McpServerRow;
struct RequestContext;
class QJsonObject;

// The tenant's MCP servers: GET /api/mcp/servers[/{name}] for every user, PUT and DELETE for
// admins. A PUT answers once the server connected or failed (at most a few seconds), so the
// answer says whether it works and which tools it has.
class McpRoutes : public QObject
{
    Q_OBJECT
public:
    explicit McpRoutes(McpRegistry &registry, QObject *parent = nullptr);
    void registerRoutes(Router &router);

    static constexpr int putAnswerWithinMs = 15000;

private:
    void list(RequestContext &context);
    void get(RequestContext &context);
    void put(RequestContext &context);
    void remove(RequestContext &context);
    QJsonObject view(const McpServerRow &row) const;

    McpRegistry &m_registry;
};
