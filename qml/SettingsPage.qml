import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

// Settings: OpenAI-compatible providers (presets, test, default), the server connection and
// where secrets are kept.
Popup {
    id: page

    parent: Overlay.overlay
    width: parent ? parent.width : 800
    height: parent ? parent.height : 600
    modal: true
    focus: true
    padding: 0
    closePolicy: Popup.CloseOnEscape

    property string editingName: ""
    property var testResults: ({})

    onOpened: {
        SettingsController.refreshProviders()
        closeButton.forceActiveFocus()
    }

    function usePreset(p) {
        editingName = ""
        nameField.text = p.name
        urlField.text = p.baseUrl
        modelField.text = p.model
        keyField.text = ""
        keyField.placeholderText = p.needsKey ? qsTr("Required by %1").arg(p.name) : qsTr("Not needed for a local server")
        formError.text = ""
        nameField.forceActiveFocus()
    }

    function editProvider(row) {
        const p = SettingsController.providers.get(row)
        editingName = p.name
        nameField.text = p.name
        urlField.text = p.baseUrl
        modelField.text = p.model
        keyField.text = ""
        keyField.placeholderText = p.hasApiKey ? qsTr("Saved — leave empty to keep it") : qsTr("Optional")
        defaultBox.checked = p.isDefault
        formError.text = ""
    }

    Connections {
        target: SettingsController
        function onProviderSaved(name) {
            formError.text = ""
            page.editingName = name
            keyField.text = ""
            keyField.placeholderText = qsTr("Saved — leave empty to keep it")
        }
        function onProviderFailed(name, message) { formError.text = message }
        function onProviderTested(name, ok, message) {
            const r = Object.assign({}, page.testResults)
            r[name] = { ok: ok, message: message }
            page.testResults = r
        }
        function onTokenSaved() { tokenField.text = "" }
    }

    background: Rectangle { color: Theme.base }

    contentItem: ColumnLayout {
        spacing: 0

        Rectangle {
            Layout.fillWidth: true
            Layout.preferredHeight: 56
            color: Theme.header
            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: 24
                anchors.rightMargin: 12
                Label {
                    text: qsTr("Settings")
                    font.pixelSize: 18
                    font.bold: true
                    color: Theme.text
                    Layout.fillWidth: true
                }
                BusyIndicator {
                    running: SettingsController.busy
                    visible: running
                    implicitWidth: 28
                    implicitHeight: 28
                }
                IconButton {
                    id: closeButton
                    glyph: "✕"
                    tip: qsTr("Close (Esc)")
                    onClicked: page.close()
                }
            }
            Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: Theme.border }
        }

        ScrollView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            contentWidth: availableWidth
            clip: true

            ColumnLayout {
                width: Math.min(parent.width - 48, 760)
                x: Math.max(24, (parent.width - width) / 2)
                spacing: 10

                Item { Layout.preferredHeight: 8 }

                Label { text: qsTr("Providers"); font.pixelSize: 16; font.bold: true; color: Theme.text }
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: Theme.textMuted
                    text: qsTr("Any OpenAI-compatible endpoint. Agents use the default provider unless they name another.")
                }

                Repeater {
                    model: SettingsController.providers
                    delegate: Rectangle {
                        id: providerRow
                        required property int index
                        required property string name
                        required property string baseUrl
                        required property string model
                        required property bool isDefault
                        required property bool hasApiKey
                        readonly property var result: page.testResults[name]

                        Layout.fillWidth: true
                        implicitHeight: providerLayout.implicitHeight + 20
                        radius: 10
                        color: Theme.assistantBubble
                        border.width: 1
                        border.color: isDefault ? Theme.accent : Theme.border

                        ColumnLayout {
                            id: providerLayout
                            anchors.fill: parent
                            anchors.margins: 10
                            anchors.leftMargin: 14
                            spacing: 4
                            RowLayout {
                                Layout.fillWidth: true
                                spacing: 8
                                Label { text: providerRow.name; font.bold: true; color: Theme.text }
                                Label {
                                    visible: providerRow.isDefault
                                    text: qsTr("Default")
                                    color: Theme.accentText
                                    font.pixelSize: 11
                                    leftPadding: 6; rightPadding: 6; topPadding: 1; bottomPadding: 1
                                    background: Rectangle { radius: 4; color: Theme.accent }
                                }
                                Label {
                                    Layout.fillWidth: true
                                    text: providerRow.baseUrl + (providerRow.model ? "  ·  " + providerRow.model : "")
                                    color: Theme.textMuted
                                    elide: Text.ElideMiddle
                                }
                                Button { text: qsTr("Test"); flat: true; onClicked: SettingsController.testProvider(providerRow.name) }
                                Button {
                                    text: qsTr("Make default")
                                    flat: true
                                    visible: !providerRow.isDefault
                                    onClicked: SettingsController.setDefaultProvider(providerRow.name)
                                }
                                Button { text: qsTr("Edit"); flat: true; onClicked: page.editProvider(providerRow.index) }
                                Button { text: qsTr("Delete"); flat: true; onClicked: SettingsController.deleteProvider(providerRow.name) }
                            }
                            Label {
                                Layout.fillWidth: true
                                visible: providerRow.result !== undefined
                                wrapMode: Text.Wrap
                                font.pixelSize: Theme.smallFontSize
                                color: providerRow.result && providerRow.result.ok ? Theme.success : Theme.error
                                text: providerRow.result ? (providerRow.result.ok ? "✓ " : "✗ ") + providerRow.result.message : ""
                            }
                        }
                    }
                }

                Label {
                    visible: SettingsController.providers.count === 0
                    text: qsTr("No provider yet: add one below.")
                    color: Theme.textMuted
                }

                // Add or edit
                Rectangle {
                    Layout.fillWidth: true
                    Layout.topMargin: 8
                    implicitHeight: form.implicitHeight + 28
                    radius: 10
                    color: "transparent"
                    border.width: 1
                    border.color: Theme.border

                    ColumnLayout {
                        id: form
                        anchors.fill: parent
                        anchors.margins: 14
                        spacing: 8

                        Label {
                            text: page.editingName.length > 0 ? qsTr("Edit provider “%1”").arg(page.editingName)
                                                              : qsTr("Add a provider")
                            font.bold: true
                            color: Theme.text
                        }
                        Flow {
                            Layout.fillWidth: true
                            spacing: 6
                            Repeater {
                                model: SettingsController.presets
                                delegate: Button {
                                    required property var modelData
                                    text: modelData.name
                                    onClicked: page.usePreset(modelData)
                                }
                            }
                        }
                        GridLayout {
                            Layout.fillWidth: true
                            columns: 2
                            columnSpacing: 12
                            rowSpacing: 6
                            Label { text: qsTr("Name") }
                            TextField { id: nameField; Layout.fillWidth: true; selectByMouse: true; Accessible.name: qsTr("Name") }
                            Label { text: qsTr("Base URL") }
                            TextField {
                                id: urlField
                                Layout.fillWidth: true
                                selectByMouse: true
                                placeholderText: "https://api.example.com/v1"
                                Accessible.name: qsTr("Base URL")
                            }
                            Label { text: qsTr("Model") }
                            TextField { id: modelField; Layout.fillWidth: true; selectByMouse: true; Accessible.name: qsTr("Model") }
                            Label { text: qsTr("API key") }
                            TextField {
                                id: keyField
                                Layout.fillWidth: true
                                echoMode: TextInput.Password
                                selectByMouse: true
                                placeholderText: qsTr("Optional")
                                Accessible.name: qsTr("API key")
                            }
                        }
                        RowLayout {
                            Layout.fillWidth: true
                            CheckBox { id: defaultBox; text: qsTr("Use as the default provider") }
                            Item { Layout.fillWidth: true }
                            Button {
                                text: qsTr("Clear")
                                flat: true
                                onClicked: {
                                    page.editingName = ""
                                    nameField.text = ""; urlField.text = ""; modelField.text = ""; keyField.text = ""
                                    defaultBox.checked = false
                                    formError.text = ""
                                }
                            }
                            Button {
                                text: qsTr("Save provider")
                                highlighted: true
                                enabled: nameField.text.trim().length > 0 && urlField.text.trim().length > 0
                                         && !SettingsController.busy
                                onClicked: SettingsController.saveProvider(nameField.text, urlField.text, modelField.text,
                                                                           keyField.text, defaultBox.checked)
                            }
                        }
                        Label {
                            id: formError
                            Layout.fillWidth: true
                            visible: text.length > 0
                            wrapMode: Text.Wrap
                            color: Theme.error
                        }
                    }
                }

                Label {
                    Layout.topMargin: 18
                    text: qsTr("Secrets")
                    font.pixelSize: 16
                    font.bold: true
                    color: Theme.text
                }
                Label {
                    objectName: "secretsStatus"
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    text: (SettingsController.keychainAvailable ? "🔒 " : "⚠ ") + SettingsController.secretsStatus
                    color: SettingsController.keychainAvailable ? Theme.textMuted : Theme.warning
                    padding: SettingsController.keychainAvailable ? 0 : 8
                    background: Rectangle {
                        visible: !SettingsController.keychainAvailable
                        radius: 6
                        color: Theme.warningBackground
                    }
                }

                Label {
                    Layout.topMargin: 18
                    text: qsTr("Server")
                    font.pixelSize: 16
                    font.bold: true
                    color: Theme.text
                }
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: Theme.textMuted
                    text: SettingsController.remote
                          ? qsTr("Connected to the AgentDesk server at %1.").arg(SettingsController.serverUrl)
                          : qsTr("AgentDesk runs its own service on this computer; start it with --server URL to use a shared server instead.")
                }
                RowLayout {
                    Layout.fillWidth: true
                    visible: SettingsController.remote
                    TextField {
                        id: tokenField
                        Layout.fillWidth: true
                        echoMode: TextInput.Password
                        placeholderText: qsTr("Access token (agentdesk token create)")
                        selectByMouse: true
                        Accessible.name: qsTr("Access token")
                    }
                    Button {
                        text: qsTr("Save token")
                        enabled: tokenField.text.trim().length > 0
                        onClicked: SettingsController.saveServerToken(tokenField.text)
                    }
                }

                Label {
                    Layout.topMargin: 18
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: Theme.textFaint
                    font.pixelSize: Theme.smallFontSize
                    text: qsTr("The theme follows the system's light or dark palette. Shortcuts: Ctrl+N new chat, Esc stop, Ctrl+F search chats, Ctrl+, settings.")
                }
                Item { Layout.preferredHeight: 24 }
            }
        }
    }
}
