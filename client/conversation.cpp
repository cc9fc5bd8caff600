#include "conversation.h"

#include "apiclient.h"
#include "localcache.h"

#include <QJsonArray>

using namespace Qt::StringLiterals;

Conversation::Conversation(ApiClient *api, LocalCache *cache, const QString &cacheKey, QObject *parent)
    : QObject(parent), m_api(api), m_cache(cache), m_cacheKey(cacheKey)
{
    m_messages.setFileUrlResolver([this](const QString &path) { return m_api->fileUrl(path); });
}

void Conversation::switchTo(const QString &sessionId)
{
    ++m_view;
    m_unsent.clear();
    m_sessionId = sessionId;
}

void Conversation::keepUnsent(const QList<MessageItem> &rows)
{
    m_unsent = rows;
    m_unsentView = m_view;
}

void Conversation::show(const QList<MessageItem> &stored, bool merge, const std::optional<LiveTurn> &live)
{
    QList<MessageItem> rows;
    if (!m_greeting.trimmed().isEmpty()) {
        MessageItem g;
        g.id = u"greeting"_s;
        g.role = u"greeting"_s;
        g.content = m_greeting;
        g.status = u"complete"_s;
        rows.append(g);
    }
    for (MessageItem m : stored) {
        applyMeasured(m);
        rows.append(m);
    }
    // A reply still streaming here: its two rows come from the stream, not the stored copy.
    if (live) {
        rows.removeIf([&live](const MessageItem &m) {
            return (m.role == "user"_L1 && m.id == live->userMessageId) ||
                   (m.role == "assistant"_L1 && (m.status == "streaming"_L1 || m.id == live->replyId));
        });
        rows << live->user << live->reply;
    }
    if (!m_unsent.isEmpty() && m_unsentView == m_view)
        rows += m_unsent;
    m_messages.setRetryRow(-1);
    if (merge)
        mergeRows(rows);
    else
        m_messages.setMessages(rows);
    if (!m_focusMessageId.isEmpty()) {
        if (const int row = m_messages.rowOf(m_focusMessageId); row >= 0) {
            m_focusMessageId.clear();
            Q_EMIT messageFocusRequested(row);
        }
    }
    for (int i = int(rows.size()) - 1; i >= 0; --i) {
        if (rows.at(i).role == "assistant"_L1) {
            if (rows.at(i).status == "error"_L1)
                m_messages.setRetryRow(i);
            break;
        }
    }
}

void Conversation::applyMeasured(MessageItem &m) const
{
    const auto measured = m_measured.constFind(m.id);
    if (m.role != "assistant"_L1 || measured == m_measured.cend())
        return;
    if (m.tokensPerSecond <= 0)
        m.tokensPerSecond = measured->rate;
    if (m.thoughtMs < 0)
        m.thoughtMs = measured->thoughtMs;
}

void Conversation::mergeRows(const QList<MessageItem> &rows)
{
    // Update in place where the rows line up (no reset, no flicker), then add or drop the rest.
    const int common = int(qMin(rows.size(), qsizetype(m_messages.rowCount())));
    int firstDiff = common;
    for (int i = 0; i < common; ++i) {
        if (m_messages.at(i).role != rows.at(i).role) {
            firstDiff = i;
            break;
        }
    }
    for (int i = 0; i < firstDiff; ++i) {
        const MessageItem &a = m_messages.at(i), &b = rows.at(i);
        const bool same =
            a.id == b.id && a.content == b.content && a.status == b.status && a.error == b.error &&
            a.tokensUsed == b.tokensUsed && a.completionTokens == b.completionTokens &&
            a.tokensPerSecond == b.tokensPerSecond && a.model == b.model && a.parts == b.parts &&
            a.reasoning == b.reasoning && a.thoughtMs == b.thoughtMs && a.attachments == b.attachments;
        if (!same)
            m_messages.update(i, b);
    }
    while (m_messages.rowCount() > firstDiff)
        m_messages.removeRow(m_messages.rowCount() - 1);
    for (int i = firstDiff; i < rows.size(); ++i)
        m_messages.append(rows.at(i));
}

void Conversation::arrived(const QString &sessionId, int view, const QJsonArray &messages,
                           const std::function<void(const QList<MessageItem> &)> &shown)
{
    QList<MessageItem> list;
    for (const QJsonValue &v : messages) {
        MessageItem m = MessageItem::fromJson(v.toObject());
        applyMeasured(m);
        list.append(m);
    }
    if (m_cache)
        m_cache->replaceMessages(m_cacheKey, sessionId, list);
    if (view == m_view && m_sessionId == sessionId)
        shown(list);
}

void Conversation::load(const QString &sessionId, std::function<void(const QList<MessageItem> &)> shown)
{
    const int view = m_view;
    m_api->listMessages(sessionId, this, [this, sessionId, view, shown](const ApiResult &r) {
        if (!r.ok()) {
            if (r.status == 404)
                Q_EMIT sessionGone(sessionId);
            return;
        }
        arrived(sessionId, view, r.json.value("messages"_L1).toArray(), shown);
    });
}

void Conversation::showVersion(int row, int step, std::function<void(const QList<MessageItem> &)> shown)
{
    if (row < 0 || row >= m_messages.rowCount() || m_sessionId.isEmpty() || step == 0)
        return;
    const MessageItem &m = m_messages.at(row);
    const QString target = m.siblingIds.value(m.siblingIds.indexOf(m.id) + step);
    if (target.isEmpty())
        return;
    const QString sessionId = m_sessionId;
    const int view = m_view;
    m_api->switchBranch(sessionId, target, this, [this, sessionId, view, shown](const ApiResult &r) {
        if (!r.ok()) {
            Q_EMIT failed(tr("Could not show that version: %1").arg(r.message));
            return;
        }
        arrived(sessionId, view, r.json.value("messages"_L1).toArray(), shown);
    });
}

void Conversation::followBranch(const QString &sessionId, const QString &messageId,
                                std::function<void()> done)
{
    m_api->switchBranch(sessionId, messageId, this, [done](const ApiResult &) { done(); });
}

int Conversation::userRowFor(int row) const
{
    for (int i = row; i >= 0 && i < m_messages.rowCount(); --i) {
        const MessageItem &m = m_messages.at(i);
        if (m.role == "user"_L1)
            return m.isLocal() ? -1 : i;
        if (m.role != "assistant"_L1)
            return -1;
    }
    return -1;
}

void Conversation::cacheShown()
{
    if (!m_cache || m_sessionId.isEmpty())
        return;
    QList<MessageItem> list;
    for (const MessageItem &m : m_messages.messages()) {
        if (m.role != "greeting"_L1 && m.status != "failed"_L1)
            list.append(m);
    }
    m_cache->replaceMessages(m_cacheKey, m_sessionId, list);
}
