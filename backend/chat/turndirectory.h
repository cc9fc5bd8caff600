#pragma once

#include <QHash>
#include <QMutex>
#include <QString>

class ChatService;

// Which chat service runs the reply of each session, for every event loop of the server (--threads):
// one reply per session at a time holds across loops, and a cancel, a tool decision or a client
// that attaches reaches the loop that runs the reply. Safe to use from any thread; the services
// it names live on their own loops and are only ever called there.
class TurnDirectory
{
public:
    // Takes the session for `owner`; false when a reply runs in it already (on any loop).
    bool claimSession(const QString &sessionId, ChatService *owner);
    void releaseSession(const QString &sessionId);
    void addReply(const QString &replyId, ChatService *owner);
    void removeReply(const QString &replyId);

    ChatService *sessionOwner(const QString &sessionId) const;
    ChatService *replyOwner(const QString &replyId) const;
    // Replies running on every loop.
    int running() const;

private:
    mutable QMutex m_lock;
    QHash<QString, ChatService *> m_sessions;
    QHash<QString, ChatService *> m_replies;
};
