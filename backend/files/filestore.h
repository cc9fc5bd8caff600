#pragma once

#include "storage/entities.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

class Database;

// Files kept for conversations: uploads a user attaches to messages and images tools return. The
// bytes are stored once per SHA-256 (the same image twice is kept once): under <data dir>/files/
// with SQLite, in the database's file_blobs table with PostgreSQL (so every server of a team
// sees them). The metadata rows are scoped like sessions: a file belongs to a user of a tenant,
// and to the session that uses it, and goes with that session.
class FileStore
{
public:
    FileStore(Database &db, const QString &directory);

    // `row` gives owner, session (may be empty: an upload not used yet), type, name and what was
    // read of the content (text, pages, size); id, hash, size and time are filled in.
    std::optional<FileRow> put(FileRow row, const QByteArray &bytes);
    std::optional<FileRow> put(const QString &tenantId, const QString &userId, const QString &sessionId,
                               const QString &mediaType, const QString &name, const QByteArray &bytes);
    // Nothing when it is not this user's.
    std::optional<FileRow> get(const QString &tenantId, const QString &userId, const QString &id);
    QByteArray read(const FileRow &row) const;

    // The files `ids` of this user for a message of `sessionId`, in order: an upload no session
    // uses yet moves into it; one that belongs to another session is copied (a new id, the same
    // bytes), so deleting either session leaves the other whole. Nothing when one is not the user's.
    std::optional<QList<FileRow>> claim(const QString &tenantId, const QString &userId,
                                        const QString &sessionId, const QStringList &ids);

    // Bytes of a user's uploads no message uses yet (what the unsent-uploads quota counts); -1 on
    // a database error.
    qint64 unsentBytes(const QString &tenantId, const QString &userId);
    enum class Removal { Removed, NotFound, InUse, Failed };
    // An upload no message uses yet, taken back (its bytes too when nothing else uses them).
    Removal removeUnsent(const QString &tenantId, const QString &userId, const QString &id);
    // The hashes `sessionId`'s files use, to drop() after the session is deleted.
    QStringList hashesOf(const QString &sessionId);
    // Deletes the bytes of these hashes that no file row names any more.
    int drop(const QStringList &hashes);
    // Uploads no message used within `unusedMs`, then bytes no row names (sessions deleted by a
    // cascade: a user, an agent). Returns how many byte blobs went.
    int collectGarbage(qint64 unusedMs = 24 * 3600 * 1000);

    QString directory() const { return m_directory; }

private:
    QString pathOf(const QString &sha256) const;
    bool storeBytes(const QString &sha256, const QByteArray &bytes);
    bool inDatabase() const;

    Database &m_db;
    QString m_directory;
};
