#pragma once

#include "fakerequest.h"
#include "fakescenario.h"

#include <QObject>

class FakeUpstream;
class QTcpSocket;

// One accepted TCP connection of the fake upstream: reads HTTP/1.1 requests one after another
// and answers each as its scenario says, in the dialect of the request's path (OpenAI, Anthropic,
// Ollama), keeping the connection alive between them like real servers do (unless the scenario,
// the client or the framing says close). Timed by FakeUpstream's shared scheduler; no thread or
// timer of its own.
class FakeConnection : public QObject
{
    Q_OBJECT
public:
    FakeConnection(QTcpSocket *socket, FakeUpstream *server);
    ~FakeConnection() override;

    void wake();        // the delay asked of FakeUpstream::schedule() is over
    void closeIfIdle(); // closes the connection unless a response is under way

Q_SIGNALS:
    void requestReceived(const FakeRequest &request);
    void streamStarted();
    // `byClient`: the peer closed before the response was complete.
    void streamEnded(bool byClient);
    void closed();

private:
    // Steps are small values; their bytes are made when written (stamps carry the write time),
    // so a long reply costs no memory up front.
    enum class Dialect { OpenAi, Anthropic, Ollama };

    struct Step
    {
        // End: the response is complete and the connection stays for the next request.
        // BlockStart / BlockStop: Anthropic's content blocks (index: which one, m_blocks).
        enum Kind {
            Raw,
            Head,
            Role,
            Junk,
            Comment,
            Reasoning,
            Signature,
            BlockStart,
            BlockStop,
            Content,
            ToolCall,
            InBandError,
            Finish,
            Usage,
            Done,
            Terminator,
            Stall,
            Close,
            End
        };
        Kind kind;
        int delayMs = 0;
        int index = 0; // Content: which piece; ToolCall: which fragment
    };

    void onReadyRead();
    void onDisconnected();
    void readRequest();
    bool parseHead(qsizetype headEnd);
    bool bodyComplete();
    void handleRequest();
    void planChatCompletion();
    void planModels();
    void planShow();
    // What the request asks of the fake, read in its dialect; false (answered) when it is refused.
    bool readConversation();
    // A reply in its dialect's JSON, for a request that asked for no stream.
    QByteArray wholeReply(const QString &model, const QString &text, const QByteArray &created) const;
    void planJson(int status, const QByteArray &body, int delayMs = 0, const QByteArray &extraHeaders = {});
    void planError(int status, const QString &message, const QString &type, const QString &code);
    QByteArray eventBytes(const QByteArray &name, const QByteArray &data) const;
    void add(Step::Kind kind, int delayMs = 0, int index = 0) { m_steps.append(Step{kind, delayMs, index}); }
    QByteArray bytes(const Step &step) const;
    QByteArray event(const QByteArray &data) const { return "data: " + data + m_eol + m_eol; }
    QByteArray line(const QByteArray &json) const { return json + '\n'; }
    void run();
    void pump();
    void endStream(bool byClient);
    void endExchange();

    QTcpSocket *m_socket;
    FakeUpstream *m_server;
    QByteArray m_in;
    FakeRequest m_request;
    qsizetype m_bodyStart = -1;
    qsizetype m_requestEnd = 0; // where the next (pipelined) request starts in m_in
    qint64 m_contentLength = 0;
    bool m_requestChunked = false;
    bool m_handled = false; // a request is being answered
    bool m_http11 = false;
    bool m_keepAlive = false; // this response leaves the connection open for the next request
    int m_served = 0;         // requests read on this connection

    FakeScenario m_scenario;
    QStringList m_pieces;   // only for a custom text; synthetic pieces are made on demand
    QByteArray m_raw;       // a whole non-streamed response
    QByteArray m_chunkHead; // `{"id":...,"choices":[` shared by every chunk
    QByteArray m_eol = "\n";
    QByteArray m_usageNull;
    QByteArray m_usageJson;
    QByteArray m_id;

    struct ToolFragment
    {
        int index;       // as sent (0 for all with `reuse`)
        QByteArray head; // id, type and name, on a call's first fragment only
        QString arguments;
    };
    QList<ToolFragment> m_toolFragments;
    QList<int> m_fragmentCall;              // per fragment, which call
    QList<QPair<QString, QString>> m_calls; // this answer's (name, arguments)
    QString m_finish;                       // this answer's finish_reason

    Dialect m_dialect = Dialect::OpenAi;
    QStringList m_reasoning; // pieces
    QByteArray m_signature;
    struct Block
    {
        QByteArray type; // thinking, text, tool_use
        int call = -1;
    };
    QList<Block> m_blocks; // Anthropic: this answer's content blocks
    int m_promptTokens = 0;
    int m_outputTokens = 0;
    // What the conversation asked, read from the request in its dialect.
    struct Conversation
    {
        int toolRounds = 0;    // assistant messages with tool calls
        QStringList results;   // of the last round
        QStringList images;    // what each image is: "PNG 68 bytes"
        QStringList documents; // names of <document> elements in the last user message
        bool thinking = false; // Anthropic: thinking enabled; Ollama: `think` not false
    };
    Conversation m_conversation;

    QList<Step> m_steps;
    qsizetype m_next = 0;
    bool m_waited = false;
    bool m_chunked = false;
    QByteArray m_out; // pending bytes in split mode
    qsizetype m_outPos = 0;
    bool m_streamOpen = false;
    bool m_closing = false;
    bool m_gone = false;
};
