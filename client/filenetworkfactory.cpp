#include "filenetworkfactory.h"

#include <QNetworkAccessManager>
#include <QNetworkRequest>

using namespace Qt::StringLiterals;

namespace {
class AuthorizingManager : public QNetworkAccessManager
{
public:
    AuthorizingManager(const FileNetworkFactory *factory, QObject *parent)
        : QNetworkAccessManager(parent), m_factory(factory)
    {}

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request, QIODevice *data) override
    {
        const QByteArray authorization = m_factory->authorizationFor(request.url());
        if (authorization.isEmpty())
            return QNetworkAccessManager::createRequest(op, request, data);
        QNetworkRequest withToken(request);
        withToken.setRawHeader("Authorization", authorization);
        return QNetworkAccessManager::createRequest(op, withToken, data);
    }

private:
    const FileNetworkFactory *m_factory;
};
} // namespace

QNetworkAccessManager *FileNetworkFactory::create(QObject *parent)
{
    return new AuthorizingManager(this, parent);
}

void FileNetworkFactory::setServer(const QUrl &baseUrl, const QString &token)
{
    QMutexLocker lock(&m_mutex);
    m_base = baseUrl;
    m_authorization = token.isEmpty() ? QByteArray() : "Bearer " + token.toUtf8();
}

QByteArray FileNetworkFactory::authorizationFor(const QUrl &url) const
{
    QMutexLocker lock(&m_mutex);
    // Only the server's own file route: same scheme, host and port, under its path.
    if (m_authorization.isEmpty() || url.scheme() != m_base.scheme() || url.host() != m_base.host() ||
        url.port(url.scheme() == "https"_L1 ? 443 : 80) !=
            m_base.port(m_base.scheme() == "https"_L1 ? 443 : 80) ||
        !url.path().startsWith(m_base.path() + u"/api/files/"_s))
        return {};
    return m_authorization;
}
