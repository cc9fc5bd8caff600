#pragma once

#include "types.h"

#include <QAbstractListModel>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

#include <functional>

// The conversation shown: the agent's greeting first, then the messages oldest first. A
// streamed token changes one row (dataChanged on that index with ContentRole), never resets.
// A reply with tools is shown as `segments` (its text and tool cards up to the last call) and
// `tail` (the text after it, where tokens stream in): a token never rebuilds the cards.
class MessageListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Owned by the ChatController")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        RoleRole, // "user", "assistant", "greeting"
        ContentRole,
        StatusRole,
        ErrorRole,
        FinishReasonRole,
        ModelRole,
        PromptTokensRole,
        CompletionTokensRole,
        TokensUsedRole,
        TokensEstimatedRole,
        TokensPerSecondRole,
        CreatedAtRole,
        StatsTextRole, // "42 tok/s · 128 tokens", empty until a reply is done
        CanRetryRole,
        SegmentsRole,      // [{kind: "text", text} | {kind: "tool", callId, title, status, ...}]
        TailRole,          // the text after the last tool call (all of it without tools)
        ThinkingRole,      // the model is asked again after tool results
        VersionRole,       // 1-based position among the turn's versions (0: a local row)
        VersionCountRole,  // how many versions the turn has (1 without regenerate or edit)
        ReasoningRole,     // the reasoning shown above the tail (the last round's, with tools)
        ReasoningLiveRole, // that reasoning is still being written: no answer after it yet
        ThoughtTextRole,   // "Thought for 12 s", "Thinking…", "Reasoning · 340 tokens"
        AttachmentsRole,   // a user message's files: [{name, isImage, url, info, ...}]
    };
    Q_ENUM(Role)

    explicit MessageListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setMessages(const QList<MessageItem> &messages);
    void clear();
    int append(const MessageItem &message);
    void removeRow(int row);
    // Appends streamed text to one row: dataChanged(index, index, {ContentRole}).
    void appendContent(int row, const QString &text);
    // Appends streamed reasoning to one row (its last round's reasoning, with tools).
    void appendReasoning(int row, const QString &text);
    // How long the reply of `row` reasoned before it answered.
    void setThought(int row, qint64 ms);
    void setStatus(int row, const QString &status, const QString &error = {});
    void update(int row, const MessageItem &message); // every role may have changed
    void setParts(int row, const QList<ReplyPart> &parts, bool thinking);
    // Where a file a tool returned is fetched from: `/api/files/{id}` made absolute with a token.
    void setFileUrlResolver(std::function<QUrl(const QString &path)> resolver);
    const MessageItem &at(int row) const { return m_messages.at(row); }
    const QList<MessageItem> &messages() const { return m_messages; }
    int rowOf(const QString &id) const;
    void setRetryRow(int row);
    int retryRow() const { return m_retryRow; }

    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE QString contentAt(int row) const;
    // A tool card opened or closed by the user; untouched ones are open while the call is live.
    Q_INVOKABLE void setToolExpanded(int row, const QString &callId, int step, bool expanded);

    static QString statsText(const MessageItem &m);
    static QString tail(const MessageItem &m);
    // The reasoning after the last tool call (all of it without tools), shown above the tail.
    static QString tailReasoning(const MessageItem &m);
    static QString thoughtText(const MessageItem &m, bool live);
    QVariantList segments(const MessageItem &m) const;
    QVariantList attachments(const MessageItem &m) const;
    // "PDF · 3 pages · 120 KB", "PNG · 1280 × 720"
    static QString attachmentInfo(const AttachmentItem &a);

Q_SIGNALS:
    void countChanged();

private:
    // The first text or reasoning of a reply: no longer "typing", and the dots stop.
    static void startStreaming(MessageItem &m, QList<int> &roles);
    QVariantMap toolSegment(const MessageItem &m, const ToolCallItem &c) const;
    static QString expandedKey(const ToolCallItem &c);

    QList<MessageItem> m_messages;
    int m_retryRow = -1;
    QHash<QString, bool> m_expanded; // by expandedKey()
    std::function<QUrl(const QString &)> m_fileUrl;
};
