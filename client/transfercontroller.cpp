#include "transfercontroller.h"

#include "apiclient.h"
#include "chatcontroller.h"

#include <QFile>
#include <QJSEngine>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 maxImportBytes = 64 * 1024 * 1024; // the server's limit for the route
constexpr int transferTimeoutMs = 120000;
} // namespace

TransferController *TransferController::s_instance = nullptr;

TransferController::TransferController(ApiClient *api, ChatController *chat, QObject *parent)
    : QObject(parent), m_api(api), m_chat(chat)
{
    s_instance = this;
}

TransferController::~TransferController()
{
    if (s_instance == this)
        s_instance = nullptr;
}

TransferController *TransferController::create(QQmlEngine *, QJSEngine *)
{
    Q_ASSERT_X(s_instance, "TransferController::create",
               "DesktopApp creates the controller before loading QML");
    QJSEngine::setObjectOwnership(s_instance, QJSEngine::CppOwnership);
    return s_instance;
}

void TransferController::done(bool ok, const QString &status)
{
    m_busy = false;
    m_status = status;
    Q_EMIT busyChanged();
    Q_EMIT statusChanged();
    Q_EMIT finished(ok);
}

QUrl TransferController::suggestedFile(const QString &sessionId, const QString &format) const
{
    QString base = u"agentdesk-chats"_s;
    if (!sessionId.isEmpty()) {
        if (const SessionItem *s = m_chat->sessions()->find(sessionId); s && !s->title.isEmpty()) {
            base.clear();
            for (const QChar c : s->title.left(60))
                base += c.isLetterOrNumber() ? c : u'-';
        }
    }
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    return QUrl::fromLocalFile(dir + u'/' + base + (format == "json"_L1 ? u".json"_s : u".md"_s));
}

void TransferController::exportChats(const QString &sessionId, const QString &format, const QUrl &file)
{
    if (m_busy || !file.isLocalFile())
        return;
    m_busy = true;
    Q_EMIT busyChanged();
    QUrlQuery query;
    query.addQueryItem(u"format"_s, format == "json"_L1 ? u"json"_s : u"markdown"_s);
    const QString path = sessionId.isEmpty() ? u"/api/export"_s : u"/api/sessions/%1/export"_s.arg(sessionId);
    const QString target = file.toLocalFile();
    m_api->get(path, query, this, [this, target](const ApiResult &r) {
        if (!r.ok())
            return done(false, tr("Could not export: %1").arg(r.message));
        // Whole or not at all: a half-written file never replaces an older one.
        QSaveFile out(target);
        if (!out.open(QIODevice::WriteOnly) || out.write(r.body) != r.body.size() || !out.commit())
            return done(false, tr("Could not write %1: %2").arg(target, out.errorString()));
        done(true, tr("Saved to %1.").arg(target));
    });
}

void TransferController::importFile(const QUrl &file)
{
    if (m_busy || !file.isLocalFile())
        return;
    QFile in(file.toLocalFile());
    if (!in.open(QIODevice::ReadOnly))
        return done(false, tr("Could not read %1: %2").arg(file.toLocalFile(), in.errorString()));
    if (in.size() > maxImportBytes)
        return done(false, tr("The file is over 64 MiB."));
    const QByteArray bytes = in.readAll();
    m_busy = true;
    Q_EMIT busyChanged();
    m_api->postBytes(
        u"/api/import"_s, {}, bytes, this,
        [this](const ApiResult &r) {
            if (!r.ok())
                return done(false, tr("Nothing was imported: %1").arg(r.message));
            const int imported = r.json.value("imported"_L1).toInt();
            const int skipped = r.json.value("skipped"_L1).toInt();
            m_chat->refresh();
            done(true, skipped > 0
                           ? tr("Imported %n chat(s); %1 were there already.", "", imported).arg(skipped)
                           : tr("Imported %n chat(s).", "", imported));
        },
        transferTimeoutMs);
}
