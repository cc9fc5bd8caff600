#pragma once

#include "storage/entities.h"

#include <QByteArray>
#include <QString>

#include <optional>

class Database;

// Files kept for replies (an image a tool returned): the bytes content-addressed under
// <data dir>/files/ (by SHA-256, so the same image is stored once), the metadata in the
// database, scoped like sessions: a file belongs to a user of a tenant and goes with its session.
class FileStore
{
public:
    FileStore(Database &db, const QString &directory);

    std::optional<FileRow> put(const QString &tenantId, const QString &userId, const QString &sessionId,
                               const QString &mediaType, const QString &name, const QByteArray &bytes);
    // Nothing when it is not this user's.
    std::optional<FileRow> get(const QString &tenantId, const QString &userId, const QString &id);
    QByteArray read(const FileRow &row) const;
    // Deletes the bytes no file row names any more (their sessions were deleted). Returns how many.
    int collectGarbage();

    QString directory() const { return m_directory; }

private:
    QString pathOf(const QString &sha256) const;

    Database &m_db;
    QString m_directory;
};
