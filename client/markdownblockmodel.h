#pragma once

#include "markdownrenderer.h"

#include <QAbstractListModel>
#include <QQmlParserStatus>
#include <QtQml/qqmlregistration.h>

// A reply's Markdown as blocks for a view (MarkdownView.qml). While a reply streams, the text only
// grows: it is cut into chunks at blank lines that start a new top-level block (never inside a
// code fence, a list or an indented block), and only the last chunk is parsed again, so a token
// costs the paragraph or code block it lands in, not the whole reply. Blocks that did not change
// keep their delegates; new ones are inserted.
class MarkdownBlockModel : public QAbstractListModel, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_ELEMENT
    Q_PROPERTY(QString markdown READ markdown WRITE setMarkdown NOTIFY markdownChanged)
    Q_PROPERTY(bool dark READ isDark WRITE setDark NOTIFY darkChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

public:
    enum Role {
        KindRole = Qt::UserRole + 1, // "text", "heading", "code", "table", "quote", "math", "rule"
        HtmlRole,
        CodeRole,
        LanguageRole,
        LevelRole,
    };
    Q_ENUM(Role)

    explicit MarkdownBlockModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString markdown() const { return m_text; }
    void setMarkdown(const QString &markdown);
    bool isDark() const { return m_dark; }
    void setDark(bool dark);
    const QList<MarkdownBlock> &blocks() const { return m_blocks; }

    // Made by QML: parsed once both `markdown` and `dark` are set.
    void classBegin() override { m_complete = false; }
    void componentComplete() override;

    // A code block's text (or a formula's TeX) to the clipboard.
    Q_INVOKABLE void copyCode(int row) const;

    // Characters parsed since the model was made: what streaming a reply into it cost.
    qsizetype parsedCharacters() const { return m_parsed; }
    // Where chunks start: at 0, then after a blank line before a line that begins a new top-level
    // block. Only lines already ended by '\n' count, so a chunk start never moves as text grows.
    static QList<qsizetype> chunkStarts(QStringView text, qsizetype from = 0);

Q_SIGNALS:
    void markdownChanged();
    void darkChanged();
    void countChanged();

private:
    struct Chunk
    {
        qsizetype start = 0;
        qsizetype blockCount = 0;
    };
    void rebuild();
    // Parses the text from `from` (a chunk's start) to its end, chunk by chunk, as new chunks.
    QList<MarkdownBlock> parseFrom(qsizetype from);
    void replaceFrom(qsizetype firstBlock, const QList<MarkdownBlock> &blocks);

    QString m_text;
    bool m_dark = false;
    QList<Chunk> m_chunks; // never empty once there is text
    QList<MarkdownBlock> m_blocks;
    qsizetype m_parsed = 0;
    bool m_complete = true;
    bool m_linkDefinitions = false; // "[x]: url" somewhere: parsed whole, not in chunks
};
