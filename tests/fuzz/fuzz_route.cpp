// Fuzz target: request targets through URL parsing, the router and UUID checks
// (backend/http/router.*, backend/core/uuidutil.*). Checks the router against the route table's
// own rules and Uuid::isValid against a plain reference implementation.
#include "core/uuidutil.h"
#include "fuzzutil.h"
#include "http/router.h"

#include <QUrl>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace {

using Method = Router::Method;

// The API's route table (ChatRoutes and ResourceRoutes register these).
const QList<QPair<Method, QString>> &routes()
{
    static const QList<QPair<Method, QString>> table{
        {Method::Get, u"/api/health"_s},
        {Method::Get, u"/api/agents"_s},
        {Method::Post, u"/api/agents"_s},
        {Method::Get, u"/api/agents/{}"_s},
        {Method::Put, u"/api/agents/{}"_s},
        {Method::Patch, u"/api/agents/{}"_s},
        {Method::Delete, u"/api/agents/{}"_s},
        {Method::Get, u"/api/agents/{}/stats"_s},
        {Method::Post, u"/api/agents/{}/chat/stream"_s},
        {Method::Get, u"/api/agents/{}/chat/stream"_s},
        {Method::Post, u"/api/agents/{}/chat"_s},
        {Method::Get, u"/api/sessions"_s},
        {Method::Get, u"/api/sessions/{}"_s},
        {Method::Patch, u"/api/sessions/{}"_s},
        {Method::Delete, u"/api/sessions/{}"_s},
        {Method::Get, u"/api/sessions/{}/messages"_s},
        {Method::Post, u"/api/sessions/{}/cancel"_s},
        {Method::Get, u"/api/replies/{}/stream"_s},
        {Method::Post, u"/api/replies/{}/cancel"_s},
        {Method::Post, u"/api/stream-tickets"_s},
        {Method::Get, u"/api/providers"_s},
        {Method::Put, u"/api/providers/{}"_s},
        {Method::Delete, u"/api/providers/{}"_s},
        {Method::Post, u"/api/providers/{}/test"_s},
        {Method::Get, u"/api/stats"_s},
    };
    return table;
}

const Router &router()
{
    static const Router instance = [] {
        Router r;
        for (qsizetype i = 0; i < routes().size(); ++i)
            r.add(routes().at(i).first, routes().at(i).second, [](RequestContext &) {});
        return r;
    }();
    return instance;
}

// The canonical 8-4-4-4-12 hex form, nothing else.
bool referenceIsUuid(const QString &text)
{
    if (text.size() != 36)
        return false;
    for (qsizetype i = 0; i < 36; ++i) {
        const QChar c = text.at(i);
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != u'-')
                return false;
        } else if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F'))) {
            return false;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const Method methods[] = {Method::Get,    Method::Post, Method::Put,     Method::Patch,
                                     Method::Delete, Method::Head, Method::Options, Method::Unknown};
    const Method method = methods[data[0] % 8];
    const QByteArray target(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    // What QHttpServerRequest 6.4 does with the request target, then what ApiServer does.
    const QUrl url = QUrl::fromEncoded(target);
    const QString path = url.path(QUrl::FullyEncoded);
    const Router::Match match = router().match(method, path);

    if (match.route) {
        FUZZ_CHECK(match.route->method == method);
        qsizetype captures = 0;
        for (const QString &segment : match.route->segments)
            captures += segment == u"{}"_s;
        FUZZ_CHECK(match.params.size() == captures);
        // Rebuilt from its own captures (encoded again), the path matches the same way.
        QString rebuilt;
        qsizetype next = 0;
        for (const QString &segment : match.route->segments) {
            rebuilt += u'/';
            rebuilt += segment == u"{}"_s
                           ? QString::fromLatin1(QUrl::toPercentEncoding(match.params.at(next++)))
                           : segment;
        }
        const Router::Match again = router().match(method, rebuilt);
        FUZZ_CHECK(again.route == match.route);
        FUZZ_CHECK(again.params == match.params);
    } else {
        for (const Method allowed : match.allowed)
            FUZZ_CHECK(allowed != method);
    }

    // Each id the routes would check, and the raw input as one: Uuid::isValid is exactly the
    // canonical form, and what it accepts QUuid reads back to the same text.
    QStringList candidates = match.params;
    candidates.append(QString::fromUtf8(target));
    candidates.append(QString::fromLatin1(target));
    for (const QString &candidate : std::as_const(candidates)) {
        const bool valid = Uuid::isValid(candidate);
        FUZZ_CHECK(valid == referenceIsUuid(candidate));
        if (valid)
            FUZZ_CHECK(QUuid::fromString(candidate).toString(QUuid::WithoutBraces) == candidate.toLower());
    }
    return 0;
}
