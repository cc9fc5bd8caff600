#include "fakeconnection.h"

#include "fakeupstream.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>

#include <algorithm>
#include <atomic>
#include <ctime>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype MaxHead = 64 * 1024;
constexpr qint64 MaxBody = 64 * 1024 * 1024;
std::atomic<quint64> s_completionIds{0};

QByteArray jsonString(const QString &s)
{
    const QByteArray array = QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

// As Python's json.dumps(ensure_ascii=True): every UTF-16 unit outside ASCII as \uXXXX, so a
// lone surrogate half travels as written.
QByteArray asciiJsonString(const QString &s)
{
    QByteArray out = "\"";
    for (const QChar c : s) {
        const char16_t u = c.unicode();
        if (u == '"' || u == '\\') {
            out += '\\';
            out += char(u);
        } else if (u >= 0x20 && u < 0x7f) {
            out += char(u);
        } else {
            out += "\\u" + QByteArray::number(u, 16).rightJustified(4, '0');
        }
    }
    return out + '"';
}

qint64 monotonicNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 529:
        return "Overloaded";
    default:
        return "Status";
    }
}

int estimatePromptTokens(const QJsonArray &messages)
{
    int chars = 0;
    for (const QJsonValue &m : messages)
        chars += int(m.toObject().value("content"_L1).toString().size());
    return 3 + 4 * int(messages.size()) + chars / 4;
}

// "PNG 68 bytes": what an image the request carried is, from its bytes.
QString describeImage(const QByteArray &bytes)
{
    const char *kind = bytes.startsWith("\x89PNG")        ? "PNG"
                       : bytes.startsWith("\xff\xd8\xff") ? "JPEG"
                       : bytes.startsWith("GIF8")         ? "GIF"
                       : bytes.startsWith("RIFF")         ? "WebP"
                                                          : "unknown";
    return u"%1 %2 bytes"_s.arg(QLatin1String(kind)).arg(bytes.size());
}

// The names of the <document name="..."> elements in a message's text.
QStringList documentNames(const QString &text)
{
    QStringList names;
    qsizetype at = 0;
    while ((at = text.indexOf("<document name=\""_L1, at)) >= 0) {
        at += 16;
        const qsizetype end = text.indexOf(u'"', at);
        if (end < 0)
            break;
        names.append(text.mid(at, end - at));
        at = end;
    }
    return names;
}

// Anthropic's error type for an HTTP status.
QString anthropicErrorType(int status)
{
    switch (status) {
    case 401:
        return u"authentication_error"_s;
    case 403:
        return u"permission_error"_s;
    case 404:
        return u"not_found_error"_s;
    case 413:
        return u"request_too_large"_s;
    case 429:
        return u"rate_limit_error"_s;
    case 500:
        return u"api_error"_s;
    case 529:
        return u"overloaded_error"_s;
    default:
        return status < 500 ? u"invalid_request_error"_s : u"api_error"_s;
    }
}
} // namespace

FakeConnection::FakeConnection(QTcpSocket *socket, FakeUpstream *server) : m_socket(socket), m_server(server)
{
    socket->setParent(this);
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); // splits must reach the wire as split
    connect(socket, &QTcpSocket::readyRead, this, &FakeConnection::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, &FakeConnection::onDisconnected);
    if (socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &FakeConnection::onReadyRead, Qt::QueuedConnection);
}

FakeConnection::~FakeConnection()
{
    m_server->cancel(this);
}

void FakeConnection::onReadyRead()
{
    const QByteArray bytes = m_socket->readAll();
    if (m_gone || m_closing || bytes.isEmpty())
        return;
    if (!m_handled && m_in.isEmpty() && m_served > 0) {
        // The next request on a kept-alive connection: no longer idle.
        m_server->cancel(this);
        if (m_server->takeCloseOnReuse()) {
            m_closing = true;
            m_socket->disconnectFromHost();
            return;
        }
    }
    // A request sent while we still answer the previous one (pipelining) waits its turn.
    if (m_in.size() <= MaxHead + MaxBody)
        m_in.append(bytes);
    if (!m_handled)
        readRequest();
}

void FakeConnection::readRequest()
{
    if (m_bodyStart < 0) {
        while (m_in.startsWith("\r\n")) // a stray CRLF after the previous request's body
            m_in.remove(0, 2);
        const qsizetype headEnd = m_in.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            if (m_in.size() > MaxHead) {
                m_handled = true;
                m_keepAlive = false;
                planError(431, u"Request headers too large."_s, u"invalid_request_error"_s, QString());
                run();
            }
            return;
        }
        if (!parseHead(headEnd)) {
            m_handled = true;
            m_keepAlive = false; // where the next request would start is unknown
            planError(400, u"Malformed HTTP request."_s, u"invalid_request_error"_s, QString());
            run();
            return;
        }
    }
    if (!bodyComplete())
        return;
    m_handled = true;
    ++m_served;
    m_in.remove(0, m_requestEnd);
    handleRequest();
}

bool FakeConnection::parseHead(qsizetype headEnd)
{
    const QList<QByteArray> lines = m_in.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1."))
        return false;
    m_http11 = requestLine.at(2) == "HTTP/1.1";
    m_request.method = requestLine.at(0);
    m_request.path = requestLine.at(1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        m_request.headers.append({line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed()});
    }
    m_bodyStart = headEnd + 4;
    m_requestChunked = m_request.header("transfer-encoding").toLower().contains("chunked");
    m_contentLength = m_request.header("content-length").toLongLong();
    if (m_contentLength < 0 || m_contentLength > MaxBody)
        return false;
    if (m_request.header("expect").toLower() == "100-continue") // curl does this for big bodies
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    return true;
}

bool FakeConnection::bodyComplete()
{
    if (!m_requestChunked) {
        if (m_in.size() - m_bodyStart < m_contentLength)
            return false;
        m_request.body = m_in.mid(m_bodyStart, m_contentLength);
        m_requestEnd = m_bodyStart + m_contentLength;
        return true;
    }
    QByteArray body;
    qsizetype pos = m_bodyStart;
    for (;;) {
        const qsizetype lineEnd = m_in.indexOf("\r\n", pos);
        if (lineEnd < 0)
            return false;
        bool ok = false;
        const qint64 size = m_in.mid(pos, lineEnd - pos).split(';').first().trimmed().toLongLong(&ok, 16);
        if (!ok || size < 0 || size > MaxBody)
            return false; // waits until the peer gives up; good enough for a test server
        if (size == 0) {  // then trailers, if any, up to an empty line
            const qsizetype end = m_in.indexOf("\r\n\r\n", lineEnd);
            if (end < 0)
                return false;
            m_request.body = body;
            m_requestEnd = end + 4;
            return true;
        }
        if (m_in.size() < lineEnd + 2 + size + 2)
            return false;
        body.append(m_in.mid(lineEnd + 2, size));
        pos = lineEnd + 2 + size + 2;
    }
}

void FakeConnection::handleRequest()
{
    const QJsonDocument doc = QJsonDocument::fromJson(m_request.body);
    m_request.json = doc.object();
    Q_EMIT requestReceived(m_request);

    QByteArray path = m_request.path;
    const qsizetype query = path.indexOf('?');
    if (query >= 0)
        path.truncate(query);
    const bool anthropic = path == "/v1/messages";
    const bool ollama = path == "/api/chat";
    const bool completions =
        path == "/v1/chat/completions" || path == "/chat/completions" || anthropic || ollama;
    const bool models = path == "/v1/models" || path == "/models" || path == "/api/tags";
    const bool show = path == "/api/show";
    m_dialect = anthropic || (models && !m_request.header("anthropic-version").isEmpty()) ? Dialect::Anthropic
                : ollama || path.startsWith("/api/")                                      ? Dialect::Ollama
                                                                                          : Dialect::OpenAi;

    m_scenario = m_server->defaultScenario();
    // HTTP/1.1 keeps the connection unless the client (or the scenario) says close.
    m_keepAlive =
        m_http11 && !m_request.header("connection").toLower().contains("close") && !m_scenario.close;
    const QString key = m_server->requiredApiKey();
    const QByteArray given =
        m_dialect == Dialect::Anthropic ? m_request.header("x-api-key") : m_request.header("authorization");
    const QByteArray expected = m_dialect == Dialect::Anthropic ? key.toUtf8() : "Bearer " + key.toUtf8();
    if ((completions || models || show) && !key.isEmpty() && given != expected) {
        if (m_dialect == Dialect::Anthropic)
            planError(401, u"invalid x-api-key"_s, u"authentication_error"_s, QString());
        else
            planError(401, u"Incorrect API key provided. You can find your API key in the fake's settings."_s,
                      u"invalid_request_error"_s, u"invalid_api_key"_s);
    } else if (m_dialect == Dialect::Anthropic && (completions || models) &&
               m_request.header("anthropic-version").isEmpty()) {
        planError(400, u"anthropic-version: header is required"_s, u"invalid_request_error"_s, QString());
    } else if (models) {
        if (m_request.method != "GET")
            planError(405, u"Use GET for the model list."_s, u"invalid_request_error"_s, QString());
        else
            planModels();
    } else if (show) {
        planShow();
    } else if (!completions) {
        planError(404,
                  u"Unknown request URL: %1 %2."_s.arg(QString::fromUtf8(m_request.method),
                                                       QString::fromUtf8(m_request.path)),
                  u"invalid_request_error"_s, u"unknown_url"_s);
    } else if (m_request.method != "POST") {
        planError(405, u"Use POST for chat completions."_s, u"invalid_request_error"_s, QString());
    } else if (!doc.isObject()) {
        planError(400, u"We could not parse the JSON body of your request."_s, u"invalid_request_error"_s,
                  QString());
    } else {
        QString error;
        if (!m_scenario.applyModel(m_request.json.value("model"_L1).toString(), &error)) {
            planError(400, error, u"invalid_request_error"_s, u"fake_scenario"_s);
        } else if (readConversation()) {
            if (m_scenario.close)
                m_keepAlive = false;
            m_streamOpen = true;
            Q_EMIT streamStarted();
            planChatCompletion();
        }
    }
    run();
}

void FakeConnection::planModels()
{
    const QStringList &models = m_server->models();
    QJsonArray list;
    for (const QString &model : models) {
        if (m_dialect == Dialect::Ollama)
            list.append(QJsonObject{{u"name"_s, model},
                                    {u"model"_s, model},
                                    {u"modified_at"_s, u"2026-11-30T12:00:00.000000000Z"_s},
                                    {u"size"_s, 4661224676.0},
                                    {u"digest"_s, QString::fromLatin1(QByteArray(64, 'f'))},
                                    {u"details"_s, QJsonObject{{u"format"_s, u"gguf"_s},
                                                               {u"family"_s, u"fake"_s},
                                                               {u"parameter_size"_s, u"8.0B"_s}}}});
        else if (m_dialect == Dialect::Anthropic)
            list.append(QJsonObject{{u"type"_s, u"model"_s},
                                    {u"id"_s, model},
                                    {u"display_name"_s, u"Fake "_s + model},
                                    {u"created_at"_s, u"2026-11-30T00:00:00Z"_s}});
        else
            list.append(QJsonObject{{u"id"_s, model},
                                    {u"object"_s, u"model"_s},
                                    {u"created"_s, 1700000000},
                                    {u"owned_by"_s, u"agentdesk"_s}});
    }
    QJsonObject body;
    if (m_dialect == Dialect::Ollama) {
        body = {{u"models"_s, list}};
    } else if (m_dialect == Dialect::Anthropic) {
        body = {{u"data"_s, list},
                {u"has_more"_s, false},
                {u"first_id"_s, models.isEmpty() ? QJsonValue() : QJsonValue(models.first())},
                {u"last_id"_s, models.isEmpty() ? QJsonValue() : QJsonValue(models.last())}};
    } else {
        body = {{u"object"_s, u"list"_s}, {u"data"_s, list}};
    }
    planJson(200, QJsonDocument(body).toJson(QJsonDocument::Compact));
}

void FakeConnection::planShow()
{
    const QString model = m_request.json.value("model"_L1).toString();
    if (m_request.method != "POST" || model.isEmpty()) {
        planError(400, u"model is required"_s, QString(), QString());
        return;
    }
    FakeScenario scenario = m_scenario;
    scenario.applyModel(model);
    const QString base = model.section(u',', 0, 0);
    if (!m_server->models().contains(base) && !model.startsWith("fake:"_L1)) {
        planError(404, u"model '%1' not found"_s.arg(model), QString(), QString());
        return;
    }
    QJsonArray capabilities{u"completion"_s, u"tools"_s};
    const QString lower = model.toLower();
    if (scenario.vision && (lower.contains("vision"_L1) || lower.contains("vl"_L1)))
        capabilities.append(u"vision"_s);
    if (lower.contains("think"_L1) || lower.contains("reason"_L1))
        capabilities.append(u"thinking"_s);
    const QJsonObject body{
        {u"modelfile"_s, u"# fake"_s},
        {u"parameters"_s, u"temperature 0.7"_s},
        {u"template"_s, u"{{ .Prompt }}"_s},
        {u"details"_s, QJsonObject{{u"format"_s, u"gguf"_s},
                                   {u"family"_s, u"fake"_s},
                                   {u"families"_s, QJsonArray{u"fake"_s}}}},
        {u"model_info"_s,
         QJsonObject{{u"general.architecture"_s, u"fake"_s}, {u"fake.context_length"_s, 32768}}},
        {u"capabilities"_s, capabilities},
        {u"modified_at"_s, u"2026-11-30T12:00:00.000000000Z"_s},
    };
    planJson(200, QJsonDocument(body).toJson(QJsonDocument::Compact));
}

bool FakeConnection::readConversation()
{
    Conversation c;
    const QJsonArray messages = m_request.json.value("messages"_L1).toArray();
    const auto refuse = [this](const QString &message) {
        planError(400, message, u"invalid_request_error"_s, QString());
        return false;
    };
    QString lastUserText;
    qsizetype allImages = 0; // a blind model refuses an image anywhere in the conversation
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QJsonObject message = messages.at(i).toObject();
        const QString role = message.value("role"_L1).toString();
        const QJsonValue content = message.value("content"_L1);
        if (role == "user"_L1) {
            QStringList texts;
            QStringList images;
            if (content.isString())
                texts.append(content.toString());
            for (const QJsonValue &value : content.toArray()) { // OpenAI's parts, Anthropic's blocks
                const QJsonObject part = value.toObject();
                const QString type = part.value("type"_L1).toString();
                if (type == "text"_L1) {
                    texts.append(part.value("text"_L1).toString());
                } else if (type == "image_url"_L1) {
                    const QString url = part.value("image_url"_L1).toObject().value("url"_L1).toString();
                    images.append(describeImage(QByteArray::fromBase64(url.section(u',', 1).toLatin1())));
                } else if (type == "image"_L1) {
                    const QJsonObject source = part.value("source"_L1).toObject();
                    if (source.value("type"_L1) != "base64"_L1 ||
                        !source.value("media_type"_L1).toString().startsWith("image/"_L1))
                        return refuse(
                            u"messages.%1.content: image source must be base64 with a media_type"_s.arg(i));
                    images.append(
                        describeImage(QByteArray::fromBase64(source.value("data"_L1).toString().toLatin1())));
                } else if (type == "tool_result"_L1) {
                    c.results.append(part.value("content"_L1).toString());
                }
            }
            for (const QJsonValue &value : message.value("images"_L1).toArray()) // Ollama
                images.append(describeImage(QByteArray::fromBase64(value.toString().toLatin1())));
            allImages += images.size();
            if (!texts.isEmpty() || !images.isEmpty()) {
                lastUserText = texts.join(u'\n');
                c.images = images;
            }
        } else if (role == "assistant"_L1) {
            bool calls = message.contains("tool_calls"_L1);
            QJsonArray blocks = content.toArray();
            for (qsizetype b = 0; b < blocks.size(); ++b)
                calls = calls || blocks.at(b).toObject().value("type"_L1) == "tool_use"_L1;
            if (calls) {
                ++c.toolRounds;
                c.results.clear();
                // Back in the field it was streamed in (DeepSeek's reasoning_content, OpenRouter's
                // reasoning).
                const QString echoField =
                    m_scenario.reasoningField == "reasoning"_L1 ? u"reasoning"_s : u"reasoning_content"_s;
                if (m_dialect == Dialect::OpenAi && m_scenario.requireEcho &&
                    !message.value(echoField).isString())
                    return refuse(
                        u"Missing `%1` field in the assistant message at message index %2"_s.arg(echoField)
                            .arg(i));
                if (m_dialect == Dialect::Anthropic) {
                    // Every tool_use must be answered by a tool_result in the very next message.
                    const QJsonArray next = messages.at(i + 1).toObject().value("content"_L1).toArray();
                    for (const QJsonValue &block : std::as_const(blocks)) {
                        if (block.toObject().value("type"_L1) != "tool_use"_L1)
                            continue;
                        const QString id = block.toObject().value("id"_L1).toString();
                        bool answered = false;
                        for (const QJsonValue &result : next)
                            answered = answered || result.toObject().value("tool_use_id"_L1).toString() == id;
                        if (!answered)
                            return refuse(
                                u"messages.%1: `tool_use` ids were found without `tool_result` blocks "
                                "immediately after: %2"_s.arg(i + 1)
                                    .arg(id));
                    }
                }
            }
        } else if (role == "tool"_L1) {
            c.results.append(content.toString());
        }
    }
    c.documents = documentNames(lastUserText);
    if (m_dialect == Dialect::Anthropic) {
        if (!m_request.json.value("max_tokens"_L1).isDouble())
            return refuse(u"max_tokens: Field required"_s);
        const QJsonObject thinking = m_request.json.value("thinking"_L1).toObject();
        c.thinking = thinking.value("type"_L1) == "enabled"_L1;
        if (c.thinking) {
            const int budget = thinking.value("budget_tokens"_L1).toInt();
            if (budget < 1024)
                return refuse(
                    u"thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"_s);
            if (budget >= m_request.json.value("max_tokens"_L1).toInt())
                return refuse(u"`max_tokens` must be greater than `thinking.budget_tokens`."_s);
            if (m_request.json.contains("temperature"_L1) &&
                m_request.json.value("temperature"_L1).toDouble() != 1.0)
                return refuse(u"`temperature` may only be set to 1 when thinking is enabled."_s);
            // The assistant turn of a tool loop under way (only tool results after it) must begin
            // with its thinking, signature and all; earlier turns may go without theirs.
            for (qsizetype i = messages.size() - 1; i >= 0; --i) {
                const QJsonObject message = messages.at(i).toObject();
                if (message.value("role"_L1) != "assistant"_L1) {
                    const QJsonArray blocks = message.value("content"_L1).toArray();
                    const bool results = !blocks.isEmpty() &&
                                         std::all_of(blocks.begin(), blocks.end(), [](const QJsonValue &b) {
                                             return b.toObject().value("type"_L1) == "tool_result"_L1;
                                         });
                    if (!results)
                        break; // a user's words: no tool loop is under way
                    continue;
                }
                const QJsonObject first = message.value("content"_L1).toArray().first().toObject();
                const QString type = first.value("type"_L1).toString();
                if (type != "thinking"_L1 && type != "redacted_thinking"_L1)
                    return refuse(
                        u"messages.%1.content.0.type: Expected `thinking` or `redacted_thinking`, but "
                        "found `%2`. When `thinking` is enabled, a final `assistant` message must start "
                        "with a thinking block."_s.arg(i)
                            .arg(type));
                if (type == "thinking"_L1 && first.value("signature"_L1).toString().isEmpty())
                    return refuse(u"messages.%1.content.0.thinking.signature: Field required"_s.arg(i));
                break;
            }
        }
    } else if (m_dialect == Dialect::Ollama) {
        c.thinking = m_request.json.value("think"_L1) != QJsonValue(false);
        if (!m_scenario.vision) {
            c.images.clear(); // Ollama drops what a text model cannot use, without a word
            allImages = 0;
        }
    }
    if (allImages > 0 && !m_scenario.vision)
        return refuse(m_dialect == Dialect::Anthropic
                          ? u"This model does not support image input."_s
                          : u"Invalid content type. image_url is only supported by certain models."_s);
    m_conversation = c;
    return true;
}

void FakeConnection::planJson(int status, const QByteArray &body, int delayMs, const QByteArray &extraHeaders)
{
    m_raw = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
            "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
            "\r\n" + (m_keepAlive ? "" : "Connection: close\r\n") + extraHeaders + "\r\n" + body;
    add(Step::Raw, delayMs);
    add(m_keepAlive ? Step::End : Step::Close);
}

void FakeConnection::planError(int status, const QString &message, const QString &type, const QString &code)
{
    QByteArray body;
    if (m_dialect == Dialect::Anthropic)
        body = "{\"type\":\"error\",\"error\":{\"type\":" + jsonString(anthropicErrorType(status)) +
               ",\"message\":" + jsonString(message) + "},\"request_id\":\"req_fake\"}";
    else if (m_dialect == Dialect::Ollama)
        body = "{\"error\":" + jsonString(message) + '}';
    else
        body = "{\"error\":{\"message\":" + jsonString(message) + ",\"type\":" + jsonString(type) +
               ",\"param\":null,\"code\":" + (code.isEmpty() ? "null" : jsonString(code)) + "}}";
    planJson(status, body, 0, status == 429 ? "Retry-After: 1\r\n" : "");
}

QByteArray FakeConnection::eventBytes(const QByteArray &name, const QByteArray &data) const
{
    return "event: " + name + m_eol + "data: " + data + m_eol + m_eol;
}

void FakeConnection::planChatCompletion()
{
    FakeScenario &s = m_scenario;
    const QString model = m_request.json.value("model"_L1).toString();
    m_id = (m_dialect == Dialect::Anthropic ? "msg_fake" : "chatcmpl-fake") +
           QByteArray::number(++s_completionIds);
    m_finish = s.finish;
    m_toolFragments.clear();
    m_fragmentCall.clear();
    m_calls.clear();
    m_blocks.clear();
    m_reasoning.clear();
    const Conversation &c = m_conversation;
    if (!s.calls.isEmpty()) {
        // As a model with tools: calls while the request has had fewer rounds of them, then text.
        if (c.toolRounds < s.rounds) {
            m_calls = s.calls;
            for (qsizetype k = 0; k < s.calls.size(); ++k) {
                const QString &arguments = s.calls.at(k).second;
                const QByteArray id = (m_dialect == Dialect::Anthropic ? "toolu_fake" : "call_fake") +
                                      QByteArray::number(s_completionIds) + "_" + QByteArray::number(k);
                QByteArray head =
                    (s.noIds ? QByteArray() : "\"id\":\"" + id + "\",") + "\"type\":\"function\",";
                head += "\"function\":{\"name\":" + jsonString(s.calls.at(k).first) + ",";
                for (qsizetype at = 0; at < qMax<qsizetype>(1, arguments.size()); at += s.argSplit) {
                    m_toolFragments.append({s.reuseIndex ? 0 : int(k),
                                            at == 0 ? head : QByteArray("\"function\":{"),
                                            arguments.mid(at, s.argSplit)});
                    m_fragmentCall.append(int(k));
                }
            }
            s.text = s.pre;
            s.tokens = s.pre.isEmpty() ? 0 : 1;
            m_finish = u"tool_calls"_s;
        } else if (s.text.isEmpty()) {
            s.text = u"Results: "_s + c.results.join(u" | "_s);
            s.tokens = 12;
        }
    } else if (s.text.isEmpty() && (!c.images.isEmpty() || !c.documents.isEmpty())) {
        // What a model that sees would say: what it was shown.
        QStringList said;
        if (!c.images.isEmpty())
            said.append(u"I see %1 image%2 (%3)"_s.arg(c.images.size())
                            .arg(c.images.size() == 1 ? QString() : u"s"_s, c.images.join(u", "_s)));
        if (!c.documents.isEmpty())
            said.append(u"I read %1 (%2)"_s.arg(
                c.documents.size() == 1 ? u"a document"_s : u"%1 documents"_s.arg(c.documents.size()),
                c.documents.join(u", "_s)));
        s.text = said.join(u" and "_s) + u'.';
        s.tokens = 8;
    }
    // Reasoning: as the dialect's field, or a <think> block opening the content.
    QString reasoning = s.reasoning;
    if (m_dialect == Dialect::Anthropic)
        reasoning = !c.thinking           ? QString()
                    : reasoning.isEmpty() ? u"Let me think about this step by step."_s
                                          : reasoning;
    else if (m_dialect == Dialect::Ollama && !c.thinking)
        reasoning.clear();
    if (!reasoning.isEmpty()) {
        if (s.reasoningField == "think"_L1 && m_dialect != Dialect::Anthropic) {
            s.text = u"<think>"_s + reasoning + u"</think>\n\n"_s +
                     (s.text.isEmpty() ? s.pieces().join(QString()) : s.text);
            s.tokens = qMax(1, s.tokens) + s.reasoningTokens;
        } else {
            m_reasoning = FakeScenario::splitText(reasoning, s.reasoningTokens);
            m_signature = "EqQBCgIYAhIM" +
                          QCryptographicHash::hash(reasoning.toUtf8(), QCryptographicHash::Sha256).toBase64();
        }
    }
    const QByteArray created = QByteArray::number(QDateTime::currentSecsSinceEpoch());
    m_promptTokens = estimatePromptTokens(m_request.json.value("messages"_L1).toArray());
    if (!s.text.isEmpty())
        m_pieces = s.pieces();
    const int n = s.text.isEmpty() ? qMax(0, s.tokens) : int(m_pieces.size());
    const int r = int(m_reasoning.size());
    m_outputTokens = n + r;
    m_usageJson =
        "{\"prompt_tokens\":" + QByteArray::number(m_promptTokens) +
        ",\"completion_tokens\":" + QByteArray::number(n + r) +
        ",\"total_tokens\":" + QByteArray::number(m_promptTokens + n + r) +
        (r > 0 ? ",\"completion_tokens_details\":{\"reasoning_tokens\":" + QByteArray::number(r) + '}'
               : QByteArray()) +
        '}';

    if (s.stall == 0) { // accepted the request, never answers
        add(Step::Stall);
        return;
    }
    if (s.status != 200) {
        switch (s.status) {
        case 401:
            planError(401,
                      m_dialect == Dialect::Anthropic
                          ? u"invalid x-api-key"_s
                          : u"Incorrect API key provided: sk-fake****. You can find your API key at "
                            "https://platform.openai.com/account/api-keys."_s,
                      u"invalid_request_error"_s, u"invalid_api_key"_s);
            break;
        case 404:
            planError(404,
                      m_dialect == Dialect::Ollama
                          ? u"model \"%1\" not found, try pulling it first"_s.arg(model)
                      : m_dialect == Dialect::Anthropic
                          ? u"model: %1"_s.arg(model)
                          : u"The model `%1` does not exist or you do not have access to it."_s.arg(model),
                      u"invalid_request_error"_s, u"model_not_found"_s);
            break;
        case 429:
            planError(429,
                      u"Rate limit reached for fake-model in organization org-fake on requests per min "
                      "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s."_s,
                      u"requests"_s, u"rate_limit_exceeded"_s);
            break;
        case 500:
            planError(500, u"The server had an error while processing your request. Sorry about that!"_s,
                      u"server_error"_s, QString());
            break;
        case 503:
        case 529:
            planError(s.status,
                      m_dialect == Dialect::Anthropic
                          ? u"Overloaded"_s
                          : u"The engine is currently overloaded, please try again later."_s,
                      u"server_error"_s, QString());
            break;
        default:
            planError(s.status, u"Fake upstream error %1."_s.arg(s.status),
                      s.status < 500 ? u"invalid_request_error"_s : u"server_error"_s, QString());
        }
        m_steps.first().delayMs = s.firstMs;
        return;
    }

    // Ollama streams unless told not to; the others only when asked.
    const QJsonValue streamValue = m_request.json.value("stream"_L1);
    const bool stream =
        m_dialect == Dialect::Ollama ? streamValue != QJsonValue(false) : streamValue.toBool();
    const bool includeUsage =
        m_request.json.value("stream_options"_L1).toObject().value("include_usage"_L1).toBool();
    if (!stream || s.json) {
        const QString text = s.text.isEmpty() ? s.pieces().join(QString()) : s.text;
        planJson(200, wholeReply(model, text, created), s.firstMs + s.delayMs * n);
        return;
    }

    m_chunked = s.chunked;
    if (!m_chunked)
        m_keepAlive = false; // the close ends the body
    m_eol = s.crlf || s.malformed ? "\r\n" : "\n";
    // OpenAI puts "usage":null on every chunk once include_usage is asked for.
    const bool separateUsage =
        includeUsage && s.usage == FakeScenario::Usage::Separate && m_dialect == Dialect::OpenAi;
    m_usageNull = separateUsage ? ",\"usage\":null" : "";
    m_chunkHead = "{\"id\":\"" + m_id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created +
                  ",\"model\":" + jsonString(model) + ",\"system_fingerprint\":\"fp_fake\",\"choices\":[";

    const bool anthropic = m_dialect == Dialect::Anthropic;
    add(Step::Head);
    add(Step::Role, s.firstMs); // Ollama's says nothing: only its delay counts
    if (s.malformed && m_dialect != Dialect::Ollama)
        add(Step::Junk);
    if (r > 0) {
        if (anthropic) {
            m_blocks.append({"thinking"});
            add(Step::BlockStart, 0, int(m_blocks.size()) - 1);
        }
        for (int i = 0; i < r; ++i)
            add(Step::Reasoning, s.delayMs, i);
        if (anthropic) {
            add(Step::Signature);
            add(Step::BlockStop, 0, int(m_blocks.size()) - 1);
        }
    }
    if (anthropic && n > 0) {
        m_blocks.append({"text"});
        add(Step::BlockStart, 0, int(m_blocks.size()) - 1);
    }
    for (int i = 0; i <= n; ++i) {
        if (i == s.cut) {
            add(Step::Close, i == n ? s.delayMs : 0);
            return;
        }
        if (i == s.stall) {
            add(Step::Stall);
            return;
        }
        if (i == s.inband) {
            add(Step::InBandError, s.delayMs);
            if (m_chunked)
                add(Step::Terminator);
            add(m_keepAlive ? Step::End : Step::Close);
            return;
        }
        if (i == n)
            break;
        add(Step::Content, s.delayMs, i);
        if (s.malformed && i == n / 2 && m_dialect != Dialect::Ollama)
            add(Step::Comment);
    }
    if (anthropic && n > 0)
        add(Step::BlockStop, 0, int(m_blocks.size()) - 1);
    if (m_dialect == Dialect::Ollama) {
        for (qsizetype k = 0; k < m_calls.size(); ++k) // whole calls, one line each
            add(Step::ToolCall, s.delayMs, int(k));
    } else {
        for (qsizetype f = 0; f < m_toolFragments.size(); ++f) {
            const int call = m_fragmentCall.at(f);
            if (anthropic && (f == 0 || m_fragmentCall.at(f - 1) != call)) {
                m_blocks.append({"tool_use", call});
                add(Step::BlockStart, 0, int(m_blocks.size()) - 1);
            }
            add(Step::ToolCall, s.delayMs, int(f));
            if (anthropic && (f + 1 == m_toolFragments.size() || m_fragmentCall.at(f + 1) != call))
                add(Step::BlockStop, 0, int(m_blocks.size()) - 1);
        }
    }
    add(Step::Finish, s.delayMs);
    if (separateUsage)
        add(Step::Usage);
    if (!s.noDone && m_dialect != Dialect::Ollama)
        add(Step::Done);
    if (m_chunked)
        add(Step::Terminator);
    add(m_keepAlive ? Step::End : Step::Close);
}

QByteArray FakeConnection::wholeReply(const QString &model, const QString &text,
                                      const QByteArray &created) const
{
    const FakeScenario &s = m_scenario;
    if (m_dialect == Dialect::Anthropic) {
        QJsonArray content;
        if (!m_reasoning.isEmpty())
            content.append(QJsonObject{{u"type"_s, u"thinking"_s},
                                       {u"thinking"_s, m_reasoning.join(QString())},
                                       {u"signature"_s, QString::fromLatin1(m_signature)}});
        if (!text.isEmpty())
            content.append(QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, text}});
        for (qsizetype k = 0; k < m_calls.size(); ++k)
            content.append(
                QJsonObject{{u"type"_s, u"tool_use"_s},
                            {u"id"_s, u"toolu_fake%1_%2"_s.arg(s_completionIds).arg(k)},
                            {u"name"_s, m_calls.at(k).first},
                            {u"input"_s, QJsonDocument::fromJson(m_calls.at(k).second.toUtf8()).object()}});
        const QString stop = m_finish == "tool_calls"_L1 ? u"tool_use"_s
                             : m_finish == "length"_L1   ? u"max_tokens"_s
                                                         : u"end_turn"_s;
        return QJsonDocument(QJsonObject{{u"id"_s, QString::fromLatin1(m_id)},
                                         {u"type"_s, u"message"_s},
                                         {u"role"_s, u"assistant"_s},
                                         {u"model"_s, model},
                                         {u"content"_s, content},
                                         {u"stop_reason"_s, stop},
                                         {u"stop_sequence"_s, QJsonValue()},
                                         {u"usage"_s, QJsonObject{{u"input_tokens"_s, m_promptTokens},
                                                                  {u"output_tokens"_s, m_outputTokens}}}})
            .toJson(QJsonDocument::Compact);
    }
    if (m_dialect == Dialect::Ollama) {
        QJsonObject message{{u"role"_s, u"assistant"_s}, {u"content"_s, text}};
        if (!m_reasoning.isEmpty())
            message.insert(u"thinking"_s, m_reasoning.join(QString()));
        return QJsonDocument(
                   QJsonObject{{u"model"_s, model},
                               {u"created_at"_s, QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
                               {u"message"_s, message},
                               {u"done"_s, true},
                               {u"done_reason"_s, m_finish == "length"_L1 ? u"length"_s : u"stop"_s},
                               {u"prompt_eval_count"_s, m_promptTokens},
                               {u"eval_count"_s, m_outputTokens}})
            .toJson(QJsonDocument::Compact);
    }
    return "{\"id\":\"" + m_id + "\",\"object\":\"chat.completion\",\"created\":" + created +
           ",\"model\":" + jsonString(model) +
           ",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
           "\"assistant\",\"content\":" +
           jsonString(text) +
           (m_reasoning.isEmpty()
                ? QByteArray()
                : ",\"" + s.reasoningField.toLatin1() + "\":" + jsonString(m_reasoning.join(QString()))) +
           ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":" + jsonString(s.finish) + "}]" +
           (s.usage == FakeScenario::Usage::None ? QByteArray() : ",\"usage\":" + m_usageJson) + '}';
}

QByteArray FakeConnection::bytes(const Step &step) const
{
    const bool anthropic = m_dialect == Dialect::Anthropic;
    const bool ollama = m_dialect == Dialect::Ollama;
    // Ollama's lines: the model, a time and the message so far.
    const auto ollamaLine = [this](const QByteArray &message, bool done = false,
                                   const QByteArray &tail = {}) {
        return line("{\"model\":" + jsonString(m_request.json.value("model"_L1).toString()) +
                    ",\"created_at\":\"" +
                    QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toLatin1() +
                    "\",\"message\":" + message + ",\"done\":" + (done ? "true" : "false") + tail + '}');
    };
    const auto textJson = [this](const QString &text) {
        return m_scenario.ascii ? asciiJsonString(text) : jsonString(text);
    };
    switch (step.kind) {
    case Step::Raw:
        return m_raw;
    case Step::Head:
        return QByteArray("HTTP/1.1 200 OK\r\nContent-Type: ") +
               (ollama ? "application/x-ndjson" : "text/event-stream; charset=utf-8") +
               "\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n" +
               (m_keepAlive ? "" : "Connection: close\r\n") +
               (m_chunked ? "Transfer-Encoding: chunked\r\n" : "") + "\r\n";
    case Step::Role:
        if (ollama)
            return {};
        if (anthropic)
            return eventBytes(
                       "message_start",
                       "{\"type\":\"message_start\",\"message\":{\"id\":\"" + m_id +
                           "\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":" +
                           jsonString(m_request.json.value("model"_L1).toString()) +
                           ",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":" +
                           QByteArray::number(m_promptTokens) +
                           ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                           "\"output_tokens\":1}}}") +
                   eventBytes("ping", "{\"type\": \"ping\"}");
        return event(m_chunkHead +
                     R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,)"
                     R"("finish_reason":null}])" +
                     m_usageNull + '}');
    case Step::Junk:
        if (anthropic) // events a client must let pass: a comment, a type it does not know, a citation
            return ": keep-alive" + m_eol + m_eol +
                   eventBytes("message_annotation", "{\"type\":\"message_annotation\",\"note\":\"JUNK\"}") +
                   eventBytes("ping", "{\"type\": \"ping\"}");
        return ": keep-alive" + m_eol + m_eol // comment
               + "event: ping" + m_eol + "data: " + m_chunkHead +
               R"({"index":0,"delta":{"content":"JUNK"}}]})" + m_eol + m_eol // unknown event
               + "data: {\"choices\": [ this is not json" + m_eol + m_eol    // bad JSON
               + "data: {\"id\":\"" + m_id + "\",\"object\":\"chat.completion.chunk\"}" + m_eol +
               m_eol; // no choices
    case Step::Comment:
        return ":" + m_eol + ": still here" + m_eol + m_eol;
    case Step::Reasoning: {
        const QByteArray piece = textJson(m_reasoning.at(step.index));
        if (anthropic)
            return eventBytes(
                "content_block_delta",
                R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":)" +
                    piece + "}}");
        if (ollama)
            return ollamaLine(R"({"role":"assistant","content":"","thinking":)" + piece + '}');
        return event(m_chunkHead + R"({"index":0,"delta":{"content":null,")" +
                     m_scenario.reasoningField.toLatin1() + "\":" + piece +
                     R"(},"logprobs":null,"finish_reason":null}])" + m_usageNull + '}');
    }
    case Step::Signature:
        return eventBytes(
            "content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":")" +
                m_signature + "\"}}");
    case Step::BlockStart: {
        const Block &block = m_blocks.at(step.index);
        QByteArray content;
        if (block.type == "thinking") {
            content = R"({"type":"thinking","thinking":"","signature":""})";
        } else if (block.type == "text") {
            content = R"({"type":"text","text":""})";
        } else {
            const QByteArray id =
                "toolu_fake" + QByteArray::number(s_completionIds) + "_" + QByteArray::number(block.call);
            content = "{\"type\":\"tool_use\",\"id\":\"" + id +
                      "\",\"name\":" + jsonString(m_calls.at(block.call).first) + ",\"input\":{}}";
        }
        return eventBytes("content_block_start",
                          "{\"type\":\"content_block_start\",\"index\":" + QByteArray::number(step.index) +
                              ",\"content_block\":" + content + '}');
    }
    case Step::BlockStop:
        return eventBytes("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" +
                                                    QByteArray::number(step.index) + '}');
    case Step::Content: {
        const QString content = m_scenario.stamp     ? u"[%1@%2] "_s.arg(step.index).arg(monotonicNs())
                                : m_pieces.isEmpty() ? FakeScenario::syntheticPiece(step.index)
                                                     : m_pieces.at(step.index);
        if (anthropic)
            return eventBytes("content_block_delta",
                              "{\"type\":\"content_block_delta\",\"index\":" +
                                  QByteArray::number(m_reasoning.isEmpty() ? 0 : 1) +
                                  ",\"delta\":{\"type\":\"text_delta\",\"text\":" + textJson(content) + "}}");
        if (ollama)
            return ollamaLine(R"({"role":"assistant","content":)" + textJson(content) + '}');
        return event(m_chunkHead + R"({"index":0,"delta":{"content":)" + textJson(content) +
                     R"(},"logprobs":null,"finish_reason":null}])" + m_usageNull + '}');
    }
    case Step::ToolCall: {
        if (ollama) { // a whole call, its arguments an object
            const auto &call = m_calls.at(step.index);
            const QByteArray id =
                "call_fake" + QByteArray::number(s_completionIds) + "_" + QByteArray::number(step.index);
            return ollamaLine(R"({"role":"assistant","content":"","tool_calls":[{)" +
                              (m_scenario.noIds ? QByteArray() : "\"id\":\"" + id + "\",") +
                              "\"function\":{\"index\":" + QByteArray::number(step.index) +
                              ",\"name\":" + jsonString(call.first) + ",\"arguments\":" +
                              QJsonDocument(QJsonDocument::fromJson(call.second.toUtf8()).object())
                                  .toJson(QJsonDocument::Compact) +
                              "}}]}");
        }
        const ToolFragment &fragment = m_toolFragments.at(step.index);
        if (anthropic) {
            int block = 0;
            for (qsizetype b = 0; b < m_blocks.size(); ++b) {
                if (m_blocks.at(b).call == m_fragmentCall.at(step.index))
                    block = int(b);
            }
            return eventBytes("content_block_delta",
                              "{\"type\":\"content_block_delta\",\"index\":" + QByteArray::number(block) +
                                  ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" +
                                  jsonString(fragment.arguments) + "}}");
        }
        return event(m_chunkHead + R"({"index":0,"delta":{"tool_calls":[{"index":)" +
                     QByteArray::number(fragment.index) + ',' + fragment.head +
                     "\"arguments\":" + jsonString(fragment.arguments) +
                     R"(}}]},"logprobs":null,"finish_reason":null}])" + m_usageNull + '}');
    }
    case Step::InBandError:
        if (anthropic)
            return eventBytes(
                "error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
        if (ollama)
            return line(R"({"error":"an error was encountered while running the model"})");
        return event(
            R"({"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}})");
    case Step::Finish:
        if (anthropic) {
            const QByteArray stop = m_finish == "tool_calls"_L1       ? "tool_use"
                                    : m_finish == "length"_L1         ? "max_tokens"
                                    : m_finish == "content_filter"_L1 ? "refusal"
                                    : m_finish == "stop"_L1           ? "end_turn"
                                                                      : m_finish.toLatin1();
            return eventBytes("message_delta",
                              "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stop +
                                  "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" +
                                  QByteArray::number(m_outputTokens) + "}}");
        }
        if (ollama) // after tool calls too Ollama says "stop"
            return ollamaLine(
                R"({"role":"assistant","content":""})", true,
                ",\"done_reason\":\"" + QByteArray(m_finish == "length"_L1 ? "length" : "stop") +
                    "\",\"total_duration\":4883583458,\"load_duration\":1334875,\"prompt_eval_count\":" +
                    QByteArray::number(m_promptTokens) +
                    ",\"prompt_eval_duration\":342546000,\"eval_count\":" +
                    QByteArray::number(m_outputTokens) + ",\"eval_duration\":4535599000");
        return event(
            m_chunkHead + R"({"index":0,"delta":{},"logprobs":null,"finish_reason":)" + jsonString(m_finish) +
            "}]" +
            (m_scenario.usage == FakeScenario::Usage::Inline ? ",\"usage\":" + m_usageJson : m_usageNull) +
            '}');
    case Step::Usage:
        return event(m_chunkHead + "],\"usage\":" + m_usageJson + '}');
    case Step::Done:
        if (anthropic)
            return eventBytes("message_stop", R"({"type":"message_stop"})");
        return event("[DONE]");
    case Step::Terminator:
        return "0\r\n\r\n";
    case Step::Stall:
    case Step::Close:
    case Step::End:
        break;
    }
    return {};
}

void FakeConnection::run()
{
    while (m_next < m_steps.size() && !m_closing && !m_gone) {
        if (m_outPos < m_out.size())
            return; // split mode: pump() calls back when the pending bytes are out
        const Step &step = m_steps.at(m_next);
        if (step.delayMs > 0 && !m_waited) {
            m_waited = true;
            m_server->schedule(this, step.delayMs);
            return;
        }
        m_waited = false;
        ++m_next;
        switch (step.kind) {
        case Step::Stall:
            return;
        case Step::Close:
            m_closing = true;
            endStream(false);
            m_socket->disconnectFromHost(); // after the pending bytes are written
            return;
        case Step::End:
            endExchange();
            return;
        default: {
            QByteArray out = bytes(step);
            if (out.isEmpty())
                break; // a step that only waits
            const bool framed =
                step.kind != Step::Raw && step.kind != Step::Head && step.kind != Step::Terminator;
            if (framed && m_chunked)
                out = QByteArray::number(out.size(), 16) + "\r\n" + out + "\r\n";
            if (m_scenario.split <= 0) {
                m_socket->write(out);
            } else {
                m_out = out;
                m_outPos = 0;
                pump();
            }
            break;
        }
        }
    }
}

void FakeConnection::pump()
{
    if (m_gone)
        return;
    const qsizetype n = qMin<qsizetype>(m_scenario.split, m_out.size() - m_outPos);
    m_socket->write(m_out.constData() + m_outPos, n);
    m_socket->flush();
    m_outPos += n;
    if (m_outPos < m_out.size()) {
        m_server->schedule(this, 0); // back to the event loop, so each piece leaves as its own write
    } else {
        m_out.clear();
        m_outPos = 0;
    }
}

void FakeConnection::wake()
{
    if (m_closing || m_gone)
        return;
    if (!m_handled) { // between requests
        if (!m_in.isEmpty()) {
            readRequest(); // a pipelined one
        } else {
            m_closing = true; // the keep-alive timeout
            m_socket->disconnectFromHost();
        }
        return;
    }
    if (m_outPos < m_out.size()) {
        pump();
        if (m_outPos < m_out.size())
            return;
    }
    run();
}

void FakeConnection::closeIfIdle()
{
    if (m_handled || m_closing || m_gone)
        return;
    m_closing = true;
    m_socket->disconnectFromHost();
}

void FakeConnection::onDisconnected()
{
    if (m_gone)
        return;
    m_gone = true; // writes may fail half way through run(); stop there
    m_server->cancel(this);
    endStream(!m_closing);
    Q_EMIT closed();
    deleteLater();
}

void FakeConnection::endStream(bool byClient)
{
    if (!m_streamOpen)
        return;
    m_streamOpen = false;
    Q_EMIT streamEnded(byClient);
}

void FakeConnection::endExchange()
{
    endStream(false);
    // Ready for the next request on this connection.
    m_request = FakeRequest();
    m_bodyStart = -1;
    m_requestEnd = 0;
    m_contentLength = 0;
    m_requestChunked = false;
    m_handled = false;
    m_steps.clear();
    m_next = 0;
    m_waited = false;
    m_chunked = false;
    m_raw.clear();
    m_pieces.clear();
    m_eol = "\n";
    if (!m_in.isEmpty())
        m_server->schedule(this, 0); // a pipelined request, from the event loop rather than recursively
    else if (m_scenario.idleMs > 0)
        m_server->schedule(this, m_scenario.idleMs);
}
