#include "markdownexport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace {

constexpr int maxResultInMarkdown = 500;

QString oneLine(QString text, int max)
{
    text = text.simplified();
    if (text.size() > max) {
        int cut = max;
        if (text.at(cut - 1).isHighSurrogate())
            --cut;
        text = text.left(cut) + u'…';
    }
    return text;
}

// Text parts as they are; a call and its result as one quoted line each.
QString replyBody(const Message &reply)
{
    const QJsonArray parts = QJsonDocument::fromJson(reply.parts.toUtf8()).array();
    if (parts.isEmpty())
        return reply.content;
    QStringList blocks;
    for (const QJsonValue &value : parts) {
        const QJsonObject part = value.toObject();
        const QString type = part.value("type"_L1).toString();
        if (type == "text"_L1)
            blocks.append(part.value("text"_L1).toString());
        else if (type == "tool_call"_L1)
            blocks.append(u"> 🔧 `%1` %2"_s.arg(part.value("function"_L1).toString(),
                                               oneLine(part.value("arguments"_L1).toString(), 300)));
        else if (type == "tool_result"_L1)
            blocks.append(u"> %1 %2"_s.arg(part.value("is_error"_L1).toBool() ? u"⚠️"_s : u"→"_s,
                                           oneLine(part.value("text"_L1).toString(), maxResultInMarkdown)));
    }
    return blocks.join(u"\n\n"_s);
}

} // namespace

QString MarkdownExport::render(const Session &session, const QString &agentName, const QList<Message> &branch)
{
    QString out;
    out += u"# "_s + (session.title.isEmpty() ? u"Untitled"_s : session.title.simplified()) + u"\n\n"_s;
    out += u"*%1 · %2 · %3 messages*\n"_s
               .arg(agentName.isEmpty() ? u"(agent deleted)"_s : agentName,
                    session.createdAt.toUTC().toString(u"yyyy-MM-dd HH:mm 'UTC'"_s))
               .arg(branch.size());
    for (const Message &message : branch) {
        const bool user = message.role == "user"_L1;
        out += user ? u"\n## User\n\n"_s : u"\n## Assistant\n\n"_s;
        if (!user && !message.reasoning.trimmed().isEmpty()) // its own </details> would end the fold
            out +=
                u"<details>\n<summary>Reasoning</summary>\n\n"_s +
                message.reasoning.trimmed().replace(u"</details"_s, u"&lt;/details"_s, Qt::CaseInsensitive) +
                u"\n\n</details>\n\n"_s;
        out += user ? message.content : replyBody(message);
        out += u'\n';
        QStringList files;
        for (const QJsonValue &file : QJsonDocument::fromJson(message.attachments.toUtf8()).array()) {
            const QString name = file.toObject().value("name"_L1).toString();
            files.append(name.contains(u'`') ? u"`` "_s + name + u" ``"_s : u'`' + name + u'`');
        }
        if (!files.isEmpty())
            out += u"\n📎 "_s + files.join(u", "_s) + u'\n';
        if (!user && message.status != "complete"_L1)
            out += u"\n*(%1%2)*\n"_s.arg(
                message.finishReason.isEmpty() ? message.status : message.finishReason,
                message.error.isEmpty() ? QString() : u": "_s + oneLine(message.error, 300));
    }
    return out;
}
