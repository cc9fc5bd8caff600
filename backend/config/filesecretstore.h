#pragma once

#include "secretstore.h"

#include <QHash>
#include <QMutex>

// Secrets in a JSON file readable by its owner only (0600), rewritten atomically. Safe from any
// thread: every loop of the server reads its providers' keys.
class FileSecretStore : public SecretStore
{
public:
    explicit FileSecretStore(const QString &path);

    QString read(const QString &key) const override;
    bool write(const QString &key, const QString &value) override;
    bool remove(const QString &key) override;

    QString path() const { return m_path; }

private:
    bool save() const;

    QString m_path;
    mutable QMutex m_lock;
    QHash<QString, QString> m_values;
};
