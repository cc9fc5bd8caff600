#pragma once

// Helpers shared by the fuzz targets. A target aborts (FUZZ_CHECK) when an invariant breaks, so
// libFuzzer and the ctest replay both report it as a crash with the input that caused it.
#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                                \
    do {                                                                                                     \
        if (!(condition)) {                                                                                  \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition);           \
            std::abort();                                                                                    \
        }                                                                                                    \
    } while (false)

namespace FuzzUtil {

// Cuts `bytes` into pieces whose sizes come from `seed`: the same input always splits the same way.
inline QList<QByteArrayView> pieces(QByteArrayView bytes, quint32 seed)
{
    QList<QByteArrayView> out;
    qsizetype at = 0;
    quint32 state = seed | 1;
    while (at < bytes.size()) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        // Mostly tiny pieces (the interesting cuts), sometimes large ones.
        const qsizetype size =
            (state & 7) == 0 ? qsizetype(state >> 8) % 512 + 1 : qsizetype(state >> 8) % 4 + 1;
        const qsizetype take = qMin(size, bytes.size() - at);
        out.append(bytes.sliced(at, take));
        at += take;
    }
    return out;
}

inline quint32 seedOf(QByteArrayView bytes)
{
    quint32 seed = 2166136261u;
    for (qsizetype i = 0; i < qMin<qsizetype>(bytes.size(), 4); ++i)
        seed = (seed ^ quint8(bytes.at(i))) * 16777619u;
    return seed;
}

} // namespace FuzzUtil
