#include "uuidutil.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <QUuid>

namespace Uuid {

QString create()
{
    // Version 7 (RFC 9562): the Unix time in milliseconds, then 74 random bits. Ids made one after
    // another sort together, so a primary-key index grows at its end instead of changing a random
    // page per new row (each changed page is a WAL frame of the commit and a copy at checkpoint).
    const quint64 ms = quint64(QDateTime::currentMSecsSinceEpoch());
    quint32 random[3];
    QRandomGenerator::system()->fillRange(random);
    uchar bytes[16];
    for (int i = 0; i < 6; ++i)
        bytes[i] = uchar(ms >> (40 - 8 * i));
    bytes[6] = uchar(0x70 | (random[0] & 0x0f));
    bytes[7] = uchar(random[0] >> 8);
    bytes[8] = uchar(0x80 | (random[0] >> 16 & 0x3f));
    bytes[9] = uchar(random[0] >> 24);
    for (int i = 0; i < 6; ++i)
        bytes[10 + i] = uchar(random[1 + i / 4] >> (8 * (i % 4)));
    return QUuid::fromRfc4122(QByteArray::fromRawData(reinterpret_cast<const char *>(bytes), 16))
        .toString(QUuid::WithoutBraces);
}

bool isValid(const QString &text)
{
    // QUuid::fromString also accepts braces; the API takes the canonical form only.
    return text.size() == 36 && !QUuid::fromString(text).isNull();
}

} // namespace Uuid
