#include "modellistmodel.h"

#include "apiclient.h"

#include <QJsonObject>

using namespace Qt::StringLiterals;

ModelListModel::ModelListModel(ApiClient *api, QObject *parent) : QAbstractListModel(parent), m_api(api) {}

int ModelListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_visible.size());
}

QVariant ModelListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QJsonObject model = m_all.at(m_visible.at(index.row())).toObject();
    const QString id = model.value("id"_L1).toString();
    switch (role) {
    case Qt::DisplayRole:
    case IdRole:
        return id;
    case NameRole: {
        const QString name = model.value("name"_L1).toString();
        return name.isEmpty() ? id : name;
    }
    case DetailRole: {
        QStringList parts;
        const QString name = model.value("name"_L1).toString();
        if (!name.isEmpty() && name != id)
            parts << id;
        if (const QString owner = model.value("owned_by"_L1).toString(); !owner.isEmpty())
            parts << owner;
        if (model.value("vision"_L1).toBool())
            parts << tr("sees images");
        return parts.join(u" · "_s);
    }
    case VisionRole:
        return model.value("vision"_L1).toVariant();
    }
    return {};
}

QHash<int, QByteArray> ModelListModel::roleNames() const
{
    return {{IdRole, "modelId"}, {NameRole, "name"}, {DetailRole, "detail"}, {VisionRole, "vision"}};
}

void ModelListModel::load(const QString &provider)
{
    m_provider = provider.isEmpty() ? u"default"_s : provider;
    m_loading = true;
    m_error.clear();
    Q_EMIT loadingChanged();
    const int request = ++m_request;
    m_api->providerModels(m_provider, this, [this, request](const ApiResult &r) {
        if (request != m_request)
            return; // another provider was asked for since
        m_loading = false;
        if (r.ok()) {
            m_all = r.json.value("models"_L1).toArray();
        } else {
            m_all = {};
            m_error = r.message;
        }
        rebuild();
        Q_EMIT loadingChanged();
    });
}

QString ModelListModel::idAt(int row) const
{
    return row >= 0 && row < m_visible.size()
               ? m_all.at(m_visible.at(row)).toObject().value("id"_L1).toString()
               : QString();
}

void ModelListModel::setFilter(const QString &filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    rebuild();
    Q_EMIT filterChanged();
}

void ModelListModel::rebuild()
{
    beginResetModel();
    m_visible.clear();
    const QString needle = m_filter.trimmed();
    for (int i = 0; i < m_all.size(); ++i) {
        const QJsonObject model = m_all.at(i).toObject();
        if (needle.isEmpty() || model.value("id"_L1).toString().contains(needle, Qt::CaseInsensitive) ||
            model.value("name"_L1).toString().contains(needle, Qt::CaseInsensitive))
            m_visible.append(i);
    }
    endResetModel();
    Q_EMIT countChanged();
}
