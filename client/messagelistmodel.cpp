#include "messagelistmodel.h"

#include <QLocale>

using namespace Qt::StringLiterals;

MessageListModel::MessageListModel(QObject *parent) : QAbstractListModel(parent) {}

int MessageListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_messages.size());
}

QString MessageListModel::statsText(const MessageItem &m)
{
    if (m.role != "assistant"_L1 || m.status == "typing"_L1 || m.status == "streaming"_L1)
        return {};
    QStringList parts;
    const QLocale locale;
    if (m.tokensPerSecond > 0)
        parts << tr("%1 tok/s").arg(locale.toString(m.tokensPerSecond, 'f', 1));
    const int total = m.tokensUsed > 0 ? m.tokensUsed : m.promptTokens + m.completionTokens;
    if (total > 0) {
        QString usage = m.promptTokens + m.completionTokens > 0
                            ? tr("%1 tokens (%2 prompt + %3 reply)")
                                  .arg(locale.toString(total), locale.toString(m.promptTokens),
                                       locale.toString(m.completionTokens))
                            : tr("%1 tokens").arg(locale.toString(total));
        if (m.tokensEstimated)
            usage += u' ' + tr("(estimated)");
        parts << usage;
    }
    if (!m.model.isEmpty())
        parts << m.model;
    return parts.join(u"  ·  "_s);
}

QVariant MessageListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const MessageItem &m = m_messages.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case ContentRole:
        return m.content;
    case IdRole:
        return m.id;
    case RoleRole:
        return m.role;
    case StatusRole:
        return m.status;
    case ErrorRole:
        return m.error;
    case FinishReasonRole:
        return m.finishReason;
    case ModelRole:
        return m.model;
    case PromptTokensRole:
        return m.promptTokens;
    case CompletionTokensRole:
        return m.completionTokens;
    case TokensUsedRole:
        return m.tokensUsed;
    case TokensEstimatedRole:
        return m.tokensEstimated;
    case TokensPerSecondRole:
        return m.tokensPerSecond;
    case CreatedAtRole:
        return m.createdAt;
    case StatsTextRole:
        return statsText(m);
    case CanRetryRole:
        return index.row() == m_retryRow;
    }
    return {};
}

QHash<int, QByteArray> MessageListModel::roleNames() const
{
    return {{IdRole, "messageId"},
            {RoleRole, "role"},
            {ContentRole, "content"},
            {StatusRole, "status"},
            {ErrorRole, "error"},
            {FinishReasonRole, "finishReason"},
            {ModelRole, "model"},
            {PromptTokensRole, "promptTokens"},
            {CompletionTokensRole, "completionTokens"},
            {TokensUsedRole, "tokensUsed"},
            {TokensEstimatedRole, "tokensEstimated"},
            {TokensPerSecondRole, "tokensPerSecond"},
            {CreatedAtRole, "createdAt"},
            {StatsTextRole, "statsText"},
            {CanRetryRole, "canRetry"}};
}

void MessageListModel::setMessages(const QList<MessageItem> &messages)
{
    beginResetModel();
    m_messages = messages;
    m_retryRow = -1;
    endResetModel();
    Q_EMIT countChanged();
}

void MessageListModel::clear()
{
    setMessages({});
}

int MessageListModel::append(const MessageItem &message)
{
    const int row = int(m_messages.size());
    beginInsertRows({}, row, row);
    m_messages.append(message);
    endInsertRows();
    Q_EMIT countChanged();
    return row;
}

void MessageListModel::removeRow(int row)
{
    if (row < 0 || row >= m_messages.size())
        return;
    beginRemoveRows({}, row, row);
    m_messages.removeAt(row);
    if (m_retryRow == row)
        m_retryRow = -1;
    else if (m_retryRow > row)
        --m_retryRow;
    endRemoveRows();
    Q_EMIT countChanged();
}

void MessageListModel::appendContent(int row, const QString &text)
{
    if (row < 0 || row >= m_messages.size() || text.isEmpty())
        return;
    MessageItem &m = m_messages[row];
    m.content += text;
    const QModelIndex idx = index(row);
    if (m.status == "typing"_L1) {
        m.status = u"streaming"_s;
        Q_EMIT dataChanged(idx, idx, {ContentRole, StatusRole});
    } else {
        Q_EMIT dataChanged(idx, idx, {ContentRole});
    }
}

void MessageListModel::setStatus(int row, const QString &status, const QString &error)
{
    if (row < 0 || row >= m_messages.size())
        return;
    MessageItem &m = m_messages[row];
    m.status = status;
    m.error = error;
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, {StatusRole, ErrorRole, StatsTextRole});
}

void MessageListModel::update(int row, const MessageItem &message)
{
    if (row < 0 || row >= m_messages.size())
        return;
    m_messages[row] = message;
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx);
}

int MessageListModel::rowOf(const QString &id) const
{
    for (int i = 0; i < m_messages.size(); ++i) {
        if (m_messages.at(i).id == id)
            return i;
    }
    return -1;
}

void MessageListModel::setRetryRow(int row)
{
    if (row == m_retryRow)
        return;
    const int old = m_retryRow;
    m_retryRow = row;
    if (old >= 0 && old < m_messages.size())
        Q_EMIT dataChanged(index(old), index(old), {CanRetryRole});
    if (row >= 0 && row < m_messages.size())
        Q_EMIT dataChanged(index(row), index(row), {CanRetryRole});
}

QVariantMap MessageListModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= m_messages.size())
        return map;
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}

QString MessageListModel::contentAt(int row) const
{
    return row >= 0 && row < m_messages.size() ? m_messages.at(row).content : QString();
}
