#include "streamtickets.h"

#include <QRandomGenerator>

using namespace Qt::StringLiterals;

QString StreamTickets::issue(const Principal &principal)
{
    dropExpired();
    while (m_tickets.size() >= maxOutstanding && !m_issued.empty()) {
        m_tickets.remove(m_issued.front());
        m_issued.pop_front();
    }
    quint32 words[8];
    QRandomGenerator::system()->fillRange(words);
    const QString ticket =
        u"adt_"_s +
        QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(words), sizeof words)
                                .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    m_tickets.insert(ticket, {principal, QDeadlineTimer(m_lifetimeMs)});
    m_issued.push_back(ticket);
    return ticket;
}

std::optional<Principal> StreamTickets::redeem(const QString &ticket)
{
    const auto it = m_tickets.constFind(ticket);
    if (it == m_tickets.cend())
        return std::nullopt;
    const Ticket found = *it;
    m_tickets.erase(it);
    if (found.expiry.hasExpired())
        return std::nullopt;
    return found.principal;
}

void StreamTickets::dropExpired()
{
    while (!m_issued.empty()) {
        const auto it = m_tickets.constFind(m_issued.front());
        if (it != m_tickets.cend() && !it->expiry.hasExpired())
            break; // the rest are younger
        if (it != m_tickets.cend())
            m_tickets.erase(it);
        m_issued.pop_front();
    }
}
