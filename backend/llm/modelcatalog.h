#pragma once

#include "llmtypes.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>
#include <optional>

class LlmClient;
class QNetworkReply;

// What a provider offers: its models (OpenAI's and Anthropic's GET /v1/models, Ollama's
// /api/tags), kept a minute so a picker that opens twice asks once, and whether a model takes
// images: known for the model names of the big providers, asked of Ollama (/api/show) and kept.
class ModelCatalog : public QObject
{
    Q_OBJECT
public:
    explicit ModelCatalog(LlmClient &llm, QObject *parent = nullptr);
    ~ModelCatalog() override;

    struct Listing
    {
        QList<ModelInfo> models;
        LlmError error; // code empty: no error
        bool cached = false;
        bool ok() const { return error.code.isEmpty(); }
    };
    using ListingHandler = std::function<void(const Listing &listing)>;
    // The provider's models, sorted by id: from the cache or asked now. `done` runs on this
    // thread, later, unless `context` is gone; several callers asking at once share one request.
    void models(const ProviderConfig &provider, QObject *context, ListingHandler done);

    // Whether `model` of `provider` takes images: the provider's own setting, what is known of
    // the model's name, what Ollama said; nullopt when that is all unknown.
    std::optional<bool> knownVision(const ProviderConfig &provider, const QString &model) const;
    // The same for sending images: a model of an OpenAI-compatible server nothing is known of may
    // try (it says so if it cannot); nullopt when only asking Ollama can tell.
    std::optional<bool> vision(const ProviderConfig &provider, const QString &model) const;
    // Asks an Ollama provider about `model` (POST /api/show: its capabilities, its context length);
    // `done` runs when the answer (or a failure, which leaves it unknown and is kept in
    // learnError() a while) is in.
    void learnModel(const ProviderConfig &provider, const QString &model, QObject *context,
                    std::function<void()> done);
    // Why asking about `model` failed the last time (empty: it did not).
    QString learnError(const ProviderConfig &provider, const QString &model) const;
    // Whether `model` was asked about lately (answered or not): a turn need not wait for it again.
    bool asked(const ProviderConfig &provider, const QString &model) const;
    // The context length the provider gave for `model` (0: not known).
    int contextLength(const ProviderConfig &provider, const QString &model) const;
    // What a model showed (it answered a request with images, or refused one): known for an hour.
    void remember(const ProviderConfig &provider, const QString &model, bool sees);
    // Whether a model of this name (OpenAI-compatible or Anthropic) takes images, as far as known.
    static std::optional<bool> knownVision(const QString &kind, const QString &model);

    void setListLifetime(int ms) { m_listLifetimeMs = ms; }
    // What `other` learns of models (and what this one learns) is known to both, from any thread:
    // the server's loops each have a catalog.
    void shareKnowledge(const ModelCatalog &other) { m_known = other.m_known; }
    void clear();

private:
    struct Pending;
    QString listKey(const ProviderConfig &provider) const;
    // GET (no body) or POST `url` with the provider's credentials; `done` gets the body of a 2xx
    // answer, or the error.
    void request(const ProviderConfig &provider, const QUrl &url, const QByteArray &body,
                 std::function<void(const QByteArray &body, const LlmError &error)> done);
    // Runs the callbacks waiting for `waitKey` whose context is alive.
    void notify(const QString &waitKey);

    LlmClient &m_llm;
    struct CachedList
    {
        QList<ModelInfo> models;
        QDeadlineTimer expires;
    };
    QHash<QString, CachedList> m_lists;
    QHash<QString, LlmError> m_failures; // while the callers of a failed listing are told
    struct Learned
    {
        bool sees = false;
        QDeadlineTimer expires;
    };
    struct Shown
    {
        int contextLength = 0;
        QDeadlineTimer expires;
    };
    struct Failure
    {
        QString message;
        QDeadlineTimer expires;
    };
    // What was learned of models (provider key + model -> ...), shared by every loop's catalog.
    struct Knowledge
    {
        QMutex lock;
        QHash<QString, Learned> vision;      // what Ollama or the model said
        QHash<QString, Shown> shown;         // what Ollama's /api/show said
        QHash<QString, Failure> learnErrors; // why asking failed
    };
    std::shared_ptr<Knowledge> m_known = std::make_shared<Knowledge>();
    QHash<QString, QList<std::pair<QPointer<QObject>, std::function<void()>>>> m_waiting;
    QList<QPointer<QNetworkReply>> m_replies;
    int m_listLifetimeMs = 60000;
};
