#pragma once

#include <QHttpServerRequest>
#include <QList>
#include <QStringList>

#include <functional>

struct RequestContext;

// Method + path pattern table. Patterns are literal segments and `{}` captures (one non-empty
// segment each), so a known path with a wrong method can answer 405 rather than 404.
class Router
{
public:
    using Method = QHttpServerRequest::Method;
    using Handler = std::function<void(RequestContext &)>;

    enum RouteFlag {
        NoFlags = 0,
        Public = 1,     // no bearer token needed
        QueryToken = 2, // the token may come as ?access_token= (EventSource cannot send headers)
        AdminOnly = 4,  // configuring the tenant (providers, MCP servers): 403 for other tokens
    };

    struct Route
    {
        Method method;
        QStringList segments;
        int flags = NoFlags;
        Handler handler;
    };

    struct Match
    {
        const Route *route = nullptr;
        QStringList params;
        QList<Method> allowed; // for 405 when the path exists under other methods
    };

    void add(Method method, const QString &pattern, Handler handler, int flags = NoFlags);
    Match match(Method method, const QString &path) const;

    static QByteArray methodName(Method method);

private:
    static bool matchSegments(const Route &route, const QList<QStringView> &segments, QStringList *params);

    QList<Route> m_routes;
};
