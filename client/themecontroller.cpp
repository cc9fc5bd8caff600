#include "themecontroller.h"

#include <QGuiApplication>
#include <QQmlEngine>
#include <QSettings>

using namespace Qt::StringLiterals;

static ThemeController *s_instance = nullptr;

static bool isMode(const QString &mode)
{
    return mode == "light"_L1 || mode == "dark"_L1 || mode == "system"_L1;
}

ThemeController::ThemeController(QObject *parent) : QObject(parent), m_system(QGuiApplication::palette())
{
    const QString forced = qEnvironmentVariable("AGENTDESK_THEME");
    const QString saved = QSettings().value(u"appearance/theme"_s).toString();
    for (const QString &mode : {forced, saved}) {
        if (isMode(mode)) {
            m_mode = mode;
            break;
        }
    }
    apply();
}

ThemeController *ThemeController::instance()
{
    if (!s_instance)
        s_instance = new ThemeController(QCoreApplication::instance());
    return s_instance;
}

ThemeController *ThemeController::create(QQmlEngine *, QJSEngine *)
{
    ThemeController *theme = instance();
    QQmlEngine::setObjectOwnership(theme, QQmlEngine::CppOwnership);
    return theme;
}

void ThemeController::setMode(const QString &mode)
{
    if (mode == m_mode || !isMode(mode))
        return;
    m_mode = mode;
    QSettings().setValue(u"appearance/theme"_s, mode);
    apply();
    Q_EMIT modeChanged();
}

void ThemeController::apply()
{
    // The system's look needs no palette of ours: none is set until another one is chosen.
    const bool systemDark = m_system.color(QPalette::Window).lightness() < 128;
    if (m_mode == "dark"_L1 && !systemDark) {
        QGuiApplication::setPalette(darkPalette());
        m_overridden = true;
    } else if (m_mode == "light"_L1 && systemDark) {
        QGuiApplication::setPalette(lightPalette());
        m_overridden = true;
    } else if (m_overridden) {
        QGuiApplication::setPalette(m_system);
        m_overridden = false;
    }
}

namespace {
struct Colours
{
    QColor window, base, text, button, highlight, placeholder, mid, light, dark, toolTip, toolTipText;
};

QPalette paletteOf(const Colours &c)
{
    QPalette p;
    p.setColor(QPalette::Window, c.window);
    p.setColor(QPalette::WindowText, c.text);
    p.setColor(QPalette::Base, c.base);
    p.setColor(QPalette::AlternateBase, c.window);
    p.setColor(QPalette::Text, c.text);
    p.setColor(QPalette::Button, c.button);
    p.setColor(QPalette::ButtonText, c.text);
    p.setColor(QPalette::Highlight, c.highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, c.placeholder);
    p.setColor(QPalette::Mid, c.mid);
    p.setColor(QPalette::Light, c.light);
    p.setColor(QPalette::Dark, c.dark);
    p.setColor(QPalette::ToolTipBase, c.toolTip);
    p.setColor(QPalette::ToolTipText, c.toolTipText);
    return p;
}
} // namespace

QPalette ThemeController::lightPalette()
{
    return paletteOf({QColor(0xf3, 0xf4, 0xf6), Qt::white, QColor(0x1f, 0x23, 0x28), QColor(0xf6, 0xf7, 0xf8),
                      QColor(0x30, 0x8c, 0xc6), QColor(0x6e, 0x77, 0x81), QColor(0xc8, 0xcc, 0xd1), Qt::white,
                      QColor(0xa0, 0xa4, 0xa9), QColor(0xff, 0xff, 0xdc), Qt::black});
}

QPalette ThemeController::darkPalette()
{
    const QColor window(0x1f, 0x21, 0x26), text(0xe6, 0xe8, 0xeb);
    return paletteOf({window, QColor(0x17, 0x19, 0x1d), text, QColor(0x2b, 0x2e, 0x35),
                      QColor(0x4c, 0x8d, 0xf6), QColor(0x8a, 0x8f, 0x98), QColor(0x3a, 0x3d, 0x44),
                      QColor(0x3a, 0x3d, 0x44), QColor(0x12, 0x13, 0x16), window, text});
}
