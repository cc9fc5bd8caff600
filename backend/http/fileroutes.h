#pragma once

#include "files/fileintake.h"

#include <QObject>

class FileStore;
class Router;
struct FileRow;
struct RequestContext;

// Files (protocol v2, section 6): POST /api/files takes an upload (the raw body with its
// Content-Type and X-File-Name, or multipart/form-data) and answers 201 with what it became;
// GET /api/files/{id} gives a file's bytes to its owner only.
class FileRoutes : public QObject
{
    Q_OBJECT
public:
    explicit FileRoutes(FileStore &files, QObject *parent = nullptr);
    void registerRoutes(Router &router);
    void setLimits(const FileIntake::Limits &limits) { m_limits = limits; }

    // A file as the API shows it.
    static QJsonObject json(const FileRow &row);

private:
    void upload(RequestContext &context);
    void get(RequestContext &context);

    FileStore &m_files;
    FileIntake::Limits m_limits;
};
