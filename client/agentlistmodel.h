#pragma once

#include "types.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

// The tenant's agents, in the server's order.
class AgentListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the ChatController")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        NameRole,
        DescriptionRole,
        SystemPromptRole,
        GreetingRole,
        ProviderRole,
        ModelRole,
        TemperatureRole,
        MaxTokensRole,
        ToolsRole,
        ToolApprovalRole,
        MaxStepsRole,
        AllowedToolsRole,
        ReasoningEffortRole,
    };
    Q_ENUM(Role)

    explicit AgentListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setAgents(const QList<AgentItem> &agents);
    void upsert(const AgentItem &agent);
    void remove(const QString &id);
    const QList<AgentItem> &agents() const { return m_agents; }
    const AgentItem *find(const QString &id) const;

    Q_INVOKABLE int indexOf(const QString &id) const;
    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE QString nameOf(const QString &id) const;

Q_SIGNALS:
    void countChanged();

private:
    QList<AgentItem> m_agents;
};
