#pragma once

#include "chat/replyevents.h"

#include <QBasicTimer>
#include <QList>
#include <QObject>
#include <QPointer>

#include <utility>

class ChatTurn;
class SseStream;

// Everyone following one running reply (protocol v2, section 3): the client that started it, a
// client that resumed it after a network drop, a second window. Each event is built once and
// written to all of them; a follower that attaches first gets the events after the last one it
// saw, from the turn's memory. When the last follower leaves, the reply runs on for the grace
// period and is abandoned (saved as "Disconnected") only if nobody came back by then. A child of
// its turn, so it never outlives it.
class ReplyChannel : public QObject
{
    Q_OBJECT
public:
    // graceMs 0: the reply stops as soon as its last follower leaves. abandonWhenAlone false: the
    // reply has another owner (the whole-reply route) and is never stopped from here.
    ReplyChannel(ChatTurn *turn, int graceMs, bool abandonWhenAlone);

    // The channel of a running turn, made on first use.
    static ReplyChannel *of(ChatTurn *turn, int graceMs, bool abandonWhenAlone = true);
    // The channel of a running turn, if it has one.
    static ReplyChannel *existing(ChatTurn *turn);

    // Replays the events after `afterSeq` to `stream`, then keeps it following. The stream is then
    // owned here.
    void attach(SseStream *stream, int afterSeq);
    // The whole-reply route's client left: the followers (if any) keep the reply, as streams do.
    void keepAliveWithoutOwner();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    void broadcast(const QByteArray &event);
    void onContent(int seq, const QString &text);
    void onReasoning(int seq, const QString &text);
    void onOther(int seq, const QByteArray &json);
    void onEnded(const ChatOutcome &outcome);
    void onFollowerGone();
    void followerGone(SseStream *stream);

    ChatTurn *m_turn;
    QList<QPointer<SseStream>> m_followers;
    QBasicTimer m_grace; // no QObject of its own: one of these per running reply
    int m_graceMs;
    bool m_abandonWhenAlone;
};
