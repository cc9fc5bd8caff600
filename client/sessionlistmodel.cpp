#include "sessionlistmodel.h"

#include "agentlistmodel.h"

#include <QLocale>
#include <QRegularExpression>
#include <algorithm>

using namespace Qt::StringLiterals;

SessionListModel::SessionListModel(QObject *parent) : QAbstractListModel(parent) {}

void SessionListModel::setAgentModel(AgentListModel *agents)
{
    m_agents = agents;
    auto refresh = [this] {
        rebuild();
    };
    connect(agents, &QAbstractItemModel::modelReset, this, refresh);
    connect(agents, &QAbstractItemModel::dataChanged, this, refresh);
    connect(agents, &QAbstractItemModel::rowsInserted, this, refresh);
    connect(agents, &QAbstractItemModel::rowsRemoved, this, refresh);
}

QString SessionListModel::agentName(const QString &agentId) const
{
    const QString name = m_agents ? m_agents->nameOf(agentId) : QString();
    return name.isEmpty() ? tr("Other agent") : name;
}

int SessionListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_visible.size());
}

static QString shortLabel(const QDateTime &dt)
{
    if (!dt.isValid())
        return {};
    const QDateTime local = dt.toLocalTime();
    const QLocale locale;
    if (local.date() == QDate::currentDate())
        return locale.toString(local.time(), QLocale::ShortFormat);
    if (local.date().year() == QDate::currentDate().year())
        return locale.toString(local.date(), locale.dateFormat(QLocale::ShortFormat)
                                                 .remove(u"yyyy"_s)
                                                 .remove(u"yy"_s)
                                                 .remove(QRegularExpression(u"^\\W+|\\W+$"_s)));
    return locale.toString(local.date(), QLocale::ShortFormat);
}

QVariant SessionListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SessionItem &s = m_all.at(m_visible.at(index.row()));
    switch (role) {
    case Qt::DisplayRole:
    case TitleRole:
        return s.title.isEmpty() ? tr("New chat") : s.title;
    case IdRole:
        return s.id;
    case AgentIdRole:
        return s.agentId;
    case AgentNameRole:
        return agentName(s.agentId);
    case SectionRole:
        return s.pinned ? tr("Pinned") : agentName(s.agentId);
    case PinnedRole:
        return s.pinned;
    case OriginRole:
        return s.origin;
    case MessageCountRole:
        return s.messageCount;
    case CreatedAtRole:
        return s.createdAt;
    case UpdatedAtRole:
        return s.updatedAt;
    case UpdatedLabelRole:
        return shortLabel(s.updatedAt.isValid() ? s.updatedAt : s.createdAt);
    case StreamingRole:
        return s.streaming;
    }
    return {};
}

QHash<int, QByteArray> SessionListModel::roleNames() const
{
    return {{IdRole, "sessionId"},
            {AgentIdRole, "agentId"},
            {AgentNameRole, "agentName"},
            {TitleRole, "title"},
            {MessageCountRole, "messageCount"},
            {CreatedAtRole, "createdAt"},
            {UpdatedAtRole, "updatedAt"},
            {UpdatedLabelRole, "updatedLabel"},
            {StreamingRole, "streaming"},
            {SectionRole, "section"},
            {PinnedRole, "pinned"},
            {OriginRole, "origin"}};
}

void SessionListModel::setSessions(const QList<SessionItem> &sessions)
{
    m_all = sessions;
    rebuild();
}

void SessionListModel::upsert(const SessionItem &session)
{
    for (SessionItem &s : m_all) {
        if (s.id == session.id) {
            s = session;
            rebuild();
            return;
        }
    }
    m_all.append(session);
    rebuild();
}

void SessionListModel::remove(const QString &id)
{
    for (qsizetype i = 0; i < m_all.size(); ++i) {
        if (m_all.at(i).id == id) {
            m_all.removeAt(i);
            rebuild();
            return;
        }
    }
}

void SessionListModel::setTitle(const QString &id, const QString &title)
{
    for (SessionItem &s : m_all) {
        if (s.id == id) {
            s.title = title;
            rebuild();
            return;
        }
    }
}

void SessionListModel::touch(const QString &id, const QDateTime &when)
{
    for (SessionItem &s : m_all) {
        if (s.id == id) {
            s.updatedAt = when;
            rebuild();
            return;
        }
    }
}

const SessionItem *SessionListModel::find(const QString &id) const
{
    for (const SessionItem &s : m_all) {
        if (s.id == id)
            return &s;
    }
    return nullptr;
}

void SessionListModel::setFilterText(const QString &text)
{
    if (text == m_filter)
        return;
    m_filter = text;
    rebuild();
    Q_EMIT filterTextChanged();
}

void SessionListModel::setShowApiCalls(bool show)
{
    if (show == m_showApiCalls)
        return;
    m_showApiCalls = show;
    rebuild();
    Q_EMIT showApiCallsChanged();
}

int SessionListModel::indexOf(const QString &id) const
{
    for (int i = 0; i < m_visible.size(); ++i) {
        if (m_all.at(m_visible.at(i)).id == id)
            return i;
    }
    return -1;
}

QVariantMap SessionListModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= m_visible.size())
        return map;
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}

void SessionListModel::rebuild()
{
    auto activity = [](const SessionItem &s) {
        return s.updatedAt.isValid() ? s.updatedAt : s.createdAt;
    };
    // Newest session of each agent decides where that agent's group goes.
    QHash<QString, QDateTime> newestOfAgent;
    for (const SessionItem &s : std::as_const(m_all)) {
        QDateTime &n = newestOfAgent[s.agentId];
        if (!n.isValid() || activity(s) > n)
            n = activity(s);
    }
    // Pinned chats first, in a group of their own.
    std::stable_sort(m_all.begin(), m_all.end(), [&](const SessionItem &a, const SessionItem &b) {
        if (a.pinned != b.pinned)
            return a.pinned;
        if (a.pinned)
            return activity(a) > activity(b);
        if (a.agentId != b.agentId) {
            const QDateTime na = newestOfAgent.value(a.agentId), nb = newestOfAgent.value(b.agentId);
            if (na != nb)
                return na > nb;
            return a.agentId < b.agentId;
        }
        return activity(a) > activity(b);
    });
    beginResetModel();
    m_visible.clear();
    for (int i = 0; i < m_all.size(); ++i) {
        const SessionItem &s = m_all.at(i);
        if ((m_showApiCalls || s.origin != "api"_L1) &&
            (m_filter.isEmpty() || s.title.contains(m_filter, Qt::CaseInsensitive)))
            m_visible.append(i);
    }
    endResetModel();
    Q_EMIT countChanged();
}

void SessionListModel::setPinned(const QString &id, bool pinned)
{
    for (SessionItem &s : m_all) {
        if (s.id == id && s.pinned != pinned) {
            s.pinned = pinned;
            rebuild();
            return;
        }
    }
}
