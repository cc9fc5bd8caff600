#include "router.h"

#include <QUrl>

void Router::add(Method method, const QString &pattern, Handler handler, int flags)
{
    m_routes.append({method, pattern.split(u'/', Qt::SkipEmptyParts), flags, std::move(handler)});
}

bool Router::matchSegments(const Route &route, const QList<QStringView> &segments, QStringList *params)
{
    if (route.segments.size() != segments.size())
        return false;
    QStringList captured;
    for (qsizetype i = 0; i < segments.size(); ++i) {
        // Decoded per segment, so an encoded "/" ("..%2F..") stays inside its segment.
        const QString segment = QUrl::fromPercentEncoding(segments.at(i).toUtf8());
        if (route.segments.at(i) == QLatin1String("{}"))
            captured.append(segment);
        else if (route.segments.at(i) != segment)
            return false;
    }
    *params = captured;
    return true;
}

Router::Match Router::match(Method method, const QString &path) const
{
    // Empty segments ("//") would otherwise let "/api//agents" alias "/api/agents".
    const QList<QStringView> segments = QStringView(path).split(u'/', Qt::SkipEmptyParts);
    Match result;
    for (const Route &route : m_routes) {
        QStringList params;
        if (!matchSegments(route, segments, &params))
            continue;
        if (route.method == method) {
            result.route = &route;
            result.params = params;
            return result;
        }
        result.allowed.append(route.method);
    }
    return result;
}

QByteArray Router::methodName(Method method)
{
    switch (method) {
    case Method::Get:
        return "GET";
    case Method::Put:
        return "PUT";
    case Method::Delete:
        return "DELETE";
    case Method::Post:
        return "POST";
    case Method::Head:
        return "HEAD";
    case Method::Options:
        return "OPTIONS";
    case Method::Patch:
        return "PATCH";
    default:
        return "UNKNOWN";
    }
}
