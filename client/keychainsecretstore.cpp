#include "keychainsecretstore.h"

#include "keychainstore.h"
#include "logging.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <utility>

using namespace Qt::StringLiterals;

KeychainSecretStore::KeychainSecretStore(KeychainStore *keychain, const QString &legacyFile, QObject *parent)
    : QObject(parent), m_keychain(keychain), m_legacyFile(legacyFile)
{
    // The same file as the keychain's own fallback holds entries of both kinds: nothing to move.
    if (!m_legacyFile.isEmpty() && QFileInfo(m_legacyFile).absoluteFilePath() ==
                                       QFileInfo(m_keychain->fallbackPath()).absoluteFilePath())
        m_legacyFile.clear();
}

QString KeychainSecretStore::entryName(const QString &key)
{
    return u"backend/"_s + key;
}

QString KeychainSecretStore::indexEntry()
{
    return u"backend-index"_s;
}

void KeychainSecretStore::start()
{
    if (std::exchange(m_started, true))
        return;
    takeLegacyKeys();
    ++m_loads;
    m_keychain->read(indexEntry(), this, [this](bool found, const QString &value, const QString &error) {
        if (!error.isEmpty())
            qCWarning(lcClient).noquote() << "cannot read the keychain's list of API keys:" << error;
        const QJsonArray keys = found ? QJsonDocument::fromJson(value.toUtf8()).array() : QJsonArray();
        for (const QJsonValue &v : keys) {
            const QString key = v.toString();
            if (key.isEmpty())
                continue;
            m_storedIndex.insert(key);
            if (m_touched.contains(key))
                continue; // written or removed meanwhile: m_index already says which
            m_index.insert(key);
            if (!m_cache.contains(key))
                load(key);
        }
        --m_loads;
        finishLoading();
    });
}

// Keys an earlier version kept in <data dir>/secrets.json. They serve from the cache at once;
// each leaves the file once the keychain (or its fallback file) has it, and the file goes when
// it is empty. One that cannot be moved stays there, so nothing is lost.
void KeychainSecretStore::takeLegacyKeys()
{
    if (m_legacyFile.isEmpty() || !QFile::exists(m_legacyFile))
        return;
    const QJsonObject old = KeychainStore::loadFile(m_legacyFile);
    int moving = 0;
    for (auto it = old.begin(); it != old.end(); ++it) {
        const QString key = it.key();
        const QString value = it.value().toString();
        if (value.isEmpty())
            continue;
        m_cache.insert(key, value);
        m_index.insert(key);
        ++m_loads; // ready() waits until the key is safe in its new place
        ++moving;
        m_keychain->write(entryName(key), value, this, [this, key, value](bool ok, const QString &error) {
            if (ok)
                dropLegacyKey(key, value);
            else
                qCWarning(lcClient).noquote()
                    << "could not move" << key << "into the keychain, it stays in" << m_legacyFile << error;
            --m_loads;
            finishLoading();
        });
    }
    if (moving > 0)
        qCInfo(lcClient).noquote() << "moving the API keys of" << m_legacyFile
                                   << "to the keychain:" << moving;
}

// Removes `key` from the old file (only while it still holds `onlyIfValue`, when given): a key
// written or removed here must not come back from that file at the next start.
void KeychainSecretStore::dropLegacyKey(const QString &key, const QString &onlyIfValue)
{
    if (m_legacyFile.isEmpty() || !QFile::exists(m_legacyFile))
        return;
    QJsonObject old = KeychainStore::loadFile(m_legacyFile);
    if (!old.contains(key) || (!onlyIfValue.isEmpty() && old.value(key).toString() != onlyIfValue))
        return;
    old.remove(key);
    QString error;
    const bool ok =
        old.isEmpty() ? QFile::remove(m_legacyFile) : KeychainStore::saveFile(m_legacyFile, old, &error);
    if (!ok)
        qCWarning(lcClient).noquote() << "cannot update" << m_legacyFile << error;
}

void KeychainSecretStore::load(const QString &key)
{
    ++m_loads;
    m_keychain->read(
        entryName(key), this, [this, key](bool found, const QString &value, const QString &error) {
            if (!m_touched.contains(key)) {
                if (found)
                    m_cache.insert(key, value);
                else if (error.isEmpty())
                    m_index.remove(key); // gone from the keychain: the index forgets it too
                else
                    qCWarning(lcClient).noquote() << "cannot read" << key << "from the keychain:" << error;
            }
            --m_loads;
            finishLoading();
        });
}

void KeychainSecretStore::finishLoading()
{
    if (m_loads > 0 || m_ready)
        return;
    m_ready = true;
    if (m_index != m_storedIndex)
        saveIndex();
    Q_EMIT ready();
}

QString KeychainSecretStore::read(const QString &key) const
{
    const auto it = m_cache.constFind(key);
    if (it != m_cache.cend())
        return *it;
    // A key the index does not name (a crash between two keychain jobs, an entry edited by
    // hand) is looked up once, so it serves from the next request on.
    if (m_ready && !m_touched.contains(key) && !m_probed.contains(key))
        const_cast<KeychainSecretStore *>(this)->probe(key);
    return {};
}

void KeychainSecretStore::probe(const QString &key)
{
    m_probed.insert(key);
    m_keychain->read(entryName(key), this, [this, key](bool found, const QString &value, const QString &) {
        if (!found || m_touched.contains(key) || m_cache.contains(key))
            return;
        qCInfo(lcClient).noquote() << "found" << key << "in the keychain outside its index";
        m_cache.insert(key, value);
        addToIndex(key);
    });
}

bool KeychainSecretStore::write(const QString &key, const QString &value)
{
    m_touched.insert(key);
    m_cache.insert(key, value);
    addToIndex(key); // the index first: a key the index misses is found only by a lookup
    dropLegacyKey(key);
    writeStarted();
    m_keychain->write(entryName(key), value, this, [this, key](bool ok, const QString &error) {
        if (!ok)
            qCWarning(lcClient).noquote() << "could not store" << key << "in the keychain:" << error;
        writeDone();
    });
    return true;
}

bool KeychainSecretStore::remove(const QString &key)
{
    m_touched.insert(key);
    m_cache.remove(key);
    removeFromIndex(key);
    dropLegacyKey(key);
    writeStarted();
    m_keychain->remove(entryName(key), this, [this, key](bool ok, const QString &error) {
        if (!ok)
            qCWarning(lcClient).noquote() << "could not remove" << key << "from the keychain:" << error;
        writeDone();
    });
    return true;
}

void KeychainSecretStore::addToIndex(const QString &key)
{
    if (m_index.contains(key))
        return;
    m_index.insert(key);
    if (m_ready) // before that, finishLoading() saves what the load found and this added
        saveIndex();
}

void KeychainSecretStore::removeFromIndex(const QString &key)
{
    if (!m_index.remove(key))
        return;
    if (m_ready)
        saveIndex();
}

// One index write at a time, the latest state last: two jobs on one entry could land in
// either order.
void KeychainSecretStore::saveIndex()
{
    if (m_indexSaving) {
        m_indexDirty = true;
        return;
    }
    m_indexSaving = true;
    QStringList keys(m_index.cbegin(), m_index.cend());
    keys.sort();
    const QString json =
        QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(keys)).toJson(QJsonDocument::Compact));
    writeStarted();
    m_keychain->write(indexEntry(), json, this, [this](bool ok, const QString &error) {
        if (!ok)
            qCWarning(lcClient).noquote() << "could not save the keychain's list of API keys:" << error;
        m_indexSaving = false;
        if (std::exchange(m_indexDirty, false))
            saveIndex();
        writeDone();
    });
}

void KeychainSecretStore::writeDone()
{
    if (--m_writes == 0)
        Q_EMIT writesFinished();
}
