#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QStringList>

// Cross-origin access for browser pages on other origins (`--cors-origin`, repeatable; none by
// default, `*` for any). An allowed request's `Origin` is echoed back, with `Vary: Origin`, on
// every answer (streams and errors too); a preflight (`OPTIONS` with
// `Access-Control-Request-Method`) is answered with what the API accepts.
class Cors
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    Cors() = default;
    explicit Cors(const QStringList &origins);

    bool isEnabled() const { return m_any || !m_origins.isEmpty(); }
    bool allows(const QByteArray &origin) const;

    // For an answer to a request with this `Origin` header (empty when not allowed or absent).
    Headers headers(const QByteArray &origin) const;
    // The preflight answer's headers (CORS headers included), for an allowed origin.
    Headers preflightHeaders(const QByteArray &origin, const QByteArray &requestHeaders) const;

    // Header lines ("Name: value\r\n"), for answers written as raw bytes.
    static QByteArray lines(const Headers &headers);

    // What a preflight may ask for; clients need no more.
    static constexpr const char *allowedMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
    static constexpr const char *allowedHeaders =
        "Authorization, Content-Type, Accept, Cache-Control, Last-Event-ID, Idempotency-Key, X-File-Name";

private:
    QList<QByteArray> m_origins; // lower-case, as browsers send them
    bool m_any = false;
};
