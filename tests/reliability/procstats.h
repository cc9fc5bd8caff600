#pragma once

#include <QDir>
#include <QFile>
#include <QString>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Hands freed heap pages back to the system first (glibc keeps them otherwise), so that what is
// left is memory still in use.
inline void trimHeap()
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

// The resident set size of a process in KiB (0 when unknown), from /proc.
inline qint64 residentKiB(qint64 pid = 0)
{
    QFile status(pid > 0 ? QStringLiteral("/proc/%1/status").arg(pid) : QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return 0;
}

// Open file descriptors of this process.
inline int openDescriptors()
{
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::NoDotAndDotDot | QDir::System).size());
}

// Whether this build runs under AddressSanitizer (its RSS says nothing about leaks; LeakSanitizer does).
constexpr bool underAddressSanitizer()
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}
