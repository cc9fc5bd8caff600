#include "replychannel.h"

#include "chat/chatturn.h"
#include "core/logging.h"
#include "core/outputbatch.h"
#include "ssestream.h"

#include <QTimerEvent>

ReplyChannel::ReplyChannel(ChatTurn *turn, int graceMs, bool abandonWhenAlone)
    : QObject(turn), m_turn(turn), m_graceMs(qMax(0, graceMs)), m_abandonWhenAlone(abandonWhenAlone)
{
    connect(turn, &ChatTurn::content, this, &ReplyChannel::onContent);
    connect(turn, &ChatTurn::reasoning, this, &ReplyChannel::onReasoning);
    connect(turn, &ChatTurn::other, this, &ReplyChannel::onOther);
    connect(turn, &ChatTurn::ended, this, &ReplyChannel::onEnded);
}

ReplyChannel *ReplyChannel::existing(ChatTurn *turn)
{
    return turn->findChild<ReplyChannel *>(QString(), Qt::FindDirectChildrenOnly);
}

ReplyChannel *ReplyChannel::of(ChatTurn *turn, int graceMs, bool abandonWhenAlone)
{
    if (ReplyChannel *channel = existing(turn))
        return channel;
    return new ReplyChannel(turn, graceMs, abandonWhenAlone);
}

void ReplyChannel::attach(SseStream *stream, int afterSeq)
{
    m_grace.stop();
    stream->setParent(this);
    m_followers.append(stream);
    connect(stream, &SseStream::clientGone, this, &ReplyChannel::onFollowerGone);
    // The turn is on this thread: no event can come between the replay and the first live one.
    QByteArray replay;
    for (int seq = qMax(1, afterSeq + 1); seq <= m_turn->eventCount(); ++seq)
        replay += m_turn->eventBytes(seq);
    if (!replay.isEmpty())
        stream->send(replay);
    if (!stream->isOpen()) // gone already (its clientGone may never come)
        followerGone(stream);
}

void ReplyChannel::broadcast(const QByteArray &event)
{
    // A copy: a write that fails makes its stream leave (clientGone) in the middle of the loop.
    const QList<QPointer<SseStream>> followers = m_followers;
    for (const QPointer<SseStream> &stream : followers) {
        if (stream)
            stream->send(event);
    }
}

void ReplyChannel::onContent(int seq, const QString &text)
{
    if (!m_followers.isEmpty())
        broadcast(m_turn->events().content(seq, text));
}

void ReplyChannel::onReasoning(int seq, const QString &text)
{
    if (!m_followers.isEmpty())
        broadcast(m_turn->events().reasoning(seq, text));
}

void ReplyChannel::onOther(int seq, const QByteArray &json)
{
    if (!m_followers.isEmpty())
        broadcast(m_turn->events().other(seq, json));
}

void ReplyChannel::onEnded(const ChatOutcome &outcome)
{
    const OutputBatch batch; // the terminal event and the body's end in one send
    m_grace.stop();
    if (!m_followers.isEmpty())
        broadcast(m_turn->events().terminal(m_turn->eventCount() + 1, outcome));
    const QList<QPointer<SseStream>> followers = std::exchange(m_followers, {});
    for (const QPointer<SseStream> &stream : followers) {
        if (stream) {
            stream->disconnect(this);
            stream->setParent(nullptr); // the turn is deleted next; the stream closes on its own
            stream->finish();
        }
    }
}

void ReplyChannel::keepAliveWithoutOwner()
{
    m_abandonWhenAlone = true;
    if (m_followers.isEmpty())
        m_turn->abandon();
}

void ReplyChannel::onFollowerGone()
{
    followerGone(qobject_cast<SseStream *>(sender()));
}

void ReplyChannel::followerGone(SseStream *gone)
{
    m_followers.removeIf([gone](const QPointer<SseStream> &s) { return !s || s == gone; });
    if (gone) {
        gone->disconnect(this);
        gone->deleteLater();
    }
    if (!m_followers.isEmpty() || !m_abandonWhenAlone || m_turn->hasEnded())
        return;
    if (m_graceMs == 0) {
        m_turn->abandon();
        return;
    }
    qCDebug(lcChat) << "reply" << m_turn->reply().id << "has no follower; waiting" << m_graceMs
                    << "ms for one";
    m_grace.start(m_graceMs, this);
}

void ReplyChannel::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_grace.timerId())
        return QObject::timerEvent(event);
    m_grace.stop();
    if (m_followers.isEmpty() && !m_turn->hasEnded())
        m_turn->abandon();
}
