#pragma once

#include <QByteArray>
#include <QList>

// Incremental Server-Sent Events parser. Bytes go in as the network delivers them, in pieces
// of any size; what comes out is the data of each *complete* event (its `data:` lines joined
// by "\n"), still as raw bytes: a UTF-8 character split across two reads is only decoded once
// the whole event is there. Comment lines (`: keep-alive`) and the other fields are skipped.
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

private:
    void processLine(const QByteArray &line, QList<QByteArray> &out);

    QByteArray m_line; // the incomplete last line
    QByteArray m_data; // the data lines of the current event
    bool m_hasData = false;
    bool m_lastWasCR = false; // a "\r" ended the previous piece: a "\n" right after it is the same break
    int m_comments = 0;
};
