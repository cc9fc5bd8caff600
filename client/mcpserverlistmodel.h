#pragma once

#include "types.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

// The tenant's MCP servers (GET /api/mcp/servers), for the Tools page and the agent dialog.
class McpServerListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the SettingsController")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

public:
    enum Role {
        NameRole = Qt::UserRole + 1,
        TransportRole,
        TargetRole,      // the command line or the URL
        ShownTargetRole, // the same, without what a URL may hide a key in (query, user info)
        SecretNamesRole,
        TimeoutSecondsRole,
        StatusRole,
        ErrorRole,
        ProtocolVersionRole,
        ToolsRole, // [{name, description}]
        ToolCountRole,
    };
    Q_ENUM(Role)

    explicit McpServerListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    // In place when the same servers come again (a poll): open rows stay as they are.
    void setServers(const QList<McpServerItem> &servers);
    void upsert(const McpServerItem &server);
    void remove(const QString &name);
    const QList<McpServerItem> &servers() const { return m_servers; }

    Q_INVOKABLE int indexOf(const QString &name) const;
    Q_INVOKABLE QVariantMap get(int row) const;

Q_SIGNALS:
    void countChanged();

private:
    QList<McpServerItem> m_servers;
};
