#include "filestore.h"

#include "core/logging.h"
#include "storage/database.h"
#include "storage/statement.h"
#include "storage/storageutil.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QSaveFile>
#include <QSet>

using namespace Qt::StringLiterals;
using namespace StorageUtil;

FileStore::FileStore(Database &db, const QString &directory) : m_db(db), m_directory(directory) {}

QString FileStore::pathOf(const QString &sha256) const
{
    return m_directory + u'/' + sha256.left(2) + u'/' + sha256;
}

std::optional<FileRow> FileStore::put(const QString &tenantId, const QString &userId, const QString &sessionId,
                                      const QString &mediaType, const QString &name, const QByteArray &bytes)
{
    FileRow row;
    row.id = newId();
    row.tenantId = tenantId;
    row.userId = userId;
    row.sessionId = sessionId;
    row.sha256 = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    row.mediaType = mediaType;
    row.name = name;
    row.size = bytes.size();
    row.createdAt = fromMs(nowMs());
    const QString path = pathOf(row.sha256);
    if (!QFile::exists(path)) {
        if (!QDir().mkpath(QFileInfo(path).absolutePath()))
            return std::nullopt;
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
            qCWarning(lcStorage) << "cannot store a file in" << m_directory;
            return std::nullopt;
        }
        QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    }
    Statement q(m_db, u"INSERT INTO files (id, tenant_id, user_id, session_id, sha256, media_type, name, size, created_at)"
                      u" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
    q.bind(row.id)
        .bind(tenantId)
        .bind(userId)
        .bind(sessionId.isEmpty() ? nullOf<QByteArray>() : QVariant(sessionId))
        .bind(row.sha256)
        .bind(mediaType)
        .bind(name)
        .bind(row.size)
        .bind(row.createdAt.toMSecsSinceEpoch());
    if (!q.exec())
        return std::nullopt;
    return row;
}

std::optional<FileRow> FileStore::get(const QString &tenantId, const QString &userId, const QString &id)
{
    Statement q(m_db, u"SELECT id, tenant_id, user_id, session_id, sha256, media_type, name, size, created_at"
                      u" FROM files WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
    q.bind(id).bind(tenantId).bind(userId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    FileRow row;
    row.id = q.value(0).toString();
    row.tenantId = q.value(1).toString();
    row.userId = q.value(2).toString();
    row.sessionId = q.value(3).toString();
    row.sha256 = q.value(4).toString();
    row.mediaType = q.value(5).toString();
    row.name = q.value(6).toString();
    row.size = q.value(7).toLongLong();
    row.createdAt = fromMs(q.value(8));
    return row;
}

QByteArray FileStore::read(const FileRow &row) const
{
    QFile file(pathOf(row.sha256));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

int FileStore::collectGarbage()
{
    QSet<QString> referenced;
    {
        Statement q(m_db, u"SELECT DISTINCT sha256 FROM files"_s);
        if (!q.exec())
            return 0;
        while (q.next())
            referenced.insert(q.value(0).toString());
    }
    int removed = 0;
    QDirIterator it(m_directory, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (!referenced.contains(QFileInfo(path).fileName()) && QFile::remove(path))
            ++removed;
    }
    return removed;
}
