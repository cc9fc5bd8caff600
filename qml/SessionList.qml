import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Controls.impl
import QtQuick.Dialogs
import org.agentdesk

// The sidebar: new chat, search (every message of every chat; titles only while offline), the
// sessions grouped by agent (newest first, pinned ones on top) with pin, rename and delete, and
// at the bottom the connection state and Settings.
Rectangle {
    id: sidebar
    color: Theme.sidebar

    signal settingsRequested()

    function focusSearch() { search.forceActiveFocus(); search.selectAll() }

    // One chat saved as Markdown or JSON, the kind by the filter chosen.
    FileDialog {
        id: exportOne
        property string sessionId
        function ask(id) {
            sessionId = id
            currentFile = TransferController.suggestedFile(id, "markdown")
            open()
        }
        fileMode: FileDialog.SaveFile
        nameFilters: [qsTr("Markdown (*.md)"), qsTr("JSON (*.json)")]
        onAccepted: TransferController.exportChats(sessionId, selectedNameFilter.index === 1 ? "json" : "markdown",
                                                   selectedFile)
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.topMargin: 12
        anchors.bottomMargin: 10
        spacing: 8

        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: 16
            Layout.rightMargin: 10
            Label {
                text: "AgentDesk"
                font.pixelSize: 18
                font.bold: true
                color: Theme.text
                Layout.fillWidth: true
            }
            IconButton {
                objectName: "listOptionsButton"
                iconName: "more"
                tip: qsTr("Which chats to list")
                onClicked: listOptions.popup()
                Menu {
                    id: listOptions
                    width: 300
                    MenuItem {
                        objectName: "showApiCalls"
                        text: qsTr("Show calls through the OpenAI API")
                        checkable: true
                        checked: ChatController.sessions.showApiCalls
                        onToggled: ChatController.sessions.showApiCalls = checked
                    }
                }
            }
            IconButton {
                objectName: "newChatButton"
                iconName: "plus"
                tip: qsTr("New chat (Ctrl+N)")
                glyphColor: Theme.accent
                onClicked: ChatController.newChat()
            }
        }

        TextField {
            id: search
            objectName: "sessionSearch"
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            placeholderText: qsTr("Search chats")
            font.pixelSize: Theme.fontSize
            selectByMouse: true
            leftPadding: 30
            Accessible.name: qsTr("Search all messages")
            onTextChanged: {
                ChatController.sessions.filterText = text
                ChatController.search.search(ChatController.online ? text : "")
            }
            Keys.onEscapePressed: text = ""
            Keys.onDownPressed: {
                const list = results.visible ? results : sessions
                list.forceActiveFocus()
                list.currentIndex = 0
            }
            IconImage {
                source: "icons/search.svg"
                sourceSize: Qt.size(15, 15)
                color: Theme.textFaint
                anchors.left: parent.left
                anchors.leftMargin: 10
                anchors.verticalCenter: parent.verticalCenter
            }
            background: Rectangle {
                radius: 10
                color: Theme.inputBackground
                border.width: search.activeFocus ? 2 : 1
                border.color: search.activeFocus ? Theme.accent : Theme.border
            }
        }

        // While searching (online): the chats whose messages match, best first.
        ListView {
            id: results
            objectName: "searchResults"
            visible: ChatController.search.query.length > 0
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: ChatController.search
            spacing: 2
            activeFocusOnTab: true
            keyNavigationEnabled: true
            currentIndex: -1
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}
            Accessible.name: qsTr("Search results")
            Keys.onReturnPressed: if (currentItem) currentItem.clicked()

            delegate: ItemDelegate {
                id: hit
                objectName: "searchHit"
                required property int index
                required property string sessionId
                required property string messageId
                required property string titleHtml
                required property string snippetHtml
                required property int matches
                width: ListView.view.width
                leftPadding: 18
                rightPadding: 16
                topPadding: 6
                bottomPadding: 6
                focusPolicy: Qt.NoFocus
                onClicked: ChatController.openSearchHit(sessionId, messageId)
                background: Rectangle {
                    anchors.fill: parent
                    anchors.leftMargin: 8
                    anchors.rightMargin: 8
                    radius: 8
                    color: hit.hovered || (results.activeFocus && results.currentIndex === hit.index)
                           ? Theme.hover : "transparent"
                    border.width: results.activeFocus && results.currentIndex === hit.index ? 1 : 0
                    border.color: Theme.accent
                }
                contentItem: ColumnLayout {
                    spacing: 2
                    Label {
                        Layout.fillWidth: true
                        text: hit.titleHtml.length > 0 ? hit.titleHtml : qsTr("New chat")
                        textFormat: Text.StyledText
                        elide: Text.ElideRight
                        font.pixelSize: Theme.fontSize
                        color: Theme.text
                    }
                    Label {
                        Layout.fillWidth: true
                        text: hit.snippetHtml
                        textFormat: Text.StyledText
                        wrapMode: Text.Wrap
                        maximumLineCount: 2
                        elide: Text.ElideRight
                        font.pixelSize: Theme.smallFontSize
                        color: Theme.textMuted
                    }
                    Label {
                        visible: hit.matches > 1
                        text: qsTr("%n matching messages", "", hit.matches)
                        font.pixelSize: 11
                        color: Theme.textFaint
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                width: parent.width - 40
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                visible: results.count === 0 && !ChatController.search.busy
                color: Theme.textFaint
                font.pixelSize: Theme.smallFontSize + 1
                text: ChatController.search.error.length > 0
                      ? qsTr("Search failed: %1").arg(ChatController.search.error)
                      : qsTr("No message matches “%1”.").arg(ChatController.search.query)
            }
        }

        ListView {
            id: sessions
            objectName: "sessionList"
            visible: !results.visible
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: ChatController.sessions
            spacing: 1
            activeFocusOnTab: true
            keyNavigationEnabled: true
            currentIndex: -1
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}
            Accessible.name: qsTr("Chats")

            section.property: "section"
            section.criteria: ViewSection.FullString
            section.delegate: Label {
                required property string section
                width: ListView.view.width
                leftPadding: 18
                topPadding: 12
                bottomPadding: 4
                text: section
                font.pixelSize: Theme.smallFontSize
                font.bold: true
                font.capitalization: Font.AllUppercase
                font.letterSpacing: 0.6
                color: Theme.textFaint
                elide: Text.ElideRight
            }

            Keys.onReturnPressed: if (currentItem) ChatController.openSession(currentItem.sessionId)
            Keys.onDeletePressed: if (currentItem) currentItem.askDelete()
            Keys.onPressed: (event) => {
                if (event.key === Qt.Key_F2 && currentItem) {
                    currentItem.askRename()
                    event.accepted = true
                }
            }

            delegate: ItemDelegate {
                id: row
                required property int index
                required property string sessionId
                required property string title
                required property string updatedLabel
                required property bool streaming
                required property bool pinned
                required property string origin

                function askRename() { renameDialog.openFor(sessionId, title) }
                function askDelete() { deleteDialog.openFor(sessionId, title) }

                width: ListView.view.width
                height: 40
                leftPadding: 18
                rightPadding: 16
                focusPolicy: Qt.NoFocus
                readonly property bool isCurrent: sessionId === ChatController.currentSessionId
                highlighted: isCurrent
                Accessible.name: title
                onClicked: {
                    sessions.currentIndex = index
                    ChatController.openSession(sessionId)
                }

                background: Rectangle {
                    anchors.fill: parent
                    anchors.leftMargin: 8
                    anchors.rightMargin: 8
                    radius: 8
                    color: row.isCurrent ? Theme.selected
                                         : (row.hovered || (sessions.activeFocus && sessions.currentIndex === row.index)
                                            ? Theme.hover : "transparent")
                    border.width: sessions.activeFocus && sessions.currentIndex === row.index ? 1 : 0
                    border.color: Theme.accent
                }

                contentItem: RowLayout {
                    spacing: 6
                    Label {
                        Layout.fillWidth: true
                        text: row.title
                        elide: Text.ElideRight
                        font.pixelSize: Theme.fontSize
                        color: Theme.text
                    }
                    Label {
                        objectName: "apiBadge"
                        visible: row.origin === "api"
                        text: "API"
                        font.pixelSize: 10
                        font.bold: true
                        color: Theme.textFaint
                        leftPadding: 4
                        rightPadding: 4
                        background: Rectangle {
                            radius: 4
                            color: "transparent"
                            border.width: 1
                            border.color: Theme.border
                        }
                        ToolTip.visible: badgeHover.hovered
                        ToolTip.text: qsTr("A call through the OpenAI-compatible API")
                        HoverHandler { id: badgeHover }
                    }
                    Label {
                        visible: !moreButton.visible
                        text: row.streaming ? "●" : row.updatedLabel
                        font.pixelSize: 11
                        color: row.streaming ? Theme.accent : Theme.textFaint
                    }
                    IconButton {
                        id: moreButton
                        size: 26
                        iconName: "more"
                        tip: qsTr("More")
                        visible: row.hovered || menu.visible
                        onClicked: menu.popup()
                        Menu {
                            id: menu
                            MenuItem {
                                text: row.pinned ? qsTr("Unpin") : qsTr("Pin to the top")
                                onTriggered: ChatController.pinSession(row.sessionId, !row.pinned)
                            }
                            MenuItem { text: qsTr("Rename…"); onTriggered: row.askRename() }
                            MenuItem { text: qsTr("Export…"); onTriggered: exportOne.ask(row.sessionId) }
                            MenuItem { text: qsTr("Delete…"); onTriggered: row.askDelete() }
                        }
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                width: parent.width - 40
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                visible: sessions.count === 0
                color: Theme.textFaint
                font.pixelSize: Theme.smallFontSize + 1
                text: ChatController.sessions.filterText.length > 0 ? qsTr("No chat title matches “%1”.")
                                                                      .arg(ChatController.sessions.filterText)
                                                                    : qsTr("Your chats will appear here.")
            }
        }

        Rectangle {
            Layout.fillWidth: true
            Layout.preferredHeight: 1
            color: Theme.border
        }

        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: 16
            Layout.rightMargin: 10
            spacing: 8
            Rectangle {
                objectName: "connectionDot"
                width: 9
                height: 9
                radius: 4.5
                color: ChatController.online ? Theme.success : Theme.error
            }
            Label {
                objectName: "connectionLabel"
                Layout.fillWidth: true
                elide: Text.ElideRight
                font.pixelSize: Theme.smallFontSize
                color: ChatController.online ? Theme.textMuted : Theme.error
                text: ChatController.online
                      ? (ChatController.remote ? qsTr("Connected to %1").arg(ChatController.serverLabel)
                                               : qsTr("Running on this computer"))
                      : qsTr("Offline")
            }
            IconButton {
                objectName: "settingsButton"
                iconName: "settings"
                tip: qsTr("Settings (Ctrl+,)")
                onClicked: sidebar.settingsRequested()
            }
        }
    }

    Dialog {
        id: renameDialog
        property string sessionId
        function openFor(id, title) {
            sessionId = id
            renameField.text = title
            open()
            renameField.forceActiveFocus()
            renameField.selectAll()
        }
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        Overlay.modal: Rectangle { color: Theme.scrim }
        width: 380
        title: qsTr("Rename chat")
        standardButtons: Dialog.Ok | Dialog.Cancel
        onAccepted: ChatController.renameSession(sessionId, renameField.text)
        TextField {
            id: renameField
            width: parent.width
            selectByMouse: true
            Accessible.name: qsTr("Title")
            onAccepted: renameDialog.accept()
        }
    }

    Dialog {
        id: deleteDialog
        property string sessionId
        property string sessionTitle
        function openFor(id, title) {
            sessionId = id
            sessionTitle = title
            open()
        }
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        Overlay.modal: Rectangle { color: Theme.scrim }
        width: 400
        title: qsTr("Delete chat?")
        Label {
            width: parent.width
            wrapMode: Text.Wrap
            text: qsTr("“%1” and all its messages will be deleted. This cannot be undone.").arg(deleteDialog.sessionTitle)
        }
        footer: DialogButtonBox {
            Button {
                text: qsTr("Delete")
                DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole
            }
            Button {
                text: qsTr("Cancel")
                DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
            }
        }
        onAccepted: ChatController.deleteSession(sessionId)
    }
}
