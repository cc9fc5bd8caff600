#include "keychainstore.h"

#include "logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTimer>

#include <qt6keychain/keychain.h>

using namespace Qt::StringLiterals;

namespace {
// A keychain job that says nothing for this long counts as "no keychain" (a D-Bus service that
// never answers), so a read or write cannot hang the app's start.
constexpr int KeychainTimeoutMs = 8000;

bool meansNoKeychain(QKeychain::Error e)
{
    return e == QKeychain::NoBackendAvailable || e == QKeychain::OtherError ||
           e == QKeychain::NotImplemented || e == QKeychain::AccessDenied;
}
} // namespace

KeychainStore::KeychainStore(QObject *parent) : KeychainStore(u"AgentDesk"_s, defaultFallbackPath(), parent)
{}

KeychainStore::KeychainStore(const QString &service, const QString &fallbackPath, QObject *parent)
    : QObject(parent), m_service(service), m_fallbackPath(fallbackPath)
{
    if (qEnvironmentVariable("AGENTDESK_SECRETS") == "file"_L1)
        setForceFile(true);
}

QString KeychainStore::defaultFallbackPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) + u"/secrets.json"_s;
}

void KeychainStore::setForceFile(bool force)
{
    m_forceFile = force;
    if (force && m_backend != Backend::File) {
        m_backend = Backend::File;
        m_keychainProblem = tr("the system keychain is turned off");
        Q_EMIT backendChanged();
    }
}

QString KeychainStore::statusText() const
{
    switch (m_backend) {
    case Backend::Keychain:
        return tr("API keys and tokens are kept in the system keychain.");
    case Backend::File:
        return tr("No system keychain is available (%1): API keys and tokens are kept in a file only you "
                  "can read: %2")
            .arg(m_keychainProblem, QDir::toNativeSeparators(m_fallbackPath));
    case Backend::Unknown:
        break;
    }
    return tr("API keys and tokens go to the system keychain when it is available.");
}

bool KeychainStore::useKeychain() const
{
    return !m_forceFile && m_backend != Backend::File;
}

void KeychainStore::useFile(const QString &why)
{
    if (m_backend == Backend::File)
        return;
    qCWarning(lcClient).noquote() << u"no usable keychain (%1); secrets go to %2"_s.arg(why, m_fallbackPath);
    m_keychainProblem = why;
    m_backend = Backend::File;
    Q_EMIT backendChanged();
}

void KeychainStore::read(const QString &key, QObject *context, ReadHandler handler)
{
    QPointer<QObject> ctx(context);
    auto deliver = [ctx, handler](bool found, const QString &value, const QString &error) {
        if (ctx && handler)
            handler(found, value, error);
    };
    if (!useKeychain()) {
        QString value;
        const bool found = fileRead(key, &value);
        QTimer::singleShot(0, this, [deliver, found, value] { deliver(found, value, {}); });
        return;
    }
    auto *job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setKey(key);
    auto done = std::make_shared<bool>(false);
    auto *guard = new QTimer(job);
    guard->setSingleShot(true);
    connect(guard, &QTimer::timeout, this, [this, done, key, deliver] {
        if (std::exchange(*done, true))
            return;
        useFile(tr("the keychain service does not answer"));
        QString value;
        const bool found = fileRead(key, &value);
        deliver(found, value, {});
    });
    connect(job, &QKeychain::Job::finished, this, [this, job, done, key, deliver] {
        if (std::exchange(*done, true))
            return;
        const QKeychain::Error e = job->error();
        if (e == QKeychain::NoError) {
            if (m_backend == Backend::Unknown) {
                m_backend = Backend::Keychain;
                Q_EMIT backendChanged();
            }
            deliver(true, job->textData(), {});
            return;
        }
        if (e == QKeychain::EntryNotFound) {
            if (m_backend == Backend::Unknown) {
                m_backend = Backend::Keychain;
                Q_EMIT backendChanged();
            }
            // It may have been written to the file while the keychain was away.
            QString value;
            const bool found = fileRead(key, &value);
            deliver(found, value, {});
            return;
        }
        if (meansNoKeychain(e)) {
            useFile(job->errorString());
            QString value;
            const bool found = fileRead(key, &value);
            deliver(found, value, {});
            return;
        }
        deliver(false, {}, job->errorString());
    });
    guard->start(KeychainTimeoutMs);
    job->start();
}

void KeychainStore::write(const QString &key, const QString &value, QObject *context, WriteHandler handler)
{
    QPointer<QObject> ctx(context);
    const bool hadContext = context != nullptr;
    auto deliver = [ctx, hadContext, handler](bool ok, const QString &error) {
        if ((!hadContext || ctx) && handler)
            handler(ok, error);
    };
    if (!useKeychain()) {
        QString error;
        const bool ok = fileWrite(key, value, &error);
        QTimer::singleShot(0, this, [deliver, ok, error] { deliver(ok, error); });
        return;
    }
    auto *job = new QKeychain::WritePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setKey(key);
    job->setTextData(value);
    auto done = std::make_shared<bool>(false);
    auto *guard = new QTimer(job);
    guard->setSingleShot(true);
    auto fallback = [this, key, value, deliver](const QString &why) {
        useFile(why);
        QString error;
        const bool ok = fileWrite(key, value, &error);
        deliver(ok, error);
    };
    connect(guard, &QTimer::timeout, this, [this, done, fallback] {
        if (!std::exchange(*done, true))
            fallback(tr("the keychain service does not answer"));
    });
    connect(job, &QKeychain::Job::finished, this, [this, job, done, key, deliver, fallback] {
        if (std::exchange(*done, true))
            return;
        const QKeychain::Error e = job->error();
        if (e == QKeychain::NoError) {
            if (m_backend != Backend::Keychain) {
                m_backend = Backend::Keychain;
                Q_EMIT backendChanged();
            }
            QString ignored;
            fileRemove(key, &ignored); // no stale copy left behind in the file
            deliver(true, {});
        } else if (meansNoKeychain(e)) {
            fallback(job->errorString());
        } else {
            deliver(false, job->errorString());
        }
    });
    guard->start(KeychainTimeoutMs);
    job->start();
}

void KeychainStore::remove(const QString &key, QObject *context, WriteHandler handler)
{
    QPointer<QObject> ctx(context);
    const bool hadContext = context != nullptr;
    auto deliver = [ctx, hadContext, handler](bool ok, const QString &error) {
        if ((!hadContext || ctx) && handler)
            handler(ok, error);
    };
    QString error;
    const bool fileOk = fileRemove(key, &error);
    if (!useKeychain()) {
        QTimer::singleShot(0, this, [deliver, fileOk, error] { deliver(fileOk, error); });
        return;
    }
    auto *job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [job, deliver] {
        const QKeychain::Error e = job->error();
        deliver(e == QKeychain::NoError || e == QKeychain::EntryNotFound || meansNoKeychain(e),
                e == QKeychain::NoError ? QString() : job->errorString());
    });
    job->start();
}

QJsonObject KeychainStore::loadFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

bool KeychainStore::saveFile(const QString &path, const QJsonObject &secrets, QString *error)
{
    const QString dir = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(dir)) {
        *error = QObject::tr("cannot create %1").arg(dir);
        return false;
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        *error = f.errorString();
        return false;
    }
    // Owner-only before a single byte is written.
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(QJsonDocument(secrets).toJson(QJsonDocument::Indented));
    if (!f.commit()) {
        *error = f.errorString();
        return false;
    }
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return true;
}

bool KeychainStore::fileRead(const QString &key, QString *value) const
{
    const QJsonObject secrets = loadFile(m_fallbackPath);
    const QJsonValue v = secrets.value(key);
    if (!v.isString())
        return false;
    *value = v.toString();
    return true;
}

bool KeychainStore::fileWrite(const QString &key, const QString &value, QString *error)
{
    QJsonObject secrets = loadFile(m_fallbackPath);
    secrets.insert(key, value);
    return saveFile(m_fallbackPath, secrets, error);
}

bool KeychainStore::fileRemove(const QString &key, QString *error)
{
    if (!QFile::exists(m_fallbackPath))
        return true;
    QJsonObject secrets = loadFile(m_fallbackPath);
    if (!secrets.contains(key))
        return true;
    secrets.remove(key);
    return saveFile(m_fallbackPath, secrets, error);
}
