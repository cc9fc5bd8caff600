#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonDocument>
#include <QList>
#include <QString>

struct SseEvent
{
    QString event;   // the `event:` field; empty means the spec's default type "message"
    QByteArray data; // `data:` lines joined with "\n", UTF-8 as received (JSON is parsed from it)
    QString id;      // the last event ID seen so far (it persists across events, as in the spec)
};

// Incremental text/event-stream parser following the WHATWG "event stream interpretation".
// Bytes may be split anywhere, even inside a UTF-8 character: events hold complete lines only.
// Accepts LF, CRLF and CR line ends (a CR ending one feed and an LF starting the next count
// once), a BOM at stream start, comments, and `field:value` with or without the space.
class SseParser
{
public:
    QList<SseEvent> feed(QByteArrayView bytes);
    // End of stream: takes an unterminated last line and a pending event without its blank line
    // (servers that close early still meant them; the spec would drop them), then resets.
    QList<SseEvent> flush();
    void reset();

    int retryMs() const { return m_retryMs; } // -1 while the stream sent no valid `retry:`
    // An event's data as JSON. Text that is not valid UTF-8 reads with U+FFFD in place of the bad
    // bytes, as it did when every event went through QString (Qt's JSON parser refuses it).
    static QJsonDocument json(const QByteArray &data);
    int commentCount() const { return m_comments; }

private:
    void parseBuffer(QList<SseEvent> &out);
    void processLine(QByteArrayView line, QList<SseEvent> &out);
    void dispatch(QList<SseEvent> &out);

    QByteArray m_buffer;     // starts at the first byte of an unfinished line
    qsizetype m_scanned = 0; // bytes of m_buffer already searched for a line end
    bool m_skipLf = false;   // the last line ended in CR: a following LF belongs to it
    bool m_atStart = true;   // a BOM is only skipped before the first byte
    QByteArray m_data;
    QByteArray m_eventType;
    QString m_lastId;
    int m_retryMs = -1;
    int m_comments = 0;
};
