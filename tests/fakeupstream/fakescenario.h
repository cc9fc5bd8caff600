#pragma once

#include <QString>
#include <QStringList>

// How the fake upstream answers one chat completion. Set defaults with
// FakeUpstream::setDefaultScenario(); a request overrides them through its model string:
//   fake:tokens=50,delay=20,split=3
// Keys: tokens, delay, first, text, split, usage=0|1|inline, status, cut, stall, malformed,
// finish, crlf, nodone, stamp, chunked, json, close, idle, ascii, calls, argsplit, reuse, noid,
// rounds, pre, reasoning, rtokens, rfield, echo, vision, inband. Values are percent-decoded, so a
// comma in `text` is %2C.
//
// The same scenario plays in each provider's own dialect, chosen by the request's path:
// OpenAI's /v1/chat/completions, Anthropic's /v1/messages, Ollama's /api/chat (FakeConnection).
//
// Like real servers (uvicorn, nginx, Ollama) the fake keeps HTTP/1.1 connections alive after a
// response framed by chunked encoding or Content-Length, and reads the next request on them;
// `close`, a close-delimited body, a cut, a malformed request or a client's `Connection: close` end
// the connection instead.
struct FakeScenario
{
    enum class Usage { None, Separate, Inline };

    int tokens = 5;                // content chunks
    int delayMs = 0;               // before each content chunk and before the finish chunk
    int firstMs = 0;               // before the first chunk (after the response headers)
    QString text;                  // empty: synthetic words; else split into ~`tokens` pieces
    int split = 0;                 // > 0: write the raw bytes in pieces of at most this many bytes
    Usage usage = Usage::Separate; // Separate: own chunk, only when stream_options.include_usage
    int status = 200;              // != 200: an OpenAI-style JSON error with this status
    int cut = -1;                  // >= 0: close the connection after this many content chunks
    int stall = -1;                // >= 0: go silent after this many content chunks (0: before the headers)
    bool malformed = false;        // interleave comments, unknown events, bad JSON, chunks without choices
    QString finish = QStringLiteral("stop");
    bool crlf = false;
    bool noDone = false;
    bool stamp = false;  // content of each token: "[<seq>@<CLOCK_MONOTONIC ns>] " at write time
    bool chunked = true; // Transfer-Encoding: chunked, like api.openai.com; else close-delimited
    bool json = false;   // one chat.completion JSON object even when a stream was asked for
    bool close = false;  // answer with Connection: close and close, instead of keeping the connection
    int idleMs = 0;      // > 0: after this response, close the connection when idle this long
    // Python's json.dumps (vLLM, FastAPI) and mocks such as @dwmkerr/mock-llm: `text` is cut into
    // pieces by UTF-16 unit, so an emoji may be split between two chunks, and everything outside
    // ASCII is sent as \uXXXX escapes (a lone surrogate half can be sent no other way).
    bool ascii = false;
    // Tool calls, as OpenAI streams them: `calls=name|{json args};name2|{...}` are asked for (in
    // parallel) while the request holds fewer than `rounds` assistant tool-call messages, each
    // call's arguments in fragments of `argsplit` characters, after the `pre` text. `reuse`: every
    // parallel call has index 0 (some servers do); `noid`: the calls carry no id. Once the rounds
    // are done the answer is `text`, or "Results: " and the tool messages it was sent.
    QList<QPair<QString, QString>> calls;
    int argSplit = 8;
    bool reuseIndex = false;
    bool noIds = false;
    int rounds = 1;
    QString pre;
    // Reasoning streamed before the answer in `reasoningTokens` pieces: in OpenAI's dialect as
    // `reasoning_content` (DeepSeek), `reasoning` (OpenRouter, vLLM) or a <think> block opening the
    // content (`rfield=think`, as servers without a reasoning parser do); in Anthropic's as a
    // thinking block with its signature, only when the request enables thinking (a default text
    // then); in Ollama's as `thinking` unless the request says `think: false` (`rfield=think`:
    // tags in the content, as Ollama before 0.12.5).
    QString reasoning;
    int reasoningTokens = 5;
    QString reasoningField = QStringLiteral("reasoning_content");
    // DeepSeek's thinking mode: an assistant tool-call message sent back without its
    // reasoning_content is refused with 400, as DeepSeek does.
    bool requireEcho = false;
    // false: a model that cannot see. Images are refused (OpenAI, Anthropic) or silently dropped
    // (Ollama, whose /api/show then lists no "vision").
    bool vision = true;
    int inband = -1; // >= 0: an error inside the 200 stream after this many content chunks

    // Applies one `key=value`; false (with `error`) for an unknown key or a bad value.
    bool set(const QString &key, const QString &value, QString *error = nullptr);
    // Applies the overrides of a `fake:k=v,...` model string; any other model changes nothing.
    bool applyModel(const QString &model, QString *error = nullptr);

    // The content pieces in order (without stamps).
    QStringList pieces() const;
    // `text` in about `count` pieces of whole code points (UTF-16 units with `ascii`).
    static QStringList splitText(const QString &text, int count, bool ascii = false);
    // Piece `i` of the synthetic reply used while `text` is empty; O(1), no list kept.
    static QString syntheticPiece(int i);
    QString replyText() const { return pieces().join(QString()); }
};
