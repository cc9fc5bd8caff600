#include "stdiotransport.h"

#include "core/logging.h"

#include <QJsonDocument>

#ifdef Q_OS_LINUX
#include <csignal>
#include <sys/prctl.h>
#endif

using namespace Qt::StringLiterals;

namespace {
constexpr int maxStderrLinesLogged = 200; // a chatty server must not flood the log
}

StdioTransport::StdioTransport(const QString &serverName, const QString &command, const QStringList &args,
                               const QProcessEnvironment &environment, QObject *parent)
    : McpTransport(parent), m_name(serverName), m_command(command), m_args(args), m_environment(environment)
{
    m_escalate.setSingleShot(true);
    connect(&m_escalate, &QTimer::timeout, this, [this] {
        if (!m_process || m_process->state() == QProcess::NotRunning)
            return;
        if (m_escalate.property("terminated").toBool()) {
            qCWarning(lcMcp) << "MCP server" << m_name << "ignored SIGTERM; killing it";
            m_process->kill();
            return;
        }
        m_escalate.setProperty("terminated", true);
        m_process->terminate();
        m_escalate.start(killAfterMs);
    });
}

StdioTransport::~StdioTransport()
{
    // Shutting down with the server: no time for grace (McpClient::close() gives it when there is),
    // and nothing may outlive us; ~QProcess kills what still runs.
    if (m_process)
        m_process->disconnect(this);
}

void StdioTransport::open()
{
    if (m_process)
        m_process->deleteLater();
    m_closing = false;
    m_stdout.clear();
    m_stderr.clear();
    m_escalate.setProperty("terminated", false);
    m_process = new QProcess(this);
    m_process->setProcessEnvironment(m_environment);
    m_process->setProgram(m_command);
    m_process->setArguments(m_args);
#ifdef Q_OS_LINUX
    // A server must not outlive us, even when we are killed (kill -9 leaves no time to stop it).
    m_process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
    connect(m_process, &QProcess::readyReadStandardOutput, this, &StdioTransport::onStdout);
    connect(m_process, &QProcess::readyReadStandardError, this, &StdioTransport::onStderr);
    connect(m_process, &QProcess::started, this, &StdioTransport::opened);
    connect(m_process, &QProcess::finished, this, &StdioTransport::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            Q_EMIT failed(u"Cannot start %1: %2"_s.arg(m_command, m_process->errorString()));
    });
    qCInfo(lcMcp).noquote() << "starting MCP server" << m_name << ":" << m_command << m_args.join(u' ');
    m_process->start();
}

void StdioTransport::send(const QJsonObject &message)
{
    if (!m_process || m_process->state() != QProcess::Running)
        return;
    m_process->write(QJsonDocument(message).toJson(QJsonDocument::Compact) + '\n');
}

void StdioTransport::close()
{
    if (!m_process || m_process->state() == QProcess::NotRunning) {
        Q_EMIT closed();
        return;
    }
    m_closing = true;
    m_process->closeWriteChannel(); // what the MCP spec asks first
    m_escalate.start(terminateAfterMs);
}

void StdioTransport::onStdout()
{
    m_stdout += m_process->readAllStandardOutput();
    qsizetype start = 0;
    qsizetype eol;
    while ((eol = m_stdout.indexOf('\n', start)) >= 0) {
        const QByteArray line = m_stdout.mid(start, eol - start).trimmed();
        start = eol + 1;
        if (line.isEmpty())
            continue;
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
        if (!doc.isObject()) {
            qCWarning(lcMcp).noquote()
                << "MCP server" << m_name
                << "wrote a line that is not a JSON-RPC message:" << QString::fromUtf8(line.left(200));
            continue;
        }
        Q_EMIT message(doc.object());
        if (!m_process)
            return;
    }
    m_stdout.remove(0, start);
    if (m_stdout.size() > maxLineBytes) {
        qCWarning(lcMcp) << "MCP server" << m_name << "wrote a line of over" << maxLineBytes
                         << "bytes; stopping it";
        m_stdout.clear();
        m_process->kill();
    }
}

void StdioTransport::onStderr()
{
    m_stderr += m_process->readAllStandardError();
    qsizetype eol;
    while ((eol = m_stderr.indexOf('\n')) >= 0) {
        const QByteArray line = m_stderr.left(eol).trimmed();
        m_stderr.remove(0, eol + 1);
        if (!line.isEmpty() && ++m_stderrLines <= maxStderrLinesLogged)
            qCInfo(lcMcp).noquote() << m_name + u":"_s << QString::fromUtf8(line.left(500));
    }
    if (m_stderr.size() > 64 * 1024)
        m_stderr.clear();
}

void StdioTransport::onFinished(int exitCode, QProcess::ExitStatus status)
{
    m_escalate.stop();
    if (m_closing) {
        Q_EMIT closed();
        return;
    }
    const QString how = status == QProcess::CrashExit ? u"crashed"_s : u"exited with code %1"_s.arg(exitCode);
    qCWarning(lcMcp).noquote() << "MCP server" << m_name << how;
    Q_EMIT failed(u"The server process %1"_s.arg(how));
}
