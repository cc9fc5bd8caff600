#pragma once

#include "mcptransport.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTimer>

// An MCP server run as a child process: newline-delimited JSON-RPC on its stdin and stdout, its
// stderr to the log. close() closes stdin, then sends SIGTERM after a grace, then SIGKILL; never
// a blocking wait.
class StdioTransport : public McpTransport
{
    Q_OBJECT
public:
    StdioTransport(const QString &serverName, const QString &command, const QStringList &args,
                   const QProcessEnvironment &environment, QObject *parent = nullptr);
    ~StdioTransport() override;

    void open() override;
    void send(const QJsonObject &message) override;
    void close() override;
    QProcess *process() const { return m_process; }

    static constexpr int terminateAfterMs = 2000; // after stdin closed
    static constexpr int killAfterMs = 2000;      // after SIGTERM
    static constexpr qsizetype maxLineBytes = 16 * 1024 * 1024;

private:
    void onStdout();
    void onStderr();
    void onFinished(int exitCode, QProcess::ExitStatus status);

    QString m_name;
    QString m_command;
    QStringList m_args;
    QProcessEnvironment m_environment;
    QProcess *m_process = nullptr;
    QByteArray m_stdout;
    QByteArray m_stderr;
    QTimer m_escalate;
    bool m_closing = false;
    int m_stderrLines = 0;
};
