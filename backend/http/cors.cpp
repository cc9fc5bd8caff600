#include "cors.h"

#include <algorithm>

Cors::Cors(const QStringList &origins)
{
    for (const QString &origin : origins) {
        const QByteArray o = origin.trimmed().toLower().toUtf8();
        if (o == "*")
            m_any = true;
        else if (!o.isEmpty())
            m_origins.append(o);
    }
}

bool Cors::allows(const QByteArray &origin) const
{
    // Echoed into a header line: scheme://host[:port] characters only (or "null").
    const bool plain = std::all_of(origin.cbegin(), origin.cend(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
               c == '/' || c == '.' || c == '-' || c == '[' || c == ']';
    });
    if (origin.isEmpty() || !plain)
        return false;
    return m_any || m_origins.contains(origin.toLower());
}

Cors::Headers Cors::headers(const QByteArray &origin) const
{
    if (!isEnabled())
        return {};
    if (!allows(origin)) // caches must not reuse an answer to one origin for another
        return {{"Vary", "Origin"}};
    // The origin itself rather than "*": the same answer suits pages that send credentials.
    return {{"Access-Control-Allow-Origin", origin},
            {"Vary", "Origin"},
            {"Access-Control-Expose-Headers",
             "Retry-After, Content-Type, X-AgentDesk-Session, X-AgentDesk-Reply"}};
}

Cors::Headers Cors::preflightHeaders(const QByteArray &origin, const QByteArray &requestHeaders) const
{
    Headers headers = this->headers(origin);
    if (headers.isEmpty())
        return headers;
    headers.append(qMakePair(QByteArray("Access-Control-Allow-Methods"), QByteArray(allowedMethods)));
    // Echoing what the page asks for keeps libraries that add headers of their own working; only
    // header names and commas, nothing that could end the line.
    const bool plain = std::all_of(requestHeaders.cbegin(), requestHeaders.cend(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_' || c == ',' || c == ' ';
    });
    headers.append(qMakePair(QByteArray("Access-Control-Allow-Headers"),
                             requestHeaders.isEmpty() || !plain
                                 ? QByteArray(allowedHeaders)
                                 : QByteArray(allowedHeaders) + ", " + requestHeaders));
    headers.append(qMakePair(QByteArray("Access-Control-Max-Age"), QByteArray("600")));
    return headers;
}

QByteArray Cors::lines(const Headers &headers)
{
    QByteArray out;
    for (const auto &[name, value] : headers)
        out += name + ": " + value + "\r\n";
    return out;
}
