#pragma once

#include <QObject>

class FileStore;
class Router;
struct RequestContext;

// GET /api/files/{id}: a stored file's bytes (an image a tool returned), to its owner only.
class FileRoutes : public QObject
{
    Q_OBJECT
public:
    explicit FileRoutes(FileStore &files, QObject *parent = nullptr);
    void registerRoutes(Router &router);

private:
    void get(RequestContext &context);

    FileStore &m_files;
};
