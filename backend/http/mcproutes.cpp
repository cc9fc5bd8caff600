#include "mcproutes.h"

#include "jsonview.h"
#include "mcp/mcpregistry.h"
#include "requestcontext.h"
#include "router.h"

#include <QJsonArray>
#include <QPointer>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace {

const QString masked = u"***"_s;

bool validName(const QString &name)
{
    static const QRegularExpression pattern(u"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"_s);
    return pattern.match(name).hasMatch();
}

// A JSON object of strings, for env and headers; `kept` fills in values sent back as "***".
std::optional<QHash<QString, QString>> stringMap(const QJsonValue &value, const QHash<QString, QString> &kept)
{
    QHash<QString, QString> map;
    if (value.isUndefined() || value.isNull())
        return map;
    if (!value.isObject())
        return std::nullopt;
    const QJsonObject object = value.toObject();
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!it.value().isString() || it.key().isEmpty() || it.key().contains(u'\n') ||
            it.key().contains(u'\r'))
            return std::nullopt;
        const QString v = it.value().toString();
        if (v.contains(u'\n') || v.contains(u'\r'))
            return std::nullopt;
        map.insert(it.key(), v == masked ? kept.value(it.key()) : v);
    }
    return map;
}

QJsonObject maskedMap(const QStringList &names)
{
    QJsonObject object;
    for (const QString &name : names)
        object.insert(name, masked);
    return object;
}

} // namespace

McpRoutes::McpRoutes(McpRegistry &registry, QObject *parent) : QObject(parent), m_registry(registry) {}

void McpRoutes::registerRoutes(Router &router)
{
    using Method = Router::Method;
    router.add(Method::Get, u"/api/mcp/servers"_s, [this](RequestContext &c) { list(c); });
    router.add(Method::Get, u"/api/mcp/servers/{}"_s, [this](RequestContext &c) { get(c); });
    router.add(
        Method::Put, u"/api/mcp/servers/{}"_s, [this](RequestContext &c) { put(c); }, Router::AdminOnly);
    router.add(
        Method::Delete, u"/api/mcp/servers/{}"_s, [this](RequestContext &c) { remove(c); },
        Router::AdminOnly);
}

QJsonObject McpRoutes::view(const McpServerRow &row) const
{
    QJsonObject json{
        {u"name"_s, row.name},
        {u"transport"_s, row.transport},
        {u"timeout_ms"_s, row.timeoutMs},
        {u"created_at"_s, JsonView::timestamp(row.createdAt)},
        {u"updated_at"_s, JsonView::timestamp(row.updatedAt)},
    };
    if (row.transport == "http"_L1) {
        json.insert(u"url"_s, row.url);
        json.insert(u"headers"_s, maskedMap(row.headerNames));
    } else {
        json.insert(u"command"_s, row.command);
        json.insert(u"args"_s, QJsonArray::fromStringList(row.args));
        json.insert(u"env"_s, maskedMap(row.envNames));
    }
    const McpClient *client = m_registry.client(row.tenantId, row.name);
    json.insert(u"status"_s, client ? client->statusName() : u"stopped"_s);
    json.insert(u"error"_s,
                client && !client->error().isEmpty() ? QJsonValue(client->error()) : QJsonValue::Null);
    json.insert(u"protocol_version"_s, client && !client->protocolVersion().isEmpty()
                                           ? QJsonValue(client->protocolVersion())
                                           : QJsonValue::Null);
    QJsonArray tools;
    if (client && client->status() == McpClient::Status::Connected) {
        for (const ToolInfo &tool : client->tools()) {
            tools.append(QJsonObject{{u"name"_s, tool.name},
                                     {u"description"_s, tool.description},
                                     {u"input_schema"_s, tool.inputSchema}});
        }
    }
    json.insert(u"tools"_s, tools);
    return json;
}

void McpRoutes::list(RequestContext &context)
{
    QJsonArray servers;
    for (const McpServerRow &row : m_registry.servers(context.principal.tenantId))
        servers.append(view(row));
    context.sendJson({{u"servers"_s, servers}});
}

void McpRoutes::get(RequestContext &context)
{
    const auto row = m_registry.server(context.principal.tenantId, context.params.value(0));
    if (!row)
        return context.sendError(404, u"mcp_server_not_found"_s,
                                 u"No MCP server named %1"_s.arg(context.params.value(0)));
    context.sendJson(view(*row));
}

void McpRoutes::put(RequestContext &context)
{
    const QString name = context.params.value(0);
    if (!validName(name))
        return context.sendError(400, u"invalid_field"_s,
                                 u"MCP server names are 1-32 letters, digits, '_' or '-'"_s);
    const auto body = context.jsonBody();
    if (!body)
        return;
    const QString tenantId = context.principal.tenantId;
    const auto existing = m_registry.server(tenantId, name);
    McpServerRow row = existing.value_or(McpServerRow{});
    row.tenantId = tenantId;
    row.name = name;
    const QString transport =
        body->value(u"transport"_s).toString(existing ? existing->transport : QString());
    if (transport != "stdio"_L1 && transport != "http"_L1)
        return context.sendError(400, u"invalid_field"_s,
                                 u"Field \"transport\" must be \"stdio\" or \"http\""_s);
    row.transport = transport;
    const McpRegistry::Secrets kept = existing ? m_registry.secrets(existing->id) : McpRegistry::Secrets{};
    McpRegistry::Secrets secrets;
    if (transport == "stdio"_L1) {
        const QJsonValue command = body->value(u"command"_s);
        if (!command.isUndefined())
            row.command = command.toString();
        if (row.command.trimmed().isEmpty())
            return context.sendError(400, u"invalid_field"_s, u"Field \"command\" is required for stdio"_s);
        const QJsonValue args = body->value(u"args"_s);
        if (!args.isUndefined()) {
            if (!args.isArray())
                return context.sendError(400, u"invalid_field"_s,
                                         u"Field \"args\" must be a list of strings"_s);
            row.args.clear();
            for (const QJsonValue &arg : args.toArray()) {
                if (!arg.isString())
                    return context.sendError(400, u"invalid_field"_s,
                                             u"Field \"args\" must be a list of strings"_s);
                row.args.append(arg.toString());
            }
        }
        row.url.clear();
        row.headerNames.clear();
        const auto env = stringMap(
            body->contains(u"env"_s) ? body->value(u"env"_s) : QJsonValue(QJsonValue::Undefined), kept.env);
        if (!env)
            return context.sendError(400, u"invalid_field"_s,
                                     u"Field \"env\" must be an object of strings"_s);
        secrets.env = body->contains(u"env"_s) ? *env : kept.env;
    } else {
        const QJsonValue url = body->value(u"url"_s);
        if (!url.isUndefined())
            row.url = url.toString();
        const QUrl parsed(row.url, QUrl::StrictMode);
        if (!parsed.isValid() || (parsed.scheme() != "http"_L1 && parsed.scheme() != "https"_L1) ||
            parsed.host().isEmpty())
            return context.sendError(400, u"invalid_field"_s, u"Field \"url\" must be an http(s) URL"_s);
        row.command.clear();
        row.args.clear();
        row.envNames.clear();
        const auto headers = stringMap(body->value(u"headers"_s), kept.headers);
        if (!headers)
            return context.sendError(400, u"invalid_field"_s,
                                     u"Field \"headers\" must be an object of strings"_s);
        secrets.headers = body->contains(u"headers"_s) ? *headers : kept.headers;
    }
    const QJsonValue timeout = body->value(u"timeout_ms"_s);
    if (!timeout.isUndefined()) {
        if (!timeout.isDouble() || timeout.toDouble() < 1000 || timeout.toDouble() > 3600000)
            return context.sendError(400, u"invalid_field"_s,
                                     u"Field \"timeout_ms\" must be milliseconds from 1000 to 3600000"_s);
        row.timeoutMs = timeout.toInt();
    }
    row.envNames = secrets.env.keys();
    row.headerNames = secrets.headers.keys();
    row.envNames.sort();
    row.headerNames.sort();
    if (const ApiError error = m_registry.put(row, secrets, false); error.isError())
        return context.sendError(error.status, error.code, error.message);

    // Answer once the server connected or failed, so the answer shows it (its tools, its error).
    McpClient *client = m_registry.client(tenantId, name);
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    QPointer<QTcpSocket> socket = responder->socket();
    const int status = existing ? 200 : 201;
    const auto headers = context.extraHeaders;
    auto answered = std::make_shared<bool>(false);
    auto answer = [this, responder, socket, headers, status, answered, tenantId, name] {
        if (*answered)
            return;
        *answered = true;
        if (!socket || socket->state() != QAbstractSocket::ConnectedState)
            return;
        const auto saved = m_registry.server(tenantId, name);
        if (saved)
            HttpReply::sendJsonAndClose(*responder, view(*saved), status, headers);
    };
    if (!client || client->status() == McpClient::Status::Connected ||
        client->status() == McpClient::Status::Error) {
        answer();
        return;
    }
    connect(client, &McpClient::statusChanged, this, [client, answer] {
        if (client->status() == McpClient::Status::Connected || client->status() == McpClient::Status::Error)
            answer();
    });
    QTimer::singleShot(putAnswerWithinMs, this, answer);
}

void McpRoutes::remove(RequestContext &context)
{
    if (!m_registry.remove(context.principal.tenantId, context.params.value(0)))
        return context.sendError(404, u"mcp_server_not_found"_s,
                                 u"No MCP server named %1"_s.arg(context.params.value(0)));
    context.sendNoContent();
}
