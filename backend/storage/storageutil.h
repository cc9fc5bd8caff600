#pragma once

#include <QDateTime>
#include <QString>
#include <QVariant>

#include <optional>

#include "core/uuidutil.h"

// Conversions shared by the stores: ids are braceless UUIDs, times are BIGINT milliseconds
// since the epoch (UTC) so SQLite and PostgreSQL store them the same way.
namespace StorageUtil {

inline qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

inline QString newId()
{
    return Uuid::create();
}

inline qint64 toMs(const QDateTime &time, qint64 fallback)
{
    return time.isValid() ? time.toMSecsSinceEpoch() : fallback;
}

inline QDateTime fromMs(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

inline QDateTime fromMs(const QVariant &value)
{
    return fromMs(value.toLongLong());
}

inline std::optional<QDateTime> optionalFromMs(const QVariant &value)
{
    if (value.isNull())
        return std::nullopt;
    return fromMs(value.toLongLong());
}

template<typename T> QVariant nullOf()
{
    return QVariant(QMetaType::fromType<T>());
}

// A LIKE pattern matching `text` anywhere, with '!' as the escape character, so % and _ typed
// by a user are matched literally. Use with `LIKE ? ESCAPE '!'`.
inline QString containsPattern(const QString &text)
{
    QString escaped;
    escaped.reserve(text.size() + 2);
    escaped.append(u'%');
    for (const QChar c : text) {
        if (c == u'!' || c == u'%' || c == u'_')
            escaped.append(u'!');
        escaped.append(c);
    }
    escaped.append(u'%');
    return escaped;
}

} // namespace StorageUtil
