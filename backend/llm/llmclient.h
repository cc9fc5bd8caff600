#pragma once

#include "llmtypes.h"

#include <QObject>
#include <QProcessEnvironment>

#include <optional>

class LlmStream;
class QNetworkAccessManager;

// Starts chat completions against providers of every kind (OpenAI-compatible, Anthropic, Ollama,
// the demo), each in its own protocol (llmtypes.h, ProviderConfig::kind). Plain-http
// providers go through one DirectNetworkAccessManager (directhttp.h: a socket per stream on this
// thread, kept alive for the next one, no cap); https ones through a pool of
// QNetworkAccessManagers, so concurrent streams to one host never queue behind Qt's six
// connections per host per manager.
class LlmClient : public QObject
{
    Q_OBJECT
public:
    explicit LlmClient(QObject *parent = nullptr);
    ~LlmClient() override;

    // The returned stream is owned by `owner` (or by the client when null); delete it, or
    // deleteLater() it, once it has finished or failed.
    LlmStream *startChat(const ProviderConfig &provider, const ChatRequest &request,
                         QObject *owner = nullptr);

    // The OpenAI SDK's own variables: OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL
    // (AGENTDESK_MODEL wins over OPENAI_MODEL). Nothing when neither a base URL nor a key is set.
    static std::optional<ProviderConfig>
    providerFromEnvironment(const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());
    static ProviderConfig demoProvider();

    int managerCount() const;
    // The network manager requests to `url` go through: the same stack (keep-alive pool, no
    // six-connection cap) for anything else that calls HTTP upstreams, such as MCP servers.
    QNetworkAccessManager *managerFor(const QUrl &url);
    // Plain-http providers through DirectNetworkAccessManager (the default) or, when false, the
    // pool of stock managers that https uses (so tests can cover that path against the plain fake).
    void setDirectHttp(bool direct) { m_directHttp = direct; }

private:
    struct Pool;
    Pool *m_pool;
    bool m_directHttp = true;
};
