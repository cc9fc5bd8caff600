#pragma once

#include "files/fileintake.h"

#include <QHash>
#include <QObject>
#include <QThreadPool>

class FileStore;
class Router;
struct FileRow;
struct RequestContext;

// Files (protocol v2, section 6): POST /api/files takes an upload (the raw body with its
// Content-Type and X-File-Name, or multipart/form-data) and answers 201 with what it became;
// GET /api/files/{id} gives a file's bytes to its owner only; DELETE takes back an upload not sent.
// Reading images and PDFs runs on a pool of its own, with a bounded queue: a burst of uploads gets
// 503 rather than holding every body in memory, and never holds up the threads others use.
class FileRoutes : public QObject
{
    Q_OBJECT
public:
    explicit FileRoutes(FileStore &files, QObject *parent = nullptr);
    void registerRoutes(Router &router);
    void setLimits(const FileIntake::Limits &limits) { m_limits = limits; }
    // What a user's uploads that no message uses yet may take together.
    void setUnsentQuota(qint64 bytes) { m_unsentQuota = bytes; }
    static constexpr int maxQueuedUploads = 16; // waiting for a thread, beyond those being read
    static constexpr int maxUploadsPerUser = 4; // being read at once for one user

    // A file as the API shows it.
    static QJsonObject json(const FileRow &row);

private:
    void upload(RequestContext &context);
    void get(RequestContext &context);
    void remove(RequestContext &context);

    FileStore &m_files;
    FileIntake::Limits m_limits;
    qint64 m_unsentQuota = 0; // 0: none
    QThreadPool m_pool;
    int m_inIntake = 0; // uploads being read or waiting to be
    struct InFlight
    {
        int count = 0;
        qint64 bytes = 0;
    };
    QHash<QString, InFlight> m_inFlight; // per tenant/user: counted against the quota already
};
