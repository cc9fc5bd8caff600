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
    readonly property alias messageList: list

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

                Label {
                    visible: ChatController.currentAgentModel.length > 0
                    text: ChatController.currentAgentModel
                    color: Theme.textFaint
                    font.pixelSize: Theme.smallFontSize
                    elide: Text.ElideRight
                    Layout.maximumWidth: 180
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

                delegate: MessageBubble {}

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
