#pragma once

#include "search/searchindex.h"

#include <QObject>

class Database;
class Router;
struct RequestContext;

// GET /api/search?q=…&limit=…: the caller's sessions whose messages contain every term, ranked,
// with highlighted snippets of the messages that matched.
class SearchRoutes : public QObject
{
    Q_OBJECT
public:
    explicit SearchRoutes(Database &db, QObject *parent = nullptr);
    void registerRoutes(Router &router);

private:
    void search(RequestContext &context);

    SearchIndex m_index;
};
