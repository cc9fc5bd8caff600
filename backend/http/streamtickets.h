#pragma once

#include "storage/entities.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QString>

#include <deque>
#include <optional>

// Short-lived single-use stream tickets (POST /api/stream-tickets): what a browser EventSource,
// which cannot send headers, puts in its URL instead of the bearer token, so a proxy's access log
// never holds anything that still works. Kept in memory: a restart voids them, which costs a
// client one more POST.
class StreamTickets
{
public:
    static constexpr int lifetimeSeconds = 60;
    static constexpr int maxOutstanding = 100000; // beyond this, the oldest are dropped

    explicit StreamTickets(int lifetimeMs = lifetimeSeconds * 1000) : m_lifetimeMs(lifetimeMs) {}

    // A new ticket for this principal.
    QString issue(const Principal &principal);
    // The principal a valid, unused ticket was issued to; the ticket is used up either way.
    std::optional<Principal> redeem(const QString &ticket);
    int outstanding() const { return int(m_tickets.size()); }

private:
    struct Ticket
    {
        Principal principal;
        QDeadlineTimer expiry;
    };
    void dropExpired();

    int m_lifetimeMs;
    QHash<QString, Ticket> m_tickets;
    std::deque<QString> m_issued; // oldest first; every ticket expires after the same time
};
