#pragma once

#include "chatoutcome.h"
#include "streamchunk.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

struct StoredReply;

// One reply's stream events as bytes on the wire (protocol v2, sections 1-2): each is
// `id: <reply_id>:<seq>` and one chunk with the reference's eight fields. The same events come
// from a running reply (ChatTurn) and, once it ended, from what is stored (StoredReply), so a
// client that resumes cannot tell the two apart.
class ReplyEvents
{
public:
    ReplyEvents(const QString &sessionId, const QString &messageId, const QString &replyId);

    QByteArray content(int seq, const QString &text) const;
    QByteArray reasoning(int seq, const QString &text) const;
    // An event of another type (tool calls, progress, attachments), its chunk's JSON given.
    QByteArray other(int seq, const QByteArray &json) const;
    QByteArray terminal(int seq, const ChatOutcome &outcome) const;
    // The JSON of a chunk of another type with the ids, for other().
    QByteArray otherJson(const QString &type, const QString &content, const QJsonObject &metadata) const;

    // How a stored reply ended, as ChatTurn reported it when it did.
    static ChatOutcome outcomeOf(const StoredReply &stored);
    // The seq of a stored reply's terminal event: a client that saw it gets 204 on resume. For a
    // reply a crash cut, past any the crashed process may have sent after its last checkpoint.
    static int terminalSeq(const StoredReply &stored);
    static constexpr int crashTerminalSeq = 2147483647;
    // Every event of a stored reply after `afterSeq`, terminal included.
    static QByteArray replay(const StoredReply &stored, int afterSeq);

private:
    QByteArray textEvent(QByteArrayView head, int seq, const QString &text) const;

    StreamChunk m_chunk; // the ids every chunk carries
    QByteArray m_idPrefix;
    // A content (or reasoning) chunk's JSON after its text (ids and nulls, the same for every one):
    // made once, so a chunk costs one string's encoding, not three.
    QByteArray m_contentTail;
};
