import QtQuick
import QtQuick.Controls
import org.agentdesk

// A reply's Markdown, a delegate per block (MarkdownBlockModel): paragraphs, lists and headings
// as rich text, code blocks with language, copy and highlighting, tables that scroll sideways,
// quotes with a bar, display math as its TeX. Streamed text only re-renders the block it lands in.
Column {
    id: view

    property alias markdown: blocks.markdown
    property color textColor: Theme.text
    readonly property alias blockCount: blocks.count

    spacing: 10

    MarkdownBlockModel {
        id: blocks
        dark: Theme.dark
    }

    Repeater {
        model: blocks
        delegate: Loader {
            id: block
            required property int index
            required property string kind
            required property string html
            required property string code
            required property string language
            required property int level

            width: view.width
            sourceComponent: kind === "code" ? codeComponent
                           : kind === "table" ? tableComponent
                           : kind === "rule" ? ruleComponent
                           : kind === "quote" ? quoteComponent
                           : textComponent

            Component {
                id: textComponent
                RichBlock {
                    text: block.html
                    topPadding: block.kind === "heading" ? (block.level <= 2 ? 8 : 4) : 0
                    horizontalAlignment: block.kind === "math" ? TextEdit.AlignHCenter : TextEdit.AlignLeft
                }
            }
            Component {
                id: codeComponent
                // Code in a list sits as deep as the list's text.
                Item {
                    implicitHeight: codeBlock.implicitHeight
                    CodeBlock {
                        id: codeBlock
                        x: block.level * 22
                        width: parent.width - x
                        html: block.html
                        language: block.language
                        onCopyRequested: blocks.copyCode(block.index)
                    }
                }
            }
            Component {
                id: quoteComponent
                Item {
                    implicitHeight: quoteText.implicitHeight
                    Rectangle {
                        width: 3
                        height: parent.height
                        radius: 1.5
                        color: Theme.border
                    }
                    RichBlock {
                        id: quoteText
                        x: 14
                        width: parent.width - 14
                        text: block.html
                        color: Theme.textMuted
                    }
                }
            }
            Component {
                id: tableComponent
                Flickable {
                    id: tableScroller
                    objectName: "tableScroller"
                    implicitHeight: table.implicitHeight + (tbar.visible ? tbar.height + 2 : 0)
                    contentWidth: table.width
                    contentHeight: table.implicitHeight
                    clip: true
                    interactive: false
                    ScrollBar.horizontal: ScrollBar {
                        id: tbar
                        policy: tableScroller.contentWidth > tableScroller.width ? ScrollBar.AlwaysOn : ScrollBar.AlwaysOff
                        visible: policy === ScrollBar.AlwaysOn
                    }
                    MouseArea {
                        width: tableScroller.contentWidth
                        height: tableScroller.contentHeight
                        acceptedButtons: Qt.NoButton
                        onWheel: (wheel) => {
                            wheel.accepted = wheel.angleDelta.x !== 0 && tableScroller.contentWidth > tableScroller.width
                            if (wheel.accepted)
                                tableScroller.contentX = Math.max(0, Math.min(tableScroller.contentWidth - tableScroller.width,
                                                                              tableScroller.contentX - wheel.angleDelta.x / 2))
                        }
                    }
                    // As wide as its cells want on one line (a TextEdit's implicit width is its text's
                    // unwrapped width), up to twice the view; wider scrolls.
                    RichBlock {
                        id: table
                        width: Math.max(tableScroller.width, Math.min(implicitWidth + 4, tableScroller.width * 2))
                        text: block.html
                    }
                }
            }
            Component {
                id: ruleComponent
                Item {
                    implicitHeight: 9
                    Rectangle {
                        y: 4
                        width: parent.width
                        height: 1
                        color: Theme.border
                    }
                }
            }
        }
    }

    component RichBlock: TextEdit {
        textFormat: TextEdit.RichText
        wrapMode: TextEdit.Wrap
        readOnly: true
        selectByMouse: true
        activeFocusOnPress: false
        font.pixelSize: Theme.fontSize
        color: view.textColor
        selectionColor: Theme.accent
        selectedTextColor: Theme.accentText
        onLinkActivated: (link) => Qt.openUrlExternally(link)
        Accessible.role: Accessible.StaticText
        Accessible.name: getText(0, length)
        HoverHandler {
            enabled: parent.hoveredLink.length > 0
            cursorShape: Qt.PointingHandCursor
        }
    }
}
