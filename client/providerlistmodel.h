#pragma once

#include "types.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

// The tenant's OpenAI-compatible upstreams (GET /api/providers).
class ProviderListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the SettingsController")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(QString defaultProvider READ defaultProvider NOTIFY countChanged)

public:
    enum Role {
        NameRole = Qt::UserRole + 1,
        KindRole,
        BaseUrlRole,
        ModelRole,
        IsDefaultRole,
        HasApiKeyRole,
        ReadOnlyRole,
        VisionRole,
    };
    Q_ENUM(Role)

    explicit ProviderListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setProviders(const QList<ProviderItem> &providers);
    const QList<ProviderItem> &providers() const { return m_providers; }
    QString defaultProvider() const;

    Q_INVOKABLE int indexOf(const QString &name) const;
    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE QStringList names() const;
    // The model of the provider `name`, or of the default one when `name` is empty.
    Q_INVOKABLE QString modelOf(const QString &name) const;

Q_SIGNALS:
    void countChanged();

private:
    QList<ProviderItem> m_providers;
};
