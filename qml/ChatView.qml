import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

// The conversation: a header with the agent picker, the messages (following the bottom unless
// the user scrolled up) and the composer.
Rectangle {
    id: view
    color: Theme.base

    signal editAgentRequested(string agentId)
    signal newAgentRequested()
    signal sidebarToggleRequested()
    property bool sidebarShown: true

    function focusInput() { composer.focusInput() }
    // The current agent's provider ("" the default one).
    readonly property string agentProvider: {
        const row = ChatController.agents.count >= 0 ? ChatController.agents.indexOf(ChatController.currentAgentId) : -1
        return row >= 0 ? ChatController.agents.get(row).provider || "" : ""
    }
    readonly property alias messageList: list

    ImageViewer { id: imageViewer }

    // Files dropped anywhere on the conversation go with the next message.
    DropArea {
        id: drop
        objectName: "fileDropArea"
        anchors.fill: parent
        z: 10
        keys: ["text/uri-list"]
        onDropped: (event) => {
            if (!event.hasUrls)
                return
            ChatController.attachFiles(event.urls)
            event.acceptProposedAction()
        }
        Rectangle {
            anchors.fill: parent
            anchors.margins: 8
            visible: drop.containsDrag
            radius: Theme.radius
            color: Qt.rgba(Theme.accent.r, Theme.accent.g, Theme.accent.b, 0.12)
            border.width: 2
            border.color: Theme.accent
            Label {
                anchors.centerIn: parent
                text: qsTr("Drop files to attach them")
                font.pixelSize: Theme.titleFontSize
                color: Theme.accent
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        // Header
        Rectangle {
            Layout.fillWidth: true
            Layout.preferredHeight: 56
            color: Theme.header

            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: 16
                anchors.rightMargin: 12
                spacing: 8

                IconButton {
                    objectName: "sidebarToggle"
                    iconName: "sidebar"
                    tip: view.sidebarShown ? qsTr("Hide the chat list (Ctrl+B)") : qsTr("Show the chat list (Ctrl+B)")
                    onClicked: view.sidebarToggleRequested()
                }

                ComboBox {
                    id: agentPicker
                    objectName: "agentPicker"
                    Layout.maximumWidth: 300
                    implicitContentWidthPolicy: ComboBox.WidestText
                    flat: true
                    font.pixelSize: Theme.titleFontSize
                    font.bold: true
                    model: ChatController.agents
                    textRole: "name"
                    valueRole: "agentId"
                    displayText: ChatController.currentAgentName.length > 0 ? ChatController.currentAgentName
                                                                            : qsTr("No agent")
                    enabled: count > 0
                    Accessible.name: qsTr("Agent")
                    currentIndex: ChatController.agents.count >= 0
                                  ? ChatController.agents.indexOf(ChatController.currentAgentId) : -1
                    onActivated: (index) => ChatController.currentAgentId = valueAt(index)
                    // The style's delegate shows no text for a C++ model's role here: name it.
                    delegate: ItemDelegate {
                        required property int index
                        required property string name
                        width: ListView.view ? ListView.view.width : implicitWidth
                        text: name
                        font.pixelSize: Theme.fontSize
                        font.bold: index === agentPicker.currentIndex
                        highlighted: agentPicker.highlightedIndex === index
                    }
                }

                Label {
                    objectName: "chatTitle"
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                    color: Theme.textMuted
                    font.pixelSize: Theme.fontSize
                    text: ChatController.currentSessionId.length > 0 ? ChatController.currentTitle : ""
                }

                // The chat's model: its agent's, or one chosen for this chat alone.
                Button {
                    id: modelButton
                    objectName: "chatModelButton"
                    flat: true
                    enabled: ChatController.currentAgentId.length > 0
                    Layout.maximumWidth: 240
                    // As wide as the name (the style's background would make it at least 100).
                    implicitWidth: implicitContentWidth + leftPadding + rightPadding
                    font.pixelSize: Theme.smallFontSize
                    contentItem: RowLayout {
                        spacing: 4
                        Label {
                            Layout.maximumWidth: 210 // long names elide; short ones keep the arrow beside them
                            text: ChatController.currentModel.length > 0 ? ChatController.currentModel
                                  : (SettingsController.providers.count >= 0
                                     && SettingsController.providers.modelOf(view.agentProvider)) || qsTr("Provider's model")
                            textFormat: Text.PlainText
                            elide: Text.ElideRight
                            color: ChatController.modelOverridden ? Theme.accent : Theme.textMuted
                            font.pixelSize: Theme.smallFontSize
                        }
                        Label { text: "▾"; color: Theme.textMuted; font.pixelSize: Theme.smallFontSize }
                    }
                    ToolTip.visible: hovered && !modelPopup.opened
                    ToolTip.delay: 500
                    ToolTip.text: ChatController.modelOverridden ? qsTr("This chat's own model: click to change it")
                                                                  : qsTr("The agent's model: click to use another in this chat")
                    onClicked: {
                        chatModelField.text = ChatController.currentModel
                        modelPopup.open()
                        chatModelField.forceActiveFocus()
                        chatModelField.selectAll() // typing replaces it, and searches
                        chatModelField.showList()
                    }

                    Popup {
                        id: modelPopup
                        objectName: "chatModelPopup"
                        y: modelButton.height + 4
                        x: Math.min(0, modelButton.width - width)
                        width: 340
                        padding: 12
                        contentItem: ColumnLayout {
                            spacing: 8
                            Label {
                                text: qsTr("Model for this chat")
                                font.bold: true
                            }
                            ModelPicker {
                                id: chatModelField
                                objectName: "chatModelField"
                                Layout.fillWidth: true
                                models: ChatController.models
                                provider: view.agentProvider
                                onPicked: (model) => {
                                    ChatController.setChatModel(model)
                                    modelPopup.close()
                                }
                                onAccepted: {
                                    ChatController.setChatModel(text)
                                    modelPopup.close()
                                }
                            }
                            Button {
                                visible: ChatController.modelOverridden
                                text: qsTr("Use the agent's model (%1)").arg(ChatController.currentAgentModel || qsTr("the provider's"))
                                flat: true
                                onClicked: {
                                    ChatController.setChatModel("")
                                    modelPopup.close()
                                }
                            }
                        }
                    }
                }

                IconButton {
                    iconName: "edit"
                    tip: qsTr("Edit agent")
                    enabled: ChatController.currentAgentId.length > 0
                    onClicked: view.editAgentRequested(ChatController.currentAgentId)
                }
                IconButton {
                    iconName: "plus"
                    tip: qsTr("New agent")
                    onClicked: view.newAgentRequested()
                }
            }

            Rectangle {
                anchors.bottom: parent.bottom
                width: parent.width
                height: 1
                color: Theme.border
            }
        }

        // Offline banner
        Rectangle {
            objectName: "offlineBanner"
            Layout.fillWidth: true
            Layout.preferredHeight: visible ? bannerText.implicitHeight + 16 : 0
            visible: !ChatController.online
            color: Theme.warningBackground
            Label {
                id: bannerText
                anchors.centerIn: parent
                width: parent.width - 32
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                color: Theme.warning
                font.pixelSize: Theme.smallFontSize + 1
                text: "⚠  " + ChatController.offlineText
            }
        }

        // Messages
        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true

            ListView {
                id: list
                objectName: "messageList"
                anchors.fill: parent
                clip: true
                model: ChatController.messages
                spacing: 2
                topMargin: 16
                bottomMargin: 16
                boundsBehavior: Flickable.StopAtBounds
                reuseItems: false
                activeFocusOnTab: false
                ScrollBar.vertical: ScrollBar { policy: ScrollBar.AsNeeded }

                delegate: MessageBubble {
                    onImageRequested: (source, name) => imageViewer.show(source, name)
                }

                // Follow the bottom unless the user scrolled up.
                property bool followBottom: true
                property bool autoScrolling: false
                // contentY counts from originY, which moves as rows of another height than estimated
                // come into view.
                readonly property bool nearBottom: contentY + height >= originY + contentHeight + bottomMargin - 48

                function scrollToEnd() {
                    autoScrolling = true
                    positionViewAtEnd()
                    autoScrolling = false
                }
                // The user's own scrolling (wheel, drag, flick) takes over at once, however little it
                // moved: a row settling or the stored copy arriving must not pull the view back down.
                property real lastPosition: 0
                onContentYChanged: {
                    const position = contentY - originY
                    if (!autoScrolling) {
                        if (position < lastPosition - 0.5 && moving)
                            followBottom = false
                        else if (nearBottom)
                            followBottom = true
                    }
                    lastPosition = position
                }
                onMovementStarted: followBottom = false
                onMovementEnded: followBottom = nearBottom
                onContentHeightChanged: if (followBottom) Qt.callLater(scrollToEnd)
                onCountChanged: if (followBottom) Qt.callLater(scrollToEnd)
                onHeightChanged: if (followBottom) Qt.callLater(scrollToEnd)

                Connections {
                    target: ChatController
                    function onCurrentSessionChanged() {
                        list.followBottom = true
                        Qt.callLater(list.scrollToEnd)
                    }
                    function onMessageFocusRequested(row) {
                        list.followBottom = false
                        list.positionViewAtIndex(row, ListView.Center)
                        list.currentIndex = row
                    }
                    function onReplyStarted() {
                        list.followBottom = true
                        Qt.callLater(list.scrollToEnd)
                    }
                }
            }

            // Empty state
            Column {
                anchors.centerIn: parent
                spacing: 12
                visible: list.count === 0
                width: Math.min(parent.width - 48, 420)
                Label {
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.Wrap
                    font.pixelSize: 22
                    font.bold: true
                    color: Theme.text
                    text: ChatController.agents.count === 0 ? qsTr("Welcome to AgentDesk")
                                                            : qsTr("What can I help with?")
                }
                Label {
                    width: parent.width
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.Wrap
                    color: Theme.textMuted
                    font.pixelSize: Theme.fontSize
                    text: ChatController.agents.count === 0
                          ? qsTr("Create an agent — a name, a system prompt and a model — to start chatting.")
                          : qsTr("Send a message to start a new chat with %1.").arg(ChatController.currentAgentName)
                }
                Button {
                    anchors.horizontalCenter: parent.horizontalCenter
                    visible: ChatController.agents.count === 0
                    text: qsTr("Create an agent")
                    highlighted: true
                    onClicked: view.newAgentRequested()
                }
            }

            RoundButton {
                anchors.right: parent.right
                anchors.bottom: parent.bottom
                anchors.margins: 16
                visible: !list.followBottom && list.count > 0
                text: "↓"
                font.pixelSize: 16
                Accessible.name: qsTr("Jump to the latest message")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Jump to the latest message")
                onClicked: {
                    list.followBottom = true
                    list.scrollToEnd()
                }
            }
        }

        Composer {
            id: composer
            Layout.fillWidth: true
            Layout.maximumWidth: Theme.maxContentWidth
            Layout.alignment: Qt.AlignHCenter
            Layout.leftMargin: 24
            Layout.rightMargin: 24
            Layout.bottomMargin: 10
        }
    }
}
