#pragma once

#include <QList>
#include <QObject>
#include <QPointer>

#include <functional>

class Database;

// Writes that can share one transaction: the replies that end within one pass of the event loop
// are committed together when it is over, not one transaction each (most of what a reply's end
// costs is the commit: the WAL frames of the pages every reply touches). Each write's `then`
// runs after the commit, so nothing is promised before it is stored. Should one write fail, each
// runs again in a transaction of its own: one failure costs no other write.
class GroupCommit : public QObject
{
    Q_OBJECT
public:
    explicit GroupCommit(Database &db, QObject *parent = nullptr);
    ~GroupCommit() override; // what is queued is written

    // `write` runs inside the group's transaction (it may open nested ones) and says whether it
    // succeeded; `then` gets whether it is stored. Neither runs once `context` is gone.
    void add(QObject *context, std::function<bool()> write, std::function<void(bool saved)> then);
    // Writes what is queued now (shutdown; otherwise it happens at the end of the pass).
    void flush();
    qsizetype pending() const { return m_items.size(); }

private:
    struct Item
    {
        QPointer<QObject> context;
        std::function<bool()> write;
        std::function<void(bool)> then;
    };

    Database &m_db;
    QList<Item> m_items;
};
