#include "remotetoolhost.h"

#include <QPointer>

#include <atomic>

namespace {
// What a call on the host's thread and its stand-in here share.
struct CallLink
{
    std::atomic<bool> cancelled{false};
    QPointer<ToolCallJob> real; // on the host's thread, read there only
};

// The stand-in: the chat turn holds this one, the host runs the real call.
class RemoteToolCall : public ToolCallJob
{
public:
    RemoteToolCall(QObject *hostContext, QObject *parent)
        : ToolCallJob(parent), m_hostContext(hostContext), m_link(std::make_shared<CallLink>())
    {}
    ~RemoteToolCall() override
    {
        if (!m_done)
            cancel();
    }

    std::shared_ptr<CallLink> link() const { return m_link; }

    void cancel() override
    {
        m_done = true;
        m_link->cancelled = true;
        QMetaObject::invokeMethod(
            m_hostContext,
            [link = m_link] {
                if (ToolCallJob *real = link->real) {
                    real->cancel();
                    real->deleteLater();
                }
            },
            Qt::QueuedConnection);
    }

    void finish(const ToolOutcome &outcome)
    {
        if (m_done)
            return;
        m_done = true;
        Q_EMIT finished(outcome);
    }

private:
    QObject *m_hostContext;
    std::shared_ptr<CallLink> m_link;
    bool m_done = false;
};

// Runs `report` on the mailbox's receiver's thread, if it is still there.
template<typename Report> void post(const std::shared_ptr<RemoteToolHost::Mailbox> &mailbox, Report report)
{
    const QMutexLocker locker(&mailbox->lock);
    if (mailbox->receiver)
        QMetaObject::invokeMethod(mailbox->receiver, std::move(report), Qt::QueuedConnection);
}
} // namespace

RemoteToolHost::RemoteToolHost(ToolHost *host, QObject *hostContext, QObject *parent)
    : QObject(parent), m_host(host), m_hostContext(hostContext)
{
    m_mailbox->receiver = this;
}

RemoteToolHost::~RemoteToolHost()
{
    const QMutexLocker locker(&m_mailbox->lock);
    m_mailbox->receiver = nullptr;
}

QList<ToolInfo> RemoteToolHost::tools(const QString &tenantId, const QStringList &patterns) const
{
    return m_host->tools(tenantId, patterns); // the registry's published lists, safe from here
}

ToolCallJob *RemoteToolHost::call(const QString &tenantId, const QString &server, const QString &tool,
                                  const QJsonObject &arguments, QObject *parent)
{
    auto *job = new RemoteToolCall(m_hostContext, parent);
    const QPointer<RemoteToolCall> here(job); // looked at on this thread only
    QMetaObject::invokeMethod(
        m_hostContext,
        [host = m_host, context = m_hostContext, mailbox = m_mailbox, link = job->link(), here, tenantId,
         server, tool, arguments] {
            if (link->cancelled)
                return;
            ToolCallJob *real = host->call(tenantId, server, tool, arguments, context);
            link->real = real;
            QObject::connect(real, &ToolCallJob::progress, context,
                             [mailbox, here](double progress, double total, const QString &message) {
                                 post(mailbox, [here, progress, total, message] {
                                     if (here)
                                         Q_EMIT here->progress(progress, total, message);
                                 });
                             });
            QObject::connect(real, &ToolCallJob::finished, context,
                             [mailbox, here, link, real](const ToolOutcome &outcome) {
                                 link->real = nullptr;
                                 real->deleteLater();
                                 post(mailbox, [here, outcome] {
                                     if (here)
                                         here->finish(outcome);
                                 });
                             });
        },
        Qt::QueuedConnection);
    return job;
}
