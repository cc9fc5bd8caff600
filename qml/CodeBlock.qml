import QtQuick
import QtQuick.Controls
import org.agentdesk

// A fenced code block of a reply: its language and a Copy button above, the highlighted lines
// below in a monospace font, never wrapped; a long line scrolls sideways (scroll bar, horizontal
// wheel or Shift+wheel) instead of being cut at the bubble's edge.
Rectangle {
    id: block

    property string html
    property string language
    signal copyRequested()

    implicitHeight: header.height + code.height
    radius: 8
    color: Theme.codeBackground
    border.width: 1
    border.color: Theme.border

    Item {
        id: header
        width: parent.width
        height: 30

        Label {
            objectName: "codeLanguage"
            anchors.left: parent.left
            anchors.leftMargin: 12
            anchors.verticalCenter: parent.verticalCenter
            text: block.language.length > 0 ? block.language : qsTr("code")
            textFormat: Text.PlainText // the model wrote it
            font.pixelSize: Theme.smallFontSize
            font.family: Theme.monoFamily
            color: Theme.textMuted
        }
        Label {
            id: copiedLabel
            anchors.right: copyCode.left
            anchors.verticalCenter: parent.verticalCenter
            visible: copiedTimer.running
            text: qsTr("Copied")
            font.pixelSize: Theme.smallFontSize
            color: Theme.textMuted
        }
        IconButton {
            id: copyCode
            objectName: "copyCode"
            anchors.right: parent.right
            anchors.rightMargin: 4
            anchors.verticalCenter: parent.verticalCenter
            size: 26
            iconName: copiedTimer.running ? "check" : "copy"
            tip: qsTr("Copy code")
            onClicked: {
                block.copyRequested()
                copiedTimer.restart()
            }
        }
        Timer {
            id: copiedTimer
            interval: 1500
        }
        Rectangle {
            anchors.bottom: parent.bottom
            width: parent.width
            height: 1
            color: Theme.border
        }
    }

    Flickable {
        id: code
        objectName: "codeScroller"
        y: header.height
        width: parent.width
        height: codeText.implicitHeight + 20 + (hbar.visible ? hbar.height : 0)
        contentWidth: codeText.implicitWidth + 28
        contentHeight: height
        clip: true
        // A drag selects text; the scroll bar and the wheel move sideways.
        interactive: false
        boundsBehavior: Flickable.StopAtBounds
        ScrollBar.horizontal: ScrollBar {
            id: hbar
            policy: code.contentWidth > code.width ? ScrollBar.AlwaysOn : ScrollBar.AlwaysOff
            visible: policy === ScrollBar.AlwaysOn
        }

        TextEdit {
            id: codeText
            objectName: "codeText"
            x: 14
            y: 10
            textFormat: TextEdit.RichText
            text: "<pre style=\"margin:0; font-family:'" + Theme.monoFamily + "',monospace\">" + block.html + "</pre>"
            wrapMode: TextEdit.NoWrap
            readOnly: true
            selectByMouse: true
            activeFocusOnPress: false
            font.family: Theme.monoFamily
            font.pixelSize: 13
            color: Theme.text
            selectionColor: Theme.accent
            selectedTextColor: Theme.accentText
        }
        // Only sideways turns (or Shift+wheel) are taken: an up or down turn scrolls the chat.
        // No buttons: a drag still selects the text below.
        MouseArea {
            width: code.contentWidth
            height: code.height
            acceptedButtons: Qt.NoButton
            onWheel: (wheel) => {
                const delta = wheel.angleDelta.x !== 0 ? wheel.angleDelta.x
                            : (wheel.modifiers & Qt.ShiftModifier) ? wheel.angleDelta.y : 0
                wheel.accepted = delta !== 0 && code.contentWidth > code.width
                if (wheel.accepted)
                    code.contentX = Math.max(0, Math.min(code.contentWidth - code.width, code.contentX - delta / 2))
            }
        }
    }
}
