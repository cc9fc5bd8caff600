// Fuzz target: the request framer that guards every API connection (backend/http/requestframer.*).
// Differential: the verdict and the request boundaries must not depend on how the bytes arrive;
// limits must hold.
#include "fuzzutil.h"
#include "http/requestframer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    RequestFramer::Limits limits;
    limits.maxHeaderBytes = 512; // small, so that the fuzzer reaches them
    limits.maxBodyBytes = 256;

    RequestFramer whole(limits);
    const RequestFramer::Verdict verdict = whole.feed(bytes);

    RequestFramer split(limits);
    RequestFramer::Verdict splitVerdict = RequestFramer::Verdict::Ok;
    for (const QByteArrayView piece : FuzzUtil::pieces(bytes, FuzzUtil::seedOf(bytes))) {
        splitVerdict = split.feed(piece);
        if (splitVerdict != RequestFramer::Verdict::Ok)
            break;
    }
    FUZZ_CHECK(splitVerdict == verdict);
    FUZZ_CHECK(split.completedRequests() == whole.completedRequests());
    FUZZ_CHECK(split.inRequest() == whole.inRequest());

    // A request needs at least "X\n\n" (3 bytes), and a refusal is final.
    FUZZ_CHECK(whole.completedRequests() * 3 <= bytes.size());
    if (verdict != RequestFramer::Verdict::Ok)
        FUZZ_CHECK(whole.feed("GET / HTTP/1.1\r\n\r\n") == verdict);
    // A declared body over the limit is refused by the end of its head at the latest.
    if (verdict == RequestFramer::Verdict::Ok && !whole.inRequest())
        FUZZ_CHECK(whole.contentLength() == -1);
    return 0;
}
