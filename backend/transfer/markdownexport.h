#pragma once

#include "storage/entities.h"

#include <QList>
#include <QString>

// A conversation as Markdown for people: its title, the branch it follows turn by turn, tool
// calls as quoted lines, and replies that did not finish marked as such.
class MarkdownExport
{
public:
    static QString render(const Session &session, const QString &agentName, const QList<Message> &branch);
};
