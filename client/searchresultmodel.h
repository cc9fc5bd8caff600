#pragma once

#include <QAbstractListModel>
#include <QDateTime>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

class ApiClient;

// Full-text search over every message of the user's chats (GET /api/search): one row per chat,
// best first, with its title and the best matching message as HTML (terms in <mark>, shown
// bold). A query is sent a moment after typing stops; older answers are dropped.
class SearchResultModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the ChatController")
    Q_PROPERTY(QString query READ query NOTIFY queryChanged)
    Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(QString error READ error NOTIFY busyChanged)

public:
    enum Role {
        SessionIdRole = Qt::UserRole + 1,
        MessageIdRole,
        TitleHtmlRole,
        SnippetHtmlRole,
        MatchesRole, // messages of the chat that match
        WhenRole,
    };
    Q_ENUM(Role)

    struct Result
    {
        QString sessionId;
        QString messageId;
        QString titleHtml;
        QString snippetHtml;
        int matches = 0;
        QDateTime when;
    };

    explicit SearchResultModel(ApiClient *api, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString query() const { return m_query; }
    bool isBusy() const { return m_busy; }
    QString error() const { return m_error; }
    const QList<Result> &results() const { return m_results; }

    // Empty: no search (and no rows). Otherwise searched after a short pause.
    Q_INVOKABLE void search(const QString &query);
    // The answer of GET /api/search as rows (the server's HTML turned into what a Text shows).
    static QList<Result> fromJson(const QJsonObject &answer);

Q_SIGNALS:
    void queryChanged();
    void busyChanged();
    void countChanged();

private:
    void send();

    ApiClient *m_api;
    QTimer m_debounce;
    QString m_query;
    bool m_busy = false;
    QString m_error;
    int m_generation = 0;
    QList<Result> m_results;
};
