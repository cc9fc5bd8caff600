// Fuzz target: the upstream SSE parser (backend/llm/sseparser.*). Differential: the events must
// not depend on how the bytes were split over reads, and a reset parser behaves like a new one.
#include "fuzzutil.h"
#include "llm/sseparser.h"

#include <QStringList>

namespace {

QStringList describe(const QList<SseEvent> &events)
{
    QStringList out;
    for (const SseEvent &e : events)
        out.append(e.event + QChar(0x1f) + e.id + QChar(0x1f) + QString::fromLatin1(e.data)); // byte for byte
    return out;
}

QList<SseEvent> parse(SseParser &parser, const QList<QByteArrayView> &pieces, int *retry, int *comments)
{
    QList<SseEvent> events;
    for (const QByteArrayView piece : pieces)
        events += parser.feed(piece.toByteArray());
    *retry = parser.retryMs();
    *comments = parser.commentCount();
    events += parser.flush();
    return events;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    SseParser whole;
    int wholeRetry = 0;
    int wholeComments = 0;
    const QList<SseEvent> events = parse(whole, {bytes}, &wholeRetry, &wholeComments);
    const QStringList expected = describe(events);

    SseParser split;
    int splitRetry = 0;
    int splitComments = 0;
    const QList<SseEvent> got =
        parse(split, FuzzUtil::pieces(bytes, FuzzUtil::seedOf(bytes)), &splitRetry, &splitComments);
    FUZZ_CHECK(describe(got) == expected);
    FUZZ_CHECK(splitRetry == wholeRetry);
    FUZZ_CHECK(splitComments == wholeComments);

    // Fields are single lines; data lines are joined with LF only.
    for (const SseEvent &event : events) {
        FUZZ_CHECK(!event.event.contains(QChar(u'\n')) && !event.event.contains(QChar(u'\r')));
        FUZZ_CHECK(!event.id.contains(QChar(u'\n')) && !event.id.contains(QChar(u'\r')));
        FUZZ_CHECK(!event.data.contains('\r'));
    }

    // One byte at a time, on the parser that was reset by flush(): the same again (short inputs
    // only, where one-byte feeds cost little; the random pieces above include one-byte ones).
    if (bytes.size() > 256)
        return 0;
    QList<QByteArrayView> bytewise;
    for (qsizetype i = 0; i < bytes.size(); ++i)
        bytewise.append(bytes.sliced(i, 1));
    int oneRetry = 0;
    int oneComments = 0;
    FUZZ_CHECK(describe(parse(whole, bytewise, &oneRetry, &oneComments)) == expected);
    FUZZ_CHECK(oneRetry == wholeRetry);

    return 0;
}
