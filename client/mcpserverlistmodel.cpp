#include "mcpserverlistmodel.h"

using namespace Qt::StringLiterals;

McpServerListModel::McpServerListModel(QObject *parent) : QAbstractListModel(parent) {}

int McpServerListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_servers.size());
}

QVariant McpServerListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const McpServerItem &s = m_servers.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return s.name;
    case TransportRole:
        return s.transport;
    case TargetRole:
        return s.target();
    case ShownTargetRole: {
        if (s.transport != "http"_L1)
            return s.target();
        const QUrl url(s.url);
        const QString shown =
            url.adjusted(QUrl::RemoveQuery | QUrl::RemoveUserInfo | QUrl::RemoveFragment).toString();
        return url.hasQuery() ? shown + u"?…"_s : shown;
    }
    case SecretNamesRole:
        return QStringList(s.envNames + s.headerNames);
    case TimeoutSecondsRole:
        return s.timeoutMs / 1000;
    case StatusRole:
        return s.status;
    case ErrorRole:
        return s.error;
    case ProtocolVersionRole:
        return s.protocolVersion;
    case ToolsRole: {
        QVariantList tools;
        for (const McpServerItem::Tool &t : s.tools)
            tools.append(QVariantMap{{u"name"_s, t.name}, {u"description"_s, t.description}});
        return tools;
    }
    case ToolCountRole:
        return int(s.tools.size());
    }
    return {};
}

QHash<int, QByteArray> McpServerListModel::roleNames() const
{
    return {{NameRole, "name"},
            {TransportRole, "transport"},
            {TargetRole, "target"},
            {ShownTargetRole, "shownTarget"},
            {SecretNamesRole, "secretNames"},
            {TimeoutSecondsRole, "timeoutSeconds"},
            {StatusRole, "status"},
            {ErrorRole, "error"},
            {ProtocolVersionRole, "protocolVersion"},
            {ToolsRole, "tools"},
            {ToolCountRole, "toolCount"}};
}

void McpServerListModel::setServers(const QList<McpServerItem> &servers)
{
    bool sameNames = servers.size() == m_servers.size();
    for (qsizetype i = 0; sameNames && i < servers.size(); ++i)
        sameNames = servers.at(i).name == m_servers.at(i).name;
    if (sameNames) {
        for (int i = 0; i < servers.size(); ++i) {
            m_servers[i] = servers.at(i);
            Q_EMIT dataChanged(index(i), index(i));
        }
        return;
    }
    beginResetModel();
    m_servers = servers;
    endResetModel();
    Q_EMIT countChanged();
}

void McpServerListModel::upsert(const McpServerItem &server)
{
    const int row = indexOf(server.name);
    if (row >= 0) {
        m_servers[row] = server;
        Q_EMIT dataChanged(index(row), index(row));
        return;
    }
    // Sorted by name, as the server lists them.
    int at = 0;
    while (at < m_servers.size() && m_servers.at(at).name < server.name)
        ++at;
    beginInsertRows({}, at, at);
    m_servers.insert(at, server);
    endInsertRows();
    Q_EMIT countChanged();
}

void McpServerListModel::remove(const QString &name)
{
    const int row = indexOf(name);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_servers.removeAt(row);
    endRemoveRows();
    Q_EMIT countChanged();
}

int McpServerListModel::indexOf(const QString &name) const
{
    for (int i = 0; i < m_servers.size(); ++i) {
        if (m_servers.at(i).name == name)
            return i;
    }
    return -1;
}

QVariantMap McpServerListModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= m_servers.size())
        return map;
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}
