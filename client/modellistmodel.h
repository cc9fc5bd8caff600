#pragma once

#include <QAbstractListModel>
#include <QJsonArray>
#include <QtQml/qqmlregistration.h>

class ApiClient;

// The models a provider offers (GET /api/providers/{name}/models), for the pickers: searchable
// by `filter` (any part of the id or the name, in any case), loaded on demand.
class ModelListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by a controller")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(QString filter READ filter WRITE setFilter NOTIFY filterChanged)
    Q_PROPERTY(QString provider READ provider NOTIFY loadingChanged)
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged)
    Q_PROPERTY(QString error READ error NOTIFY loadingChanged)
    Q_PROPERTY(int total READ total NOTIFY loadingChanged)

public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        NameRole,   // the display name, or the id
        DetailRole, // who owns it, whether it sees images
        VisionRole, // true, false, or undefined (not known)
    };
    Q_ENUM(Role)

    explicit ModelListModel(ApiClient *api, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    // Asks the server for `provider`'s models ("" or "default": the default provider's).
    Q_INVOKABLE void load(const QString &provider);
    Q_INVOKABLE QString idAt(int row) const;

    QString filter() const { return m_filter; }
    void setFilter(const QString &filter);
    QString provider() const { return m_provider; }
    bool isLoading() const { return m_loading; }
    QString error() const { return m_error; }
    int total() const { return int(m_all.size()); }

Q_SIGNALS:
    void countChanged();
    void filterChanged();
    void loadingChanged();

private:
    void rebuild();

    ApiClient *m_api;
    QJsonArray m_all;
    QList<int> m_visible; // indexes into m_all
    QString m_filter;
    QString m_provider;
    QString m_error;
    bool m_loading = false;
    int m_request = 0;
};
