import QtQuick

// Three dots pulsing one after the other: the reply has not started yet.
Row {
    id: dots
    spacing: 5
    property color color: Theme.textMuted
    Accessible.name: qsTr("Writing a reply")

    Repeater {
        model: 3
        Rectangle {
            id: dot
            required property int index
            width: 7
            height: 7
            radius: 3.5
            color: dots.color
            opacity: 0.25
            SequentialAnimation on opacity {
                loops: Animation.Infinite
                running: dots.visible
                PauseAnimation { duration: dot.index * 160 }
                NumberAnimation { to: 1; duration: 320; easing.type: Easing.InOutQuad }
                NumberAnimation { to: 0.25; duration: 320; easing.type: Easing.InOutQuad }
                PauseAnimation { duration: (2 - dot.index) * 160 }
            }
        }
    }
}
