#include "searchindex.h"

#include "storage/database.h"
#include "storage/statement.h"
#include "storage/storageutil.h"

#include <QHash>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace {

// Candidates read per search: enough for any person's history; the newest win past it.
constexpr int maxCandidates = 2000;
constexpr int hitsPerSession = 3;

qsizetype codePoints(const QString &text)
{
    return text.toUcs4().size();
}

// An FTS5 string: double quotes doubled. Quoted, a term is matched as a substring.
QString ftsString(const QString &term)
{
    QString quoted = term;
    quoted.replace(u'"', u"\"\""_s);
    return u'"' + quoted + u'"';
}

void appendEscaped(QString &out, QStringView text)
{
    for (const QChar c : text) {
        switch (c.unicode()) {
        case '<':
            out += u"&lt;"_s;
            break;
        case '>':
            out += u"&gt;"_s;
            break;
        case '&':
            out += u"&amp;"_s;
            break;
        case '"':
            out += u"&quot;"_s;
            break;
        case '\n':
        case '\r':
        case '\t':
            out += u' ';
            break;
        default:
            out += c;
        }
    }
}

} // namespace

QStringList SearchIndex::terms(const QString &query)
{
    QStringList result;
    for (const QString &term : query.simplified().split(u' ', Qt::SkipEmptyParts)) {
        if (result.size() == maxTerms)
            break;
        if (!result.contains(term, Qt::CaseInsensitive))
            result.append(term);
    }
    // Longest first, so a term inside another is highlighted as part of the longer one.
    std::stable_sort(result.begin(), result.end(),
                     [](const QString &a, const QString &b) { return a.size() > b.size(); });
    return result;
}

int SearchIndex::occurrences(const QString &text, const QStringList &terms)
{
    int count = 0;
    for (const QString &term : terms)
        count += int(text.count(term, Qt::CaseInsensitive));
    return count;
}

QString SearchIndex::highlight(const QString &text, const QStringList &terms)
{
    QString out;
    out.reserve(text.size() + 32);
    qsizetype plainFrom = 0;
    for (qsizetype i = 0; i < text.size();) {
        qsizetype matched = 0;
        for (const QString &term : terms) {
            if (QStringView(text).mid(i, term.size()).compare(term, Qt::CaseInsensitive) == 0) {
                matched = term.size();
                break;
            }
        }
        if (matched == 0) {
            ++i;
            continue;
        }
        appendEscaped(out, QStringView(text).mid(plainFrom, i - plainFrom));
        out += u"<mark>"_s;
        appendEscaped(out, QStringView(text).mid(i, matched));
        out += u"</mark>"_s;
        i += matched;
        plainFrom = i;
    }
    appendEscaped(out, QStringView(text).mid(plainFrom));
    return out;
}

QString SearchIndex::snippet(const QString &text, const QStringList &terms, int radius)
{
    qsizetype first = -1;
    for (const QString &term : terms) {
        const qsizetype at = text.indexOf(term, 0, Qt::CaseInsensitive);
        if (at >= 0 && (first < 0 || at < first))
            first = at;
    }
    if (first < 0)
        first = 0;
    qsizetype from = qMax<qsizetype>(0, first - radius);
    qsizetype to = qMin(text.size(), first + 2 * radius);
    // Never half a surrogate pair at either cut.
    if (from > 0 && text.at(from).isLowSurrogate())
        --from;
    if (to < text.size() && to > 0 && text.at(to - 1).isHighSurrogate())
        ++to;
    QString result = highlight(text.mid(from, to - from), terms).trimmed();
    if (from > 0)
        result.prepend(u'…');
    if (to < text.size())
        result.append(u'…');
    return result;
}

int SearchIndex::catchUp(int limit)
{
    if (!m_db.isSqlite())
        return 0;
    Transaction tx(m_db);
    if (!tx.isActive())
        return 0;
    int added = 0;
    {
        // The literal 'streaming' and "indexed = 0" let SQLite use the partial index.
        Statement q(m_db, u"INSERT INTO messages_fts (rowid, content) SELECT rowid, content FROM messages"
                          u" WHERE indexed = 0 AND status <> 'streaming' ORDER BY rowid LIMIT ?"_s);
        q.bind(limit);
        if (!q.exec())
            return 0;
        added = q.rowsAffected();
    }
    if (added > 0) {
        Statement q(m_db, u"UPDATE messages SET indexed = 1 WHERE rowid IN (SELECT rowid FROM messages"
                          u" WHERE indexed = 0 AND status <> 'streaming' ORDER BY rowid LIMIT ?)"_s);
        q.bind(limit);
        if (!q.exec() || q.rowsAffected() != added)
            return 0; // the transaction rolls back: nothing half-indexed
    }
    return tx.commit() ? added : 0;
}

QList<SearchIndex::Result> SearchIndex::search(const QString &tenantId, const QString &userId,
                                               const QString &query, int limit)
{
    const QStringList words = terms(query);
    QList<Result> results;
    if (words.isEmpty())
        return results;
    while (catchUp() > 0) {
    }

    // The index narrows by the terms it can use (SQLite's trigrams need three characters);
    // LIKE / ILIKE checks the others.
    QStringList indexed;
    QStringList scanned;
    for (const QString &word : words)
        (m_db.isSqlite() && codePoints(word) >= 3 ? indexed : scanned).append(word);
    QString sql =
        u"SELECT m.id, m.session_id, m.role, m.content, m.created_at, s.title, s.agent_id, s.updated_at"
        u" FROM messages m JOIN sessions s ON s.id = m.session_id"
        u" WHERE s.tenant_id = ? AND s.user_id = ? AND m.status <> 'streaming'"_s;
    if (!indexed.isEmpty())
        sql += u" AND m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"_s;
    const QString like =
        m_db.isSqlite() ? u" AND m.content LIKE ? ESCAPE '!'"_s : u" AND m.content ILIKE ? ESCAPE '!'"_s;
    for (qsizetype i = 0; i < scanned.size(); ++i)
        sql += like;
    sql += u" ORDER BY m.created_at DESC LIMIT %1"_s.arg(maxCandidates);

    QHash<QString, qsizetype> bySession;
    {
        Statement q(m_db, sql);
        q.bind(tenantId).bind(userId);
        if (!indexed.isEmpty()) {
            QStringList match;
            for (const QString &word : std::as_const(indexed))
                match.append(ftsString(word));
            q.bind(match.join(u" AND "_s));
        }
        for (const QString &word : std::as_const(scanned))
            q.bind(StorageUtil::containsPattern(word));
        if (!q.exec())
            return results;
        while (q.next()) {
            const QString content = q.value(3).toString();
            // Every term, whatever the engine matched (case folding differs between them).
            if (!std::all_of(words.cbegin(), words.cend(),
                             [&](const QString &w) { return content.contains(w, Qt::CaseInsensitive); }))
                continue;
            const QString sessionId = q.value(1).toString();
            auto it = bySession.find(sessionId);
            if (it == bySession.end()) {
                Result result;
                result.sessionId = sessionId;
                result.title = q.value(5).toString();
                result.agentId = q.value(6).toString();
                result.updatedAt = StorageUtil::fromMs(q.value(7));
                const int inTitle = occurrences(result.title, words);
                result.score = 2 * inTitle;
                result.titleHtml = highlight(result.title, words);
                results.append(result);
                it = bySession.insert(sessionId, results.size() - 1);
            }
            Result &result = results[*it];
            Hit hit;
            hit.messageId = q.value(0).toString();
            hit.role = q.value(2).toString();
            hit.matches = occurrences(content, words);
            hit.createdAt = StorageUtil::fromMs(q.value(4));
            hit.snippet = snippet(content, words);
            result.score += hit.matches;
            ++result.totalHits;
            result.hits.append(hit);
        }
    }
    for (Result &result : results) {
        std::stable_sort(result.hits.begin(), result.hits.end(),
                         [](const Hit &a, const Hit &b) { return a.matches > b.matches; });
        if (result.hits.size() > hitsPerSession)
            result.hits.resize(hitsPerSession);
    }
    std::stable_sort(results.begin(), results.end(), [](const Result &a, const Result &b) {
        return a.score != b.score ? a.score > b.score : a.updatedAt > b.updatedAt;
    });
    if (results.size() > limit)
        results.resize(limit);
    return results;
}
