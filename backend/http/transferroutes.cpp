#include "transferroutes.h"

#include "core/uuidutil.h"
#include "jsonview.h"
#include "requestcontext.h"
#include "router.h"
#include "storage/database.h"
#include "transfer/conversationimport.h"
#include "transfer/markdownexport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrl>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {

const QString importedAgentName = u"Imported"_s;

// A download name: the title's letters and digits (any script), the rest as dashes.
QString fileName(const QString &title, const QString &extension)
{
    QString name;
    for (const QChar c : title.left(60))
        name += c.isLetterOrNumber() ? c : u'-';
    while (name.contains(u"--"_s))
        name.replace(u"--"_s, u"-"_s);
    name = name.section(u'-', 0, -1, QString::SectionSkipEmpty);
    return (name.isEmpty() ? u"conversation"_s : name) + u'.' + extension;
}

} // namespace

TransferRoutes::TransferRoutes(Database &db, QObject *parent)
    : QObject(parent), m_db(db), m_agents(db), m_sessions(db)
{}

void TransferRoutes::registerRoutes(Router &router)
{
    router.add(Router::Method::Get, u"/api/sessions/{}/export"_s,
               [this](RequestContext &c) { exportOne(c); });
    router.add(Router::Method::Get, u"/api/export"_s, [this](RequestContext &c) { exportAll(c); });
    router.add(Router::Method::Post, u"/api/import"_s, [this](RequestContext &c) { importFile(c); });
}

void TransferRoutes::exportOne(RequestContext &context)
{
    const QString id = context.params.value(0).toLower();
    if (!Uuid::isValid(id))
        return context.sendError(400, u"invalid_uuid"_s, u"The session id is not a UUID"_s);
    const auto session = m_sessions.session(context.principal.tenantId, context.principal.userId, id);
    if (!session)
        return context.sendError(404, u"session_not_found"_s, u"No session %1 for this user"_s.arg(id));
    const QString format = context.request.query().queryItemValue(u"format"_s);
    sendExport(context, {*session}, format, session->title);
}

void TransferRoutes::exportAll(RequestContext &context)
{
    const QString format = context.request.query().queryItemValue(u"format"_s);
    sendExport(context, m_sessions.sessions(context.principal.tenantId, context.principal.userId), format,
               u"agentdesk-conversations"_s);
}

void TransferRoutes::sendExport(RequestContext &context, const QList<Session> &sessions,
                                const QString &format, const QString &name)
{
    const bool markdown = format == "markdown"_L1 || format == "md"_L1;
    if (!markdown && !format.isEmpty() && format != "json"_L1)
        return context.sendError(400, u"invalid_format"_s, u"Parameter format must be json or markdown"_s);
    QByteArray body;
    if (markdown) {
        QStringList documents;
        for (const Session &session : sessions) {
            const auto agent = m_agents.get(session.tenantId, session.agentId);
            documents.append(
                MarkdownExport::render(session, agent ? agent->name : QString(),
                                       m_sessions.branch(session.id).value_or(QList<Message>{})));
        }
        body = documents.join(u"\n---\n\n"_s).toUtf8();
    } else {
        QJsonArray list;
        for (const Session &session : sessions) {
            const auto agent = m_agents.get(session.tenantId, session.agentId);
            QJsonArray messages;
            for (const Message &message : m_sessions.messages(session.id))
                messages.append(JsonView::message(message));
            QJsonObject json = JsonView::session(session, false);
            json.remove(u"streaming"_s);
            json.insert(u"active_leaf_id"_s, session.activeLeafId);
            json.insert(u"agent"_s, QJsonObject{{u"id"_s, session.agentId},
                                                {u"name"_s, agent ? agent->name : QString()}});
            json.insert(u"messages"_s, messages);
            list.append(json);
        }
        body = QJsonDocument(
                   QJsonObject{{u"format"_s, u"agentdesk.sessions"_s},
                               {u"version"_s, 1},
                               {u"exported_at"_s, JsonView::timestamp(QDateTime::currentDateTimeUtc())},
                               {u"sessions"_s, list}})
                   .toJson(QJsonDocument::Indented);
    }
    const QString file = fileName(name, markdown ? u"md"_s : u"json"_s);
    // RFC 6266: an ASCII fallback, and the real name in UTF-8.
    const QByteArray disposition = "attachment; filename=\"" +
                                   (markdown ? QByteArray("conversation.md") : "conversation.json") +
                                   "\"; filename*=UTF-8''" + QUrl::toPercentEncoding(file);
    context.sendBytes(markdown ? "text/markdown; charset=utf-8" : "application/json; charset=utf-8", body,
                      {{"Cache-Control", "no-store"}, {"Content-Disposition", disposition}});
}

QString TransferRoutes::agentFor(const QString &tenantId, const QString &fixedAgentId, const QString &agentId,
                                 const QString &agentName)
{
    if (!fixedAgentId.isEmpty())
        return fixedAgentId;
    const QList<Agent> agents = m_agents.list(tenantId);
    for (const Agent &agent : agents)
        if (!agentId.isEmpty() && agent.id == agentId)
            return agent.id;
    for (const QString &name : {agentName, importedAgentName})
        for (const Agent &agent : agents)
            if (!name.isEmpty() && agent.name == name)
                return agent.id;
    Agent imported;
    imported.tenantId = tenantId;
    imported.name = importedAgentName;
    imported.description = u"Conversations imported from other applications"_s;
    return m_agents.create(imported) ? imported.id : QString();
}

void TransferRoutes::importFile(RequestContext &context)
{
    const QString fixedAgent = context.request.query().queryItemValue(u"agent_id"_s).toLower();
    if (!fixedAgent.isEmpty() &&
        (!Uuid::isValid(fixedAgent) || !m_agents.get(context.principal.tenantId, fixedAgent)))
        return context.sendError(404, u"agent_not_found"_s, u"No agent %1 in this tenant"_s.arg(fixedAgent));
    const ConversationImport::Result parsed = ConversationImport::parse(context.request.body());
    if (!parsed.ok())
        return context.sendError(parsed.error.status, parsed.error.code, parsed.error.message);

    const Principal &p = context.principal;
    QJsonArray sessions;
    int imported = 0;
    Transaction tx(m_db);
    if (!tx.isActive())
        return context.sendError(500, u"storage_error"_s, u"The database refused the import"_s);
    for (const ConversationImport::Conversation &conversation : parsed.conversations) {
        QJsonObject entry{{u"source_id"_s, conversation.importKey.section(u':', 1)},
                          {u"title"_s, conversation.session.title}};
        if (m_sessions.wasImported(p.tenantId, p.userId, conversation.importKey,
                                   conversation.sourceSessionId)) {
            entry.insert(u"status"_s, u"skipped"_s);
            sessions.append(entry);
            continue;
        }
        Session session = conversation.session;
        session.tenantId = p.tenantId;
        session.userId = p.userId;
        session.agentId = agentFor(p.tenantId, fixedAgent, conversation.agentId, conversation.agentName);
        const auto stored = session.agentId.isEmpty()
                                ? std::nullopt
                                : m_sessions.importSession(session, conversation.messages,
                                                           conversation.activeLeafId, conversation.importKey);
        if (!stored) // nothing stays of a file that could not be stored whole
            return context.sendError(500, u"storage_error"_s,
                                     u"The database refused the import; nothing was imported"_s);
        entry.insert(u"status"_s, u"imported"_s);
        entry.insert(u"id"_s, stored->id);
        entry.insert(u"agent_id"_s, stored->agentId);
        entry.insert(u"message_count"_s, stored->messageCount);
        sessions.append(entry);
        ++imported;
    }
    if (!tx.commit())
        return context.sendError(500, u"storage_error"_s,
                                 u"The database refused the import; nothing was imported"_s);
    context.sendJson({{u"format"_s, parsed.format},
                      {u"imported"_s, imported},
                      {u"skipped"_s, int(parsed.conversations.size()) - imported},
                      {u"sessions"_s, sessions}});
}
