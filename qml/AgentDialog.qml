import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

// Create or edit an agent: name, system prompt, greeting, provider, model (picked from what the
// provider lists, or typed), how hard it reasons, temperature, and the tools it may use (from the
// MCP servers), whether it asks before each call, its step limit.
Dialog {
    id: dialog

    property string agentId: ""
    property string errorText: ""
    property var selectedTools: [] // "server/tool" or "server/*"
    property var allowedTools: []  // allowed for good
    property bool forgetAllowed: false // "Ask again" pressed

    signal toolsSettingsRequested()

    function hasTool(pattern) { return selectedTools.indexOf(pattern) >= 0 }
    function setTool(pattern, on) {
        const list = selectedTools.filter(p => p !== pattern)
        if (on)
            list.push(pattern)
        selectedTools = list
    }
    function setServerTools(server, on) {
        // All of a server's tools is one pattern: tools it adds later come with it.
        const list = selectedTools.filter(p => !p.startsWith(server + "/"))
        if (on)
            list.push(server + "/*")
        selectedTools = list
    }
    function resetTools(tools, approval, maxSteps, allowed) {
        selectedTools = tools ? tools.slice() : []
        allowedTools = allowed ? allowed.slice() : []
        forgetAllowed = false
        approvalBox.currentIndex = approval === "auto" ? 1 : 0
        maxStepsBox.value = maxSteps > 0 ? maxSteps : 8
        SettingsController.refreshMcpServers()
    }

    function openNew() {
        agentId = ""
        nameField.text = ""
        descriptionField.text = ""
        promptArea.text = ""
        greetingArea.text = ""
        providerBox.currentIndex = 0
        modelField.text = ""
        effortBox.currentIndex = 0
        useTemperature.checked = false
        temperatureSlider.value = 0.7
        resetTools([], "ask", 8, [])
        errorText = ""
        open()
        nameField.forceActiveFocus()
    }

    function openFor(id) {
        const row = ChatController.agents.indexOf(id)
        if (row < 0)
            return openNew()
        const a = ChatController.agents.get(row)
        agentId = id
        nameField.text = a.name
        descriptionField.text = a.description
        promptArea.text = a.systemPrompt
        greetingArea.text = a.greeting
        const p = providerBox.model.indexOf(a.provider)
        providerBox.currentIndex = a.provider && p > 0 ? p : 0
        modelField.text = a.model
        effortBox.currentIndex = Math.max(0, ["", "off", "low", "medium", "high"].indexOf(a.reasoningEffort || ""))
        useTemperature.checked = a.temperature !== undefined && a.temperature !== null
        temperatureSlider.value = useTemperature.checked ? a.temperature : 0.7
        resetTools(a.tools, a.toolApproval, a.maxSteps, a.allowedTools)
        errorText = ""
        open()
        nameField.forceActiveFocus()
    }

    parent: Overlay.overlay
    anchors.centerIn: parent
    width: Math.min(parent ? parent.width - 80 : 560, 560)
    height: Math.min(parent ? parent.height - 60 : 700, 700)
    modal: true
    Overlay.modal: Rectangle { color: Theme.scrim }
    focus: true
    title: agentId.length > 0 ? qsTr("Edit agent") : qsTr("New agent")
    padding: 20

    Connections {
        target: SettingsController
        function onAgentSaved(id) {
            if (!dialog.visible)
                return
            dialog.close()
            ChatController.currentAgentId = id
        }
        function onAgentFailed(message) { dialog.errorText = message }
    }

    contentItem: ScrollView {
        clip: true
        contentWidth: availableWidth

        ColumnLayout {
            width: parent.width
            spacing: 6

            Label { text: qsTr("Name"); font.bold: true }
            TextField {
                id: nameField
                objectName: "agentName"
                Layout.fillWidth: true
                placeholderText: qsTr("e.g. Writing assistant")
                selectByMouse: true
                Accessible.name: qsTr("Name")
            }

            Label { text: qsTr("Description"); font.bold: true; Layout.topMargin: 6 }
            TextField {
                id: descriptionField
                Layout.fillWidth: true
                placeholderText: qsTr("Optional")
                selectByMouse: true
                Accessible.name: qsTr("Description")
            }

            Label { text: qsTr("System prompt"); font.bold: true; Layout.topMargin: 6 }
            TextArea {
                id: promptArea
                Layout.fillWidth: true
                background: Rectangle {
                    radius: 3
                    color: Theme.inputBackground
                    border.width: promptArea.activeFocus ? 2 : 1
                    border.color: promptArea.activeFocus ? Theme.accent : Theme.border
                }
                Layout.preferredHeight: 110
                wrapMode: TextArea.Wrap
                placeholderText: qsTr("How the agent should behave")
                selectByMouse: true
                Accessible.name: qsTr("System prompt")
                KeyNavigation.priority: KeyNavigation.BeforeItem
                KeyNavigation.tab: greetingArea
            }

            Label { text: qsTr("Greeting"); font.bold: true; Layout.topMargin: 6 }
            TextArea {
                id: greetingArea
                Layout.fillWidth: true
                background: Rectangle {
                    radius: 3
                    color: Theme.inputBackground
                    border.width: greetingArea.activeFocus ? 2 : 1
                    border.color: greetingArea.activeFocus ? Theme.accent : Theme.border
                }
                Layout.preferredHeight: 64
                wrapMode: TextArea.Wrap
                placeholderText: qsTr("The first message of every chat (optional)")
                selectByMouse: true
                Accessible.name: qsTr("Greeting")
                KeyNavigation.priority: KeyNavigation.BeforeItem
                KeyNavigation.tab: providerBox
            }

            GridLayout {
                columns: 2
                columnSpacing: 12
                rowSpacing: 6
                Layout.fillWidth: true
                Layout.topMargin: 6

                Label { text: qsTr("Provider"); font.bold: true }
                Label { text: qsTr("Model"); font.bold: true }
                ComboBox {
                    id: providerBox
                    Layout.fillWidth: true
                    model: [qsTr("Default provider")].concat(SettingsController.providers.count >= 0
                                                                 ? SettingsController.providers.names() : [])
                    Accessible.name: qsTr("Provider")
                }
                ModelPicker {
                    id: modelField
                    objectName: "agentModel"
                    Layout.fillWidth: true
                    models: SettingsController.agentModels
                    provider: providerBox.currentIndex > 0 ? providerBox.currentText : ""
                }
            }

            RowLayout {
                Layout.fillWidth: true
                Layout.topMargin: 6
                Label { text: qsTr("Reasoning") }
                ComboBox {
                    id: effortBox
                    objectName: "agentReasoningEffort"
                    Layout.fillWidth: true
                    model: [qsTr("The model's default"), qsTr("Off (where the provider can turn it off)"),
                            qsTr("Low"), qsTr("Medium"), qsTr("High")]
                    Accessible.name: qsTr("Reasoning effort")
                    ToolTip.visible: hovered
                    ToolTip.delay: 600
                    ToolTip.text: qsTr("How hard a reasoning model thinks before it answers: OpenAI's reasoning effort, "
                                       + "Anthropic's extended thinking budget, Ollama's think.")
                }
            }

            RowLayout {
                Layout.fillWidth: true
                Layout.topMargin: 6
                CheckBox {
                    id: useTemperature
                    text: qsTr("Temperature")
                }
                Slider {
                    id: temperatureSlider
                    Layout.fillWidth: true
                    enabled: useTemperature.checked
                    from: 0
                    to: 2
                    stepSize: 0.1
                    value: 0.7
                    Accessible.name: qsTr("Temperature")
                }
                Label {
                    text: useTemperature.checked ? temperatureSlider.value.toFixed(1) : qsTr("model default")
                    color: Theme.textMuted
                    Layout.minimumWidth: implicitWidth
                }
            }

            Label { text: qsTr("Tools"); font.bold: true; Layout.topMargin: 10 }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: SettingsController.mcpServers.count === 0
                      ? qsTr("No MCP server is set up yet, so this agent can only talk.")
                      : qsTr("What the agent may use. All of a server's tools includes those it adds later.")
            }
            Button {
                visible: SettingsController.mcpServers.count === 0
                text: qsTr("Add an MCP server…")
                flat: true
                onClicked: dialog.toolsSettingsRequested()
            }
            Repeater {
                model: SettingsController.mcpServers
                delegate: ColumnLayout {
                    id: serverTools
                    required property string name
                    required property string status
                    required property var tools
                    readonly property bool all: dialog.hasTool(name + "/*")
                    Layout.fillWidth: true
                    spacing: 0
                    CheckBox {
                        objectName: "agentToolServer_" + serverTools.name
                        text: serverTools.status === "connected" ? qsTr("All tools of %1").arg(serverTools.name)
                              : serverTools.status === "error" ? qsTr("All tools of %1 (not connected)").arg(serverTools.name)
                              : qsTr("All tools of %1 (connecting)").arg(serverTools.name)
                        checked: serverTools.all
                        onToggled: dialog.setServerTools(serverTools.name, checked)
                    }
                    Flow {
                        Layout.fillWidth: true
                        Layout.leftMargin: 28
                        spacing: 2
                        Repeater {
                            model: serverTools.tools
                            delegate: CheckBox {
                                required property var modelData
                                readonly property string pattern: serverTools.name + "/" + modelData.name
                                objectName: "agentTool_" + pattern
                                text: modelData.name
                                font.family: Theme.monoFamily
                                font.pixelSize: Theme.smallFontSize
                                enabled: !serverTools.all
                                checked: serverTools.all || dialog.hasTool(pattern)
                                onToggled: dialog.setTool(pattern, checked)
                                ToolTip.visible: hovered && modelData.description.length > 0
                                ToolTip.delay: 500
                                ToolTip.text: modelData.description
                            }
                        }
                    }
                }
            }
            GridLayout {
                columns: 2
                columnSpacing: 12
                rowSpacing: 6
                Layout.fillWidth: true
                visible: dialog.selectedTools.length > 0 || SettingsController.mcpServers.count > 0
                Label { text: qsTr("Before a tool runs") }
                ComboBox {
                    id: approvalBox
                    objectName: "agentToolApproval"
                    Layout.fillWidth: true
                    model: [qsTr("Ask me each time (Allow / Always / Deny)"), qsTr("Run it without asking")]
                    Accessible.name: qsTr("Tool approval")
                }
                Label { text: qsTr("Steps per reply") }
                RowLayout {
                    SpinBox {
                        id: maxStepsBox
                        from: 1
                        to: 50
                        value: 8
                        editable: true
                        Accessible.name: qsTr("Steps per reply")
                    }
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        text: qsTr("rounds of tool calls before the reply ends")
                        color: Theme.textMuted
                    }
                }
            }
            RowLayout {
                Layout.fillWidth: true
                visible: dialog.allowedTools.length > 0
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: Theme.textMuted
                    text: qsTr("Runs without asking: %1").arg(dialog.allowedTools.join(", "))
                }
                Button {
                    text: qsTr("Ask again")
                    flat: true
                    onClicked: {
                        dialog.allowedTools = []
                        dialog.forgetAllowed = true
                    }
                }
            }

            Label {
                Layout.fillWidth: true
                visible: dialog.errorText.length > 0
                text: dialog.errorText
                color: Theme.error
                wrapMode: Text.Wrap
            }
        }
    }

    footer: DialogButtonBox {
        Button {
            text: qsTr("Delete agent")
            visible: dialog.agentId.length > 0
            DialogButtonBox.buttonRole: DialogButtonBox.DestructiveRole
            onClicked: confirmDelete.open()
        }
        Button {
            text: qsTr("Cancel")
            DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
        }
        Button {
            objectName: "agentSave"
            text: qsTr("Save")
            highlighted: true
            enabled: nameField.text.trim().length > 0 && !SettingsController.busy
            DialogButtonBox.buttonRole: DialogButtonBox.ApplyRole
            onClicked: dialog.save()
        }
    }

    function save() {
        SettingsController.saveAgent({
            id: agentId,
            name: nameField.text,
            description: descriptionField.text,
            systemPrompt: promptArea.text,
            greeting: greetingArea.text,
            provider: providerBox.currentIndex > 0 ? providerBox.currentText : "",
            model: modelField.text,
            temperature: useTemperature.checked ? temperatureSlider.value : null,
            tools: selectedTools,
            toolApproval: approvalBox.currentIndex === 1 ? "auto" : "ask",
            maxSteps: maxStepsBox.value,
            forgetAllowedTools: forgetAllowed,
            reasoningEffort: ["", "off", "low", "medium", "high"][effortBox.currentIndex]
        })
    }

    Dialog {
        id: confirmDelete
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        Overlay.modal: Rectangle { color: Theme.scrim }
        width: 400
        title: qsTr("Delete agent?")
        Label {
            width: parent.width
            wrapMode: Text.Wrap
            text: qsTr("“%1” and all its chats will be deleted. This cannot be undone.").arg(nameField.text)
        }
        footer: DialogButtonBox {
            Button { text: qsTr("Delete"); DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole }
            Button { text: qsTr("Cancel"); DialogButtonBox.buttonRole: DialogButtonBox.RejectRole }
        }
        onAccepted: {
            SettingsController.deleteAgent(dialog.agentId)
            dialog.close()
        }
    }
}
