#include "searchresultmodel.h"

#include "apiclient.h"

#include <QJsonArray>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
// StyledText knows <b>, not <mark>.
QString styled(QString html)
{
    return html.replace(u"<mark>"_s, u"<b>"_s).replace(u"</mark>"_s, u"</b>"_s);
}
} // namespace

SearchResultModel::SearchResultModel(ApiClient *api, QObject *parent) : QAbstractListModel(parent), m_api(api)
{
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(250);
    connect(&m_debounce, &QTimer::timeout, this, &SearchResultModel::send);
}

int SearchResultModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_results.size());
}

QVariant SearchResultModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_results.size())
        return {};
    const Result &r = m_results.at(index.row());
    switch (role) {
    case SessionIdRole:
        return r.sessionId;
    case MessageIdRole:
        return r.messageId;
    case TitleHtmlRole:
        return r.titleHtml;
    case SnippetHtmlRole:
        return r.snippetHtml;
    case MatchesRole:
        return r.matches;
    case WhenRole:
        return r.when.toLocalTime().toString(u"yyyy-MM-dd"_s);
    }
    return {};
}

QHash<int, QByteArray> SearchResultModel::roleNames() const
{
    return {{SessionIdRole, "sessionId"},     {MessageIdRole, "messageId"}, {TitleHtmlRole, "titleHtml"},
            {SnippetHtmlRole, "snippetHtml"}, {MatchesRole, "matches"},     {WhenRole, "when"}};
}

QList<SearchResultModel::Result> SearchResultModel::fromJson(const QJsonObject &answer)
{
    QList<Result> out;
    for (const QJsonValue &v : answer.value("results"_L1).toArray()) {
        const QJsonObject o = v.toObject();
        const QJsonObject best = o.value("hits"_L1).toArray().at(0).toObject();
        Result r;
        r.sessionId = o.value("session_id"_L1).toString();
        r.messageId = best.value("message_id"_L1).toString();
        r.titleHtml = styled(o.value("title_html"_L1).toString());
        r.snippetHtml = styled(best.value("snippet"_L1).toString());
        r.matches = o.value("total_hits"_L1).toInt();
        r.when = QDateTime::fromString(best.value("created_at"_L1).toString(), Qt::ISODateWithMs);
        out.append(r);
    }
    return out;
}

void SearchResultModel::search(const QString &query)
{
    const QString q = query.simplified().left(200);
    if (q == m_query)
        return;
    m_query = q;
    Q_EMIT queryChanged();
    ++m_generation;
    if (q.isEmpty()) {
        m_debounce.stop();
        beginResetModel();
        m_results.clear();
        endResetModel();
        m_busy = false;
        m_error.clear();
        Q_EMIT busyChanged();
        Q_EMIT countChanged();
        return;
    }
    m_debounce.start();
}

void SearchResultModel::send()
{
    const int generation = m_generation;
    m_busy = true;
    Q_EMIT busyChanged();
    QUrlQuery query;
    query.addQueryItem(u"q"_s, QString::fromLatin1(QUrl::toPercentEncoding(m_query)));
    query.addQueryItem(u"limit"_s, u"30"_s);
    m_api->get(u"/api/search"_s, query, this, [this, generation](const ApiResult &r) {
        if (generation != m_generation)
            return; // typed on since
        m_busy = false;
        m_error = r.ok() ? QString() : r.message;
        beginResetModel();
        m_results = r.ok() ? fromJson(r.json) : QList<Result>{};
        endResetModel();
        Q_EMIT busyChanged();
        Q_EMIT countChanged();
    });
}
