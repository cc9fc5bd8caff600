#pragma once

#include <QMutex>
#include <QQmlNetworkAccessManagerFactory>
#include <QString>
#include <QUrl>

// The QML engine's network access for images a tool returned (`/api/files/{id}`): requests to
// the AgentDesk server carry the bearer token in the Authorization header, so the token never
// sits in an image URL (where a failed load would print it into the log). The engine creates its
// managers on its loader threads, hence the lock.
class FileNetworkFactory : public QQmlNetworkAccessManagerFactory
{
public:
    QNetworkAccessManager *create(QObject *parent) override;

    void setServer(const QUrl &baseUrl, const QString &token);
    // The header for a request to `url`, or empty when it goes elsewhere.
    QByteArray authorizationFor(const QUrl &url) const;

private:
    mutable QMutex m_mutex;
    QUrl m_base;
    QByteArray m_authorization;
};
