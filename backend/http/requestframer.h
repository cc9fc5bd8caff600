#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

// Follows the request boundaries on one HTTP/1.1 connection, byte by byte as they arrive, and
// says as early as possible when a request breaks a limit. Qt 6.4's QAbstractHttpServer buffers a
// whole request (an endless request line or header, any Content-Length, any chunked body)
// before anyone sees it; ApiServer feeds each connection's bytes through one of these first and
// refuses the request the moment it is over a limit.
//
// The framing mirrors what QHttpServerRequest 6.4 does: leading blank lines are skipped, the
// head ends at an empty line (CRLF or LF), the first Content-Length header gives the body size
// unless the first Transfer-Encoding header says "chunked". Pure: no I/O, fuzzed on its own.
class RequestFramer
{
public:
    struct Limits
    {
        qint64 maxHeaderBytes = 64 * 1024;            // request line and header fields together
        qint64 maxBodyBytes = 1024 * 1024;            // Content-Length, or the chunked sizes summed
        qint64 maxImportBodyBytes = 64 * 1024 * 1024; // the same for POST /api/import (whole exports)
                                                      // and /v1/chat/completions (images inline)
        qint64 maxUploadBodyBytes = 21 * 1024 * 1024; // and for POST /api/files (a file, its form around it)
    };
    // Whether a request target is the import route, which takes files larger than any other body.
    static bool isImportTarget(QByteArrayView target);
    // ... the upload route (POST /api/files), which takes files too.
    static bool isUploadTarget(QByteArrayView target);
    static bool isCompletionsTarget(QByteArrayView target); // POST /v1/chat/completions (and /api/v1/...)
    // The body limit for a request to `target`.
    static qint64 bodyLimitFor(QByteArrayView target, const Limits &limits);
    enum class Verdict {
        Ok,
        HeaderTooLarge, // 431
        BodyTooLarge,   // 413
        Malformed,      // 400: a chunk size line that is no size, or a Content-Length that is no number
    };

    RequestFramer() = default;
    explicit RequestFramer(const Limits &limits) : m_limits(limits) {}

    // Takes the next bytes of the connection. Once the verdict is not Ok it stays so and nothing
    // more is read.
    Verdict feed(QByteArrayView bytes);

    Verdict verdict() const { return m_verdict; }
    // Some bytes of a request that is not complete yet have arrived.
    bool inRequest() const { return m_state != State::Idle; }
    // Requests whose last byte has arrived.
    qint64 completedRequests() const { return m_completed; }
    // The declared body size of the request being read (-1 unknown or chunked).
    qint64 contentLength() const { return m_contentLength; }
    // The body limit of the request being read (its route's).
    qint64 bodyLimit() const { return m_bodyLimit; }
    // The `Origin` header of the request being read, once its head line arrived (for CORS on a
    // refusal).
    QByteArray origin() const { return m_origin; }
    // Its path (without the query), once its request line arrived.
    QByteArray path() const { return m_path; }
    // Heads read whole so far (a new one is a new request to look at before its body comes).
    qint64 headsCompleted() const { return m_heads; }
    // The request being read has its head whole and is reading its body.
    bool inBody() const { return m_state != State::Idle && m_state != State::Head; }
    // ... none of which has come yet.
    bool awaitingBody() const
    {
        return (m_state == State::Body && m_remaining == m_contentLength) ||
               (m_state == State::ChunkSize && m_bodyBytes == 0 && m_line.isEmpty());
    }
    // Its `Authorization` header, whether it sent `Expect: 100-continue`, and is HTTP/1.0.
    QByteArray authorization() const { return m_authorization; }
    bool expectsContinue() const { return m_expectContinue; }
    bool http10() const { return m_http10; }
    // Completed requests not answered yet (takeAnswered() not called for them).
    qsizetype unanswered() const { return m_completedInfo.size(); }
    // What the framing says of each completed request, oldest first, until it is answered
    // (Qt 6.4's QHttpServerRequest tells neither).
    struct Completed
    {
        bool http10 = false;     // HTTP/1.0: no chunked answers
        bool closeAfter = false; // `Connection: close`, or HTTP/1.0 without `keep-alive`
    };
    // The oldest completed request not answered yet (the one being answered).
    Completed nextToAnswer() const { return m_completedInfo.value(0); }
    Completed takeAnswered() { return m_completedInfo.isEmpty() ? Completed{} : m_completedInfo.takeFirst(); }

private:
    enum class State { Idle, Head, Body, ChunkSize, ChunkData, ChunkDataEnd, LastChunkEnd };

    bool headLine(QByteArrayView line);
    bool chunkSizeLine(QByteArrayView line);
    void fail(Verdict verdict);
    void completeRequest();

    Limits m_limits;
    Verdict m_verdict = Verdict::Ok;
    State m_state = State::Idle;
    QByteArray m_line; // the unfinished line (head and chunk size lines only)
    qint64 m_headBytes = 0;
    bool m_sawRequestLine = false;
    bool m_sawLength = false;
    bool m_sawEncoding = false;
    bool m_chunked = false;
    bool m_http10 = false;
    qint64 m_bodyLimit = m_limits.maxBodyBytes; // of the request being read: its route's
    bool m_connectionClose = false;
    bool m_connectionKeepAlive = false;
    QByteArray m_origin;
    QByteArray m_path;
    QByteArray m_authorization;
    bool m_expectContinue = false;
    qint64 m_heads = 0;
    QList<Completed> m_completedInfo;
    qint64 m_contentLength = -1;
    qint64 m_remaining = 0; // of the body or of the current chunk
    qint64 m_bodyBytes = 0; // chunked: sizes summed
    int m_lastChunkEndBytes = 0;
    qint64 m_completed = 0;
};
