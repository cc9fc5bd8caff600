import QtQuick
import QtQuick.Controls

// A flat round button showing one glyph, with a tooltip; keyboard focusable.
ToolButton {
    id: control

    property string glyph
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

    contentItem: Text {
        text: control.glyph
        font.pixelSize: Math.round(control.size * 0.5)
        color: control.enabled ? control.glyphColor : Theme.textFaint
        horizontalAlignment: Text.AlignHCenter
        verticalAlignment: Text.AlignVCenter
    }
    background: Rectangle {
        radius: width / 2
        color: control.down ? Theme.border : (control.hovered ? Theme.hover : "transparent")
        border.width: control.visualFocus ? 2 : 0
        border.color: Theme.accent
    }
}
