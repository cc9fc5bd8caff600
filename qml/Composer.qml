import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import org.agentdesk

// The message input: Enter sends, Shift+Enter starts a new line; Send turns into Stop while a
// reply streams. Files come by the paperclip, by dropping them on the window or by pasting (an
// image from the clipboard too) and show above the text until sent. When sending is not possible
// the reason is shown under it.
ColumnLayout {
    id: composer
    spacing: 6

    property alias text: area.text

    function focusInput() { area.forceActiveFocus() }

    readonly property bool hasFiles: ChatController.attachments.count > 0

    function submit() {
        if (!ChatController.canSend || (area.text.trim().length === 0 && !composer.hasFiles))
            return
        const text = area.text
        const key = composer.draftKey
        if (ChatController.send(text)) {
            draftTimer.stop()
            ChatController.saveDraft(key, "")
            area.clear()
        }
    }

    // Unsent text survives switching chats and restarting: saved a moment after typing stops.
    property string draftKey: ""
    function showDraft() {
        if (composer.draftKey === ChatController.draftKey)
            return
        if (draftTimer.running) {
            draftTimer.stop()
            ChatController.saveDraft(composer.draftKey, area.text)
        }
        composer.draftKey = ChatController.draftKey
        area.text = ChatController.draft(composer.draftKey)
        area.cursorPosition = area.length
    }
    Component.onCompleted: showDraft()
    Connections {
        target: ChatController
        function onDraftKeyChanged() { composer.showDraft() }
    }
    Timer {
        id: draftTimer
        interval: 400
        onTriggered: ChatController.saveDraft(composer.draftKey, area.text)
    }


    FileDialog {
        id: fileDialog
        title: qsTr("Attach files")
        fileMode: FileDialog.OpenFiles
        nameFilters: [qsTr("Images, PDFs and text (*.png *.jpg *.jpeg *.webp *.gif *.pdf *.txt *.md *.csv *.json *.py *.js *.ts *.c *.cpp *.h *.java *.go *.rs *.html *.css *.xml *.yaml *.yml *.sql *.sh *.log)"),
                      qsTr("All files (*)")]
        onAccepted: ChatController.attachFiles(selectedFiles)
    }

    AttachmentList {
        objectName: "composerAttachments"
        Layout.fillWidth: true
        Layout.leftMargin: 4
        visible: composer.hasFiles
        files: ChatController.attachments.items
        tray: ChatController.attachments
        thumbSize: 64
        onImageClicked: (source, name) => {} // already in view, at full size once sent
    }

    Rectangle {
        Layout.fillWidth: true
        Layout.preferredHeight: Math.max(52, Math.min(scroll.contentHeight, 200) + 18)
        radius: 16
        color: Theme.inputBackground
        border.width: area.activeFocus ? 2 : 1
        border.color: area.activeFocus ? Theme.accent : Theme.border

        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 8
            anchors.rightMargin: 8
            spacing: 6

            IconButton {
                id: attachButton
                objectName: "attachButton"
                Layout.alignment: Qt.AlignBottom
                Layout.bottomMargin: 10
                size: 30
                iconName: "paperclip"
                tip: qsTr("Attach images or documents (or paste, or drop them here)")
                onClicked: fileDialog.open()
            }

            ScrollView {
                id: scroll
                objectName: "messageScroll"
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.topMargin: 4
                Layout.bottomMargin: 4
                clip: true

                TextArea {
                    id: area
                    objectName: "messageInput"
                    onTextChanged: draftTimer.restart()
                    wrapMode: TextArea.Wrap
                    font.pixelSize: Theme.fontSize
                    color: Theme.text
                    placeholderText: ChatController.currentAgentName.length > 0
                                     ? qsTr("Message %1…").arg(ChatController.currentAgentName)
                                     : qsTr("Type a message…")
                    placeholderTextColor: Theme.textFaint
                    background: null
                    selectByMouse: true
                    Accessible.name: qsTr("Message")
                    Accessible.description: qsTr("Enter sends, Shift+Enter starts a new line")
                    KeyNavigation.priority: KeyNavigation.BeforeItem
                    KeyNavigation.tab: actionButton
                    KeyNavigation.backtab: attachButton

                    Keys.onReturnPressed: (event) => composer.handleEnter(event)
                    Keys.onEnterPressed: (event) => composer.handleEnter(event)
                    // An image (or files) on the clipboard is attached; text is pasted as ever.
                    Keys.onPressed: (event) => {
                        if (event.matches(StandardKey.Paste) && ChatController.pasteAttachment())
                            event.accepted = true
                    }
                }
            }

            RoundButton {
                id: actionButton
                objectName: ChatController.streaming ? "stopButton" : "sendButton"
                Layout.alignment: Qt.AlignBottom
                Layout.bottomMargin: 8
                implicitWidth: 36
                implicitHeight: 36
                focusPolicy: Qt.StrongFocus
                enabled: ChatController.streaming
                         || (ChatController.canSend && (area.text.trim().length > 0 || composer.hasFiles))
                Accessible.name: ChatController.streaming ? qsTr("Stop") : qsTr("Send")
                // Shown for a hover, not left behind when the button turns from Stop to Send.
                property bool tipArmed: false
                onHoveredChanged: tipArmed = hovered
                Connections {
                    target: ChatController
                    function onStreamingChanged() { actionButton.tipArmed = false }
                }
                ToolTip.visible: tipArmed
                ToolTip.delay: 600
                ToolTip.text: ChatController.streaming ? qsTr("Stop the reply (Esc)") : qsTr("Send (Enter)")
                onClicked: ChatController.streaming ? ChatController.stop() : composer.submit()

                contentItem: Text {
                    text: ChatController.streaming ? "■" : "↑"
                    font.pixelSize: ChatController.streaming ? 14 : 19
                    font.bold: true
                    color: actionButton.enabled ? Theme.accentText : Theme.textFaint
                    horizontalAlignment: Text.AlignHCenter
                    verticalAlignment: Text.AlignVCenter
                }
                background: Rectangle {
                    radius: width / 2
                    color: !actionButton.enabled ? Theme.border
                           : ChatController.streaming ? Theme.text
                           : (actionButton.down ? Qt.darker(Theme.accent, 1.2) : Theme.accent)
                    border.width: actionButton.visualFocus ? 2 : 0
                    border.color: Theme.text
                }
            }
        }
    }

    function handleEnter(event) {
        if (event.modifiers & Qt.ShiftModifier) {
            event.accepted = false // the TextArea inserts the line break
            return
        }
        event.accepted = true
        composer.submit()
    }

    Label {
        Layout.fillWidth: true
        horizontalAlignment: Text.AlignHCenter
        font.pixelSize: Theme.smallFontSize
        wrapMode: Text.Wrap
        color: !ChatController.online ? Theme.error : Theme.textFaint
        text: !ChatController.canSend && !ChatController.streaming
              ? ChatController.sendBlockedReason
              : qsTr("Enter to send · Shift+Enter for a new line · Esc to stop · Ctrl+N new chat")
    }
}
