pragma Singleton
import QtQuick

// Colours and sizes, all derived from the system palette so the window follows the system's
// light or dark theme.
QtObject {
    id: theme

    readonly property SystemPalette palette: SystemPalette { colorGroup: SystemPalette.Active }
    readonly property bool dark: palette.window.hslLightness < 0.5

    function mix(a, b, t) {
        return Qt.rgba(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t, 1)
    }

    readonly property color text: palette.text
    readonly property color textMuted: mix(palette.text, palette.base, 0.42)
    readonly property color textFaint: mix(palette.text, palette.base, 0.6)
    readonly property color accent: palette.highlight
    // Behind a modal dialog: the window dimmed, in light and dark alike.
    readonly property color scrim: Qt.rgba(0, 0, 0, 0.38)
    readonly property color accentText: palette.highlightedText
    readonly property color base: palette.base
    readonly property color sidebar: dark ? mix(palette.window, Qt.rgba(0, 0, 0, 1), 0.18) : mix(palette.window, Qt.rgba(1, 1, 1, 1), 0.45)
    readonly property color header: base
    readonly property color border: mix(palette.base, palette.text, dark ? 0.16 : 0.11)
    readonly property color hover: mix(palette.base, palette.text, dark ? 0.08 : 0.05)
    readonly property color selected: mix(palette.base, palette.highlight, dark ? 0.32 : 0.16)
    readonly property color userBubble: accent
    readonly property color userText: accentText
    readonly property color assistantBubble: mix(palette.base, palette.text, dark ? 0.07 : 0.045)
    // Code blocks: set apart from the reply's bubble in both themes.
    readonly property color codeBackground: dark ? mix(palette.base, Qt.rgba(0, 0, 0, 1), 0.28) : mix(palette.base, palette.text, 0.025)
    readonly property color inputBackground: dark ? mix(palette.base, palette.text, 0.05) : Qt.rgba(1, 1, 1, 1)
    readonly property color error: dark ? "#ff8a80" : "#c62828"
    readonly property color errorBackground: dark ? Qt.rgba(1, 0.35, 0.3, 0.14) : Qt.rgba(0.85, 0.15, 0.1, 0.07)
    readonly property color warning: dark ? "#ffcc80" : "#a15c00"
    readonly property color warningBackground: dark ? Qt.rgba(1, 0.7, 0.2, 0.14) : Qt.rgba(1, 0.65, 0.1, 0.14)
    readonly property color success: dark ? "#81c995" : "#1e8e3e"

    readonly property int fontSize: 14
    readonly property int smallFontSize: 12
    readonly property int titleFontSize: 16
    readonly property int radius: 14
    readonly property int spacing: 12
    readonly property int maxContentWidth: 820
    readonly property string monoFamily: "DejaVu Sans Mono"
}
