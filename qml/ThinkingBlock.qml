import QtQuick
import QtQuick.Controls
import QtQuick.Controls.impl
import QtQuick.Layouts
import org.agentdesk

// The model's reasoning, set apart above its answer: open while it is being written, folded once
// the answer begins, opened and closed by a click (the user's choice then holds).
Rectangle {
    id: block

    property string text
    property bool live: false
    property string title: live ? qsTr("Thinking…") : qsTr("Reasoning")
    property bool userSet: false
    property bool userOpen: false
    readonly property bool open: userSet ? userOpen : live

    function toggle() {
        userOpen = !open
        userSet = true
    }

    objectName: "thinkingBlock"
    implicitHeight: column.implicitHeight + 2
    radius: 10
    color: Theme.base
    border.width: 1
    border.color: live ? Theme.accent : Theme.border

    Accessible.role: Accessible.Grouping
    Accessible.name: title

    ColumnLayout {
        id: column
        x: 1
        y: 1
        width: parent.width - 2
        spacing: 0

        Rectangle {
            id: header
            objectName: "thinkingHeader"
            Layout.fillWidth: true
            implicitHeight: headerRow.implicitHeight + 12
            radius: block.radius
            color: headerHover.hovered || header.activeFocus ? Theme.hover : "transparent"
            activeFocusOnTab: true
            Accessible.role: Accessible.Button
            Accessible.name: (block.open ? qsTr("Hide the reasoning") : qsTr("Show the reasoning"))
            Keys.onSpacePressed: block.toggle()
            Keys.onReturnPressed: block.toggle()

            HoverHandler { id: headerHover; cursorShape: Qt.PointingHandCursor }
            TapHandler { onTapped: block.toggle() }

            RowLayout {
                id: headerRow
                anchors.verticalCenter: parent.verticalCenter
                x: 10
                width: parent.width - 20
                spacing: 8

                IconImage {
                    source: "icons/lightbulb.svg"
                    sourceSize: Qt.size(15, 15)
                    color: block.live ? Theme.accent : Theme.textMuted
                    SequentialAnimation on opacity {
                        running: block.live
                        loops: Animation.Infinite
                        alwaysRunToEnd: true
                        NumberAnimation { from: 1; to: 0.35; duration: 700; easing.type: Easing.InOutQuad }
                        NumberAnimation { from: 0.35; to: 1; duration: 700; easing.type: Easing.InOutQuad }
                    }
                }
                Label {
                    objectName: "thinkingTitle"
                    Layout.fillWidth: true
                    text: block.title
                    textFormat: Text.PlainText
                    elide: Text.ElideRight
                    color: block.live ? Theme.text : Theme.textMuted
                    font.pixelSize: Theme.smallFontSize + 1
                }
                IconImage {
                    source: "icons/chevron-down.svg"
                    sourceSize: Qt.size(14, 14)
                    color: Theme.textMuted
                    rotation: block.open ? 180 : 0
                    Behavior on rotation { NumberAnimation { duration: 120 } }
                }
            }
        }

        // The reasoning itself: plain text (what a model thinks is not a document), selectable.
        TextEdit {
            id: body
            objectName: "thinkingText"
            visible: block.open
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            Layout.bottomMargin: 10
            text: block.text
            textFormat: TextEdit.PlainText
            wrapMode: TextEdit.Wrap
            readOnly: true
            selectByMouse: true
            activeFocusOnPress: false
            color: Theme.textMuted
            font.pixelSize: Theme.smallFontSize + 1
            font.italic: true
            selectionColor: Theme.selected
            selectedTextColor: Theme.text
        }
    }
}
