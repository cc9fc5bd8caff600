#include "chatstream.h"

#include "apiclient.h"
#include "logging.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>

using namespace Qt::StringLiterals;

ChatStream::ChatStream(QNetworkReply *reply, int stallTimeoutMs, QObject *parent)
    : QObject(parent), m_reply(reply)
{
    reply->setParent(this);
    m_stallTimer.setSingleShot(true);
    m_stallTimer.setInterval(stallTimeoutMs);
    connect(&m_stallTimer, &QTimer::timeout, this, [this] {
        if (m_ended)
            return;
        qCWarning(lcClient) << "chat stream silent for" << m_stallTimer.interval() << "ms; giving up";
        m_ended = true;
        if (m_reply)
            m_reply->abort();
        Q_EMIT failed(u"stream_stalled"_s, tr("The server stopped sending the reply."), false);
        end();
    });
    connect(reply, &QNetworkReply::readyRead, this, &ChatStream::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &ChatStream::onFinished);
    m_stallTimer.start();
}

ChatStream::~ChatStream()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
}

void ChatStream::abort()
{
    if (m_ended)
        return;
    m_ended = true;
    m_stallTimer.stop();
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
    Q_EMIT aborted();
    end();
}

void ChatStream::onReadyRead()
{
    if (m_ended || !m_reply)
        return;
    m_stallTimer.start();
    if (!m_statusChecked) {
        const QVariant status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        if (status.isValid()) {
            m_statusChecked = true;
            m_httpOk = status.toInt() == 200;
        }
    }
    const QByteArray bytes = m_reply->readAll();
    if (m_statusChecked && !m_httpOk) {
        m_errorBody += bytes; // an error body, read whole in onFinished
        return;
    }
    const QList<QByteArray> events = m_parser.feed(bytes);
    for (const QByteArray &event : events) {
        handleEvent(event);
        if (m_ended)
            return;
    }
}

void ChatStream::handleEvent(const QByteArray &data)
{
    QString parseError;
    const auto chunk = ChatChunk::parse(data, &parseError);
    if (!chunk) {
        qCWarning(lcClient) << "ignoring an SSE event that is not a chat chunk:" << parseError;
        return;
    }
    if (!chunk->sessionId.isEmpty())
        m_sessionId = chunk->sessionId;
    Q_EMIT chunkReceived(*chunk);
    if (chunk->type == ChatChunk::Type::Content) {
        ++m_contentChunks;
        if (!chunk->content.isEmpty())
            Q_EMIT contentReceived(chunk->content);
    } else if (chunk->isClosing()) {
        m_ended = true;
        m_stallTimer.stop();
        Q_EMIT closed(*chunk);
        end();
    }
}

void ChatStream::onFinished()
{
    if (m_ended || !m_reply)
        return;
    m_stallTimer.stop();
    onReadyRead();
    if (m_ended)
        return;
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QNetworkReply::NetworkError netError = m_reply->error();
    if (status == 200) {
        // A last event without its blank line still counts.
        const QByteArray rest = m_parser.finish();
        if (!rest.isEmpty())
            handleEvent(rest);
        if (m_ended)
            return;
    }
    m_ended = true;
    if (status == 0 || (netError != QNetworkReply::NoError && status == 200)) {
        const bool offline = status == 0 && ApiClient::isUnreachableError(netError);
        qCInfo(lcClient) << "chat stream network error" << netError;
        Q_EMIT failed(status == 0 ? u"network_error"_s : u"stream_interrupted"_s, m_reply->errorString(),
                      offline);
    } else if (status == 204) {
        Q_EMIT failed(u"reply_ended"_s, tr("The reply has ended."), false);
    } else if (status != 200) {
        const QJsonObject err = QJsonDocument::fromJson(m_errorBody).object().value("error"_L1).toObject();
        QString code = err.value("code"_L1).toString();
        QString message = err.value("message"_L1).toString();
        if (code.isEmpty())
            code = u"http_%1"_s.arg(status);
        if (message.isEmpty())
            message = tr("The server answered HTTP %1.").arg(status);
        Q_EMIT failed(code, message, false);
    } else {
        Q_EMIT failed(u"stream_interrupted"_s, tr("The reply ended before it was complete."), false);
    }
    end();
}

void ChatStream::end()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->deleteLater();
        m_reply = nullptr;
    }
    deleteLater();
}
