#include "providerlistmodel.h"

using namespace Qt::StringLiterals;

ProviderListModel::ProviderListModel(QObject *parent) : QAbstractListModel(parent) {}

int ProviderListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_providers.size());
}

QVariant ProviderListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ProviderItem &p = m_providers.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return p.name;
    case KindRole:
        return p.kind;
    case VisionRole:
        return p.vision;
    case BaseUrlRole:
        return p.baseUrl;
    case ModelRole:
        return p.model;
    case IsDefaultRole:
        return p.isDefault;
    case ReadOnlyRole:
        return p.readOnly;
    case HasApiKeyRole:
        return p.hasApiKey;
    }
    return {};
}

QHash<int, QByteArray> ProviderListModel::roleNames() const
{
    return {{NameRole, "name"},         {KindRole, "kind"},           {BaseUrlRole, "baseUrl"},
            {ModelRole, "model"},       {IsDefaultRole, "isDefault"}, {HasApiKeyRole, "hasApiKey"},
            {ReadOnlyRole, "readOnly"}, {VisionRole, "vision"}};
}

void ProviderListModel::setProviders(const QList<ProviderItem> &providers)
{
    beginResetModel();
    m_providers = providers;
    endResetModel();
    Q_EMIT countChanged();
}

QString ProviderListModel::defaultProvider() const
{
    for (const ProviderItem &p : m_providers) {
        if (p.isDefault)
            return p.name;
    }
    return {};
}

int ProviderListModel::indexOf(const QString &name) const
{
    for (int i = 0; i < m_providers.size(); ++i) {
        if (m_providers.at(i).name == name)
            return i;
    }
    return -1;
}

QVariantMap ProviderListModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= m_providers.size())
        return map;
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}

QStringList ProviderListModel::names() const
{
    QStringList out;
    for (const ProviderItem &p : m_providers)
        out.append(p.name);
    return out;
}

QString ProviderListModel::modelOf(const QString &name) const
{
    for (const ProviderItem &p : m_providers) {
        if (name.isEmpty() || name == "default"_L1 ? p.isDefault : p.name == name)
            return p.model;
    }
    // No default marked: the server's own environment provider, when it lists one.
    for (const ProviderItem &p : m_providers) {
        if (name.isEmpty() && p.readOnly)
            return p.model;
    }
    return {};
}
