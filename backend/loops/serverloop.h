#pragma once

#include "llm/llmtypes.h"
#include "storage/database.h"

#include <QObject>
#include <QThread>

#include <memory>
#include <optional>

class ChatRoutes;
class ChatService;
class ModelCatalog;
class SecretStore;
class StreamTickets;
class ToolHost;
class TurnDirectory;

// One more event loop of the server (--threads N): a thread of its own, with an epoll dispatcher
// where the server runs one, and its own database connection, upstream client and chat service.
// The server's first loop reads every request; those that start or follow a reply it hands here
// with their connection (ChatRoutes::handOff), so a reply's upstream, its per-token work and its
// client's socket all live on one loop, and requests about that reply come back to it.
class ServerLoop
{
public:
    struct Setup
    {
        Database::Options database; // the first loop opened (and migrated) it already
        QString filesDir;
        SecretStore *secrets = nullptr; // safe from any thread
        std::optional<ProviderConfig> environmentProvider;
        ToolHost *tools = nullptr;       // on the first loop: its calls go there
        QObject *toolsContext = nullptr; // a QObject on that loop that outlives this one
        TurnDirectory *directory = nullptr;
        StreamTickets *tickets = nullptr;
        const ModelCatalog *catalog = nullptr; // the first loop's: what is learned of models is shared
        int keepAliveMs = 15000;
        int resumeGraceMs = 30000;
        int progressIntervalMs = 1000;
        int maxDocumentChars = 100000;
        bool epoll = true;
    };

    explicit ServerLoop(int index);
    ~ServerLoop();

    // Starts the thread and builds its services there; false when its database connection failed.
    bool start(const Setup &setup, QString *error);
    // Saves its running replies as interrupted, takes its services down and ends the thread.
    void stop();

    // Both live on this loop's thread: call them there.
    ChatRoutes *routes() const;
    ChatService *chat() const;

private:
    struct Services;
    // Runs `work` on the loop's thread and waits for it (start and stop only).
    void runThere(const std::function<void()> &work);

    int m_index;
    QThread m_thread;
    QObject *m_anchor = nullptr; // on the loop's thread: what work is posted to
    std::unique_ptr<Services> m_services;
};
