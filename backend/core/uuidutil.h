#pragma once

#include <QString>

namespace Uuid {
// A fresh UUID (version 7: time-ordered, 74 random bits) without braces, lower-case.
QString create();
// True for exactly the canonical 8-4-4-4-12 hex form (either case), nothing else.
bool isValid(const QString &text);
} // namespace Uuid
