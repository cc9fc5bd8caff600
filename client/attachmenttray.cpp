#include "attachmenttray.h"

#include "apiclient.h"
#include "logging.h"
#include "messagelistmodel.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMimeDatabase>
#include <QStandardPaths>
#include <QUuid>

#include <algorithm>

using namespace Qt::StringLiterals;

AttachmentTray::AttachmentTray(ApiClient *api, QObject *parent) : QObject(parent), m_api(api) {}

QVariantList AttachmentTray::items() const
{
    QVariantList list;
    for (const Row &row : m_rows)
        list.append(
            QVariantMap{{u"name"_s, row.file.name},
                        {u"info"_s, MessageListModel::attachmentInfo(row.file)},
                        {u"isImage"_s, row.file.isImage()},
                        {u"url"_s, row.file.isImage() ? QUrl::fromLocalFile(row.file.localPath) : QUrl()},
                        {u"state"_s, row.state},
                        {u"error"_s, row.error}});
    return list;
}

void AttachmentTray::addFiles(const QList<QUrl> &urls)
{
    static const QMimeDatabase mimes;
    for (const QUrl &url : urls) {
        if (m_rows.size() >= maxFiles) {
            Q_EMIT notice(tr("A message can carry at most %1 files.").arg(maxFiles));
            return;
        }
        const QString path = url.toLocalFile();
        Row row;
        row.key = ++m_keys;
        row.file.name = QFileInfo(path).fileName();
        row.file.localPath = path;
        QFile file(path);
        if (path.isEmpty() || QFileInfo(path).isDir() || !file.open(QIODevice::ReadOnly)) {
            row.file.name = row.file.name.isEmpty() ? url.toDisplayString() : row.file.name;
            row.state = u"failed"_s;
            row.error = tr("Cannot read this file.");
            m_rows.append(row);
            Q_EMIT changed();
            continue;
        }
        const QByteArray bytes = file.readAll();
        row.file.mediaType = mimes.mimeTypeForFileNameAndData(path, bytes.left(4096)).name();
        row.file.size = bytes.size();
        upload(row, bytes);
    }
}

void AttachmentTray::addImage(const QImage &image, const QString &name)
{
    if (image.isNull())
        return;
    if (m_rows.size() >= maxFiles) {
        Q_EMIT notice(tr("A message can carry at most %1 files.").arg(maxFiles));
        return;
    }
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    // Kept as a file too, so the composer and the sent message show it at once.
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + u"/pasted"_s;
    QDir().mkpath(dir);
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const QString path = dir + u'/' + id + u".png"_s;
    QFile file(path);
    if (file.open(QIODevice::WriteOnly))
        file.write(png);
    Row row;
    row.key = ++m_keys;
    row.file.name = name.isEmpty()
                        ? tr("Pasted image %1.png").arg(QDateTime::currentDateTime().toString(u"HHmmss"_s))
                        : name;
    row.file.mediaType = u"image/png"_s;
    row.file.size = png.size();
    row.file.width = image.width();
    row.file.height = image.height();
    row.file.localPath = path;
    upload(row, png);
}

void AttachmentTray::upload(Row row, const QByteArray &bytes)
{
    m_rows.append(row);
    Q_EMIT changed();
    const int key = row.key;
    m_api->uploadFile(bytes, row.file.name, row.file.mediaType, this, [this, key](const ApiResult &r) {
        const int at = rowOfKey(key);
        if (at < 0) { // removed while it uploaded
            if (r.ok())
                forget(r.json.value("id"_L1).toString());
            return;
        }
        Row &row = m_rows[at];
        if (r.ok()) {
            const QString localPath = row.file.localPath;
            row.file = AttachmentItem::fromJson(r.json);
            row.file.localPath = localPath;
            row.state = u"ready"_s;
        } else {
            row.state = u"failed"_s;
            row.error = r.message;
            qCInfo(lcClient) << "upload failed:" << r.code;
        }
        Q_EMIT changed();
    });
}

int AttachmentTray::rowOfKey(int key) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).key == key)
            return i;
    }
    return -1;
}

void AttachmentTray::forget(const QString &fileId)
{
    // Unsent uploads count against the user's quota on the server until taken back.
    m_api->del(u"/api/files/"_s + fileId, this, [fileId](const ApiResult &r) {
        if (!r.ok())
            qCInfo(lcClient) << "could not take back upload" << fileId << r.code;
    });
}

void AttachmentTray::remove(int row)
{
    if (row < 0 || row >= m_rows.size())
        return;
    if (!m_rows.at(row).file.id.isEmpty())
        forget(m_rows.at(row).file.id);
    m_rows.removeAt(row);
    Q_EMIT changed();
}

void AttachmentTray::clear()
{
    if (m_rows.isEmpty())
        return;
    m_rows.clear();
    Q_EMIT changed();
}

int AttachmentTray::uploading() const
{
    return int(std::count_if(m_rows.cbegin(), m_rows.cend(),
                             [](const Row &r) { return r.state == "uploading"_L1; }));
}

int AttachmentTray::failed() const
{
    return int(
        std::count_if(m_rows.cbegin(), m_rows.cend(), [](const Row &r) { return r.state == "failed"_L1; }));
}

QList<AttachmentItem> AttachmentTray::ready() const
{
    QList<AttachmentItem> files;
    for (const Row &row : m_rows) {
        if (row.state == "ready"_L1)
            files.append(row.file);
    }
    return files;
}
