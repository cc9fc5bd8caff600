#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

class Database;

// Full-text search over a user's messages: SQLite's FTS5 trigram index, PostgreSQL's pg_trgm
// index (both match inside words, so Chinese needs no word breaks). Candidates come from the
// index; the terms are then checked, counted and highlighted here, so both engines give the
// same results in the same order.
class SearchIndex
{
public:
    explicit SearchIndex(Database &db) : m_db(db) {}

    static constexpr int maxQueryLength = 200;
    static constexpr int maxTerms = 8;

    struct Hit
    {
        QString messageId;
        QString role;
        QString snippet; // HTML: the text escaped, every term in <mark>…</mark>
        int matches = 0;
        QDateTime createdAt;
    };
    struct Result
    {
        QString sessionId;
        QString agentId;
        QString title;
        QString titleHtml; // the title escaped, terms marked
        QDateTime updatedAt;
        int score = 0;     // term occurrences in its messages, and the title's count twice
        int totalHits = 0; // messages that match
        QList<Hit> hits;   // the best few, most matches first
    };

    // Adds to SQLite's index up to `limit` finished messages it does not hold yet; how many
    // (0 on PostgreSQL, whose index keeps itself up to date). search() calls it first.
    int catchUp(int limit = 5000);

    // Sessions whose messages (or title) contain every term of `query`, best first.
    QList<Result> search(const QString &tenantId, const QString &userId, const QString &query,
                         int limit = 20);

    // Whitespace-separated terms, each at most once (case-insensitive), at most maxTerms.
    static QStringList terms(const QString &query);
    // How often `term` occurs in `text`, ignoring case.
    static int occurrences(const QString &text, const QStringList &terms);
    // Up to `radius` characters either side of the first term found, HTML-escaped, terms marked.
    static QString snippet(const QString &text, const QStringList &terms, int radius = 60);
    static QString highlight(const QString &text, const QStringList &terms);

private:
    Database &m_db;
};
