#include "messagelistmodel.h"

#include "servertext.h"

#include <QJsonDocument>
#include <QLocale>

using namespace Qt::StringLiterals;

MessageListModel::MessageListModel(QObject *parent) : QAbstractListModel(parent) {}

namespace {
bool replyLive(const MessageItem &m)
{
    return m.status == "typing"_L1 || m.status == "streaming"_L1 || m.status == "reconnecting"_L1;
}

// The reasoning above the tail is still being written: the reply streams and nothing came after it.
bool reasoningLive(const MessageItem &m)
{
    return replyLive(m) && !MessageListModel::tailReasoning(m).isEmpty() &&
           MessageListModel::tail(m).trimmed().isEmpty() && !m.thinking;
}

QString sizeText(qint64 bytes)
{
    const QLocale locale;
    return locale.formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}
} // namespace

int MessageListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_messages.size());
}

QString MessageListModel::statsText(const MessageItem &m)
{
    if (m.role != "assistant"_L1 || m.status == "typing"_L1 || m.status == "streaming"_L1)
        return {};
    QStringList parts;
    const QLocale locale;
    if (m.tokensPerSecond > 0)
        parts << tr("%1 tok/s").arg(locale.toString(m.tokensPerSecond, 'f', 1));
    const int total = m.tokensUsed > 0 ? m.tokensUsed : m.promptTokens + m.completionTokens;
    if (total > 0) {
        QString usage = m.promptTokens + m.completionTokens > 0
                            ? tr("%1 tokens (%2 prompt + %3 reply)")
                                  .arg(locale.toString(total), locale.toString(m.promptTokens),
                                       locale.toString(m.completionTokens))
                            : tr("%1 tokens").arg(locale.toString(total));
        if (m.tokensEstimated)
            usage += u' ' + tr("(estimated)");
        parts << usage;
    }
    if (!m.model.isEmpty())
        parts << m.model;
    return parts.join(u"  ·  "_s);
}

QVariant MessageListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const MessageItem &m = m_messages.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case ContentRole:
        return m.content;
    case IdRole:
        return m.id;
    case RoleRole:
        return m.role;
    case StatusRole:
        return m.status;
    case ErrorRole:
        return ServerText::localized(m.error);
    case FinishReasonRole:
        return m.finishReason;
    case ModelRole:
        return m.model;
    case PromptTokensRole:
        return m.promptTokens;
    case CompletionTokensRole:
        return m.completionTokens;
    case TokensUsedRole:
        return m.tokensUsed;
    case TokensEstimatedRole:
        return m.tokensEstimated;
    case TokensPerSecondRole:
        return m.tokensPerSecond;
    case CreatedAtRole:
        return m.createdAt;
    case StatsTextRole:
        return statsText(m);
    case CanRetryRole:
        return index.row() == m_retryRow;
    case SegmentsRole:
        return segments(m);
    case TailRole:
        return tail(m);
    case ThinkingRole:
        return m.thinking;
    case VersionRole:
        return int(m.siblingIds.indexOf(m.id)) + 1;
    case VersionCountRole:
        return int(qMax(qsizetype(1), m.siblingIds.size()));
    case ReasoningRole:
        return tailReasoning(m);
    case ReasoningLiveRole:
        return reasoningLive(m);
    case ThoughtTextRole:
        return thoughtText(m, reasoningLive(m));
    case AttachmentsRole:
        return attachments(m);
    }
    return {};
}

QHash<int, QByteArray> MessageListModel::roleNames() const
{
    return {{IdRole, "messageId"},
            {RoleRole, "role"},
            {ContentRole, "content"},
            {StatusRole, "status"},
            {ErrorRole, "error"},
            {FinishReasonRole, "finishReason"},
            {ModelRole, "model"},
            {PromptTokensRole, "promptTokens"},
            {CompletionTokensRole, "completionTokens"},
            {TokensUsedRole, "tokensUsed"},
            {TokensEstimatedRole, "tokensEstimated"},
            {TokensPerSecondRole, "tokensPerSecond"},
            {CreatedAtRole, "createdAt"},
            {StatsTextRole, "statsText"},
            {CanRetryRole, "canRetry"},
            {SegmentsRole, "segments"},
            {TailRole, "tail"},
            {ThinkingRole, "thinking"},
            {VersionRole, "version"},
            {VersionCountRole, "versionCount"},
            {ReasoningRole, "reasoning"},
            {ReasoningLiveRole, "reasoningLive"},
            {ThoughtTextRole, "thoughtText"},
            {AttachmentsRole, "attachments"}};
}

void MessageListModel::setMessages(const QList<MessageItem> &messages)
{
    beginResetModel();
    m_messages = messages;
    m_retryRow = -1;
    m_expanded.clear();
    endResetModel();
    Q_EMIT countChanged();
}

void MessageListModel::clear()
{
    setMessages({});
}

int MessageListModel::append(const MessageItem &message)
{
    const int row = int(m_messages.size());
    beginInsertRows({}, row, row);
    m_messages.append(message);
    endInsertRows();
    Q_EMIT countChanged();
    return row;
}

void MessageListModel::removeRow(int row)
{
    if (row < 0 || row >= m_messages.size())
        return;
    beginRemoveRows({}, row, row);
    m_messages.removeAt(row);
    if (m_retryRow == row)
        m_retryRow = -1;
    else if (m_retryRow > row)
        --m_retryRow;
    endRemoveRows();
    Q_EMIT countChanged();
}

void MessageListModel::appendContent(int row, const QString &text)
{
    if (row < 0 || row >= m_messages.size() || text.isEmpty())
        return;
    MessageItem &m = m_messages[row];
    m.content += text;
    QList<int> roles{ContentRole, TailRole};
    if (!m.reasoning.isEmpty())
        roles << ReasoningLiveRole << ThoughtTextRole; // the answer began: the thinking is over
    if (!m.parts.isEmpty())
        ReplyPart::appendText(m.parts, text); // the tail: segments end at the last call
    startStreaming(m, roles);
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, roles);
}

void MessageListModel::startStreaming(MessageItem &m, QList<int> &roles)
{
    if (m.thinking) {
        m.thinking = false;
        roles.append(ThinkingRole);
    }
    if (m.status == "typing"_L1) {
        m.status = u"streaming"_s;
        roles.append(StatusRole);
    }
}

void MessageListModel::appendReasoning(int row, const QString &text)
{
    if (row < 0 || row >= m_messages.size() || text.isEmpty())
        return;
    MessageItem &m = m_messages[row];
    m.reasoning += text;
    QList<int> roles{ReasoningRole, ReasoningLiveRole, ThoughtTextRole};
    if (!m.parts.isEmpty()) {
        ReplyPart::appendReasoning(m.parts, text);
        roles.append(SegmentsRole);
    }
    startStreaming(m, roles);
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, roles);
}

void MessageListModel::setThought(int row, qint64 ms)
{
    if (row < 0 || row >= m_messages.size())
        return;
    m_messages[row].thoughtMs = ms;
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, {ThoughtTextRole});
}

void MessageListModel::setStatus(int row, const QString &status, const QString &error)
{
    if (row < 0 || row >= m_messages.size())
        return;
    MessageItem &m = m_messages[row];
    m.status = status;
    m.error = error;
    QList<int> roles{StatusRole, ErrorRole, StatsTextRole, ReasoningLiveRole, ThoughtTextRole};
    if (!m.parts.isEmpty())
        roles.append(SegmentsRole); // whether a call is still live depends on the reply's state
    if (m.thinking && status != "streaming"_L1 && status != "reconnecting"_L1) {
        m.thinking = false;
        roles.append(ThinkingRole);
    }
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, roles);
}

void MessageListModel::update(int row, const MessageItem &message)
{
    if (row < 0 || row >= m_messages.size())
        return;
    m_messages[row] = message;
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx);
}

void MessageListModel::setParts(int row, const QList<ReplyPart> &parts, bool thinking)
{
    if (row < 0 || row >= m_messages.size())
        return;
    MessageItem &m = m_messages[row];
    m.parts = parts;
    m.thinking = thinking;
    QList<int> roles{SegmentsRole, TailRole, ThinkingRole, ReasoningRole, ReasoningLiveRole, ThoughtTextRole};
    if (m.status == "typing"_L1 && !parts.isEmpty()) {
        m.status = u"streaming"_s;
        roles.append(StatusRole);
    }
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, roles);
}

void MessageListModel::setFileUrlResolver(std::function<QUrl(const QString &)> resolver)
{
    m_fileUrl = std::move(resolver);
}

QString MessageListModel::expandedKey(const ToolCallItem &c)
{
    // Ids only need to be unique within a round; the view forgets these when it shows another chat.
    return QString::number(c.step) + u':' + c.id;
}

void MessageListModel::setToolExpanded(int row, const QString &callId, int step, bool expanded)
{
    if (row < 0 || row >= m_messages.size())
        return;
    ToolCallItem key;
    key.id = callId;
    key.step = step;
    m_expanded.insert(expandedKey(key), expanded);
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, {SegmentsRole});
}

QString MessageListModel::tail(const MessageItem &m)
{
    if (m.parts.isEmpty())
        return m.content;
    QString text;
    for (qsizetype i = m.parts.size() - 1; i >= 0 && !m.parts.at(i).isTool; --i) {
        if (!m.parts.at(i).isReasoning)
            text.prepend(m.parts.at(i).text);
    }
    return text.trimmed().isEmpty() ? QString() : text;
}

QString MessageListModel::tailReasoning(const MessageItem &m)
{
    if (m.parts.isEmpty())
        return m.reasoning;
    QString text;
    for (qsizetype i = m.parts.size() - 1; i >= 0 && !m.parts.at(i).isTool; --i) {
        if (m.parts.at(i).isReasoning)
            text.prepend(m.parts.at(i).text);
    }
    return text;
}

QString MessageListModel::thoughtText(const MessageItem &m, bool live)
{
    if (live)
        return tr("Thinking…");
    const QLocale locale;
    if (m.thoughtMs >= 0)
        return m.thoughtMs < 1000
                   ? tr("Thought for a moment")
                   : tr("Thought for %1 s").arg(locale.toString(qRound64(m.thoughtMs / 1000.0)));
    if (m.reasoningTokens > 0)
        return tr("Reasoning · %1 tokens").arg(locale.toString(m.reasoningTokens));
    return tr("Reasoning");
}

QVariantList MessageListModel::segments(const MessageItem &m) const
{
    qsizetype end = m.parts.size();
    while (end > 0 && !m.parts.at(end - 1).isTool)
        --end;
    QVariantList list;
    for (qsizetype i = 0; i < end; ++i) {
        const ReplyPart &part = m.parts.at(i);
        if (part.isTool)
            list.append(toolSegment(m, part.call));
        else if (part.isReasoning && !part.text.trimmed().isEmpty())
            list.append(QVariantMap{
                {u"kind"_s, u"reasoning"_s}, {u"text"_s, part.text}, {u"title"_s, tr("Reasoning")}});
        else if (!part.text.trimmed().isEmpty())
            list.append(QVariantMap{{u"kind"_s, u"text"_s}, {u"text"_s, part.text}});
    }
    return list;
}

QString MessageListModel::attachmentInfo(const AttachmentItem &a)
{
    const QString kind = a.mediaType == "application/pdf"_L1 ? u"PDF"_s
                         : a.isImage()                       ? a.mediaType.section(u'/', 1).toUpper()
                         : a.mediaType.startsWith("text/"_L1) || a.mediaType.endsWith("json"_L1)
                             ? tr("Text")
                             : a.mediaType;
    QStringList parts{kind};
    if (a.pages > 0)
        parts << tr("%n page(s)", nullptr, a.pages);
    if (a.width > 0)
        parts << u"%1 × %2"_s.arg(a.width).arg(a.height);
    if (a.size > 0)
        parts << sizeText(a.size);
    return parts.join(u" · "_s);
}

QVariantList MessageListModel::attachments(const MessageItem &m) const
{
    QVariantList list;
    for (const AttachmentItem &a : m.attachments) {
        // A file just sent shows from where it was picked until the server's copy is known.
        const QUrl url = !a.localPath.isEmpty() ? QUrl::fromLocalFile(a.localPath)
                         : a.id.isEmpty()       ? QUrl()
                         : m_fileUrl            ? m_fileUrl(u"/api/files/"_s + a.id)
                                                : QUrl(u"/api/files/"_s + a.id);
        list.append(QVariantMap{{u"id"_s, a.id},
                                {u"name"_s, a.name},
                                {u"mediaType"_s, a.mediaType},
                                {u"isImage"_s, a.isImage()},
                                {u"url"_s, url},
                                {u"width"_s, a.width},
                                {u"height"_s, a.height},
                                {u"info"_s, attachmentInfo(a)}});
    }
    return list;
}

static QString durationText(qint64 ms)
{
    const QLocale locale;
    return ms < 1000 ? MessageListModel::tr("%1 ms").arg(ms)
                     : MessageListModel::tr("%1 s").arg(locale.toString(double(ms) / 1000.0, 'f', 1));
}

QVariantMap MessageListModel::toolSegment(const MessageItem &m, const ToolCallItem &c) const
{
    const bool callLive = c.status == "streaming"_L1 || c.status == "awaiting_approval"_L1 ||
                          c.status == "running"_L1 || c.status.isEmpty();
    const bool live = replyLive(m) && callLive && !c.hasResult;
    QString state = c.status;
    QString statusText;
    if (c.hasResult && c.status != "denied"_L1) {
        state = c.isError ? u"error"_s : u"done"_s;
        statusText = c.isError ? tr("Failed after %1").arg(durationText(c.durationMs))
                               : tr("Done in %1").arg(durationText(c.durationMs));
    } else if (c.status == "denied"_L1) {
        statusText = tr("Declined");
    } else if (!live) {
        state = u"unfinished"_s;
        statusText =
            c.status == "cancelled"_L1 || m.status == "cancelled"_L1 ? tr("Stopped") : tr("Did not finish");
    } else if (c.status == "awaiting_approval"_L1) {
        statusText = c.deciding ? tr("Sending your answer…") : tr("Waiting for your approval");
    } else if (c.status == "running"_L1) {
        statusText = tr("Running…");
    } else {
        statusText = tr("Writing the call…");
    }

    // Arguments: indented once complete, as they come while they stream.
    QString arguments = c.arguments;
    if (c.status != "streaming"_L1) {
        const QJsonDocument doc = QJsonDocument::fromJson(c.arguments.toUtf8());
        if (doc.isObject())
            arguments = doc.object().isEmpty()
                            ? u"{}"_s
                            : QString::fromUtf8(doc.toJson(QJsonDocument::Indented)).trimmed();
    }
    QString progressText = c.progressMessage;
    double fraction = -1;
    if (c.progress >= 0) {
        const QLocale locale;
        if (c.total > 0)
            fraction = qBound(0.0, c.progress / c.total, 1.0);
        const QString counts = c.total > 0
                                   ? tr("%1 of %2").arg(locale.toString(c.progress), locale.toString(c.total))
                                   : locale.toString(c.progress);
        progressText = progressText.isEmpty() ? counts : progressText + u"  ·  "_s + counts;
    }
    QVariantList images;
    for (const QJsonValue &v : c.resultParts) {
        const QJsonObject block = v.toObject();
        const QString url = block.value("url"_L1).toString();
        if (block.value("type"_L1).toString() == "image"_L1 && !url.isEmpty())
            images.append(m_fileUrl ? m_fileUrl(url) : QUrl(url));
    }
    // Very long results stay readable (and cheap to lay out); the model got all of it.
    constexpr qsizetype MaxShown = 20000;
    QString result = c.resultText;
    if (result.size() > MaxShown)
        result = result.left(MaxShown) + u"\n… "_s + tr("(%1 more characters)").arg(result.size() - MaxShown);

    return QVariantMap{
        {u"kind"_s, u"tool"_s},
        {u"callId"_s, c.id},
        {u"name"_s, c.name.isEmpty() ? c.function : c.name},
        {u"server"_s, c.server},
        {u"state"_s, state},
        {u"statusText"_s, statusText},
        {u"awaitingApproval"_s, live && c.status == "awaiting_approval"_L1},
        {u"deciding"_s, c.deciding},
        {u"running"_s, live && c.status != "awaiting_approval"_L1},
        {u"arguments"_s, arguments},
        {u"progress"_s, fraction},
        {u"progressText"_s, live ? progressText : QString()},
        {u"hasResult"_s, c.hasResult},
        {u"isError"_s, c.isError},
        {u"result"_s, result},
        {u"images"_s, images},
        {u"decision"_s, c.decision},
        {u"step"_s, c.step},
        {u"expanded"_s, m_expanded.value(expandedKey(c), live)},
    };
}

int MessageListModel::rowOf(const QString &id) const
{
    for (int i = 0; i < m_messages.size(); ++i) {
        if (m_messages.at(i).id == id)
            return i;
    }
    return -1;
}

void MessageListModel::setRetryRow(int row)
{
    if (row == m_retryRow)
        return;
    const int old = m_retryRow;
    m_retryRow = row;
    if (old >= 0 && old < m_messages.size())
        Q_EMIT dataChanged(index(old), index(old), {CanRetryRole});
    if (row >= 0 && row < m_messages.size())
        Q_EMIT dataChanged(index(row), index(row), {CanRetryRole});
}

QVariantMap MessageListModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= m_messages.size())
        return map;
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}

QString MessageListModel::contentAt(int row) const
{
    return row >= 0 && row < m_messages.size() ? m_messages.at(row).content : QString();
}
