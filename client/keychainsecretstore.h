#pragma once

#include "config/secretstore.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>

class KeychainStore;

// The in-process backend's SecretStore (provider API keys) on the system keychain, through the
// window's KeychainStore and so with its 0600 file fallback and its notice when there is no
// keychain. The backend reads keys synchronously on the GUI thread, keychain jobs are
// asynchronous: values live in a write-through cache. write()/remove() update it at once and
// start the job; start() loads every stored key and then emits ready(), and the Server is
// started only after that, so no request leaves without its key. QtKeychain cannot list
// entries, so the store keeps an index entry naming its keys.
class KeychainSecretStore : public QObject, public SecretStore
{
    Q_OBJECT

public:
    // `legacyFile`: the 0600 secrets.json the backend kept in its data folder before; start()
    // moves its keys into the keychain and takes them out of that file.
    explicit KeychainSecretStore(KeychainStore *keychain, const QString &legacyFile = {},
                                 QObject *parent = nullptr);

    // Loads the keys (and moves the old file's); ready() follows, always from the event loop.
    void start();
    bool isReady() const { return m_ready; }
    // Keychain writes and removals still on their way (the app lets them land before it exits).
    bool hasPendingWrites() const { return m_writes > 0; }

    QString read(const QString &key) const override;
    // Both always succeed on the cache; a keychain failure is logged (the job ends later).
    bool write(const QString &key, const QString &value) override;
    bool remove(const QString &key) override;

    // The keychain entry of a backend key ("backend/provider/<id>"), and the index's entry.
    static QString entryName(const QString &key);
    static QString indexEntry();

Q_SIGNALS:
    void ready();
    void writesFinished();

private:
    void takeLegacyKeys();
    void dropLegacyKey(const QString &key, const QString &onlyIfValue = {});
    void load(const QString &key);
    void probe(const QString &key);
    void finishLoading();
    void addToIndex(const QString &key);
    void removeFromIndex(const QString &key);
    void saveIndex();
    void writeStarted() { ++m_writes; }
    void writeDone();

    KeychainStore *m_keychain;
    QString m_legacyFile;
    QHash<QString, QString> m_cache;
    QSet<QString> m_index;       // keys with a stored value, as the index entry should say
    QSet<QString> m_storedIndex; // what the index entry said at start
    QSet<QString> m_touched;     // written or removed here: a late load must not overwrite them
    QSet<QString> m_probed;      // looked up once after a cache miss
    int m_loads = 0;
    int m_writes = 0;
    bool m_started = false;
    bool m_ready = false;
    bool m_indexSaving = false;
    bool m_indexDirty = false;
};
