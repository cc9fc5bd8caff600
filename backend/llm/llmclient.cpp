#include "llmclient.h"

#include "anthropicstream.h"
#include "demostream.h"
#include "directhttp.h"
#include "ollamastream.h"
#include "openaistream.h"

#include <QHash>
#include <QList>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QSet>

#include <memory>

using namespace Qt::StringLiterals;

namespace {
// Qt 6.4 opens at most six HTTP/1.1 connections per host and manager and queues the rest;
// a streamed reply holds its connection for the whole generation.
constexpr int MaxRequestsPerManager = 6;
} // namespace

struct LlmClient::Pool
{
    QList<QNetworkAccessManager *> managers;
    QNetworkAccessManager *direct = nullptr;                    // plain http: one manager, no threads, no cap
    QHash<QNetworkAccessManager *, QHash<QString, int>> active; // requests in flight per host
    QSet<QObject *> streams; // QObject: the key is removed from `destroyed`, past ~LlmStream
};

LlmClient::LlmClient(QObject *parent) : QObject(parent), m_pool(new Pool) {}

LlmClient::~LlmClient()
{
    // Managers die with us; streams owned elsewhere must not keep requests on them.
    QList<QPointer<LlmStream>> running;
    for (QObject *stream : std::as_const(m_pool->streams))
        running.append(static_cast<LlmStream *>(stream));
    for (const QPointer<LlmStream> &stream : running) {
        if (stream && !stream->isFinished())
            stream->abort();
    }
    delete m_pool;
    m_pool = nullptr;
}

LlmStream *LlmClient::startChat(const ProviderConfig &provider, const ChatRequest &request, QObject *owner)
{
    QObject *parent = owner ? owner : this;
    LlmStream *stream = nullptr;
    if (provider.isDemo()) {
        stream = new DemoStream(request, parent);
    } else {
        UpstreamStream *upstream = nullptr;
        if (provider.kind == "anthropic"_L1)
            upstream = new AnthropicStream(provider, request, parent);
        else if (provider.kind == "ollama"_L1)
            upstream = new OllamaStream(provider, request, parent);
        else
            upstream = new OpenAiStream(provider, request, parent);
        const QUrl url = upstream->url();
        QNetworkAccessManager *manager = managerFor(url);
        if (QNetworkReply *reply = upstream->start(manager)) {
            const QString key = DirectNetworkAccessManager::hostKey(url);
            ++m_pool->active[manager][key];
            // finished comes on completion, error and abort(); destroyed is the backstop.
            auto counted = std::make_shared<bool>(true);
            auto release = [this, manager, key, counted] {
                if (!*counted || !m_pool)
                    return;
                *counted = false;
                --m_pool->active[manager][key];
            };
            connect(reply, &QNetworkReply::finished, this, release);
            connect(reply, &QObject::destroyed, this, release);
        }
        stream = upstream;
    }
    m_pool->streams.insert(stream);
    connect(stream, &QObject::destroyed, this, [this](QObject *object) {
        if (m_pool)
            m_pool->streams.remove(object);
    });
    return stream;
}

QNetworkAccessManager *LlmClient::managerFor(const QUrl &url)
{
    // Plain http runs on this thread, one socket per request at a time (kept alive and reused) and
    // no per-manager cap (directhttp.h): one manager serves every stream.
    if (m_directHttp && DirectNetworkAccessManager::handles(url)) {
        if (!m_pool->direct) {
            m_pool->direct = new DirectNetworkAccessManager(this);
            m_pool->managers.append(m_pool->direct);
        }
        return m_pool->direct;
    }
    const QString key = DirectNetworkAccessManager::hostKey(url);
    // First fit keeps using the managers whose keep-alive connections are already warm.
    for (QNetworkAccessManager *manager : std::as_const(m_pool->managers)) {
        if (m_pool->active.value(manager).value(key) < MaxRequestsPerManager)
            return manager;
    }
    auto *manager = new QNetworkAccessManager(this);
    m_pool->managers.append(manager);
    return manager;
}

int LlmClient::managerCount() const
{
    return int(m_pool->managers.size());
}

std::optional<ProviderConfig> LlmClient::providerFromEnvironment(const QProcessEnvironment &env)
{
    const QString baseUrl = env.value(u"OPENAI_BASE_URL"_s).trimmed();
    const QString apiKey = env.value(u"OPENAI_API_KEY"_s).trimmed();
    if (baseUrl.isEmpty() && apiKey.isEmpty())
        return std::nullopt;
    ProviderConfig provider;
    provider.name = u"env"_s;
    provider.kind = u"openai"_s;
    provider.baseUrl = QUrl(baseUrl.isEmpty() ? u"https://api.openai.com/v1"_s : baseUrl);
    provider.apiKey = apiKey;
    provider.model = env.value(u"AGENTDESK_MODEL"_s).trimmed();
    if (provider.model.isEmpty())
        provider.model = env.value(u"OPENAI_MODEL"_s).trimmed();
    if (provider.model.isEmpty())
        provider.model = u"gpt-4o-mini"_s;
    return provider;
}

ProviderConfig LlmClient::demoProvider()
{
    ProviderConfig provider;
    provider.name = u"demo"_s;
    provider.kind = u"demo"_s;
    provider.model = u"demo"_s;
    return provider;
}
