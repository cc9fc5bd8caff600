#pragma once

#include "types.h"

#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

class AgentListModel;

// The user's sessions, grouped by agent (SectionRole, for ListView.section) and newest first:
// agents are ordered by their most recent session, sessions by last activity. `filterText`
// keeps the sessions whose title contains it (case-insensitive), which also works offline.
class SessionListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the ChatController")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int totalCount READ totalCount NOTIFY countChanged)
    Q_PROPERTY(QString filterText READ filterText WRITE setFilterText NOTIFY filterTextChanged)
    // Whether the calls of the OpenAI-compatible API (a session each) are listed too.
    Q_PROPERTY(bool showApiCalls READ showApiCalls WRITE setShowApiCalls NOTIFY showApiCallsChanged)

public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        AgentIdRole,
        AgentNameRole,
        TitleRole,
        MessageCountRole,
        CreatedAtRole,
        UpdatedAtRole,
        UpdatedLabelRole,
        StreamingRole,
        SectionRole, // the agent's name, or "Pinned"
        PinnedRole,
        OriginRole, // "chat", or "api" for a call of the OpenAI-compatible API
    };
    Q_ENUM(Role)

    explicit SessionListModel(QObject *parent = nullptr);

    void setAgentModel(AgentListModel *agents);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setSessions(const QList<SessionItem> &sessions);
    void upsert(const SessionItem &session);
    void remove(const QString &id);
    void setTitle(const QString &id, const QString &title);
    void setPinned(const QString &id, bool pinned);
    void touch(const QString &id, const QDateTime &when);
    const QList<SessionItem> &sessions() const { return m_all; }
    const SessionItem *find(const QString &id) const;
    int totalCount() const { return int(m_all.size()); }

    QString filterText() const { return m_filter; }
    void setFilterText(const QString &text);
    bool showApiCalls() const { return m_showApiCalls; }
    void setShowApiCalls(bool show);

    Q_INVOKABLE int indexOf(const QString &id) const;
    Q_INVOKABLE QVariantMap get(int row) const;

Q_SIGNALS:
    void countChanged();
    void filterTextChanged();
    void showApiCallsChanged();

private:
    QString agentName(const QString &agentId) const;
    void rebuild(); // sort m_all and refill m_visible (a reset: the list is small)

    QList<SessionItem> m_all;
    QList<int> m_visible; // indexes into m_all
    QString m_filter;
    bool m_showApiCalls = false;
    QPointer<AgentListModel> m_agents;
};
