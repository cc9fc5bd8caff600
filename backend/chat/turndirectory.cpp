#include "turndirectory.h"

bool TurnDirectory::claimSession(const QString &sessionId, ChatService *owner)
{
    const QMutexLocker locker(&m_lock);
    if (m_sessions.contains(sessionId))
        return false;
    m_sessions.insert(sessionId, owner);
    return true;
}

void TurnDirectory::releaseSession(const QString &sessionId)
{
    const QMutexLocker locker(&m_lock);
    m_sessions.remove(sessionId);
}

void TurnDirectory::addReply(const QString &replyId, ChatService *owner)
{
    const QMutexLocker locker(&m_lock);
    m_replies.insert(replyId, owner);
}

void TurnDirectory::removeReply(const QString &replyId)
{
    const QMutexLocker locker(&m_lock);
    m_replies.remove(replyId);
}

ChatService *TurnDirectory::sessionOwner(const QString &sessionId) const
{
    const QMutexLocker locker(&m_lock);
    return m_sessions.value(sessionId);
}

ChatService *TurnDirectory::replyOwner(const QString &replyId) const
{
    const QMutexLocker locker(&m_lock);
    return m_replies.value(replyId);
}

int TurnDirectory::running() const
{
    const QMutexLocker locker(&m_lock);
    return int(m_replies.size());
}
