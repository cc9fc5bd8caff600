#pragma once

#include <QObject>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

class ApiClient;
class ChatController;
class QQmlEngine;
class QJSEngine;

// Export and import of chats for the window: a chat or all of them saved as Markdown or JSON
// (GET /api/sessions/{id}/export, /api/export), and an AgentDesk or ChatGPT export read into
// the account (POST /api/import). The QML asks for the file; everything else is here.
class TransferController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged)
    Q_PROPERTY(QString status READ status NOTIFY statusChanged)

public:
    static TransferController *create(QQmlEngine *qmlEngine, QJSEngine *jsEngine);
    TransferController(ApiClient *api, ChatController *chat, QObject *parent = nullptr);
    ~TransferController() override;

    bool isBusy() const { return m_busy; }
    QString status() const { return m_status; }

    // `sessionId` empty: every chat. `format`: "markdown" or "json".
    Q_INVOKABLE void exportChats(const QString &sessionId, const QString &format, const QUrl &file);
    Q_INVOKABLE void importFile(const QUrl &file);
    // A file for the save dialog, in the user's documents: named for the chat's title, or for
    // all chats.
    Q_INVOKABLE QUrl suggestedFile(const QString &sessionId, const QString &format) const;

Q_SIGNALS:
    void busyChanged();
    void statusChanged();
    void finished(bool ok);

private:
    void done(bool ok, const QString &status);

    static TransferController *s_instance;
    ApiClient *m_api;
    ChatController *m_chat;
    bool m_busy = false;
    QString m_status;
};
