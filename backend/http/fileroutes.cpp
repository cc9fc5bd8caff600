#include "fileroutes.h"

#include "core/uuidutil.h"
#include "files/filestore.h"
#include "requestcontext.h"
#include "router.h"

using namespace Qt::StringLiterals;

FileRoutes::FileRoutes(FileStore &files, QObject *parent) : QObject(parent), m_files(files) {}

void FileRoutes::registerRoutes(Router &router)
{
    // The query token too: an <img src> cannot send headers.
    router.add(
        Router::Method::Get, u"/api/files/{}"_s, [this](RequestContext &c) { get(c); }, Router::QueryToken);
}

void FileRoutes::get(RequestContext &context)
{
    const QString id = context.params.value(0).toLower();
    if (!Uuid::isValid(id))
        return context.sendError(400, u"invalid_uuid"_s, u"The file id is not a UUID"_s);
    const auto row = m_files.get(context.principal.tenantId, context.principal.userId, id);
    if (!row)
        return context.sendError(404, u"file_not_found"_s, u"No file %1 for this user"_s.arg(id));
    const QByteArray bytes = m_files.read(*row);
    if (bytes.size() != row->size)
        return context.sendError(500, u"storage_error"_s, u"The file's bytes are missing"_s);
    context.sendBytes(
        row->mediaType.toUtf8(), bytes,
        {{"Cache-Control", "private, max-age=86400"},
         {"X-Content-Type-Options", "nosniff"},
         {"Content-Disposition", "inline; filename=\"" + QString(row->name).remove(u'"').toUtf8() + '"'}});
}
