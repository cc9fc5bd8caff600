#include "fileroutes.h"

#include "core/uuidutil.h"
#include "files/filestore.h"
#include "jsonview.h"
#include "multipartform.h"
#include "requestcontext.h"
#include "router.h"

#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonObject>
#include <QPointer>
#include <QTcpSocket>
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

FileRoutes::FileRoutes(FileStore &files, QObject *parent) : QObject(parent), m_files(files) {}

void FileRoutes::registerRoutes(Router &router)
{
    router.add(Router::Method::Post, u"/api/files"_s, [this](RequestContext &c) { upload(c); });
    // The query token too: an <img src> cannot send headers.
    router.add(
        Router::Method::Get, u"/api/files/{}"_s, [this](RequestContext &c) { get(c); }, Router::QueryToken);
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

    // Reading the image or PDF takes long: off this thread, and the answer once it is done.
    auto responder = std::make_shared<QHttpServerResponder>(context.takeResponder());
    QPointer<QTcpSocket> socket = responder->socket();
    const auto headers = context.extraHeaders;
    FileRow row;
    row.tenantId = context.principal.tenantId;
    row.userId = context.principal.userId;
    auto *watcher = new QFutureWatcher<FileIntake::Result>(this);
    connect(watcher, &QFutureWatcher<FileIntake::Result>::finished, this,
            [this, watcher, responder, socket, headers, row, name]() mutable {
                watcher->deleteLater();
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
    watcher->setFuture(QtConcurrent::run(&FileIntake::process, std::move(bytes), declared, name, m_limits));
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
    // Text of any kind goes out as plain text, and nothing a file holds may run as a page here.
    const QByteArray type = row->isImage() || row->mediaType == "application/pdf"_L1
                                ? row->mediaType.toUtf8()
                                : QByteArrayLiteral("text/plain; charset=utf-8");
    const QByteArray fileName = QUrl::toPercentEncoding(row->name);
    context.sendBytes(type, bytes,
                      {{"Cache-Control", "private, max-age=86400"},
                       {"X-Content-Type-Options", "nosniff"},
                       {"Content-Security-Policy", "sandbox; default-src 'none'"},
                       {"Content-Disposition", "inline; filename*=UTF-8''" + fileName}});
}
