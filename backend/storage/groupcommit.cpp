#include "groupcommit.h"

#include "core/logging.h"
#include "database.h"

GroupCommit::GroupCommit(Database &db, QObject *parent) : QObject(parent), m_db(db) {}

GroupCommit::~GroupCommit()
{
    flush();
}

void GroupCommit::add(QObject *context, std::function<bool()> write, std::function<void(bool)> then)
{
    if (m_items.isEmpty()) // a posted call runs once the events of this pass are handled
        QMetaObject::invokeMethod(this, &GroupCommit::flush, Qt::QueuedConnection);
    m_items.append({context, std::move(write), std::move(then)});
}

void GroupCommit::flush()
{
    if (m_items.isEmpty())
        return;
    // Taken out first: a `then` may queue the next group.
    const QList<Item> items = std::exchange(m_items, {});
    QList<bool> saved(items.size(), false);
    bool together = false;
    {
        Transaction tx(m_db);
        together = tx.isActive();
        for (qsizetype i = 0; together && i < items.size(); ++i)
            together = !items.at(i).context || items.at(i).write();
        together = together && tx.commit();
    }
    if (!together && items.size() > 1)
        qCWarning(lcStorage) << "A group of" << items.size() << "writes failed; each is written alone";
    for (qsizetype i = 0; i < items.size(); ++i) {
        const Item &item = items.at(i);
        if (!item.context)
            continue;
        saved[i] = together || item.write(); // alone, after the group was rolled back
    }
    for (qsizetype i = 0; i < items.size(); ++i) {
        if (items.at(i).context)
            items.at(i).then(saved.at(i));
    }
}
