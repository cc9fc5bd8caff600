#pragma once

#include "types.h"

#include <QImage>
#include <QObject>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

class ApiClient;

// The files the composer will send with the next message: each one is uploaded as soon as it is
// added (by the button, dropped on the window or pasted), so Send only names them. An item shows
// the file as it was picked (a local path, for a thumbnail) and whether its upload is done. A
// handful at most: the QML gets them as one list, like a message's files.
class AttachmentTray : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the ChatController")
    // [{name, info ("PNG · 1280 × 720 · 240 KB"), isImage, url (a thumbnail's source),
    //   state (uploading, ready, failed), error}]
    Q_PROPERTY(QVariantList items READ items NOTIFY changed)
    Q_PROPERTY(int count READ count NOTIFY changed)
    Q_PROPERTY(int uploading READ uploading NOTIFY changed)
    Q_PROPERTY(int failed READ failed NOTIFY changed)

public:
    explicit AttachmentTray(ApiClient *api, QObject *parent = nullptr);

    QVariantList items() const;
    int count() const { return int(m_rows.size()); }

    // Local files (file:// URLs); what is not a readable file is said so in its row.
    void addFiles(const QList<QUrl> &urls);
    // An image from the clipboard, sent as PNG.
    void addImage(const QImage &image, const QString &name = {});
    Q_INVOKABLE void remove(int row);
    void clear();

    int uploading() const;
    int failed() const;
    // The uploaded files, for the message (with the path each was picked from, for its thumbnail).
    QList<AttachmentItem> ready() const;

    static constexpr int maxFiles = 20;

Q_SIGNALS:
    void changed();
    void notice(const QString &text);

private:
    struct Row
    {
        int key = 0; // stays with the row while others come and go
        AttachmentItem file;
        QString state = QStringLiteral("uploading");
        QString error;
    };
    void upload(Row row, const QByteArray &bytes);
    int rowOfKey(int key) const;
    void forget(const QString &fileId); // an upload taken out again: the server drops it

    ApiClient *m_api;
    QList<Row> m_rows;
    int m_keys = 0;
};
