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

namespace {
const QString columns =
    u"id, tenant_id, user_id, session_id, sha256, media_type, name, size, created_at, text, pages, width, height"_s;

FileRow readRow(const Statement &q)
{
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
    row.text = q.value(9).toString();
    row.pages = q.value(10).toInt();
    row.width = q.value(11).toInt();
    row.height = q.value(12).toInt();
    return row;
}

bool insertRow(Database &db, const FileRow &row)
{
    Statement q(db,
                u"INSERT INTO files ("_s + columns + u") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s);
    q.bind(row.id)
        .bind(row.tenantId)
        .bind(row.userId)
        .bind(row.sessionId.isEmpty() ? nullOf<QByteArray>() : QVariant(row.sessionId))
        .bind(row.sha256)
        .bind(row.mediaType)
        .bind(row.name)
        .bind(row.size)
        .bind(row.createdAt.toMSecsSinceEpoch())
        .bind(row.text)
        .bind(row.pages)
        .bind(row.width)
        .bind(row.height);
    return q.exec();
}
} // namespace

FileStore::FileStore(Database &db, const QString &directory) : m_db(db), m_directory(directory) {}

bool FileStore::inDatabase() const
{
    return !m_db.isSqlite();
}

QString FileStore::pathOf(const QString &sha256) const
{
    return m_directory + u'/' + sha256.left(2) + u'/' + sha256;
}

bool FileStore::storeBytes(const QString &sha256, const QByteArray &bytes)
{
    if (inDatabase()) {
        // A fresh time keeps the collector off bytes another server's row is about to name, and
        // the update locks them against a drop() until this commits.
        Statement q(m_db, u"INSERT INTO file_blobs (sha256, data, created_at) VALUES (?, ?, ?)"
                          u" ON CONFLICT (sha256) DO UPDATE SET created_at = EXCLUDED.created_at"_s);
        q.bind(sha256).bind(bytes).bind(nowMs());
        return q.exec();
    }
    const QString path = pathOf(sha256);
    if (QFile::exists(path))
        return true;
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return false;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        qCWarning(lcStorage) << "cannot store a file in" << m_directory;
        return false;
    }
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return true;
}

std::optional<FileRow> FileStore::put(FileRow row, const QByteArray &bytes)
{
    row.id = newId();
    row.sha256 = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    row.size = bytes.size();
    row.createdAt = fromMs(nowMs());
    // The bytes first (a row must never name bytes that are not there), and both in one commit.
    Transaction tx(m_db);
    if (!tx.isActive() || !storeBytes(row.sha256, bytes) || !insertRow(m_db, row) || !tx.commit())
        return std::nullopt;
    return row;
}

std::optional<FileRow> FileStore::put(const QString &tenantId, const QString &userId,
                                      const QString &sessionId, const QString &mediaType, const QString &name,
                                      const QByteArray &bytes)
{
    FileRow row;
    row.tenantId = tenantId;
    row.userId = userId;
    row.sessionId = sessionId;
    row.mediaType = mediaType;
    row.name = name;
    return put(row, bytes);
}

std::optional<FileRow> FileStore::get(const QString &tenantId, const QString &userId, const QString &id)
{
    Statement q(m_db,
                u"SELECT "_s + columns + u" FROM files WHERE id = ? AND tenant_id = ? AND user_id = ?"_s);
    q.bind(id).bind(tenantId).bind(userId);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return readRow(q);
}

QByteArray FileStore::read(const FileRow &row) const
{
    if (inDatabase()) {
        Statement q(m_db, u"SELECT data FROM file_blobs WHERE sha256 = ?"_s);
        q.bind(row.sha256);
        if (!q.exec() || !q.next())
            return {};
        return q.value(0).toByteArray();
    }
    QFile file(pathOf(row.sha256));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

std::optional<QList<FileRow>> FileStore::claim(const QString &tenantId, const QString &userId,
                                               const QString &sessionId, const QStringList &ids)
{
    QList<FileRow> rows;
    for (const QString &id : ids) {
        std::optional<FileRow> row = get(tenantId, userId, id);
        if (!row)
            return std::nullopt;
        if (row->sessionId.isEmpty()) {
            Statement q(m_db, u"UPDATE files SET session_id = ? WHERE id = ? AND session_id IS NULL"_s);
            q.bind(sessionId).bind(row->id);
            if (!q.exec() || q.rowsAffected() != 1)
                return std::nullopt;
            row->sessionId = sessionId;
        } else if (row->sessionId != sessionId) {
            FileRow copy = *row;
            copy.id = newId();
            copy.sessionId = sessionId;
            copy.createdAt = fromMs(nowMs());
            if (!insertRow(m_db, copy))
                return std::nullopt;
            row = copy;
        }
        rows.append(*row);
    }
    return rows;
}

qint64 FileStore::unsentBytes(const QString &tenantId, const QString &userId)
{
    Statement q(m_db, u"SELECT COALESCE(SUM(size), 0) FROM files"
                      u" WHERE tenant_id = ? AND user_id = ? AND session_id IS NULL"_s);
    q.bind(tenantId).bind(userId);
    return q.exec() && q.next() ? q.value(0).toLongLong() : -1;
}

FileStore::Removal FileStore::removeUnsent(const QString &tenantId, const QString &userId, const QString &id)
{
    const std::optional<FileRow> row = get(tenantId, userId, id);
    if (!row)
        return Removal::NotFound;
    if (!row->sessionId.isEmpty())
        return Removal::InUse;
    Statement q(m_db, u"DELETE FROM files WHERE id = ? AND session_id IS NULL"_s);
    q.bind(id);
    if (!q.exec())
        return Removal::Failed;
    if (q.rowsAffected() == 0) // sent meanwhile, or collected
        return get(tenantId, userId, id) ? Removal::InUse : Removal::NotFound;
    q.finish();
    drop({row->sha256});
    return Removal::Removed;
}

QStringList FileStore::hashesOf(const QString &sessionId)
{
    QStringList hashes;
    Statement q(m_db, u"SELECT DISTINCT sha256 FROM files WHERE session_id = ?"_s);
    q.bind(sessionId);
    if (q.exec()) {
        while (q.next())
            hashes.append(q.value(0).toString());
    }
    return hashes;
}

int FileStore::drop(const QStringList &hashes)
{
    int removed = 0;
    for (const QString &sha256 : hashes) {
        // On PostgreSQL, other servers share the bytes: locked first, so that an upload of the same
        // bytes waits, or is counted. SQLite has this server alone, on one thread.
        std::optional<Transaction> tx;
        if (inDatabase()) {
            tx.emplace(m_db);
            if (!tx->isActive())
                return removed;
            Statement lock(m_db, u"SELECT sha256 FROM file_blobs WHERE sha256 = ? FOR UPDATE"_s);
            lock.bind(sha256);
            if (!lock.exec() || !lock.next())
                continue;
        }
        Statement used(m_db, u"SELECT COUNT(*) FROM files WHERE sha256 = ?"_s);
        used.bind(sha256);
        if (!used.exec() || !used.next() || used.value(0).toInt() > 0)
            continue;
        used.finish();
        if (inDatabase()) {
            Statement q(m_db, u"DELETE FROM file_blobs WHERE sha256 = ?"_s);
            q.bind(sha256);
            if (q.exec() && q.rowsAffected() > 0 && tx->commit())
                ++removed;
        } else if (QFile::remove(pathOf(sha256))) {
            QDir().rmdir(QFileInfo(pathOf(sha256)).absolutePath()); // only when it is empty now
            ++removed;
        }
    }
    return removed;
}

int FileStore::collectGarbage(qint64 unusedMs)
{
    {
        Statement q(m_db, u"DELETE FROM files WHERE session_id IS NULL AND created_at < ?"_s);
        q.bind(nowMs() - unusedMs);
        if (!q.exec())
            return 0;
    }
    if (inDatabase()) {
        // Not the bytes of an upload under way on another server (stored, its row not yet):
        // put() renews their time.
        Statement q(m_db, u"DELETE FROM file_blobs b WHERE b.created_at < ?"
                          u" AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256)"_s);
        q.bind(nowMs() - unusedMs);
        return q.exec() ? q.rowsAffected() : 0;
    }
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
