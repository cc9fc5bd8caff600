// agentdesk-fake-upstream: the test suite's fake model provider as a program (OpenAI-compatible,
// Anthropic and Ollama by the request's path), for benchmarks, screenshots and manual runs. Scenario options
// set the defaults; a request's model string `fake:key=value,...` still overrides them per request.

#include "fakeupstream.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>
#include <sys/resource.h>

using namespace Qt::StringLiterals;

static void raiseFileLimit()
{
    // Each connection is a descriptor; the usual soft limit of 1024 is too low for benchmarks.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

int main(int argc, char *argv[])
{
    // The poll-based dispatcher scales to thousands of sockets; glib's walks a list per change.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"agentdesk-fake-upstream"_s);
    raiseFileLimit();

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Fake model provider: OpenAI-compatible (/v1/chat/completions), Anthropic (/v1/messages) and "
        "Ollama (/api/chat). A request's model \"fake:key=value,...\" overrides the scenario per request "
        "(keys as the options below, without dashes)."_s);
    parser.addHelpOption();
    const QCommandLineOption listen(u"listen"_s, u"Address to listen on."_s, u"address"_s, u"127.0.0.1"_s);
    const QCommandLineOption port(u"port"_s, u"Port (0: any free one)."_s, u"port"_s, u"0"_s);
    const QCommandLineOption apiKey(u"api-key"_s, u"Require this bearer key."_s, u"key"_s);
    const QCommandLineOption models(u"models"_s, u"Comma-separated models to list (fake)."_s, u"ids"_s);
    parser.addOption(listen);
    parser.addOption(port);
    parser.addOption(apiKey);
    parser.addOption(models);

    struct ScenarioOption
    {
        const char *key;
        const char *help;
        bool flag;
    };
    static const ScenarioOption scenarioOptions[] = {
        {"tokens", "Content chunks per reply (5).", false},
        {"delay", "Milliseconds before each chunk (0).", false},
        {"first", "Milliseconds before the first chunk (0).", false},
        {"text", "Reply text, split into ~tokens pieces.", false},
        {"split", "Write the bytes in pieces of at most this many bytes.", false},
        {"usage", "0, 1 (own chunk when asked for) or inline.", false},
        {"status", "Answer with this HTTP status and an OpenAI-style error.", false},
        {"cut", "Close the connection after N content chunks.", false},
        {"stall", "Go silent after N content chunks (0: before the headers).", false},
        {"finish", "finish_reason (stop).", false},
        {"malformed", "Interleave comments, unknown events, bad JSON, chunks without choices.", true},
        {"crlf", "CRLF line ends.", true},
        {"nodone", "Omit data: [DONE].", true},
        {"stamp", "Token content is [seq@CLOCK_MONOTONIC ns] at write time.", true},
        {"json", "Answer one JSON object even when a stream was asked for.", true},
        {"close", "Answer with Connection: close and close (default: keep connections alive).", true},
        {"idle", "Close a kept-alive connection idle for this many milliseconds (0: never).", false},
        {"ascii", "Cut the text by UTF-16 unit (emoji split in two) and send non-ASCII as \\u escapes.",
         true},
        {"reasoning", "Reasoning streamed before the answer.", false},
        {"rtokens", "Reasoning chunks (5).", false},
        {"rfield", "reasoning_content, reasoning or think (a <think> block in the content).", false},
        {"vision", "0: the model cannot see images.", false},
        {"blind", "1: the same as vision=0.", false},
        {"inband", "An error inside the stream after N content chunks.", false},
    };
    QList<QCommandLineOption> options;
    for (const ScenarioOption &o : scenarioOptions) {
        const QString name = QLatin1String(o.key);
        options.append(o.flag ? QCommandLineOption(name, QLatin1String(o.help))
                              : QCommandLineOption(name, QLatin1String(o.help), u"value"_s));
        parser.addOption(options.last());
    }
    parser.process(app);

    FakeScenario scenario;
    for (qsizetype i = 0; i < options.size(); ++i) {
        if (!parser.isSet(options.at(i)))
            continue;
        const ScenarioOption &o = scenarioOptions[i];
        QString error;
        if (!scenario.set(QLatin1String(o.key), o.flag ? u"1"_s : parser.value(options.at(i)), &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 2;
        }
    }

    FakeUpstream fake;
    fake.setDefaultScenario(scenario);
    fake.setRecordRequests(false);
    if (parser.isSet(apiKey))
        fake.setRequiredApiKey(parser.value(apiKey));
    if (parser.isSet(models))
        fake.setModels(parser.value(models).split(u',', Qt::SkipEmptyParts));
    bool portOk = false;
    const uint portNumber = parser.value(port).toUInt(&portOk);
    const QHostAddress address(parser.value(listen));
    if (!portOk || portNumber > 65535 || address.isNull()) {
        std::fprintf(stderr, "bad --listen or --port\n");
        return 2;
    }
    if (!fake.listen(address, quint16(portNumber))) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(fake.errorString()));
        return 1;
    }
    std::printf("listening on %u\n", unsigned(fake.port()));
    std::fflush(stdout);
    return app.exec();
}
