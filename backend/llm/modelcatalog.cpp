#include "modelcatalog.h"

#include "anthropicstream.h"
#include "core/logging.h"
#include "llmclient.h"
#include "ollamastream.h"
#include "openaistream.h"
#include "upstreamstream.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QTimer>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace {
constexpr int RequestTimeoutMs = 20000;
constexpr qint64 LearnedLifetimeMs = 3600 * 1000; // a model may be updated, a server may change
constexpr qint64 SeesLifetimeMs =
    24 * 3600 * 1000; // one that took images: forgotten, later turns would hide them
constexpr qint64 FailureLifetimeMs = 10 * 60 * 1000; // a server down now may be back soon
constexpr qsizetype MaxBody = 8 * 1024 * 1024;

QList<ModelInfo> parseModels(const QString &kind, const QJsonObject &o, bool *ok)
{
    QList<ModelInfo> models;
    *ok = true;
    if (kind == "ollama"_L1) {
        const QJsonValue list = o.value("models"_L1);
        *ok = list.isArray();
        for (const QJsonValue &value : list.toArray()) {
            const QJsonObject m = value.toObject();
            ModelInfo info;
            info.id = m.value("model"_L1).toString(m.value("name"_L1).toString());
            info.name = m.value("name"_L1).toString();
            info.ownedBy = m.value("details"_L1).toObject().value("family"_L1).toString();
            info.size = qint64(m.value("size"_L1).toDouble());
            info.created = QDateTime::fromString(m.value("modified_at"_L1).toString(), Qt::ISODateWithMs)
                               .toSecsSinceEpoch();
            if (!info.id.isEmpty())
                models.append(info);
        }
        return models;
    }
    // OpenAI's {"object": "list", "data": [...]} and Anthropic's {"data": [...], "has_more": ...}.
    const QJsonValue list = o.value("data"_L1);
    *ok = list.isArray();
    for (const QJsonValue &value : list.toArray()) {
        const QJsonObject m = value.toObject();
        ModelInfo info;
        info.id = m.value("id"_L1).toString();
        info.name = m.value("display_name"_L1).toString(m.value("name"_L1).toString());
        info.ownedBy = m.value("owned_by"_L1).toString();
        const QJsonValue created = m.value(kind == "anthropic"_L1 ? "created_at"_L1 : "created"_L1);
        info.created = created.isString()
                           ? QDateTime::fromString(created.toString(), Qt::ISODate).toSecsSinceEpoch()
                           : qint64(created.toDouble());
        if (!info.id.isEmpty())
            models.append(info);
    }
    return models;
}

bool matchesAny(const QString &model, const QStringList &patterns)
{
    for (const QString &pattern : patterns) {
        const QRegularExpression re(u"(^|[/:])"_s + pattern, QRegularExpression::CaseInsensitiveOption);
        if (re.match(model).hasMatch())
            return true;
    }
    return false;
}
} // namespace

ModelCatalog::ModelCatalog(LlmClient &llm, QObject *parent) : QObject(parent), m_llm(llm) {}

ModelCatalog::~ModelCatalog()
{
    for (const QPointer<QNetworkReply> &reply : std::as_const(m_replies)) {
        if (reply) {
            reply->disconnect(this);
            reply->abort();
        }
    }
}

void ModelCatalog::clear()
{
    m_lists.clear();
    const QMutexLocker locker(&m_known->lock);
    m_known->vision.clear();
    m_known->shown.clear();
    m_known->learnErrors.clear();
}

QString ModelCatalog::listKey(const ProviderConfig &provider) const
{
    // Two keys may see different models at one URL (OpenAI's projects): the key is part of it.
    const QByteArray keyHash =
        QCryptographicHash::hash(provider.apiKey.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
    return provider.kind + u'|' + provider.baseUrl.toString() + u'|' + QString::fromLatin1(keyHash);
}

std::optional<bool> ModelCatalog::knownVision(const QString &kind, const QString &model)
{
    if (kind == "demo"_L1)
        return false;
    if (kind == "anthropic"_L1) // every Claude since the third generation sees
        return !matchesAny(model, {u"claude-2"_s, u"claude-instant"_s});
    // Names that say so, of the models that see.
    static const QStringList sees{
        u"gpt-4o"_s,
        u"chatgpt-4o"_s,
        u"gpt-4\\.1"_s,
        u"gpt-4\\.5"_s,
        u"gpt-4-turbo"_s,
        u"gpt-4-vision"_s,
        u"gpt-5"_s,
        u"o1$"_s,
        u"o1-20"_s,
        u"o3$"_s,
        u"o3-20"_s,
        u"o3-pro"_s,
        u"o4-mini"_s,
        u"claude-3"_s,
        u"claude-(sonnet|opus|haiku)"_s,
        u"gemini"_s,
        u"gemma-?3"_s,
        u"llava"_s,
        u"bakllava"_s,
        u"pixtral"_s,
        u"mistral-small-3\\.[12]"_s,
        u"llama-?4"_s,
        u"llama3\\.2-vision"_s,
        u"minicpm-v"_s,
        u"moondream"_s,
        u"grok-(2-)?vision"_s,
        u"glm-4(\\.\\d)?v"_s,
    };
    if (matchesAny(model, sees) || model.contains("vision"_L1, Qt::CaseInsensitive) ||
        model.contains(QRegularExpression(u"[-_.]vl([-_.:]|$)"_s, QRegularExpression::CaseInsensitiveOption)))
        return true;
    // ... and of well-known text-only ones.
    static const QStringList blind{
        u"gpt-3\\.5"_s,
        u"gpt-4$"_s,
        u"gpt-4-0"_s,
        u"gpt-4-32k"_s,
        u"o1-mini"_s,
        u"o3-mini"_s,
        u"text-"_s,
        u"davinci"_s,
        u"babbage"_s,
        u"deepseek-(chat|reasoner|coder)"_s,
        u"deepseek-r1"_s,
        u"deepseek-v[23](\\.\\d)?($|[-:])"_s,
        u"qwq"_s,
        u"qwen-(turbo|plus|max|long)"_s,
        u"moonshot-v1-(8|32|128)k$"_s,
        u"kimi-k2"_s,
        u"codestral"_s,
        u"mistral-tiny"_s,
        u"mixtral"_s,
        u"llama-?3(\\.[013])?[-:]"_s,
        u"phi-?[34]"_s,
        u"gpt-oss"_s,
        u"glm-4(\\.\\d)?$"_s,
    };
    if (matchesAny(model, blind))
        return false;
    return std::nullopt;
}

std::optional<bool> ModelCatalog::knownVision(const ProviderConfig &provider, const QString &model) const
{
    if (provider.vision == "yes"_L1)
        return true;
    if (provider.vision == "no"_L1)
        return false;
    {
        const QMutexLocker locker(&m_known->lock);
        const auto learned = m_known->vision.constFind(listKey(provider) + u'|' + model);
        if (learned != m_known->vision.cend() && !learned->expires.hasExpired())
            return learned->sees;
    }
    if (provider.kind == "ollama"_L1)
        return std::nullopt;
    return knownVision(provider.kind, model);
}

void ModelCatalog::remember(const ProviderConfig &provider, const QString &model, bool sees)
{
    const QMutexLocker locker(&m_known->lock);
    m_known->vision.insert(listKey(provider) + u'|' + model,
                           {sees, QDeadlineTimer(sees ? SeesLifetimeMs : LearnedLifetimeMs)});
}

QString ModelCatalog::learnError(const ProviderConfig &provider, const QString &model) const
{
    const QMutexLocker locker(&m_known->lock);
    const auto failure = m_known->learnErrors.constFind(listKey(provider) + u'|' + model);
    return failure != m_known->learnErrors.cend() && !failure->expires.hasExpired() ? failure->message
                                                                                    : QString();
}

bool ModelCatalog::asked(const ProviderConfig &provider, const QString &model) const
{
    const QString key = listKey(provider) + u'|' + model;
    const QMutexLocker locker(&m_known->lock);
    const auto shown = m_known->shown.constFind(key);
    const auto failure = m_known->learnErrors.constFind(key);
    return (shown != m_known->shown.cend() && !shown->expires.hasExpired()) ||
           (failure != m_known->learnErrors.cend() && !failure->expires.hasExpired());
}

int ModelCatalog::contextLength(const ProviderConfig &provider, const QString &model) const
{
    const QMutexLocker locker(&m_known->lock);
    const auto shown = m_known->shown.constFind(listKey(provider) + u'|' + model);
    return shown != m_known->shown.cend() ? shown->contextLength : 0;
}

std::optional<bool> ModelCatalog::vision(const ProviderConfig &provider, const QString &model) const
{
    const std::optional<bool> known = knownVision(provider, model);
    if (!known && provider.kind == "openai"_L1)
        return true;
    return known;
}

void ModelCatalog::request(const ProviderConfig &provider, const QUrl &url, const QByteArray &body,
                           std::function<void(const QByteArray &, const LlmError &)> done)
{
    QNetworkRequest request(url);
    request.setRawHeader("Accept", "application/json");
    if (provider.kind == "anthropic"_L1) {
        request.setRawHeader("anthropic-version", AnthropicStream::apiVersion);
        if (!provider.apiKey.isEmpty())
            request.setRawHeader("x-api-key", provider.apiKey.toUtf8());
    } else if (!provider.apiKey.isEmpty()) {
        request.setRawHeader("Authorization", "Bearer " + provider.apiKey.toUtf8());
    }
    QNetworkAccessManager *manager = m_llm.managerFor(url);
    QNetworkReply *reply;
    if (body.isEmpty()) {
        reply = manager->get(request);
    } else {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        reply = manager->post(request, body);
    }
    reply->setParent(this);
    m_replies.append(reply);
    auto *timer = new QTimer(reply);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, reply, [reply] { reply->abort(); });
    timer->start(qMax(RequestTimeoutMs, provider.connectTimeoutMs));
    const QString apiKey = provider.apiKey;
    connect(reply, &QNetworkReply::finished, this, [this, reply, timer, done, apiKey] {
        const bool timedOut = !timer->isActive();
        m_replies.removeAll(reply);
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray data = reply->read(MaxBody);
        LlmError error;
        if (status == 0) {
            error = timedOut
                        ? LlmError{LlmError::Timeout, 0, u"upstream_timeout"_s,
                                   u"The provider did not answer within %1 s."_s.arg(RequestTimeoutMs / 1000)}
                        : LlmError{LlmError::Network, 0, u"upstream_unreachable"_s, reply->errorString()};
        } else if (status < 200 || status >= 300) {
            QString message = UpstreamStream::errorMessage(data);
            if (!apiKey.isEmpty())
                message.replace(apiKey, u"***"_s);
            error = {LlmError::Http, status, u"upstream_http_%1"_s.arg(status),
                     message.isEmpty() ? u"HTTP %1"_s.arg(status) : message};
        }
        done(data, error);
    });
}

void ModelCatalog::models(const ProviderConfig &provider, QObject *context, ListingHandler done)
{
    if (provider.isDemo()) {
        ModelInfo demo;
        demo.id = u"demo"_s;
        demo.name = u"AgentDesk demo"_s;
        QTimer::singleShot(0, context, [done, demo] { done(Listing{{demo}, {}, true}); });
        return;
    }
    const QString key = listKey(provider);
    if (const auto cached = m_lists.constFind(key);
        cached != m_lists.cend() && !cached->expires.hasExpired()) {
        const QList<ModelInfo> models = cached->models;
        QTimer::singleShot(0, context, [done, models] { done(Listing{models, {}, true}); });
        return;
    }
    const QString waitKey = u"list|"_s + key;
    auto &waiting = m_waiting[waitKey];
    const bool first = waiting.isEmpty();
    // Runs once the request below ended: the list it stored, or its failure.
    waiting.append({context, [this, key, done] {
                        const auto failure = m_failures.constFind(key);
                        if (failure != m_failures.cend())
                            done(Listing{{}, *failure, false});
                        else
                            done(Listing{m_lists.value(key).models, {}, false});
                    }});
    if (!first)
        return;
    QUrl url;
    if (provider.kind == "anthropic"_L1) {
        url = AnthropicStream::modelsUrl(provider.baseUrl);
        url.setQuery(u"limit=1000"_s);
    } else if (provider.kind == "ollama"_L1) {
        url = OllamaStream::apiUrl(provider.baseUrl, "tags"_L1);
    } else {
        url = OpenAiStream::modelsUrl(provider.baseUrl);
    }
    const QString kind = provider.kind;
    request(provider, url, {}, [this, key, waitKey, kind](const QByteArray &body, const LlmError &error) {
        m_failures.remove(key);
        LlmError failure = error;
        if (failure.code.isEmpty()) {
            bool ok = false;
            QList<ModelInfo> models = parseModels(kind, QJsonDocument::fromJson(body).object(), &ok);
            if (ok) {
                std::sort(models.begin(), models.end(),
                          [](const ModelInfo &a, const ModelInfo &b) { return a.id < b.id; });
                m_lists.insert(key, {models, QDeadlineTimer(m_listLifetimeMs)});
            } else {
                failure = {LlmError::Protocol, 0, u"upstream_protocol"_s,
                           u"The provider's answer is not a list of models."_s};
            }
        }
        if (!failure.code.isEmpty()) {
            qCWarning(lcLlm) << "listing models failed:" << failure.code << failure.message;
            m_lists.remove(key);
            m_failures.insert(key, failure);
        }
        notify(waitKey);
        m_failures.remove(key);
    });
}

void ModelCatalog::notify(const QString &waitKey)
{
    const auto callers = m_waiting.take(waitKey);
    for (const auto &[context, callback] : callers) {
        if (context)
            callback();
    }
}

void ModelCatalog::learnModel(const ProviderConfig &provider, const QString &model, QObject *context,
                              std::function<void()> done)
{
    const QString key = listKey(provider) + u'|' + model;
    const QString waitKey = u"show|"_s + key;
    auto &waiting = m_waiting[waitKey];
    const bool first = waiting.isEmpty();
    waiting.append({context, done});
    if (!first)
        return;
    const QByteArray body = QJsonDocument(QJsonObject{{u"model"_s, model}}).toJson(QJsonDocument::Compact);
    request(provider, OllamaStream::apiUrl(provider.baseUrl, "show"_L1), body,
            [this, key, waitKey](const QByteArray &data, const LlmError &error) {
                QMutexLocker locker(&m_known->lock);
                m_known->learnErrors.remove(key);
                if (error.code.isEmpty()) {
                    const QJsonObject o = QJsonDocument::fromJson(data).object();
                    // "<architecture>.context_length": what the model was trained for.
                    const QJsonObject info = o.value("model_info"_L1).toObject();
                    int context = 0;
                    for (auto it = info.begin(); it != info.end(); ++it) {
                        if (it.key().endsWith(".context_length"_L1))
                            context = it.value().toInt();
                    }
                    m_known->shown.insert(key, {context, QDeadlineTimer(LearnedLifetimeMs)});
                    const QJsonValue capabilities = o.value("capabilities"_L1);
                    if (capabilities.isArray()) {
                        m_known->vision.insert(key, {capabilities.toArray().contains(u"vision"_s),
                                                     QDeadlineTimer(LearnedLifetimeMs)});
                    } else {
                        // Before capabilities were listed (Ollama < 0.6), a vision model's
                        // projector showed as a family.
                        const QJsonArray families =
                            o.value("details"_L1).toObject().value("families"_L1).toArray();
                        m_known->vision.insert(
                            key, {families.contains(u"clip"_s) || families.contains(u"mllama"_s),
                                  QDeadlineTimer(LearnedLifetimeMs)});
                    }
                } else {
                    qCWarning(lcLlm) << "could not ask Ollama about a model:" << error.code << error.message;
                    m_known->learnErrors.insert(key, {error.message, QDeadlineTimer(FailureLifetimeMs)});
                }
                locker.unlock();
                notify(waitKey);
            });
}
