// AgentDesk start-up: admin commands, the headless server, or the window with its in-process
// (or a remote) backend.
#include "core/logging.h"
#include "eventloop/epolleventdispatcher.h"
#include "llm/llmclient.h"
#include "server/admincli.h"
#include "server/server.h"

#ifdef AGENTDESK_HAVE_GUI
#include "desktopapp.h"
#include <QGuiApplication>
#endif

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QSocketNotifier>
#include <QStandardPaths>
#include <QTextStream>
#include <QThread>
#include <QUrlQuery>

#include <csignal>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

int signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(signalPipe[1], &byte, 1);
}

// SIGINT/SIGTERM end the event loop normally, so running replies are saved as interrupted.
void quitOnSignals()
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0)
        return;
    auto *notifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, qApp);
    QObject::connect(notifier, &QSocketNotifier::activated, qApp, [] {
        char byte;
        [[maybe_unused]] const auto got = ::read(signalPipe[0], &byte, 1);
        qCInfo(lcApp) << "Signal received, shutting down";
        QCoreApplication::quit();
    });
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
}

// Each stream holds two sockets (client and upstream); the default soft limit of 1024 descriptors
// would cap a server at about 500 streams.
void raiseFileLimit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// The cores this process may run on (taskset, cpusets), which may be fewer than the machine's.
int usableCores()
{
    cpu_set_t set;
    if (::sched_getaffinity(0, sizeof set, &set) == 0)
        return qMax(1, CPU_COUNT(&set));
    return QThread::idealThreadCount();
}

bool hasDisplay()
{
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
           !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

// --database: a SQLite file path, or postgres://user@host:port/dbname. As with libpq URIs, the query
// may name a unix-socket directory and more: postgresql:///db?host=/run/postgresql&user=u&schema=s.
// The password comes from PGPASSWORD, never from the command line.
std::optional<Database::Options> databaseOptions(const QString &spec, QString *error)
{
    Database::Options options;
    if (spec.isEmpty())
        return options;
    const QUrl url(spec);
    if (url.scheme() == "postgres"_L1 || url.scheme() == "postgresql"_L1) {
        const QUrlQuery query(url);
        const auto param = [&](const QString &name, const QString &fallback) {
            const QString value = query.queryItemValue(name, QUrl::FullyDecoded);
            return value.isEmpty() ? fallback : value;
        };
        options.driver = u"QPSQL"_s;
        options.host = param(u"host"_s, url.host().isEmpty() ? u"localhost"_s : url.host());
        options.port = param(u"port"_s, QString::number(url.port(5432))).toInt();
        options.name = url.path().mid(1);
        options.user = param(u"user"_s, url.userName());
        options.schema = query.queryItemValue(u"schema"_s);
        options.password = qEnvironmentVariable("PGPASSWORD");
        if (!url.password().isEmpty()) {
            *error = u"Put the PostgreSQL password in PGPASSWORD, not in --database"_s;
            return std::nullopt;
        }
        if (options.name.isEmpty()) {
            *error = u"--database postgres:// URLs need a database name"_s;
            return std::nullopt;
        }
        return options;
    }
    options.path = url.scheme() == "sqlite"_L1 ? url.path() : spec;
    return options;
}

// Admin commands take --data-dir/--database anywhere on the line; pull those out first.
QString takeOption(QStringList &arguments, const QString &name)
{
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &arg = arguments.at(i);
        if (arg == name && i + 1 < arguments.size()) {
            const QString value = arguments.at(i + 1);
            arguments.remove(i, 2);
            return value;
        }
        if (arg.startsWith(name + u'=')) {
            const QString value = arg.mid(name.size() + 1);
            arguments.remove(i);
            return value;
        }
    }
    return {};
}

QString dataDirOr(const QString &dataDir)
{
    return dataDir.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : dataDir;
}

void setIdentity()
{
    QCoreApplication::setOrganizationName(u"AgentDesk"_s);
    QCoreApplication::setApplicationName(u"agentdesk"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(AGENTDESK_VERSION));
}

// The admin command word, when there is one: the first argument that is neither an option nor
// the value of --data-dir / --database (which may come before it).
bool isAdminCommand(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QString arg = QString::fromLocal8Bit(argv[i]);
        if (arg == "--data-dir"_L1 || arg == "--database"_L1) {
            ++i;
            continue;
        }
        if (arg.startsWith(u'-'))
            return false;
        return AdminCli::handles(arg);
    }
    return false;
}

int runAdmin(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    setIdentity();
    QStringList arguments = app.arguments();
    const QString dataDir = dataDirOr(takeOption(arguments, u"--data-dir"_s));
    QString error;
    auto database = databaseOptions(takeOption(arguments, u"--database"_s), &error);
    QTextStream out(stdout);
    QTextStream err(stderr);
    if (!database) {
        err << error << Qt::endl;
        return 2;
    }
    if (!AdminCli::wantsHelp(arguments))
        QDir().mkpath(dataDir);
    if (database->driver == "QSQLITE"_L1 && database->path.isEmpty())
        database->path = Database::defaultPath(dataDir);
    AdminCli cli(out, err);
    return cli.run(arguments, *database, QDir(dataDir).filePath(u"secrets.json"_s));
}

} // namespace

int main(int argc, char **argv)
{
    if (isAdminCommand(argc, argv))
        return runAdmin(argc, argv);

    bool headless = !hasDisplay();
    for (int i = 1; i < argc; ++i) {
        if (qstrcmp(argv[i], "--headless") == 0)
            headless = true;
    }
#ifndef AGENTDESK_HAVE_GUI
    headless = true;
#endif

    std::unique_ptr<QCoreApplication> app;
#ifdef AGENTDESK_HAVE_GUI
    if (!headless)
        app = std::make_unique<QGuiApplication>(argc, argv);
#endif
    if (!app) {
        // The server's loop on epoll (AGENTDESK_EVENT_LOOP=qt keeps Qt's own, to compare).
        if (qgetenv("AGENTDESK_EVENT_LOOP") != "qt") {
            auto *dispatcher = new EpollEventDispatcher;
            if (dispatcher->isValid())
                QCoreApplication::setEventDispatcher(dispatcher);
            else
                delete dispatcher;
        }
        app = std::make_unique<QCoreApplication>(argc, argv);
    }
    setIdentity();

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"AgentDesk: chat with LLM agents. Opens a window when a display is available; otherwise serves the "
        "HTTP/SSE API. Admin: agentdesk token create|list|revoke, agentdesk provider set|list|remove, "
        "agentdesk mcp add|list|remove."_s);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({u"headless"_s, u"Run the server without a window."_s});
    parser.addOption(
        {u"listen"_s, u"Address to listen on (default 127.0.0.1)."_s, u"address"_s, u"127.0.0.1"_s});
    parser.addOption(
        {u"port"_s, u"Port to listen on (default 8080 headless, a free one for the window)."_s, u"port"_s});
    parser.addOption({u"data-dir"_s, u"Where the database and secrets live."_s, u"dir"_s});
    parser.addOption({u"database"_s,
                      u"SQLite file, or postgres://user@host:port/db (password in PGPASSWORD)."_s, u"url"_s});
    parser.addOption(
        {u"keep-alive"_s, u"Seconds between SSE keep-alive comments (default 15)."_s, u"seconds"_s, u"15"_s});
    parser.addOption({u"resume-grace"_s,
                      u"Seconds a reply runs on after its client disconnected, waiting to be resumed "
                      "(default 30; 0 stops it at once)."_s,
                      u"seconds"_s, u"30"_s});
    parser.addOption({u"cors-origin"_s,
                      u"Let pages from this origin call the API (repeatable; * for any; default none)."_s,
                      u"origin"_s});
    parser.addOption(
        {u"max-upload-mb"_s, u"Largest file a message may carry, in MiB (default 20)."_s, u"MiB"_s, u"20"_s});
    parser.addOption({u"max-document-chars"_s,
                      u"How much of a document's text goes to the model, in characters (default 100000)."_s,
                      u"chars"_s, u"100000"_s});
    parser.addOption({u"api-concurrency"_s,
                      u"Completions one user may run at once on /v1/chat/completions; more get 429 "
                      "(default 16)."_s,
                      u"n"_s, u"16"_s});
    parser.addOption(
        {u"threads"_s,
         u"Event loops serving replies, one thread each (headless; default: the number of cores, "
         "or AGENTDESK_THREADS)."_s,
         u"n"_s});
    parser.addOption({u"server"_s, u"Use the window as a client of a remote AgentDesk server."_s, u"url"_s});
    parser.addOption(
        {u"token"_s, u"Bearer token for --server (else the stored one, or AGENTDESK_TOKEN)."_s, u"token"_s});
    parser.process(*app);

    QString error;
    const auto database = databaseOptions(parser.value(u"database"_s), &error);
    if (!database) {
        qCCritical(lcApp).noquote() << error;
        return 2;
    }
    const QHostAddress address(parser.value(u"listen"_s));
    if (address.isNull()) {
        qCCritical(lcApp).noquote() << "--listen needs an IP address, got" << parser.value(u"listen"_s);
        return 2;
    }
    bool portOk = true;
    const int port = parser.isSet(u"port"_s) ? parser.value(u"port"_s).toInt(&portOk) : (headless ? 8080 : 0);
    if (!portOk || port < 0 || port > 65535) {
        qCCritical(lcApp).noquote() << "--port needs a number from 0 to 65535";
        return 2;
    }

    bool graceOk = false;
    const int grace = parser.value(u"resume-grace"_s).toInt(&graceOk);
    if (!graceOk || grace < 0 || grace > 24 * 3600) {
        qCCritical(lcApp).noquote() << "--resume-grace needs a number of seconds from 0 to 86400";
        return 2;
    }
    for (const QString &origin : parser.values(u"cors-origin"_s)) {
        const QUrl url(origin);
        if (origin != "*"_L1 && (!url.isValid() || url.host().isEmpty() || !url.path().isEmpty() ||
                                 (url.scheme() != "http"_L1 && url.scheme() != "https"_L1))) {
            qCCritical(lcApp).noquote()
                << "--cors-origin needs * or an origin like https://app.example.com, got" << origin;
            return 2;
        }
    }

    bool uploadOk = false;
    const int uploadMb = parser.value(u"max-upload-mb"_s).toInt(&uploadOk);
    bool documentOk = false;
    const int documentChars = parser.value(u"max-document-chars"_s).toInt(&documentOk);
    if (!uploadOk || uploadMb < 1 || uploadMb > 1024 || !documentOk || documentChars < 1000) {
        qCCritical(lcApp).noquote() << "--max-upload-mb needs 1 to 1024, --max-document-chars at least 1000";
        return 2;
    }
    bool concurrencyOk = false;
    const int apiConcurrency = parser.value(u"api-concurrency"_s).toInt(&concurrencyOk);
    if (!concurrencyOk || apiConcurrency < 1 || apiConcurrency > 100000) {
        qCCritical(lcApp).noquote() << "--api-concurrency needs a number from 1 to 100000";
        return 2;
    }

    int threads = qEnvironmentVariableIsSet("AGENTDESK_THREADS") ? Server::defaultThreads() : usableCores();
    if (parser.isSet(u"threads"_s)) {
        bool threadsOk = false;
        threads = parser.value(u"threads"_s).toInt(&threadsOk);
        if (!threadsOk || threads < 1 || threads > 256) {
            qCCritical(lcApp).noquote() << "--threads needs a number from 1 to 256";
            return 2;
        }
    }

    Server::Options options;
    options.threads = headless ? qMax(1, threads) : 1;
    options.maxUploadBytes = qint64(uploadMb) * 1024 * 1024;
    options.maxDocumentChars = documentChars;
    options.maxApiCompletionsPerUser = apiConcurrency;
    options.listenAddress = address;
    options.resumeGraceMs = grace * 1000;
    options.corsOrigins = parser.values(u"cors-origin"_s);
    options.port = quint16(port);
    options.dataDir = dataDirOr(parser.value(u"data-dir"_s));
    options.database = *database;
    options.keepAliveMs = qMax(1, parser.value(u"keep-alive"_s).toInt()) * 1000;
    options.environmentProvider = LlmClient::providerFromEnvironment();

    quitOnSignals();
    raiseFileLimit();
    // Server logs need times; QT_MESSAGE_PATTERN still overrides this.
    qSetMessagePattern(
        u"%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-category}%{category} %{endif}%{type}: %{message}"_s);

#ifdef AGENTDESK_HAVE_GUI
    if (!headless)
        return DesktopApp::run(parser, options);
#endif

    Server server;
    if (!server.start(options)) {
        qCCritical(lcApp).noquote() << server.errorString();
        return 1;
    }
    if (!options.environmentProvider)
        qCInfo(lcApp) << "No provider configured: agents answer with the built-in demo. Set OPENAI_BASE_URL, "
                         "OPENAI_API_KEY and OPENAI_MODEL, or run `agentdesk provider set`.";
    const int code = app->exec();
    server.stop();
    return code;
}
