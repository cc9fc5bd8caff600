import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

// One message of the conversation: the user's on the right in an accent bubble (with its files:
// images as thumbnails, documents as chips), the agent's (and its greeting) on the left rendered
// as Markdown, with a typing indicator before the first token, the model's reasoning in a block
// above the answer (open while it streams, folded once the answer begins), an inline error with
// Retry, and usage once the reply is done. A reply that used tools shows its reasoning, text and
// a card per call in order, the text still streaming after the last one.
Item {
    id: bubble

    required property int index
    required property string messageId
    required property string role
    required property string content
    required property string status
    required property string error
    required property string statsText
    required property bool canRetry
    required property var segments
    required property string tail
    required property bool thinking
    required property int version
    required property int versionCount
    required property var attachments
    required property string reasoning
    required property bool reasoningLive
    required property string thoughtText

    signal imageRequested(url source, string name)

    // Editing a user message in place: its new text is sent as a new version of the turn.
    property bool editing: false
    readonly property bool stored: messageId.length > 0 && !messageId.startsWith("local-")
    readonly property bool settled: stored && status !== "typing" && status !== "streaming"
                                    && status !== "sending" && status !== "reconnecting"
    readonly property bool showActions: (hover.hovered || editButton.activeFocus || regenerateButton.activeFocus
                                         || forkButton.activeFocus || copyButton.activeFocus) && settled
    property real availableWidth: ListView.view ? ListView.view.width : 600
    readonly property bool isUser: role === "user"
    readonly property bool hasSegments: !isUser && segments.length > 0
    readonly property bool waiting: status === "typing" && !hasSegments
    readonly property real columnWidth: Math.min(availableWidth - 48, Theme.maxContentWidth)
    readonly property real maxBubbleWidth: isUser ? columnWidth * 0.8 : columnWidth - 44
    readonly property bool hasFiles: isUser && attachments.length > 0
    // A user bubble is as wide as its words or its files need.
    readonly property real filesWidth: {
        let w = 0
        for (let i = 0; i < attachments.length; ++i)
            w += (attachments[i].isImage ? 96 : 220) + (i > 0 ? 8 : 0)
        return w
    }

    width: availableWidth
    implicitHeight: layout.implicitHeight + 12

    HoverHandler { id: hover }

    Item {
        id: column
        width: bubble.columnWidth
        height: parent.height
        anchors.horizontalCenter: parent.horizontalCenter

        ColumnLayout {
            id: layout
            spacing: 2
            y: 6
            width: parent.width

            RowLayout {
                spacing: 10
                Layout.fillWidth: true
                layoutDirection: bubble.isUser ? Qt.RightToLeft : Qt.LeftToRight

                // The agent's avatar: its initial in a circle.
                Rectangle {
                    visible: !bubble.isUser
                    Layout.alignment: Qt.AlignTop
                    Layout.preferredWidth: 32
                    Layout.preferredHeight: 32
                    radius: 16
                    color: Theme.selected
                    Text {
                        anchors.centerIn: parent
                        text: (ChatController.currentAgentName || "A").charAt(0).toUpperCase()
                        font.pixelSize: 14
                        font.bold: true
                        color: Theme.accent
                    }
                }

                Rectangle {
                    id: body
                    Layout.alignment: Qt.AlignTop
                    visible: !(bubble.status === "error" && !bubble.isUser && bubble.content.length === 0
                               && !bubble.hasSegments)
                    Layout.preferredWidth: bubble.isUser
                        ? (bubble.editing ? bubble.maxBubbleWidth
                                          : Math.min(Math.max(bubble.content.length > 0 ? measure.implicitWidth + 2 : 0,
                                                              bubble.filesWidth), bubble.maxBubbleWidth) + 28)
                        : bubble.maxBubbleWidth
                    Layout.preferredHeight: (bubble.editing ? editor.implicitHeight
                                             : bubble.waiting ? typing.implicitHeight : stack.implicitHeight) + 20
                    radius: Theme.radius
                    color: bubble.isUser ? Theme.userBubble : Theme.assistantBubble
                    border.width: bubble.status === "error" && !bubble.isUser ? 1 : 0
                    border.color: Theme.error
                    opacity: bubble.status === "sending" ? 0.85 : 1

                    // Natural width of a user message, to fit its bubble to it.
                    Text {
                        id: measure
                        visible: false
                        text: bubble.isUser ? bubble.content : ""
                        font.pixelSize: Theme.fontSize
                    }

                    ColumnLayout {
                        id: editor
                        visible: bubble.editing
                        x: 14
                        y: 10
                        width: parent.width - 28
                        spacing: 6
                        TextArea {
                            id: editArea
                            objectName: "editArea"
                            Layout.fillWidth: true
                            wrapMode: TextEdit.Wrap
                            font.pixelSize: Theme.fontSize
                            color: Theme.userText
                            background: null
                            Keys.onEscapePressed: bubble.editing = false
                            Keys.onReturnPressed: (event) => {
                                if (event.modifiers & Qt.ShiftModifier)
                                    event.accepted = false
                                else
                                    saveEdit.clicked()
                            }
                        }
                        RowLayout {
                            Layout.alignment: Qt.AlignRight
                            Button {
                                text: qsTr("Cancel")
                                flat: true
                                onClicked: bubble.editing = false
                            }
                            Button {
                                id: saveEdit
                                objectName: "saveEdit"
                                text: qsTr("Send")
                                enabled: editArea.text.trim().length > 0 && ChatController.canSend
                                onClicked: {
                                    bubble.editing = false
                                    ChatController.editMessage(bubble.index, editArea.text)
                                }
                            }
                        }
                    }

                    TypingIndicator {
                        id: typing
                        visible: bubble.waiting && !bubble.editing
                        x: 16
                        anchors.verticalCenter: parent.verticalCenter
                        height: 14
                    }

                    Column {
                        id: stack
                        visible: !bubble.waiting && !bubble.editing
                        x: 14
                        y: 10
                        width: parent.width - 28
                        spacing: 8

                    // Text and tool cards up to the last call. By count, so that a card's
                    // updates (arguments, progress, a click) change it in place.
                    Repeater {
                        model: bubble.hasSegments ? bubble.segments.length : 0
                        delegate: Loader {
                            id: segment
                            required property int index
                            readonly property var seg: bubble.segments[index] || ({})
                            width: stack.width
                            sourceComponent: seg.kind === "tool" ? cardComponent
                                             : seg.kind === "reasoning" ? reasoningComponent : textComponent

                            Component {
                                id: cardComponent
                                ToolCard { seg: segment.seg; row: bubble.index }
                            }
                            Component {
                                id: reasoningComponent
                                ThinkingBlock { text: segment.seg.text || ""; title: segment.seg.title || "" }
                            }
                            Component {
                                id: textComponent
                                MarkdownView { markdown: segment.seg.text || "" }
                            }
                        }
                    }

                    // The user's files, above the words.
                    AttachmentList {
                        objectName: "messageAttachments"
                        visible: bubble.hasFiles
                        width: stack.width
                        files: bubble.attachments
                        inverse: true
                        onImageClicked: (source, name) => bubble.imageRequested(source, name)
                        onDocumentClicked: (fileId, name) => ChatController.openAttachment(fileId, name)
                    }

                    // The reasoning of the answer below it (with tools: of the last round).
                    ThinkingBlock {
                        visible: !bubble.isUser && bubble.reasoning.length > 0
                        width: stack.width
                        text: bubble.reasoning
                        live: bubble.reasoningLive
                        title: bubble.thoughtText
                    }

                    TextEdit {
                        id: textItem
                        visible: bubble.isUser && (bubble.content.length > 0 || !bubble.hasFiles)
                        width: stack.width
                        text: bubble.isUser ? bubble.content : ""
                        textFormat: TextEdit.PlainText
                        wrapMode: TextEdit.Wrap
                        readOnly: true
                        selectByMouse: true
                        persistentSelection: false
                        activeFocusOnPress: false
                        font.pixelSize: Theme.fontSize
                        color: Theme.userText
                        selectionColor: Qt.darker(Theme.accent, 1.4)
                        selectedTextColor: Theme.accentText
                        Accessible.role: Accessible.StaticText
                        Accessible.name: bubble.content
                    }

                    MarkdownView {
                        id: replyView
                        objectName: "replyView"
                        visible: !bubble.isUser && (!bubble.hasSegments || markdown.length > 0)
                        width: stack.width
                        markdown: bubble.isUser ? "" : bubble.tail
                    }

                    // After tool results, while the model is asked again.
                    TypingIndicator {
                        visible: bubble.thinking
                        height: 14
                        leftPadding: 2
                    }
                    }
                }

                // The user's own message: copy and edit sit beside the bubble.
                IconButton {
                    visible: bubble.isUser && !bubble.editing
                    Layout.alignment: Qt.AlignVCenter
                    size: 26
                    iconName: "copy"
                    tip: qsTr("Copy message")
                    opacity: hover.hovered || activeFocus ? 1 : 0
                    Behavior on opacity { NumberAnimation { duration: 120 } }
                    onClicked: ChatController.copyMessage(bubble.index)
                }
                IconButton {
                    id: editButton
                    objectName: "editButton"
                    visible: bubble.isUser && !bubble.editing
                    Layout.alignment: Qt.AlignVCenter
                    size: 26
                    iconName: "edit"
                    tip: qsTr("Edit and send again")
                    opacity: bubble.showActions && ChatController.canSend ? 1 : 0
                    enabled: opacity > 0
                    Behavior on opacity { NumberAnimation { duration: 120 } }
                    onClicked: {
                        editArea.text = bubble.content
                        bubble.editing = true
                        editArea.forceActiveFocus()
                        editArea.cursorPosition = editArea.length
                    }
                }

                Item { Layout.fillWidth: true }
            }

            // Under the bubble: state, usage, actions.
            RowLayout {
                Layout.fillWidth: true
                Layout.leftMargin: bubble.isUser ? 0 : 42
                spacing: 8
                layoutDirection: bubble.isUser ? Qt.RightToLeft : Qt.LeftToRight
                visible: bubble.role === "assistant" || footerText.text.length > 0 || bubble.versionCount > 1
                Layout.preferredHeight: Math.max(22, footerText.implicitHeight)

                Label {
                    id: footerText
                    textFormat: Text.PlainText // an upstream's error may be an HTML page
                    Layout.maximumWidth: bubble.maxBubbleWidth - 120
                    elide: Text.ElideRight
                    // An error may take three lines; usage and a long model name stay on one.
                    wrapMode: bubble.status === "error" || bubble.status === "reconnecting" ? Text.Wrap : Text.NoWrap
                    maximumLineCount: 3
                    font.pixelSize: Theme.smallFontSize
                    color: bubble.status === "error" || bubble.status === "failed" ? Theme.error : Theme.textFaint
                    text: {
                        switch (bubble.status) {
                        case "error": return bubble.error.length > 0 ? bubble.error : qsTr("The reply failed.")
                        case "failed": return qsTr("Not sent")
                        case "cancelled": return qsTr("Stopped") + (bubble.statsText ? "  ·  " + bubble.statsText : "")
                        case "interrupted": return qsTr("Interrupted")
                        case "reconnecting": return bubble.error.length > 0 ? bubble.error : qsTr("Connection lost — reconnecting…")
                        case "sending": return ""
                        default: return bubble.statsText
                        }
                    }
                }

                Button {
                    id: retryButton
                    visible: bubble.canRetry && ChatController.canRetry
                    text: qsTr("Retry")
                    flat: true
                    font.pixelSize: Theme.smallFontSize
                    implicitHeight: 24
                    onClicked: ChatController.retry()
                }

                // ‹ 2/3 ›: the versions of this turn; the conversation follows the one chosen.
                RowLayout {
                    objectName: "versions"
                    visible: bubble.versionCount > 1 && bubble.version > 0
                    spacing: 0
                    IconButton {
                        objectName: "previousVersion"
                        size: 22
                        iconName: "chevron-left"
                        tip: qsTr("Previous version")
                        enabled: bubble.version > 1 && !ChatController.streaming
                        onClicked: ChatController.showVersion(bubble.index, -1)
                    }
                    Label {
                        objectName: "versionLabel"
                        text: bubble.version + "/" + bubble.versionCount
                        font.pixelSize: Theme.smallFontSize
                        color: Theme.textMuted
                    }
                    IconButton {
                        objectName: "nextVersion"
                        size: 22
                        iconName: "chevron-right"
                        tip: qsTr("Next version")
                        enabled: bubble.version < bubble.versionCount && !ChatController.streaming
                        onClicked: ChatController.showVersion(bubble.index, 1)
                    }
                }

                IconButton {
                    id: regenerateButton
                    objectName: "regenerateButton"
                    visible: !bubble.isUser && bubble.role === "assistant"
                    size: 24
                    iconName: "regenerate"
                    tip: qsTr("Regenerate")
                    opacity: bubble.showActions && ChatController.canSend ? 1 : 0
                    enabled: opacity > 0
                    Behavior on opacity { NumberAnimation { duration: 120 } }
                    onClicked: ChatController.regenerate(bubble.index)
                }

                IconButton {
                    id: forkButton
                    objectName: "forkButton"
                    visible: !bubble.isUser && bubble.role === "assistant"
                    size: 24
                    iconName: "fork"
                    tip: qsTr("Continue in a new chat from here")
                    opacity: bubble.showActions ? 1 : 0
                    enabled: opacity > 0
                    Behavior on opacity { NumberAnimation { duration: 120 } }
                    onClicked: ChatController.forkAt(bubble.index)
                }

                IconButton {
                    id: copyButton
                    visible: !bubble.isUser
                    size: 24
                    iconName: "copy"
                    tip: qsTr("Copy message")
                    opacity: (hover.hovered || activeFocus) && bubble.content.length > 0
                             && !bubble.waiting ? 1 : 0
                    enabled: opacity > 0
                    Behavior on opacity { NumberAnimation { duration: 120 } }
                    onClicked: ChatController.copyMessage(bubble.index)
                }

                Item { Layout.fillWidth: true }
            }
        }
    }
}
