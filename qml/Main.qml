import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

ApplicationWindow {
    id: window
    objectName: "mainWindow"

    width: 1180
    height: 760
    minimumWidth: 760
    minimumHeight: 480
    visible: typeof agentdeskShowWindow === "undefined" ? true : agentdeskShowWindow
    title: (ChatController.currentSessionId.length > 0 ? ChatController.currentTitle + " — " : "") + "AgentDesk"
    color: Theme.base
    font.pixelSize: Theme.fontSize
    // The controls take the chosen theme's palette from the first frame: on their own they read
    // the application palette set before the window (ThemeController) only when it changes.
    palette.window: Theme.palette.window
    palette.windowText: Theme.palette.windowText
    palette.base: Theme.palette.base
    palette.alternateBase: Theme.palette.alternateBase
    palette.text: Theme.palette.text
    palette.button: Theme.palette.button
    palette.buttonText: Theme.palette.buttonText
    palette.highlight: Theme.palette.highlight
    palette.highlightedText: Theme.palette.highlightedText
    palette.placeholderText: Theme.palette.placeholderText
    palette.mid: Theme.palette.mid
    palette.midlight: Theme.palette.midlight
    palette.light: Theme.palette.light
    palette.dark: Theme.palette.dark
    palette.shadow: Theme.palette.shadow

    Shortcut {
        sequence: "Ctrl+N"
        context: Qt.ApplicationShortcut
        onActivated: {
            ChatController.newChat()
            chatView.focusInput()
        }
    }
    Shortcut {
        sequence: "Esc"
        enabled: ChatController.streaming
        onActivated: ChatController.stop()
    }
    Shortcut {
        sequence: StandardKey.Find
        onActivated: sessionList.focusSearch()
    }
    Shortcut {
        sequence: "Ctrl+,"
        onActivated: settingsPage.open()
    }
    // The chat list folds away for a wider conversation (Ctrl+B, or the button in the header).
    property bool sidebarShown: true
    Shortcut {
        sequence: "Ctrl+B"
        onActivated: window.sidebarShown = !window.sidebarShown
    }
    Shortcut {
        sequence: StandardKey.Quit
        context: Qt.ApplicationShortcut
        onActivated: Qt.quit()
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        SessionList {
            id: sessionList
            objectName: "sidebar"
            visible: window.sidebarShown
            Layout.preferredWidth: 280
            Layout.fillHeight: true
            onSettingsRequested: settingsPage.open()
        }
        Rectangle {
            visible: window.sidebarShown
            Layout.preferredWidth: 1
            Layout.fillHeight: true
            color: Theme.border
        }
        ChatView {
            id: chatView
            Layout.fillWidth: true
            Layout.fillHeight: true
            onEditAgentRequested: (agentId) => agentDialog.openFor(agentId)
            onNewAgentRequested: agentDialog.openNew()
            sidebarShown: window.sidebarShown
            onSidebarToggleRequested: window.sidebarShown = !window.sidebarShown
        }
    }

    AgentDialog {
        id: agentDialog
        objectName: "agentDialog"
        onClosed: chatView.focusInput()
        onToolsSettingsRequested: {
            agentDialog.close()
            settingsPage.openTools()
        }
    }
    SettingsPage { id: settingsPage }

    // Transient notices (a failed rename, "copied", ...).
    Rectangle {
        id: toast
        property string text: ChatController.notice
        anchors.horizontalCenter: parent.horizontalCenter
        anchors.bottom: parent.bottom
        anchors.bottomMargin: 96
        width: Math.min(toastLabel.implicitWidth + 32, parent.width - 80)
        height: toastLabel.implicitHeight + 18
        radius: height / 2
        color: Theme.text
        opacity: text.length > 0 ? 0.92 : 0
        visible: opacity > 0
        Behavior on opacity { NumberAnimation { duration: 150 } }
        Label {
            id: toastLabel
            anchors.centerIn: parent
            width: Math.min(implicitWidth, window.width - 112)
            wrapMode: Text.Wrap
            text: toast.text
            color: Theme.base
        }
        TapHandler { onTapped: ChatController.clearNotice() }
    }

    Connections {
        target: ChatController
        function onMessageCopied() {
            copiedTip.show(qsTr("Copied"), 1200)
        }
    }
    ToolTip { id: copiedTip; x: (window.width - width) / 2; y: window.height - 140 }

    Component.onCompleted: chatView.focusInput()
}
