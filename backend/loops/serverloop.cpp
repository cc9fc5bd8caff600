#include "serverloop.h"

#include "chat/chatservice.h"
#include "config/providerresolver.h"
#include "eventloop/epolleventdispatcher.h"
#include "files/filestore.h"
#include "http/chatroutes.h"
#include "llm/llmclient.h"
#include "llm/modelcatalog.h"
#include "remotetoolhost.h"
#include "storage/providerstore.h"

using namespace Qt::StringLiterals;

// Made and destroyed on the loop's thread, in this order and its reverse.
struct ServerLoop::Services
{
    Database db;
    std::unique_ptr<ProviderStore> providerStore;
    std::unique_ptr<ProviderResolver> providers;
    std::unique_ptr<LlmClient> llm;
    std::unique_ptr<ModelCatalog> catalog;
    std::unique_ptr<FileStore> files;
    std::unique_ptr<RemoteToolHost> tools;
    std::unique_ptr<ChatService> chat;
    std::unique_ptr<ChatRoutes> routes;
};

ServerLoop::ServerLoop(int index) : m_index(index)
{
    m_thread.setObjectName(u"loop %1"_s.arg(index));
}

ServerLoop::~ServerLoop()
{
    stop();
}

bool ServerLoop::start(const Setup &setup, QString *error)
{
    if (setup.epoll) {
        auto *dispatcher = new EpollEventDispatcher;
        if (dispatcher->isValid())
            m_thread.setEventDispatcher(dispatcher);
        else
            delete dispatcher;
    }
    m_thread.start();
    m_anchor = new QObject;
    m_anchor->moveToThread(&m_thread);
    bool opened = false;
    runThere([this, &setup, &opened, error] {
        auto services = std::make_unique<Services>();
        if (!services->db.open(setup.database)) {
            *error = u"Loop %1 cannot open the database: %2"_s.arg(m_index).arg(services->db.lastError());
            return;
        }
        services->providerStore = std::make_unique<ProviderStore>(services->db);
        services->providers = std::make_unique<ProviderResolver>(*services->providerStore, setup.secrets,
                                                                 setup.environmentProvider);
        services->llm = std::make_unique<LlmClient>();
        services->catalog = std::make_unique<ModelCatalog>(*services->llm);
        if (setup.catalog)
            services->catalog->shareKnowledge(*setup.catalog);
        services->files = std::make_unique<FileStore>(services->db, setup.filesDir);
        services->chat = std::make_unique<ChatService>(services->db, *services->llm, *services->providers,
                                                       *services->catalog);
        services->chat->setDirectory(setup.directory);
        services->chat->setProgressInterval(setup.progressIntervalMs);
        services->chat->setFileStore(services->files.get());
        services->chat->setMaxDocumentChars(setup.maxDocumentChars);
        if (setup.tools) {
            services->tools = std::make_unique<RemoteToolHost>(setup.tools, setup.toolsContext);
            services->chat->setToolHost(services->tools.get());
        }
        services->routes = std::make_unique<ChatRoutes>(*services->chat, *setup.tickets);
        services->routes->setKeepAliveInterval(setup.keepAliveMs);
        services->routes->setResumeGrace(setup.resumeGraceMs);
        m_services = std::move(services);
        opened = true;
    });
    if (!opened)
        stop();
    return opened;
}

void ServerLoop::stop()
{
    if (!m_thread.isRunning())
        return;
    runThere([this] {
        if (m_services)
            m_services->chat->interruptAll();
        m_services.reset();
    });
    m_thread.quit();
    m_thread.wait();
    delete m_anchor;
    m_anchor = nullptr;
}

ChatRoutes *ServerLoop::routes() const
{
    return m_services ? m_services->routes.get() : nullptr;
}

ChatService *ServerLoop::chat() const
{
    return m_services ? m_services->chat.get() : nullptr;
}

void ServerLoop::runThere(const std::function<void()> &work)
{
    QMetaObject::invokeMethod(m_anchor, work, Qt::BlockingQueuedConnection);
}
