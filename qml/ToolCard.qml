import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

// One tool call of a reply: a header line (tool, server, state) that opens and closes the card,
// and inside it the arguments, progress while it runs, the result (text, images, errors) and,
// while it waits for approval, Allow / Always / Deny. Open while the call is live, closed once
// it is done unless the user opened it (the model keeps that choice).
Rectangle {
    id: card

    required property var seg // MessageListModel's tool segment
    required property int row // the message's row

    readonly property bool expanded: seg.expanded
    readonly property color stateColor: seg.state === "error" ? Theme.error
                                       : seg.state === "done" ? Theme.success
                                       : seg.state === "denied" || seg.state === "unfinished" ? Theme.textMuted
                                       : Theme.accent

    objectName: "toolCard"
    implicitHeight: column.implicitHeight + 2
    radius: 10
    color: seg.awaitingApproval ? Theme.warningBackground : Theme.base
    border.width: 1
    border.color: seg.awaitingApproval ? Theme.warning : seg.isError ? Theme.error : Theme.border

    Accessible.role: Accessible.Grouping
    Accessible.name: qsTr("Tool %1: %2").arg(seg.name).arg(seg.statusText)

    ColumnLayout {
        id: column
        x: 1
        y: 1
        width: parent.width - 2
        spacing: 0

        // Header: click (or Space/Enter) to open or close.
        Rectangle {
            id: header
            objectName: "toolCardHeader"
            Layout.fillWidth: true
            implicitHeight: headerRow.implicitHeight + 14
            radius: card.radius
            color: headerHover.hovered || header.activeFocus ? Theme.hover : "transparent"
            activeFocusOnTab: true
            Accessible.role: Accessible.Button
            Accessible.name: (card.expanded ? qsTr("Close") : qsTr("Open")) + " " + seg.name
            Keys.onSpacePressed: toggle()
            Keys.onReturnPressed: toggle()

            function toggle() { ChatController.messages.setToolExpanded(card.row, seg.callId, seg.step, !card.expanded) }

            HoverHandler { id: headerHover; cursorShape: Qt.PointingHandCursor }
            TapHandler { onTapped: header.toggle() }

            RowLayout {
                id: headerRow
                anchors.verticalCenter: parent.verticalCenter
                x: 10
                width: parent.width - 20
                spacing: 8

                Label {
                    text: card.expanded ? "▾" : "▸"
                    color: Theme.textMuted
                    font.pixelSize: Theme.smallFontSize
                }
                // Live: a spinner; otherwise a mark of how it ended.
                BusyIndicator {
                    visible: seg.running
                    running: visible
                    Layout.preferredWidth: 16
                    Layout.preferredHeight: 16
                    padding: 0
                }
                Label {
                    visible: !seg.running
                    text: seg.awaitingApproval ? "?" : seg.state === "done" ? "✓"
                          : seg.state === "error" ? "✗" : seg.state === "denied" ? "⊘" : "•"
                    color: seg.awaitingApproval ? Theme.warning : card.stateColor
                    font.bold: true
                }
                Label {
                    text: seg.name
                    font.family: Theme.monoFamily
                    font.pixelSize: Theme.smallFontSize + 1
                    font.bold: true
                    color: Theme.text
                    elide: Text.ElideRight
                    Layout.maximumWidth: card.width * 0.45
                }
                Label {
                    visible: seg.server.length > 0
                    text: seg.server
                    font.pixelSize: Theme.smallFontSize - 1
                    color: Theme.textMuted
                    leftPadding: 6; rightPadding: 6; topPadding: 1; bottomPadding: 1
                    background: Rectangle { radius: 4; color: Theme.assistantBubble; border.width: 1; border.color: Theme.border }
                }
                Label {
                    objectName: "toolStatus"
                    Layout.fillWidth: true
                    horizontalAlignment: Text.AlignRight
                    text: seg.statusText
                    elide: Text.ElideRight
                    font.pixelSize: Theme.smallFontSize
                    color: seg.awaitingApproval ? Theme.warning : seg.isError ? Theme.error : Theme.textMuted
                }
            }
        }

        // Progress of a running tool: a bar when the total is known, its message under it.
        ColumnLayout {
            visible: seg.running && (seg.progress >= 0 || seg.progressText.length > 0)
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            Layout.bottomMargin: 8
            spacing: 2
            ProgressBar {
                objectName: "toolProgress"
                Layout.fillWidth: true
                from: 0
                to: 1
                value: Math.max(0, seg.progress)
                indeterminate: seg.progress < 0
            }
            Label {
                Layout.fillWidth: true
                text: seg.progressText
                elide: Text.ElideRight
                font.pixelSize: Theme.smallFontSize
                color: Theme.textMuted
            }
        }

        ColumnLayout {
            visible: card.expanded
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            Layout.bottomMargin: 10
            spacing: 6

            Label {
                text: qsTr("Arguments")
                font.pixelSize: Theme.smallFontSize
                color: Theme.textFaint
                visible: seg.arguments.length > 0
            }
            TextEdit {
                objectName: "toolArguments"
                Layout.fillWidth: true
                visible: seg.arguments.length > 0
                text: seg.arguments
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.WrapAnywhere
                font.family: Theme.monoFamily
                font.pixelSize: Theme.smallFontSize
                color: Theme.text
                selectionColor: Theme.accent
                selectedTextColor: Theme.accentText
            }

            Label {
                visible: seg.hasResult
                text: seg.isError ? qsTr("Error") : qsTr("Result")
                font.pixelSize: Theme.smallFontSize
                color: seg.isError ? Theme.error : Theme.textFaint
                Layout.topMargin: 4
            }
            TextEdit {
                objectName: "toolResult"
                Layout.fillWidth: true
                visible: seg.hasResult && seg.result.length > 0
                text: seg.result
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.Wrap
                font.family: Theme.monoFamily
                font.pixelSize: Theme.smallFontSize
                color: seg.isError ? Theme.error : Theme.text
                selectionColor: Theme.accent
                selectedTextColor: Theme.accentText
            }
            Flow {
                Layout.fillWidth: true
                visible: seg.images.length > 0
                spacing: 8
                Repeater {
                    // By count: a card's other updates (progress, a toggle) must not reload them.
                    model: seg.images.length
                    delegate: Image {
                        required property int index
                        objectName: "toolImage"
                        source: seg.images[index] || ""
                        fillMode: Image.PreserveAspectFit
                        asynchronous: true
                        // Small images (icons) are shown larger, big ones fit the card.
                        width: Math.min(Math.max(sourceSize.width, 96), card.width - 24, 360)
                        height: sourceSize.width > 0 ? width * sourceSize.height / sourceSize.width : 96
                        smooth: true
                        Accessible.role: Accessible.Graphic
                        Accessible.name: qsTr("Image from %1").arg(seg.name)
                    }
                }
            }
        }

        // Waiting for the user: what runs, and the three answers.
        RowLayout {
            visible: seg.awaitingApproval
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            Layout.bottomMargin: 10
            spacing: 8
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: seg.server.length > 0
                      ? qsTr("Let the agent run %1 from %2?").arg(seg.name).arg(seg.server)
                      : qsTr("Let the agent run %1?").arg(seg.name)
                color: Theme.text
                font.pixelSize: Theme.smallFontSize
            }
            Button {
                objectName: "toolDeny"
                text: qsTr("Deny")
                enabled: !seg.deciding
                onClicked: ChatController.decideToolCall(card.row, seg.callId, "deny")
            }
            Button {
                objectName: "toolAlways"
                text: qsTr("Always allow")
                enabled: !seg.deciding
                ToolTip.visible: hovered
                ToolTip.delay: 600
                ToolTip.text: qsTr("Run %1 for this agent from now on without asking").arg(seg.name)
                onClicked: ChatController.decideToolCall(card.row, seg.callId, "always")
            }
            Button {
                objectName: "toolAllow"
                text: qsTr("Allow")
                highlighted: true
                enabled: !seg.deciding
                onClicked: ChatController.decideToolCall(card.row, seg.callId, "allow")
            }
        }
    }
}
