#pragma once

#include "secretstore.h"

#include <QHash>

// Secrets in a JSON file readable by its owner only (0600), rewritten atomically.
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
    QHash<QString, QString> m_values;
};
