#pragma once

#include <QByteArray>
#include <QList>

// Incremental Server-Sent Events parser. Bytes go in as the network delivers them, in pieces
// of any size; what comes out is the data of each *complete* event (its `data:` lines joined
// by "\n"), still as raw bytes: a UTF-8 character split across two reads is only decoded once
// the whole event is there. Comment lines (`: keep-alive`) and the fields other than `data` and
// `id` are skipped; `id` is kept as the spec's "last event ID", what a resume sends back.
class SseReader
{
public:
    // Feeds bytes; returns the data of every event completed by them, in order.
    QList<QByteArray> feed(const QByteArray &bytes);
    // End of stream: the data of an event left without its closing blank line, if any.
    QByteArray finish();
    void reset();
    bool hasPending() const { return !m_line.isEmpty() || m_hasData; }
    int commentCount() const { return m_comments; }
    // The id of the last event returned (empty before any event with an id).
    QByteArray lastEventId() const { return m_lastEventId; }

private:
    void processLine(const QByteArray &line, QList<QByteArray> &out);

    QByteArray m_line;        // the incomplete last line
    QByteArray m_data;        // the data lines of the current event
    QByteArray m_idBuffer;    // the id field as last set (it carries over to later events)
    QByteArray m_lastEventId; // as it was when the last event was dispatched
    bool m_hasData = false;
    bool m_lastWasCR = false; // a "\r" ended the previous piece: a "\n" right after it is the same break
    int m_comments = 0;
};
