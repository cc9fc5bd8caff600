#include "replychannel.h"

#include "chat/chatturn.h"
#include "core/logging.h"
#include "ssestream.h"

ReplyChannel::ReplyChannel(ChatTurn *turn, int graceMs, bool abandonWhenAlone)
    : QObject(turn), m_turn(turn),
      m_events(turn->session().id, turn->userMessage().id, turn->reply().id),
      m_abandonWhenAlone(abandonWhenAlone)
{
    m_grace.setSingleShot(true);
    m_grace.setInterval(qMax(0, graceMs));
    connect(&m_grace, &QTimer::timeout, this, &ReplyChannel::onGraceOver);
    connect(turn, &ChatTurn::content, this, &ReplyChannel::onContent);
    connect(turn, &ChatTurn::ended, this, &ReplyChannel::onEnded);
}

ReplyChannel *ReplyChannel::of(ChatTurn *turn, int graceMs, bool abandonWhenAlone)
{
    if (auto *channel = turn->findChild<ReplyChannel *>(QString(), Qt::FindDirectChildrenOnly))
        return channel;
    return new ReplyChannel(turn, graceMs, abandonWhenAlone);
}

void ReplyChannel::attach(SseStream *stream, int afterSeq)
{
    m_grace.stop();
    stream->setParent(this);
    // The turn is on this thread: no event can come between the replay and the first live one.
    QByteArray replay;
    for (int seq = qMax(1, afterSeq + 1); seq <= m_turn->eventCount(); ++seq)
        replay += m_events.content(seq, m_turn->eventText(seq).toString());
    if (!replay.isEmpty())
        stream->send(replay);
    m_followers.append(stream);
    connect(stream, &SseStream::clientGone, this, &ReplyChannel::onFollowerGone);
}

void ReplyChannel::broadcast(const QByteArray &event)
{
    for (const QPointer<SseStream> &stream : std::as_const(m_followers)) {
        if (stream)
            stream->send(event);
    }
}

void ReplyChannel::onContent(int seq, const QString &text)
{
    if (!m_followers.isEmpty())
        broadcast(m_events.content(seq, text));
}

void ReplyChannel::onEnded(const ChatOutcome &outcome)
{
    m_grace.stop();
    if (!m_followers.isEmpty())
        broadcast(m_events.terminal(m_turn->eventCount() + 1, outcome));
    for (const QPointer<SseStream> &stream : std::as_const(m_followers)) {
        if (stream) {
            stream->setParent(nullptr); // the turn is deleted next; the stream closes on its own
            stream->finish();
        }
    }
    m_followers.clear();
}

void ReplyChannel::onFollowerGone()
{
    auto *gone = qobject_cast<SseStream *>(sender());
    m_followers.removeIf([gone](const QPointer<SseStream> &s) { return !s || s == gone; });
    if (gone)
        gone->deleteLater();
    if (!m_followers.isEmpty() || !m_abandonWhenAlone || m_turn->hasEnded())
        return;
    if (m_grace.interval() == 0) {
        m_turn->abandon();
        return;
    }
    qCDebug(lcChat) << "reply" << m_turn->reply().id << "has no follower; waiting" << m_grace.interval()
                    << "ms for one";
    m_grace.start();
}

void ReplyChannel::onGraceOver()
{
    if (m_followers.isEmpty() && !m_turn->hasEnded())
        m_turn->abandon();
}
