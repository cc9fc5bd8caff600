#pragma once

#include <QObject>
#include <QPalette>
#include <QtQml/qqmlregistration.h>

class QQmlEngine;
class QJSEngine;

// Light, dark or the system's look for the window, kept in QSettings ("appearance/theme") and
// applied as the application palette, which Theme.qml and the Fusion controls follow.
// AGENTDESK_THEME=light|dark picks one for this run only (screenshots, tests).
class ThemeController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(QString mode READ mode WRITE setMode NOTIFY modeChanged) // "system", "light", "dark"

public:
    explicit ThemeController(QObject *parent = nullptr);
    static ThemeController *instance();
    static ThemeController *create(QQmlEngine *qmlEngine, QJSEngine *jsEngine);

    QString mode() const { return m_mode; }
    void setMode(const QString &mode);

    static QPalette lightPalette();
    static QPalette darkPalette();

Q_SIGNALS:
    void modeChanged();

private:
    void apply();

    QString m_mode = QStringLiteral("system");
    QPalette m_system;         // the application's palette before any was chosen
    bool m_overridden = false; // a palette of ours is set
};
