import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import org.agentdesk

// A model name: typed freely, or picked from what the provider lists (ModelListModel). Typing
// filters the list; Up, Down and Enter choose from it.
TextField {
    id: field

    required property var models // a ModelListModel
    property string provider: "" // whose models to list ("" the default provider)

    signal picked(string model)

    objectName: "modelPicker"
    selectByMouse: true
    placeholderText: qsTr("The provider's model")
    Accessible.name: qsTr("Model")
    rightPadding: 30

    function showList() {
        // Asked each time (the server keeps the list a minute); the rows shown stay meanwhile.
        field.models.load(field.provider)
        field.models.filter = ""
        popup.open()
    }

    onTextEdited: {
        field.models.filter = text
        if (!popup.opened)
            showList()
        field.models.filter = text
        list.currentIndex = field.models.count > 0 ? 0 : -1
    }
    Keys.onDownPressed: {
        if (!popup.opened)
            showList()
        else if (list.currentIndex < list.count - 1)
            list.currentIndex++
    }
    Keys.onUpPressed: if (list.currentIndex > 0) list.currentIndex--
    Keys.onReturnPressed: (event) => {
        if (popup.opened && list.currentIndex >= 0) {
            choose(field.models.idAt(list.currentIndex))
            return
        }
        event.accepted = false
    }
    Keys.onEscapePressed: (event) => {
        if (popup.opened)
            popup.close()
        else
            event.accepted = false
    }

    function choose(id) {
        text = id
        popup.close()
        field.picked(id)
    }

    ToolButton {
        objectName: "modelPickerButton"
        anchors.right: parent.right
        anchors.verticalCenter: parent.verticalCenter
        width: 28
        height: parent.height - 4
        text: "▾"
        focusPolicy: Qt.NoFocus
        Accessible.name: qsTr("List the provider's models")
        onClicked: popup.opened ? popup.close() : field.showList()
    }

    Popup {
        id: popup
        objectName: "modelPickerPopup"
        y: field.height + 2
        width: Math.max(field.width, 280)
        height: Math.min(list.contentHeight + 2, 300) + (status.visible ? status.implicitHeight + 12 : 0)
        padding: 1
        closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutsideParent

        contentItem: ColumnLayout {
            spacing: 0
            Label {
                id: status
                Layout.fillWidth: true
                Layout.margins: 6
                visible: text.length > 0
                wrapMode: Text.Wrap
                color: field.models.error.length > 0 ? Theme.error : Theme.textMuted
                font.pixelSize: Theme.smallFontSize
                text: field.models.loading ? qsTr("Asking the provider for its models…")
                      : field.models.error.length > 0 ? field.models.error
                      : field.models.total === 0 ? qsTr("The provider lists no models: type one.")
                      : field.models.count === 0 ? qsTr("No model matches; it is used as typed.")
                      : ""
            }
            ListView {
                id: list
                objectName: "modelList"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: field.models
                currentIndex: -1
                boundsBehavior: Flickable.StopAtBounds
                ScrollBar.vertical: ScrollBar {}
                delegate: ItemDelegate {
                    id: row
                    required property int index
                    required property string modelId
                    required property string name
                    required property string detail
                    objectName: "modelOption_" + modelId
                    width: ListView.view ? ListView.view.width : 280
                    highlighted: ListView.isCurrentItem
                    contentItem: ColumnLayout {
                        spacing: 0
                        Label {
                            Layout.fillWidth: true
                            text: row.name
                            textFormat: Text.PlainText
                            elide: Text.ElideRight
                            font.bold: row.modelId === field.text
                        }
                        Label {
                            Layout.fillWidth: true
                            visible: row.detail.length > 0
                            text: row.detail
                            textFormat: Text.PlainText
                            elide: Text.ElideRight
                            color: row.highlighted ? row.palette.highlightedText : Theme.textMuted
                            opacity: row.highlighted ? 0.85 : 1
                            font.pixelSize: Theme.smallFontSize
                        }
                    }
                    onClicked: field.choose(row.modelId)
                }
            }
        }
    }
}
