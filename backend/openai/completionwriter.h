#pragma once

#include <QHash>
#include <QHttpServerResponder>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <memory>

class ChatTurn;
class SseStream;
class QTcpSocket;
struct ChatOutcome;
struct OpenAiError;

// Answers a /v1/chat/completions call from the reply its agent is writing: a stream of
// `chat.completion.chunk` events ended by `data: [DONE]`, or one `chat.completion` object.
//
// The stream's headers wait for the reply's first delta (or the keep-alive interval), so a reply
// that fails before it says anything, a provider's 429 say, is an HTTP error the SDKs raise as
// such; a failure after that is an event with an `error` member. The caller's own functions are
// streamed as tool_calls (indexed from 0 among themselves); the agent's tools run on the server
// and are not shown. A caller who leaves stops the reply at once. A child of its turn.
class CompletionWriter : public QObject
{
    Q_OBJECT
public:
    struct Setup
    {
        QString id; // "chatcmpl-<reply id>"
        QString model;
        qint64 created = 0;
        bool stream = false;
        bool includeUsage = false;
        QSet<QString> callerFunctions;
        int keepAliveMs = 15000;
        bool chunked = true;
        QList<QPair<QByteArray, QByteArray>> headers; // CORS, X-AgentDesk-Session, ...
    };

    CompletionWriter(ChatTurn *turn, QHttpServerResponder &&responder, const Setup &setup);

    // OpenAI's finish_reason for how a reply ended.
    static QString finishReason(const ChatOutcome &outcome);

private:
    void onContent(const QString &text);
    void onReasoning(const QString &text);
    void onOther(const QByteArray &json);
    void onEnded(const ChatOutcome &outcome);
    void open();
    void send(const QByteArray &delta, const QByteArray &finishReason = "null");
    QByteArray chunk(const QByteArray &delta, const QByteArray &finishReason) const;
    void answerWhole(const ChatOutcome &outcome);
    void sendError(const OpenAiError &error);
    static QJsonObject usageOf(const ChatOutcome &outcome);

    ChatTurn *m_turn;
    std::unique_ptr<QHttpServerResponder> m_responder; // until the stream opens or the answer goes
    QPointer<QTcpSocket> m_socket;
    QPointer<SseStream> m_stream;
    Setup m_setup;
    QByteArray m_head; // every chunk's start, up to its delta
    QTimer m_openTimer;
    bool m_roleSent = false;
    // The caller's calls by (round, the provider's index): their index for the caller; the
    // agent's; and calls whose name has not come yet.
    QHash<QPair<int, int>, int> m_callerIndex;
    QHash<int, int> m_callsInRound;
    QSet<QPair<int, int>> m_agentCalls;
    struct Unnamed
    {
        QString id;
        QString arguments;
    };
    QHash<QPair<int, int>, Unnamed> m_unnamed;
};
