#include "agentlistmodel.h"

using namespace Qt::StringLiterals;

AgentListModel::AgentListModel(QObject *parent) : QAbstractListModel(parent) {}

int AgentListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_agents.size());
}

QVariant AgentListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const AgentItem &a = m_agents.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return a.name;
    case IdRole:
        return a.id;
    case DescriptionRole:
        return a.description;
    case SystemPromptRole:
        return a.systemPrompt;
    case GreetingRole:
        return a.greeting;
    case ProviderRole:
        return a.provider;
    case ModelRole:
        return a.model;
    case TemperatureRole:
        return a.temperature;
    case MaxTokensRole:
        return a.maxTokens;
    case ToolsRole:
        return a.tools;
    case ToolApprovalRole:
        return a.toolApproval;
    case MaxStepsRole:
        return a.maxSteps;
    case AllowedToolsRole:
        return a.allowedTools;
    case ReasoningEffortRole:
        return a.reasoningEffort;
    }
    return {};
}

QHash<int, QByteArray> AgentListModel::roleNames() const
{
    return {
        {IdRole, "agentId"},
        {NameRole, "name"},
        {DescriptionRole, "description"},
        {SystemPromptRole, "systemPrompt"},
        {GreetingRole, "greeting"},
        {ProviderRole, "provider"},
        {ModelRole, "model"},
        {TemperatureRole, "temperature"},
        {MaxTokensRole, "maxTokens"},
        {ToolsRole, "tools"},
        {ToolApprovalRole, "toolApproval"},
        {MaxStepsRole, "maxSteps"},
        {AllowedToolsRole, "allowedTools"},
        {ReasoningEffortRole, "reasoningEffort"},
    };
}

void AgentListModel::setAgents(const QList<AgentItem> &agents)
{
    beginResetModel();
    m_agents = agents;
    endResetModel();
    Q_EMIT countChanged();
}

void AgentListModel::upsert(const AgentItem &agent)
{
    const int row = indexOf(agent.id);
    if (row >= 0) {
        m_agents[row] = agent;
        Q_EMIT dataChanged(index(row), index(row));
        return;
    }
    beginInsertRows({}, int(m_agents.size()), int(m_agents.size()));
    m_agents.append(agent);
    endInsertRows();
    Q_EMIT countChanged();
}

void AgentListModel::remove(const QString &id)
{
    const int row = indexOf(id);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_agents.removeAt(row);
    endRemoveRows();
    Q_EMIT countChanged();
}

const AgentItem *AgentListModel::find(const QString &id) const
{
    const int row = indexOf(id);
    return row >= 0 ? &m_agents.at(row) : nullptr;
}

int AgentListModel::indexOf(const QString &id) const
{
    for (int i = 0; i < m_agents.size(); ++i) {
        if (m_agents.at(i).id == id)
            return i;
    }
    return -1;
}

QVariantMap AgentListModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= m_agents.size())
        return map;
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}

QString AgentListModel::nameOf(const QString &id) const
{
    const AgentItem *a = find(id);
    return a ? a->name : QString();
}
