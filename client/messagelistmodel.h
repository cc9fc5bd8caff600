#pragma once

#include "types.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

// The conversation shown: the agent's greeting first, then the messages oldest first. A
// streamed token changes one row (dataChanged on that index with ContentRole), never resets.
class MessageListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the ChatController")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        RoleRole, // "user", "assistant", "greeting"
        ContentRole,
        StatusRole,
        ErrorRole,
        FinishReasonRole,
        ModelRole,
        PromptTokensRole,
        CompletionTokensRole,
        TokensUsedRole,
        TokensEstimatedRole,
        TokensPerSecondRole,
        CreatedAtRole,
        StatsTextRole, // "42 tok/s · 128 tokens", empty until a reply is done
        CanRetryRole,
    };
    Q_ENUM(Role)

    explicit MessageListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setMessages(const QList<MessageItem> &messages);
    void clear();
    int append(const MessageItem &message);
    void removeRow(int row);
    // Appends streamed text to one row: dataChanged(index, index, {ContentRole}).
    void appendContent(int row, const QString &text);
    void setStatus(int row, const QString &status, const QString &error = {});
    void update(int row, const MessageItem &message); // every role may have changed
    const MessageItem &at(int row) const { return m_messages.at(row); }
    const QList<MessageItem> &messages() const { return m_messages; }
    int rowOf(const QString &id) const;
    void setRetryRow(int row);

    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE QString contentAt(int row) const;

    static QString statsText(const MessageItem &m);

Q_SIGNALS:
    void countChanged();

private:
    QList<MessageItem> m_messages;
    int m_retryRow = -1;
};
