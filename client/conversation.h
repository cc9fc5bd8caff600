#pragma once

#include "messagelistmodel.h"

#include <QHash>
#include <QJsonArray>
#include <QObject>

#include <functional>

#include <optional>

class ApiClient;
class LocalCache;

// The conversation on screen: which session it is, its rows (the agent's greeting, then the
// active branch of the message tree, oldest first), switching a turn to another version, and
// what of it is kept in the local cache. A reply still streaming into it (ReplyStreamer) is
// handed in as a live turn, so that reloads never replace it with the lagging stored copy.
class Conversation : public QObject
{
    Q_OBJECT

public:
    // The two rows of a reply being written, and the ids its stored copies have.
    struct LiveTurn
    {
        QString userMessageId;
        QString replyId;
        MessageItem user;
        MessageItem reply;
    };

    Conversation(ApiClient *api, LocalCache *cache, const QString &cacheKey, QObject *parent = nullptr);

    MessageListModel *messages() { return &m_messages; }
    const MessageListModel *messages() const { return &m_messages; }
    QString sessionId() const { return m_sessionId; }
    // Bumped whenever another conversation is shown: answers for an older view are dropped.
    int view() const { return m_view; }

    // Another conversation: `sessionId` (empty: a new chat), with no rows yet.
    void switchTo(const QString &sessionId);
    // A new chat got its session from the server: the same view, now with an id.
    void adoptSession(const QString &sessionId) { m_sessionId = sessionId; }
    void setGreeting(const QString &greeting) { m_greeting = greeting; }

    // Shows `stored` (or merges it into the rows shown, without a reset), with the live turn
    // and unsent rows after it. A last reply that failed offers Retry, also after a restart.
    void show(const QList<MessageItem> &stored, bool merge, const std::optional<LiveTurn> &live);
    // The server's copy of a session's active branch, into the cache; `shown` is called with it
    // while that session is still the one on screen.
    void load(const QString &sessionId, std::function<void(const QList<MessageItem> &)> shown);
    // The version `step` before or after the one in `row`; the server's branch comes to `shown`.
    void showVersion(int row, int step, std::function<void(const QList<MessageItem> &)> shown);
    // Follows the branch holding `messageId` in `sessionId`, then calls `done`.
    void followBranch(const QString &sessionId, const QString &messageId, std::function<void()> done);
    // Scrolls to this message once a conversation holding it is shown.
    void focusMessage(const QString &messageId) { m_focusMessageId = messageId; }

    // The row of the user message a reply or user row belongs to (-1: none stored yet).
    int userRowFor(int row) const;
    // A message that never reached the server and its error row: kept on screen until another
    // conversation is shown (reloads would otherwise drop them).
    void keepUnsent(const QList<MessageItem> &rows);
    void dropUnsent() { m_unsent.clear(); }
    // What the client measured of a reply as it streamed (its speed, how long it thought), kept
    // by its id so that the stored copy shown later has it too.
    void setMeasured(const QString &replyId, double rate, qint64 thoughtMs)
    {
        m_measured.insert(replyId, {rate, thoughtMs});
    }
    // The rows shown, as the cache's copy (in case the app quits before the server's comes).
    void cacheShown();

Q_SIGNALS:
    void sessionGone(const QString &sessionId); // 404 from the server
    void failed(const QString &notice);
    void messageFocusRequested(int row);

private:
    void mergeRows(const QList<MessageItem> &rows);
    // A session's branch from the server: into the cache, and to `shown` if still on screen.
    void arrived(const QString &sessionId, int view, const QJsonArray &messages,
                 const std::function<void(const QList<MessageItem> &)> &shown);

    ApiClient *m_api;
    LocalCache *m_cache;
    QString m_cacheKey;
    MessageListModel m_messages;
    QString m_sessionId;
    int m_view = 0;
    QString m_greeting;
    QString m_focusMessageId;
    QList<MessageItem> m_unsent;
    int m_unsentView = -1;
    struct Measured
    {
        double rate = 0;
        qint64 thoughtMs = -1;
    };
    void applyMeasured(MessageItem &m) const;
    // Of the last replies, by reply id, so a reload keeps them.
    QHash<QString, Measured> m_measured;
};
