#include "filesecretstore.h"

#include "core/logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

FileSecretStore::FileSecretStore(const QString &path) : m_path(path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return;
    if (file.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther))
        qCWarning(lcApp) << "Secrets file" << path << "is readable by others; tightening to 0600";
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QJsonObject object = QJsonDocument::fromJson(file.readAll()).object();
    for (auto it = object.begin(); it != object.end(); ++it)
        m_values.insert(it.key(), it.value().toString());
}

QString FileSecretStore::read(const QString &key) const
{
    const QMutexLocker locker(&m_lock);
    return m_values.value(key);
}

bool FileSecretStore::write(const QString &key, const QString &value)
{
    const QMutexLocker locker(&m_lock);
    m_values.insert(key, value);
    return save();
}

bool FileSecretStore::remove(const QString &key)
{
    const QMutexLocker locker(&m_lock);
    if (!m_values.remove(key))
        return true;
    return save();
}

bool FileSecretStore::save() const
{
    QDir().mkpath(QFileInfo(m_path).absolutePath());
    QJsonObject object;
    for (auto it = m_values.begin(); it != m_values.end(); ++it)
        object.insert(it.key(), it.value());
    QSaveFile file(m_path);
    // Restrict before any secret is written, so the file is never briefly world-readable.
    if (!file.open(QIODevice::WriteOnly) ||
        !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        qCWarning(lcApp) << "Cannot write secrets file" << m_path;
        return false;
    }
    file.write(QJsonDocument(object).toJson(QJsonDocument::Indented));
    return file.commit();
}
