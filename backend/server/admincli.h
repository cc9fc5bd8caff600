#pragma once

#include "storage/database.h"

#include <QStringList>

#include <optional>

class QCommandLineParser;
class QTextStream;

// `agentdesk token ...` and `agentdesk provider ...`: administration straight on the database,
// for teams running the headless server. Prints a new token once; never prints a stored secret.
class AdminCli
{
public:
    AdminCli(QTextStream &out, QTextStream &err) : m_out(out), m_err(err) {}

    static bool handles(const QString &command);
    // --help / -h anywhere: the command prints its help and touches no database.
    static bool wantsHelp(const QStringList &arguments);
    // `arguments` starts with the program name, then the command word ("token", "provider").
    // Returns the process exit code.
    int run(const QStringList &arguments, const Database::Options &database, const QString &secretsPath);

private:
    // Adds --help and parses; the exit code when that already ended the command (an error, help).
    std::optional<int> parse(QCommandLineParser &parser, const QStringList &arguments);
    int token(const QStringList &arguments, Database &db);
    int provider(const QStringList &arguments, Database &db, const QString &secretsPath);
    int mcp(const QStringList &arguments, Database &db, const QString &secretsPath);

    QTextStream &m_out;
    QTextStream &m_err;
};
