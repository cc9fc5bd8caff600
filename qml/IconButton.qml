import QtQuick
import QtQuick.Controls
import QtQuick.Controls.impl

// A flat round button showing an icon (icons/<name>.svg, in the glyph colour) or a glyph, with a
// tooltip; keyboard focusable.
ToolButton {
    id: control

    property string glyph
    property string iconName
    property string tip
    property color glyphColor: Theme.textMuted
    property int size: 32

    implicitWidth: size
    implicitHeight: size
    focusPolicy: Qt.StrongFocus
    hoverEnabled: true
    Accessible.name: tip
    ToolTip.visible: hovered && tip.length > 0
    ToolTip.delay: 600
    ToolTip.text: tip

    contentItem: Item {
        IconImage {
            visible: control.iconName.length > 0
            anchors.centerIn: parent
            source: visible ? "icons/" + control.iconName + ".svg" : ""
            sourceSize: Qt.size(Math.round(control.size * 0.55), Math.round(control.size * 0.55))
            color: control.enabled ? control.glyphColor : Theme.textFaint
        }
        Text {
            visible: control.iconName.length === 0
            anchors.fill: parent
            text: control.glyph
            font.pixelSize: Math.round(control.size * 0.5)
            color: control.enabled ? control.glyphColor : Theme.textFaint
            horizontalAlignment: Text.AlignHCenter
            verticalAlignment: Text.AlignVCenter
        }
    }
    background: Rectangle {
        radius: width / 2
        color: control.down ? Theme.border : (control.hovered ? Theme.hover : "transparent")
        border.width: control.visualFocus ? 2 : 0
        border.color: Theme.accent
    }
}
