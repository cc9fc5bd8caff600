#include "fileroutes.h"

#include "core/uuidutil.h"
#include "files/filestore.h"
#include "files/filetype.h"
#include "jsonview.h"
#include "multipartform.h"
#include "requestcontext.h"
#include "router.h"

#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonObject>
#include <QPointer>
#include <QTcpSocket>
#include <QThread>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>

using namespace Qt::StringLiterals;

namespace {
// A name as a file system would take it: no directories, no control characters, not too long.
QString cleanName(const QString &name, const QString &mediaType)
{
    QString clean = QFileInfo(QString(name).replace(u'\\', u'/')).fileName();
    clean.remove(QRegularExpression(u"[\\x00-\\x1f\\x7f]"_s));
    clean = clean.trimmed();
    if (clean.size() > 200)
        clean = clean.left(100) + u'…' + clean.right(99);
    if (clean.isEmpty())
        clean = u"file."_s + mediaType.section(u'/', 1).section(u'+', 0, 0).section(u'.', -1);
    return clean;
}
} // namespace

FileRoutes::FileRoutes(FileStore &files, QObject *parent) : QObject(parent), m_files(files)
{
    m_pool.setMaxThreadCount(qMax(2, QThread::idealThreadCount()));
}

void FileRoutes::registerRoutes(Router &router)
{
    router.add(Router::Method::Post, u"/api/files"_s, [this](RequestContext &c) { upload(c); });
    // The query token too: an <img src> cannot send headers.
    router.add(
        Router::Method::Get, u"/api/files/{}"_s, [this](RequestContext &c) { get(c); }, Router::QueryToken);
    router.add(Router::Method::Delete, u"/api/files/{}"_s, [this](RequestContext &c) { remove(c); });
}

QJsonObject FileRoutes::json(const FileRow &row)
{
    QJsonObject o{{u"id"_s, row.id},
                  {u"media_type"_s, row.mediaType},
                  {u"name"_s, row.name},
                  {u"size"_s, row.size},
                  {u"url"_s, u"/api/files/"_s + row.id},
                  {u"created_at"_s, JsonView::timestamp(row.createdAt)}};
    if (row.width > 0) {
        o.insert(u"width"_s, row.width);
        o.insert(u"height"_s, row.height);
    }
    if (!row.isImage()) {
        o.insert(u"pages"_s, row.pages > 0 ? QJsonValue(row.pages) : QJsonValue(QJsonValue::Null));
        o.insert(u"text_length"_s, row.text.size());
    }
    return o;
}

void FileRoutes::upload(RequestContext &context)
{
    const QByteArray &body = context.request.body();
    const QByteArray contentType = context.request.value("content-type");
    QByteArray bytes;
    QString declared = QString::fromLatin1(contentType);
    QString name = QUrl::fromPercentEncoding(context.request.value("x-file-name"));
    if (const QByteArray boundary = MultipartForm::boundaryOf(contentType); !boundary.isEmpty()) {
        QList<MultipartForm::Part> parts;
        if (!MultipartForm::parse(body, boundary, &parts))
            return context.sendError(400, u"invalid_multipart"_s,
                                     u"The multipart/form-data body is malformed"_s);
        // The field named "file", else the first part that is a file.
        const MultipartForm::Part *file = nullptr;
        for (const MultipartForm::Part &part : parts) {
            if (part.name == "file"_L1 || (!file && !part.fileName.isEmpty()))
                file = &part;
        }
        if (!file)
            return context.sendError(400, u"missing_file"_s,
                                     u"The form has no file (send it as the field \"file\")"_s);
        bytes = file->data.toByteArray();
        declared = QString::fromLatin1(file->type);
        name = file->fileName;
    } else if (contentType.toLower().startsWith("multipart/")) {
        return context.sendError(400, u"invalid_multipart"_s, u"The multipart body has no boundary"_s);
    } else {
        bytes = body;
    }

    const QString user = context.principal.tenantId + u'/' + context.principal.userId;
    const InFlight inFlight = m_inFlight.value(user);
    if (inFlight.count >= maxUploadsPerUser)
        return context.sendError(
            429, u"too_many_uploads"_s,
            u"At most %1 uploads of one user are read at once; send the next when one is done"_s.arg(
                maxUploadsPerUser));
    if (m_unsentQuota > 0) {
        // Uploads still being read count too: a burst cannot get past the quota.
        const qint64 unsent = m_files.unsentBytes(context.principal.tenantId, context.principal.userId);
        if (unsent < 0)
            return context.sendError(500, u"storage_error"_s, u"The database could not be read"_s);
        if (unsent + inFlight.bytes + bytes.size() > m_unsentQuota)
            return context.sendError(
                413, u"upload_quota_exceeded"_s,
                u"Uploads not sent yet take %1 MiB of the %2 MiB allowed: send them, or delete some "
                u"(DELETE /api/files/{id}); unsent uploads are also forgotten after a day"_s
                    .arg(QString::number(double(unsent) / (1024 * 1024), 'f', 1))
                    .arg(m_unsentQuota / (1024 * 1024)));
    }
    if (m_inIntake >= m_pool.maxThreadCount() + maxQueuedUploads)
        return HttpReply::sendError(context.responder, 503, u"server_busy"_s,
                                    u"Too many uploads are being read right now; try again in a moment"_s,
                                    context.extraHeaders +
                                        QList<QPair<QByteArray, QByteArray>>{{"Retry-After", "2"}});
    // Reading the image or PDF takes long: off this thread, and the answer once it is done.
    ++m_inIntake;
    m_inFlight[user].count++;
    m_inFlight[user].bytes += bytes.size();
    const qint64 size = bytes.size();
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    QPointer<QTcpSocket> socket = responder->socket();
    const auto headers = context.extraHeaders;
    FileRow row;
    row.tenantId = context.principal.tenantId;
    row.userId = context.principal.userId;
    auto *watcher = new QFutureWatcher<FileIntake::Result>(this);
    connect(watcher, &QFutureWatcher<FileIntake::Result>::finished, this,
            [this, watcher, responder, socket, headers, row, name, user, size]() mutable {
                watcher->deleteLater();
                --m_inIntake;
                InFlight &mine = m_inFlight[user];
                if (--mine.count == 0)
                    m_inFlight.remove(user);
                else
                    mine.bytes -= size;
                const FileIntake::Result result = watcher->result();
                if (!socket)
                    return; // the client left: keep nothing of it
                if (result.error.isError())
                    return HttpReply::sendJsonAndClose(
                        *responder, HttpReply::errorBody(result.error.code, result.error.message),
                        result.error.status, headers);
                row.mediaType = result.mediaType;
                row.name = cleanName(name, result.mediaType);
                row.text = result.text;
                row.pages = result.pages;
                row.width = result.size.width();
                row.height = result.size.height();
                const auto stored = m_files.put(row, result.bytes);
                if (!stored)
                    return HttpReply::sendJsonAndClose(
                        *responder,
                        HttpReply::errorBody(u"storage_error"_s, u"The file could not be stored"_s), 500,
                        headers);
                QJsonObject json = FileRoutes::json(*stored);
                if (result.originalSize.isValid())
                    json.insert(u"scaled_from"_s, QJsonObject{{u"width"_s, result.originalSize.width()},
                                                              {u"height"_s, result.originalSize.height()}});
                if (result.textCut)
                    json.insert(u"text_cut"_s, true);
                HttpReply::sendJsonAndClose(*responder, json, 201, headers);
            });
    watcher->setFuture(
        QtConcurrent::run(&m_pool, &FileIntake::process, std::move(bytes), declared, name, m_limits));
}

void FileRoutes::remove(RequestContext &context)
{
    const QString id = context.params.value(0).toLower();
    if (!Uuid::isValid(id))
        return context.sendError(400, u"invalid_uuid"_s, u"The file id is not a UUID"_s);
    switch (m_files.removeUnsent(context.principal.tenantId, context.principal.userId, id)) {
    case FileStore::Removal::Removed:
        return context.sendNoContent();
    case FileStore::Removal::NotFound:
        return context.sendError(404, u"file_not_found"_s, u"No file %1 for this user"_s.arg(id));
    case FileStore::Removal::InUse:
        return context.sendError(409, u"file_in_use"_s,
                                 u"The file belongs to a message; it goes when its chat is deleted"_s);
    case FileStore::Removal::Failed:
        break;
    }
    context.sendError(500, u"storage_error"_s, u"The file could not be deleted"_s);
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
    // Text of any kind goes out as plain text in the charset it was read in (the bytes as they came),
    // and nothing a file holds may run as a page here.
    const QByteArray type = row->isImage() || row->mediaType == "application/pdf"_L1
                                ? row->mediaType.toUtf8()
                                : "text/plain; charset=" + FileType::charsetOf(bytes);
    const QByteArray fileName = QUrl::toPercentEncoding(row->name);
    context.sendBytes(type, bytes,
                      {{"Cache-Control", "private, max-age=86400"},
                       {"X-Content-Type-Options", "nosniff"},
                       {"Content-Security-Policy", "sandbox; default-src 'none'"},
                       {"Content-Disposition", "inline; filename*=UTF-8''" + fileName}});
}
