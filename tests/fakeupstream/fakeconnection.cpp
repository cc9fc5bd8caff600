#include "fakeconnection.h"

#include "fakeupstream.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>

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
    const bool completions = path == "/v1/chat/completions" || path == "/chat/completions";
    const bool models = path == "/v1/models" || path == "/models";

    m_scenario = m_server->defaultScenario();
    // HTTP/1.1 keeps the connection unless the client (or the scenario) says close.
    m_keepAlive =
        m_http11 && !m_request.header("connection").toLower().contains("close") && !m_scenario.close;
    const QString key = m_server->requiredApiKey();
    if ((completions || models) && !key.isEmpty() &&
        m_request.header("authorization") != "Bearer " + key.toUtf8()) {
        planError(401, u"Incorrect API key provided. You can find your API key in the fake's settings."_s,
                  u"invalid_request_error"_s, u"invalid_api_key"_s);
    } else if (models) {
        if (m_request.method != "GET") {
            planError(405, u"Use GET for /v1/models."_s, u"invalid_request_error"_s, QString());
        } else {
            planJson(200, R"({"object":"list","data":[{"id":"fake","object":"model","created":1700000000,)"
                          R"("owned_by":"agentdesk"}]})");
        }
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
        } else {
            if (m_scenario.close)
                m_keepAlive = false;
            m_streamOpen = true;
            Q_EMIT streamStarted();
            planChatCompletion();
        }
    }
    run();
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
    const QByteArray body = "{\"error\":{\"message\":" + jsonString(message) +
                            ",\"type\":" + jsonString(type) +
                            ",\"param\":null,\"code\":" + (code.isEmpty() ? "null" : jsonString(code)) + "}}";
    planJson(status, body, 0, status == 429 ? "Retry-After: 1\r\n" : "");
}

void FakeConnection::planChatCompletion()
{
    FakeScenario &s = m_scenario;
    const QString model = m_request.json.value("model"_L1).toString();
    m_id = "chatcmpl-fake" + QByteArray::number(++s_completionIds);
    m_finish = s.finish;
    m_toolFragments.clear();
    if (!s.calls.isEmpty()) {
        // As a model with tools: calls while the request has had fewer rounds of them, then text.
        const QJsonArray messages = m_request.json.value("messages"_L1).toArray();
        int rounds = 0;
        QStringList results;
        for (const QJsonValue &m : messages) {
            const QJsonObject message = m.toObject();
            if (message.value("role"_L1) == "assistant"_L1 && message.contains("tool_calls"_L1)) {
                ++rounds;
                results.clear();
            }
            if (message.value("role"_L1) == "tool"_L1)
                results.append(message.value("content"_L1).toString());
        }
        if (rounds < s.rounds) {
            for (qsizetype c = 0; c < s.calls.size(); ++c) {
                const QString &arguments = s.calls.at(c).second;
                const QByteArray id =
                    "call_fake" + QByteArray::number(s_completionIds) + "_" + QByteArray::number(c);
                QByteArray head =
                    (s.noIds ? QByteArray() : "\"id\":\"" + id + "\",") + "\"type\":\"function\",";
                head += "\"function\":{\"name\":" + jsonString(s.calls.at(c).first) + ",";
                for (qsizetype at = 0; at < qMax<qsizetype>(1, arguments.size()); at += s.argSplit) {
                    m_toolFragments.append({s.reuseIndex ? 0 : int(c),
                                            at == 0 ? head : QByteArray("\"function\":{"),
                                            arguments.mid(at, s.argSplit)});
                }
            }
            s.text = s.pre;
            s.tokens = s.pre.isEmpty() ? 0 : 1;
            m_finish = u"tool_calls"_s;
        } else if (s.text.isEmpty()) {
            s.text = u"Results: "_s + results.join(u" | "_s);
            s.tokens = 12;
        }
    }
    const QByteArray created = QByteArray::number(QDateTime::currentSecsSinceEpoch());
    const int promptTokens = estimatePromptTokens(m_request.json.value("messages"_L1).toArray());
    if (!s.text.isEmpty())
        m_pieces = s.pieces();
    const int n = s.text.isEmpty() ? qMax(0, s.tokens) : int(m_pieces.size());
    m_usageJson = "{\"prompt_tokens\":" + QByteArray::number(promptTokens) +
                  ",\"completion_tokens\":" + QByteArray::number(n) +
                  ",\"total_tokens\":" + QByteArray::number(promptTokens + n) + '}';

    if (s.stall == 0) { // accepted the request, never answers
        add(Step::Stall);
        return;
    }
    if (s.status != 200) {
        switch (s.status) {
        case 401:
            planError(401,
                      u"Incorrect API key provided: sk-fake****. You can find your API key at "
                      "https://platform.openai.com/account/api-keys."_s,
                      u"invalid_request_error"_s, u"invalid_api_key"_s);
            break;
        case 404:
            planError(404, u"The model `%1` does not exist or you do not have access to it."_s.arg(model),
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
            planError(503, u"The engine is currently overloaded, please try again later."_s,
                      u"server_error"_s, QString());
            break;
        default:
            planError(s.status, u"Fake upstream error %1."_s.arg(s.status),
                      s.status < 500 ? u"invalid_request_error"_s : u"server_error"_s, QString());
        }
        m_steps.first().delayMs = s.firstMs;
        return;
    }

    const bool stream = m_request.json.value("stream"_L1).toBool();
    const bool includeUsage =
        m_request.json.value("stream_options"_L1).toObject().value("include_usage"_L1).toBool();
    if (!stream || s.json) {
        const QString text = s.text.isEmpty() ? s.pieces().join(QString()) : s.text;
        const QByteArray body =
            "{\"id\":\"" + m_id + "\",\"object\":\"chat.completion\",\"created\":" + created +
            ",\"model\":" + jsonString(model) +
            ",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
            "\"assistant\",\"content\":" +
            jsonString(text) +
            ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":" + jsonString(s.finish) + "}]" +
            (s.usage == FakeScenario::Usage::None ? QByteArray() : ",\"usage\":" + m_usageJson) + '}';
        planJson(200, body, s.firstMs + s.delayMs * n);
        return;
    }

    m_chunked = s.chunked;
    if (!m_chunked)
        m_keepAlive = false; // the close ends the body
    m_eol = s.crlf || s.malformed ? "\r\n" : "\n";
    // OpenAI puts "usage":null on every chunk once include_usage is asked for.
    const bool separateUsage = includeUsage && s.usage == FakeScenario::Usage::Separate;
    m_usageNull = separateUsage ? ",\"usage\":null" : "";
    m_chunkHead = "{\"id\":\"" + m_id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created +
                  ",\"model\":" + jsonString(model) + ",\"system_fingerprint\":\"fp_fake\",\"choices\":[";

    add(Step::Head);
    add(Step::Role, s.firstMs);
    if (s.malformed)
        add(Step::Junk);
    for (int i = 0; i <= n; ++i) {
        if (i == s.cut) {
            add(Step::Close, i == n ? s.delayMs : 0);
            return;
        }
        if (i == s.stall) {
            add(Step::Stall);
            return;
        }
        if (i == n)
            break;
        add(Step::Content, s.delayMs, i);
        if (s.malformed && i == n / 2)
            add(Step::Comment);
    }
    for (qsizetype f = 0; f < m_toolFragments.size(); ++f)
        add(Step::ToolCall, s.delayMs, int(f));
    add(Step::Finish, s.delayMs);
    if (separateUsage)
        add(Step::Usage);
    if (!s.noDone)
        add(Step::Done);
    if (m_chunked)
        add(Step::Terminator);
    add(m_keepAlive ? Step::End : Step::Close);
}

QByteArray FakeConnection::bytes(const Step &step) const
{
    switch (step.kind) {
    case Step::Raw:
        return m_raw;
    case Step::Head:
        return QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                          "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n") +
               (m_keepAlive ? "" : "Connection: close\r\n") +
               (m_chunked ? "Transfer-Encoding: chunked\r\n" : "") + "\r\n";
    case Step::Role:
        return event(m_chunkHead +
                     R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,)"
                     R"("finish_reason":null}])" +
                     m_usageNull + '}');
    case Step::Junk:
        return ": keep-alive" + m_eol + m_eol // comment
               + "event: ping" + m_eol + "data: " + m_chunkHead +
               R"({"index":0,"delta":{"content":"JUNK"}}]})" + m_eol + m_eol // unknown event
               + "data: {\"choices\": [ this is not json" + m_eol + m_eol    // bad JSON
               + "data: {\"id\":\"" + m_id + "\",\"object\":\"chat.completion.chunk\"}" + m_eol +
               m_eol; // no choices
    case Step::Comment:
        return ":" + m_eol + ": still here" + m_eol + m_eol;
    case Step::Content: {
        const QString content = m_scenario.stamp     ? u"[%1@%2] "_s.arg(step.index).arg(monotonicNs())
                                : m_pieces.isEmpty() ? FakeScenario::syntheticPiece(step.index)
                                                     : m_pieces.at(step.index);
        return event(m_chunkHead + R"({"index":0,"delta":{"content":)" +
                     (m_scenario.ascii ? asciiJsonString(content) : jsonString(content)) +
                     R"(},"logprobs":null,"finish_reason":null}])" + m_usageNull + '}');
    }
    case Step::ToolCall: {
        const ToolFragment &fragment = m_toolFragments.at(step.index);
        return event(m_chunkHead + R"({"index":0,"delta":{"tool_calls":[{"index":)" +
                     QByteArray::number(fragment.index) + ',' + fragment.head +
                     "\"arguments\":" + jsonString(fragment.arguments) +
                     R"(}}]},"logprobs":null,"finish_reason":null}])" + m_usageNull + '}');
    }
    case Step::Finish:
        return event(
            m_chunkHead + R"({"index":0,"delta":{},"logprobs":null,"finish_reason":)" + jsonString(m_finish) +
            "}]" +
            (m_scenario.usage == FakeScenario::Usage::Inline ? ",\"usage\":" + m_usageJson : m_usageNull) +
            '}');
    case Step::Usage:
        return event(m_chunkHead + "],\"usage\":" + m_usageJson + '}');
    case Step::Done:
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
