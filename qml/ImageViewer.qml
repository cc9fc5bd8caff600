import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

// An image shown whole over the window: fitted to it, never enlarged past its size; a click
// anywhere or Esc closes it.
Popup {
    id: viewer

    property url source
    property string name

    function show(url, title) {
        source = url
        name = title
        open()
    }

    objectName: "imageViewer"
    parent: Overlay.overlay
    x: 0
    y: 0
    width: parent ? parent.width : 800
    height: parent ? parent.height : 600
    modal: true
    focus: true
    padding: 24
    closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutside
    Overlay.modal: Rectangle { color: Qt.rgba(0, 0, 0, 0.72) }
    background: Item {}

    contentItem: ColumnLayout {
        spacing: 10
        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Image {
                id: image
                anchors.centerIn: parent
                width: Math.min(parent.width, implicitWidth)
                height: Math.min(parent.height, implicitHeight)
                source: viewer.source
                fillMode: Image.PreserveAspectFit
                asynchronous: true
                mipmap: true
            }
            BusyIndicator {
                anchors.centerIn: parent
                running: image.status === Image.Loading
            }
            TapHandler { onTapped: viewer.close() }
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            text: image.status === Image.Ready
                  ? "%1  ·  %2 × %3".arg(viewer.name).arg(image.sourceSize.width).arg(image.sourceSize.height)
                  : viewer.name
            textFormat: Text.PlainText
            elide: Text.ElideMiddle
            color: "white"
        }
    }
}
