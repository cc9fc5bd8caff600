#include "searchroutes.h"

#include "jsonview.h"
#include "requestcontext.h"
#include "router.h"

#include <QJsonArray>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

SearchRoutes::SearchRoutes(Database &db, QObject *parent) : QObject(parent), m_index(db) {}

void SearchRoutes::registerRoutes(Router &router)
{
    router.add(Router::Method::Get, u"/api/search"_s, [this](RequestContext &c) { search(c); });
}

void SearchRoutes::search(RequestContext &context)
{
    const QUrlQuery query = context.request.query();
    const QString text = query.queryItemValue(u"q"_s, QUrl::FullyDecoded).trimmed();
    if (text.isEmpty())
        return context.sendError(400, u"missing_query"_s, u"Parameter q (the words to find) is required"_s);
    if (text.size() > SearchIndex::maxQueryLength)
        return context.sendError(400, u"query_too_long"_s,
                                 u"Parameter q is over %1 characters"_s.arg(SearchIndex::maxQueryLength));
    int limit = 20;
    if (query.hasQueryItem(u"limit"_s)) {
        bool ok = false;
        limit = query.queryItemValue(u"limit"_s).toInt(&ok);
        if (!ok || limit < 1 || limit > 100)
            return context.sendError(400, u"invalid_limit"_s, u"Parameter limit must be 1 to 100"_s);
    }
    QJsonArray results;
    for (const SearchIndex::Result &result :
         m_index.search(context.principal.tenantId, context.principal.userId, text, limit)) {
        QJsonArray hits;
        for (const SearchIndex::Hit &hit : result.hits)
            hits.append(QJsonObject{{u"message_id"_s, hit.messageId},
                                    {u"role"_s, hit.role},
                                    {u"snippet"_s, hit.snippet},
                                    {u"created_at"_s, JsonView::timestamp(hit.createdAt)}});
        results.append(QJsonObject{{u"session_id"_s, result.sessionId},
                                   {u"agent_id"_s, result.agentId},
                                   {u"title"_s, result.title},
                                   {u"title_html"_s, result.titleHtml},
                                   {u"updated_at"_s, JsonView::timestamp(result.updatedAt)},
                                   {u"score"_s, result.score},
                                   {u"total_hits"_s, result.totalHits},
                                   {u"hits"_s, hits}});
    }
    context.sendJson({{u"query"_s, text},
                      {u"terms"_s, QJsonArray::fromStringList(SearchIndex::terms(text))},
                      {u"results"_s, results}});
}
