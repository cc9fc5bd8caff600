import QtQuick
import QtQuick.Controls
import QtQuick.Controls.impl
import QtQuick.Layouts
import org.agentdesk

// Files of a message, or of the composer before sending: images as thumbnails (a click shows them
// whole), documents as chips with their kind and size (a click opens them). In the composer each
// has a × and says whether it is still uploading or failed.
Flow {
    id: list

    // A message's [{id, name, isImage, url, info}], or the composer's (ChatController.attachments
    // .items) with a state and error each.
    property var files: []
    property var tray: null // the composer's AttachmentTray: its files can be removed
    property bool inverse: false  // on the user's accent-coloured bubble
    property int thumbSize: 96
    readonly property color textColor: inverse ? Theme.userText : Theme.text
    readonly property color mutedColor: inverse ? Qt.darker(Theme.userText, 1.15) : Theme.textMuted

    signal imageClicked(url source, string name)
    signal documentClicked(string fileId, string name)

    spacing: 8

    Repeater {
        model: list.files
        delegate: Item {
            id: file
            required property int index
            required property var modelData
            readonly property var entry: modelData
            readonly property bool isImage: entry.isImage
            readonly property url source: entry.url
            readonly property string state: entry.state || "ready"

            objectName: isImage ? "attachmentThumb" : "attachmentChip"
            width: isImage ? list.thumbSize : Math.min(chip.implicitWidth, list.width)
            height: isImage ? list.thumbSize : chip.implicitHeight
            Accessible.role: Accessible.Button
            Accessible.name: entry.name

            // Thumbnail
            Rectangle {
                visible: file.isImage
                anchors.fill: parent
                radius: 8
                color: Theme.assistantBubble
                border.width: 1
                border.color: file.state === "failed" ? Theme.error : Theme.border
                clip: true
                Image {
                    id: thumb
                    anchors.fill: parent
                    anchors.margins: 1
                    source: file.isImage ? file.source : ""
                    sourceSize: Qt.size(list.thumbSize * 2, list.thumbSize * 2)
                    fillMode: Image.PreserveAspectCrop
                    asynchronous: true
                    cache: true
                }
                BusyIndicator {
                    anchors.centerIn: parent
                    running: file.state === "uploading" || thumb.status === Image.Loading
                    visible: running
                }
                HoverHandler { id: thumbHover; cursorShape: Qt.PointingHandCursor }
                TapHandler { onTapped: list.imageClicked(file.source, file.entry.name) }
                ToolTip.visible: thumbHover.hovered
                ToolTip.delay: 500
                ToolTip.text: file.entry.name + (file.entry.info ? "\n" + file.entry.info : "")
                                + (file.state === "failed" ? "\n" + file.entry.error : "")
            }

            // Chip
            Rectangle {
                id: chip
                visible: !file.isImage
                implicitWidth: chipRow.implicitWidth + 20
                implicitHeight: chipRow.implicitHeight + 14
                width: parent.width
                radius: 8
                color: list.inverse ? Qt.rgba(1, 1, 1, 0.16) : Theme.base
                border.width: 1
                border.color: file.state === "failed" ? Theme.error : list.inverse ? Qt.rgba(1, 1, 1, 0.35) : Theme.border
                RowLayout {
                    id: chipRow
                    x: 10
                    anchors.verticalCenter: parent.verticalCenter
                    width: parent.width - 20 - (removeButton.visible ? removeButton.width : 0)
                    spacing: 8
                    IconImage {
                        source: "icons/file.svg"
                        sourceSize: Qt.size(20, 20)
                        color: list.mutedColor
                    }
                    ColumnLayout {
                        spacing: 0
                        Layout.fillWidth: true
                        Label {
                            Layout.fillWidth: true
                            Layout.maximumWidth: 260
                            text: file.entry.name
                            textFormat: Text.PlainText
                            elide: Text.ElideMiddle
                            color: list.textColor
                            font.pixelSize: Theme.smallFontSize + 1
                        }
                        Label {
                            Layout.fillWidth: true
                            Layout.maximumWidth: 260
                            text: file.state === "failed" ? file.entry.error
                                  : file.state === "uploading" ? qsTr("Uploading…") : file.entry.info
                            textFormat: Text.PlainText
                            elide: Text.ElideRight
                            color: file.state === "failed" ? Theme.error : list.mutedColor
                            font.pixelSize: Theme.smallFontSize - 1
                        }
                    }
                }
                HoverHandler { cursorShape: list.tray ? Qt.ArrowCursor : Qt.PointingHandCursor }
                TapHandler {
                    enabled: !list.tray
                    onTapped: list.documentClicked(file.entry.id, file.entry.name)
                }
            }

            // The composer's ×
            IconButton {
                id: removeButton
                objectName: "removeAttachment"
                visible: list.tray !== null
                anchors.top: parent.top
                anchors.right: parent.right
                anchors.margins: file.isImage ? 2 : 4
                size: 22
                iconName: "close"
                tip: qsTr("Remove %1").arg(file.entry.name)
                glyphColor: Theme.text
                background: Rectangle {
                    radius: width / 2
                    color: removeButton.hovered ? Theme.border : Theme.base
                    opacity: 0.92
                }
                onClicked: list.tray.remove(file.index)
            }
        }
    }
}
