#include "uuidutil.h"

#include <QUuid>

namespace Uuid {

QString create()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

bool isValid(const QString &text)
{
    // QUuid::fromString also accepts braces; the API takes the canonical form only.
    return text.size() == 36 && !QUuid::fromString(text).isNull();
}

} // namespace Uuid
