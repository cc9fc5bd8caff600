import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import org.agentdesk

// Settings: providers (OpenAI-compatible, Anthropic, Ollama: presets, test, default), tools (MCP servers: add by
// command or URL, status, tools, remove), the server connection, where secrets are kept, and
// export / import of chats.
Popup {
    id: page
    objectName: "settingsPage"

    parent: Overlay.overlay
    width: parent ? parent.width : 800
    height: parent ? parent.height : 600
    modal: true
    focus: true
    padding: 0
    closePolicy: Popup.CloseOnEscape

    property string editingName: ""
    property var testResults: ({})
    property string editingServer: ""
    property string connectingServer: ""
    property string serverFormText: ""
    property bool serverFormError: false

    onOpened: {
        SettingsController.refreshProviders()
        SettingsController.refreshMcpServers()
        closeButton.forceActiveFocus()
    }

    // The servers' state while the Tools tab is shown: a server that died and came back, or
    // one still connecting, shows as it is now.
    Timer {
        interval: 3000
        repeat: true
        running: page.opened && tabs.currentIndex === 1
        onTriggered: SettingsController.refreshMcpServers()
    }

    function openTools() {
        tabs.currentIndex = 1
        open()
    }

    function clearServerForm() {
        editingServer = ""
        serverNameField.text = ""
        serverTargetField.text = ""
        serverSecretsArea.text = ""
        timeoutBox.value = 120
        byCommand.checked = true
        serverFormText = ""
        serverFormError = false
    }

    function dropMaskedSecrets() {
        if (serverSecretsArea.text.indexOf("***") >= 0)
            serverSecretsArea.text = ""
    }

    function editServer(row) {
        const s = SettingsController.mcpServers.get(row)
        editingServer = s.name
        serverNameField.text = s.name
        byUrl.checked = s.transport === "http"
        byCommand.checked = !byUrl.checked
        serverTargetField.text = s.target
        serverSecretsArea.text = SettingsController.maskedSecrets(s.name)
        timeoutBox.value = s.timeoutSeconds > 0 ? s.timeoutSeconds : 120
        serverFormText = ""
        serverFormError = false
    }

    readonly property var kinds: ["openai", "anthropic", "ollama"]
    readonly property var visions: ["auto", "yes", "no"]

    function usePreset(p) {
        editingName = ""
        nameField.text = p.name
        kindBox.currentIndex = Math.max(0, kinds.indexOf(p.kind))
        visionBox.currentIndex = 0
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
        kindBox.currentIndex = Math.max(0, kinds.indexOf(p.kind))
        visionBox.currentIndex = Math.max(0, visions.indexOf(p.vision))
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
            // Done: the form is empty again, ready for another provider.
            page.editingName = ""
            nameField.text = ""; urlField.text = ""; modelField.text = ""; keyField.text = ""
            kindBox.currentIndex = 0; visionBox.currentIndex = 0
            keyField.placeholderText = qsTr("Optional")
            defaultBox.checked = false
            formError.text = ""
            formSaved.text = qsTr("Saved “%1”.").arg(name)
        }
        function onProviderFailed(name, message) { formError.text = message }
        function onProviderTested(name, ok, message) {
            const r = Object.assign({}, page.testResults)
            r[name] = { ok: ok, message: message }
            page.testResults = r
        }
        function onTokenSaved() { tokenField.text = "" }
        function onMcpServerSaved(name, status, error) {
            page.connectingServer = ""
            if (status === "connected") {
                page.clearServerForm() // ready for the next one
            } else {
                page.editingServer = name
                serverSecretsArea.text = SettingsController.maskedSecrets(name)
            }
            page.serverFormError = status !== "connected" && status !== "connecting"
            page.serverFormText = status === "connected" ? qsTr("“%1” is connected.").arg(name)
                                : status === "connecting" ? qsTr("“%1” is saved and still connecting.").arg(name)
                                : qsTr("“%1” was saved but did not connect: %2").arg(name).arg(error)
        }
        function onMcpServerFailed(name, message) {
            page.connectingServer = ""
            page.serverFormError = true
            page.serverFormText = message
        }
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
                    iconName: "close"
                    tip: qsTr("Close (Esc)")
                    onClicked: page.close()
                }
            }
            Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: Theme.border }
        }

        TabBar {
            id: tabs
            objectName: "settingsTabs"
            Layout.fillWidth: true
            TabButton { text: qsTr("Providers") }
            TabButton { objectName: "toolsTab"; text: qsTr("Tools") }
            TabButton { text: qsTr("General") }
        }

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: tabs.currentIndex

            ScrollView {
                objectName: "providersPage"
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
                        text: qsTr("Any OpenAI-compatible endpoint, Anthropic's API or an Ollama server. Agents use the default provider unless they name another.")
                    }

                    Repeater {
                        model: SettingsController.providers
                        delegate: Rectangle {
                            id: providerRow
                            required property int index
                            required property string name
                            required property string baseUrl
                            required property string model
                            required property string kind
                            required property bool isDefault
                            required property bool hasApiKey
                            required property bool readOnly
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
                                        visible: providerRow.readOnly
                                        text: qsTr("From the server's OPENAI_* variables")
                                        color: Theme.textFaint
                                        font.pixelSize: 11
                                    }
                                    Item { Layout.fillWidth: true }
                                    Button { text: qsTr("Test"); flat: true; onClicked: SettingsController.testProvider(providerRow.name) }
                                    Button {
                                        text: qsTr("Make default")
                                        flat: true
                                        visible: !providerRow.isDefault && !providerRow.readOnly
                                        onClicked: SettingsController.setDefaultProvider(providerRow.name)
                                    }
                                    Button {
                                        objectName: "editProvider_" + providerRow.name
                                        text: qsTr("Edit"); flat: true; visible: !providerRow.readOnly
                                        onClicked: page.editProvider(providerRow.index)
                                    }
                                    Button {
                                        text: qsTr("Delete"); flat: true; visible: !providerRow.readOnly
                                        onClicked: SettingsController.deleteProvider(providerRow.name)
                                    }
                                }
                                // Where it goes and with which model, in full (wrapped, not cut).
                                Label {
                                    objectName: "providerTarget"
                                    Layout.fillWidth: true
                                    text: (providerRow.kind === "anthropic" ? "Anthropic  ·  " : providerRow.kind === "ollama" ? "Ollama  ·  " : "")
                                          + providerRow.baseUrl + (providerRow.model ? "  ·  " + providerRow.model : "")
                                    color: Theme.textMuted
                                    font.pixelSize: Theme.smallFontSize
                                    wrapMode: Text.WrapAnywhere
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
                                TextField {
                                    id: nameField
                                    objectName: "providerName"
                                    Layout.fillWidth: true
                                    selectByMouse: true
                                    // A provider is renamed by adding a new one: editing keeps its name.
                                    readOnly: page.editingName.length > 0
                                    Accessible.name: qsTr("Name")
                                    onTextChanged: formSaved.text = ""
                                }
                                Item { visible: nameProblem.visible }
                                Label {
                                    id: nameProblem
                                    objectName: "providerNameProblem"
                                    Layout.fillWidth: true
                                    visible: nameField.text.length > 0 && text.length > 0
                                    text: SettingsController.providerNameProblem(nameField.text)
                                    color: Theme.error
                                    font.pixelSize: Theme.smallFontSize
                                    wrapMode: Text.Wrap
                                }
                                Label { text: qsTr("Protocol") }
                                ComboBox {
                                    id: kindBox
                                    objectName: "providerKind"
                                    Layout.fillWidth: true
                                    model: [qsTr("OpenAI-compatible (/chat/completions)"), qsTr("Anthropic (Messages API)"),
                                            qsTr("Ollama (native /api/chat)")]
                                    Accessible.name: qsTr("Protocol")
                                }
                                Label { text: qsTr("Base URL") }
                                TextField {
                                    id: urlField
                                    objectName: "providerUrl"
                                    Layout.fillWidth: true
                                    selectByMouse: true
                                    placeholderText: kindBox.currentIndex === 1 ? "https://api.anthropic.com"
                                                     : kindBox.currentIndex === 2 ? "http://localhost:11434"
                                                     : "https://api.example.com/v1"
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
                                Label { text: qsTr("Images") }
                                ComboBox {
                                    id: visionBox
                                    objectName: "providerVision"
                                    Layout.fillWidth: true
                                    model: [qsTr("Known per model (asked of Ollama)"), qsTr("Its models take images"),
                                            qsTr("Its models cannot take images")]
                                    Accessible.name: qsTr("Whether the models take images")
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
                                        kindBox.currentIndex = 0; visionBox.currentIndex = 0
                                        defaultBox.checked = false
                                        formError.text = ""
                                    }
                                }
                                Button {
                                    text: qsTr("Save provider")
                                    highlighted: true
                                    objectName: "saveProvider"
                                    enabled: nameProblem.text.length === 0 && urlField.text.trim().length > 0
                                             && !SettingsController.busy
                                    onClicked: SettingsController.saveProvider(nameField.text, urlField.text, modelField.text,
                                                                               keyField.text, defaultBox.checked,
                                                                               page.kinds[kindBox.currentIndex],
                                                                               page.visions[visionBox.currentIndex])
                                }
                            }
                            Label {
                                id: formError
                                Layout.fillWidth: true
                                visible: text.length > 0
                                wrapMode: Text.Wrap
                                color: Theme.error
                            }
                            Label {
                                id: formSaved
                                objectName: "providerSaved"
                                Layout.fillWidth: true
                                visible: text.length > 0 && formError.text.length === 0
                                wrapMode: Text.Wrap
                                color: Theme.success
                            }
                        }
                    }

                    Item { Layout.preferredHeight: 24 }
                }
            }

            ScrollView {
                objectName: "toolsPage"
                contentWidth: availableWidth
                clip: true

                ColumnLayout {
                    width: Math.min(parent.width - 48, 760)
                    x: Math.max(24, (parent.width - width) / 2)
                    spacing: 10

                    Item { Layout.preferredHeight: 8 }

                    RowLayout {
                        Layout.fillWidth: true
                        Label { text: qsTr("Tools (MCP servers)"); font.pixelSize: 16; font.bold: true; color: Theme.text; Layout.fillWidth: true }
                        Button { text: qsTr("Refresh"); flat: true; onClicked: SettingsController.refreshMcpServers() }
                    }
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: Theme.textMuted
                        text: qsTr("Agents act through the tools of MCP servers. Add a server by the command that starts it or by its URL, then choose its tools in an agent's settings.")
                    }

                    Repeater {
                        model: SettingsController.mcpServers
                        delegate: Rectangle {
                            id: serverRow
                            required property int index
                            required property string name
                            required property string transport
                            required property string shownTarget
                            required property string status
                            required property string error
                            required property string protocolVersion
                            required property var tools
                            required property int toolCount
                            property bool showTools: false

                            objectName: "mcpServer_" + name
                            Layout.fillWidth: true
                            implicitHeight: serverLayout.implicitHeight + 20
                            radius: 10
                            color: Theme.assistantBubble
                            border.width: 1
                            border.color: status === "error" ? Theme.error : Theme.border

                            ColumnLayout {
                                id: serverLayout
                                anchors.fill: parent
                                anchors.margins: 10
                                anchors.leftMargin: 14
                                spacing: 4
                                RowLayout {
                                    Layout.fillWidth: true
                                    spacing: 8
                                    Rectangle {
                                        width: 9; height: 9; radius: 4.5
                                        color: serverRow.status === "connected" ? Theme.success
                                             : serverRow.status === "error" ? Theme.error : Theme.warning
                                    }
                                    Label { text: serverRow.name; font.bold: true; color: Theme.text }
                                    Label {
                                        objectName: "mcpStatus"
                                        text: serverRow.status === "connected"
                                              ? (serverRow.toolCount === 1 ? qsTr("Connected · 1 tool")
                                                                           : qsTr("Connected · %1 tools").arg(serverRow.toolCount))
                                            : serverRow.status === "connecting" ? qsTr("Connecting…")
                                            : serverRow.status === "stopped" ? qsTr("Stopped") : qsTr("Error")
                                        color: serverRow.status === "error" ? Theme.error : Theme.textMuted
                                        font.pixelSize: Theme.smallFontSize
                                    }
                                    Item { Layout.fillWidth: true }
                                    Button {
                                        text: serverRow.showTools ? qsTr("Hide tools") : qsTr("Show tools")
                                        flat: true
                                        visible: serverRow.toolCount > 0
                                        onClicked: serverRow.showTools = !serverRow.showTools
                                    }
                                    Button { text: qsTr("Edit"); flat: true; onClicked: page.editServer(serverRow.index) }
                                    Button {
                                        objectName: "mcpRemove"
                                        text: qsTr("Remove")
                                        flat: true
                                        onClicked: {
                                            if (page.editingServer === serverRow.name)
                                                page.clearServerForm()
                                            SettingsController.deleteMcpServer(serverRow.name)
                                        }
                                    }
                                }
                                Label {
                                    Layout.fillWidth: true
                                    text: (serverRow.transport === "http" ? "" : "$ ") + serverRow.shownTarget
                                          + (serverRow.protocolVersion ? "   ·   MCP " + serverRow.protocolVersion : "")
                                    font.family: Theme.monoFamily
                                    font.pixelSize: Theme.smallFontSize
                                    color: Theme.textMuted
                                    elide: Text.ElideMiddle
                                }
                                Label {
                                    Layout.fillWidth: true
                                    visible: serverRow.error.length > 0
                                    text: serverRow.error
                                    wrapMode: Text.Wrap
                                    color: Theme.error
                                    font.pixelSize: Theme.smallFontSize
                                }
                                // Its tools: name and what each does.
                                Repeater {
                                    model: serverRow.showTools ? serverRow.tools : []
                                    delegate: RowLayout {
                                        required property var modelData
                                        Layout.fillWidth: true
                                        spacing: 8
                                        Label {
                                            text: modelData.name
                                            font.family: Theme.monoFamily
                                            font.pixelSize: Theme.smallFontSize
                                            color: Theme.text
                                            Layout.preferredWidth: 200
                                            elide: Text.ElideRight
                                        }
                                        Label {
                                            Layout.fillWidth: true
                                            text: modelData.description
                                            font.pixelSize: Theme.smallFontSize
                                            color: Theme.textMuted
                                            elide: Text.ElideRight
                                        }
                                    }
                                }
                            }
                        }
                    }

                    Label {
                        visible: SettingsController.mcpServers.count === 0
                        text: qsTr("No MCP server yet: add one below.")
                        color: Theme.textMuted
                    }

                    // Add or edit a server
                    Rectangle {
                        Layout.fillWidth: true
                        Layout.topMargin: 8
                        implicitHeight: serverForm.implicitHeight + 28
                        radius: 10
                        color: "transparent"
                        border.width: 1
                        border.color: Theme.border

                        ColumnLayout {
                            id: serverForm
                            anchors.fill: parent
                            anchors.margins: 14
                            spacing: 8

                            Label {
                                text: page.editingServer.length > 0 ? qsTr("Edit server “%1”").arg(page.editingServer)
                                                                    : qsTr("Add a server")
                                font.bold: true
                                color: Theme.text
                            }
                            RowLayout {
                                // Saved values (***) are of the other kind once the transport changes.
                                RadioButton {
                                    id: byCommand
                                    objectName: "mcpByCommand"
                                    text: qsTr("Command")
                                    checked: true
                                    onToggled: page.dropMaskedSecrets()
                                }
                                RadioButton {
                                    id: byUrl
                                    objectName: "mcpByUrl"
                                    text: qsTr("URL (Streamable HTTP)")
                                    onToggled: page.dropMaskedSecrets()
                                }
                            }
                            GridLayout {
                                Layout.fillWidth: true
                                columns: 2
                                columnSpacing: 12
                                rowSpacing: 6
                                Label { text: qsTr("Name") }
                                TextField {
                                    id: serverNameField
                                    objectName: "mcpName"
                                    Layout.fillWidth: true
                                    readOnly: page.editingServer.length > 0 // another name would be another server
                                    selectByMouse: true
                                    placeholderText: qsTr("e.g. files (letters, digits, _ or -)")
                                    Accessible.name: qsTr("Server name")
                                }
                                Label { text: byUrl.checked ? qsTr("URL") : qsTr("Command") }
                                TextField {
                                    id: serverTargetField
                                    objectName: "mcpTarget"
                                    Layout.fillWidth: true
                                    selectByMouse: true
                                    font.family: Theme.monoFamily
                                    placeholderText: byUrl.checked ? "https://example.com/mcp"
                                                                   : "npx -y @modelcontextprotocol/server-filesystem /home/you/Documents"
                                    Accessible.name: byUrl.checked ? qsTr("Server URL") : qsTr("Command line")
                                }
                                Label { text: byUrl.checked ? qsTr("Headers") : qsTr("Environment"); Layout.alignment: Qt.AlignTop; topPadding: 6 }
                                TextArea {
                                    id: serverSecretsArea
                                    objectName: "mcpSecrets"
                                    Layout.fillWidth: true
                                    Layout.preferredHeight: 64
                                    font.family: Theme.monoFamily
                                    selectByMouse: true
                                    wrapMode: TextArea.NoWrap
                                    placeholderText: byUrl.checked ? qsTr("Authorization: Bearer …  (one per line, kept as secrets)")
                                                                   : qsTr("API_KEY=…  (one per line, kept as secrets)")
                                    Accessible.name: byUrl.checked ? qsTr("Headers") : qsTr("Environment")
                                    background: Rectangle {
                                        radius: 3
                                        color: Theme.inputBackground
                                        border.width: serverSecretsArea.activeFocus ? 2 : 1
                                        border.color: serverSecretsArea.activeFocus ? Theme.accent : Theme.border
                                    }
                                }
                                Label { text: qsTr("Call time-out") }
                                RowLayout {
                                    SpinBox {
                                        id: timeoutBox
                                        from: 1
                                        to: 3600
                                        value: 120
                                        editable: true
                                        Accessible.name: qsTr("Call time-out in seconds")
                                    }
                                    Label { text: qsTr("seconds without an answer or progress"); color: Theme.textMuted }
                                }
                            }
                            RowLayout {
                                Layout.fillWidth: true
                                BusyIndicator {
                                    visible: page.connectingServer.length > 0
                                    running: visible
                                    implicitWidth: 24
                                    implicitHeight: 24
                                }
                                Label {
                                    id: serverFormStatus
                                    objectName: "mcpFormStatus"
                                    Layout.fillWidth: true
                                    wrapMode: Text.Wrap
                                    color: page.serverFormError ? Theme.error : Theme.textMuted
                                    text: page.connectingServer.length > 0 ? qsTr("Connecting to “%1”…").arg(page.connectingServer)
                                                                            : page.serverFormText
                                }
                                Button {
                                    text: qsTr("Clear")
                                    flat: true
                                    onClicked: page.clearServerForm()
                                }
                                Button {
                                    objectName: "mcpSave"
                                    text: page.editingServer.length > 0 ? qsTr("Save server") : qsTr("Add server")
                                    highlighted: true
                                    enabled: serverNameField.text.trim().length > 0 && serverTargetField.text.trim().length > 0
                                             && page.connectingServer.length === 0
                                    onClicked: {
                                        page.connectingServer = serverNameField.text.trim()
                                        page.serverFormText = ""
                                        SettingsController.saveMcpServer({
                                            name: serverNameField.text,
                                            transport: byUrl.checked ? "http" : "stdio",
                                            commandLine: serverTargetField.text,
                                            url: serverTargetField.text,
                                            secrets: serverSecretsArea.text,
                                            timeoutSeconds: timeoutBox.value
                                        })
                                    }
                                }
                            }
                        }
                    }
                    Item { Layout.preferredHeight: 24 }
                }
            }
            ScrollView {
                objectName: "generalPage"
                contentWidth: availableWidth
                clip: true

                ColumnLayout {
                    width: Math.min(parent.width - 48, 760)
                    x: Math.max(24, (parent.width - width) / 2)
                    spacing: 10

                    Item { Layout.preferredHeight: 8 }

                    Label {
                        text: qsTr("Appearance")
                        font.pixelSize: 16
                        font.bold: true
                        color: Theme.text
                    }
                    RowLayout {
                        spacing: 16
                        Repeater {
                            model: [
                                { mode: "system", label: qsTr("Like the system") },
                                { mode: "light", label: qsTr("Light") },
                                { mode: "dark", label: qsTr("Dark") }
                            ]
                            delegate: RadioButton {
                                id: themeChoice
                                required property var modelData
                                objectName: "theme_" + modelData.mode
                                text: modelData.label
                                checked: ThemeController.mode === modelData.mode
                                onClicked: ThemeController.mode = modelData.mode
                                // Drawn in the theme's colours: Fusion's ring vanishes on dark.
                                indicator: Rectangle {
                                    implicitWidth: 16
                                    implicitHeight: 16
                                    x: themeChoice.leftPadding
                                    y: (themeChoice.height - height) / 2
                                    radius: 8
                                    color: Theme.inputBackground
                                    border.width: themeChoice.visualFocus ? 2 : 1
                                    border.color: themeChoice.checked || themeChoice.visualFocus ? Theme.accent : Theme.textFaint
                                    Rectangle {
                                        anchors.centerIn: parent
                                        width: 8
                                        height: 8
                                        radius: 4
                                        color: Theme.accent
                                        visible: themeChoice.checked
                                    }
                                }
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
                        text: qsTr("Chats")
                        font.pixelSize: 16
                        font.bold: true
                        color: Theme.text
                    }
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: Theme.textMuted
                        text: qsTr("Save every chat as Markdown to read, or as JSON to import elsewhere (every version of every turn). Import reads an AgentDesk JSON export or ChatGPT's conversations.json; chats imported before are skipped.")
                    }
                    RowLayout {
                        Layout.fillWidth: true
                        spacing: 8
                        Button {
                            objectName: "exportMarkdown"
                            text: qsTr("Export all as Markdown…")
                            enabled: !TransferController.busy
                            onClicked: exportDialog.ask("markdown")
                        }
                        Button {
                            objectName: "exportJson"
                            text: qsTr("Export all as JSON…")
                            enabled: !TransferController.busy
                            onClicked: exportDialog.ask("json")
                        }
                        Button {
                            objectName: "importChats"
                            text: qsTr("Import…")
                            enabled: !TransferController.busy
                            onClicked: importDialog.open()
                        }
                        BusyIndicator {
                            visible: TransferController.busy
                            running: visible
                            implicitWidth: 24
                            implicitHeight: 24
                        }
                    }
                    Label {
                        objectName: "transferStatus"
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        visible: text.length > 0
                        color: Theme.textMuted
                        text: TransferController.status
                    }
                    FileDialog {
                        id: exportDialog
                        property string format: "markdown"
                        function ask(f) {
                            format = f
                            currentFile = TransferController.suggestedFile("", f)
                            open()
                        }
                        fileMode: FileDialog.SaveFile
                        nameFilters: format === "json" ? [qsTr("JSON (*.json)")] : [qsTr("Markdown (*.md)")]
                        onAccepted: TransferController.exportChats("", format, selectedFile)
                    }
                    FileDialog {
                        id: importDialog
                        fileMode: FileDialog.OpenFile
                        nameFilters: [qsTr("Exports (*.json)"), qsTr("All files (*)")]
                        onAccepted: TransferController.importFile(selectedFile)
                    }

                    Label {
                        Layout.topMargin: 18
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: Theme.textFaint
                        font.pixelSize: Theme.smallFontSize
                        text: qsTr("Shortcuts: Ctrl+N new chat, Esc stop, Ctrl+F search chats, Ctrl+B chat list, Ctrl+, settings, Ctrl+Q quit.")
                    }
                    Item { Layout.preferredHeight: 24 }
                }
            }
        }
    }
}
