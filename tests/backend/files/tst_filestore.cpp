// FileStore on SQLite (bytes under the data directory) and PostgreSQL (bytes in file_blobs): the
// same bytes kept once, uploads claimed by the session that uses them (copied for a second
// session), the bytes gone with the last file that names them, unused uploads collected.
#include "files/filestore.h"
#include "storage/authstore.h"
#include "storage/sessionstore.h"
#include "storagetest.h"
#include "testfiles.h"

#include <QDir>
#include <QDirIterator>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class FileStoreTest : public StorageTest
{
    Q_OBJECT

public:
    FileStoreTest() : StorageTest(u"tst_filestore"_s) {}

private:
    QString m_alice, m_bob, m_agent;
    QTemporaryDir m_dir;

    void seed() override
    {
        addTenants();
        AuthStore auth(*m_db);
        m_alice = auth.ensureUser(m_acme, u"alice"_s)->id;
        m_bob = auth.ensureUser(m_acme, u"bob"_s)->id;
        m_agent = createAgent(m_acme, u"helper"_s);
        QVERIFY(!m_agent.isEmpty());
        QDir(m_dir.path() + u"/files"_s).removeRecursively();
    }

    FileStore store() { return FileStore(*m_db, m_dir.path() + u"/files"_s); }

    QString newSession(const QString &title)
    {
        Session session = makeSession(m_acme, m_alice, m_agent, title);
        return SessionStore(*m_db).createSession(session) ? session.id : QString();
    }

    FileRow upload(FileStore &files, const QByteArray &bytes, const QString &name,
                   const QString &sessionId = {})
    {
        FileRow row;
        row.tenantId = m_acme;
        row.userId = m_alice;
        row.sessionId = sessionId;
        row.mediaType = u"image/png"_s;
        row.name = name;
        row.width = 4;
        row.height = 4;
        return files.put(row, bytes).value_or(FileRow());
    }

    // Byte blobs kept: files on disk, or rows of file_blobs.
    int blobs()
    {
        if (m_backend.isPostgres())
            return TestBackend::scalar(*m_db, u"SELECT COUNT(*) FROM file_blobs"_s).toInt();
        int n = 0;
        QDirIterator it(m_dir.path() + u"/files"_s, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            it.next();
            ++n;
        }
        return n;
    }

private Q_SLOTS:
    void sameBytesKeptOnce();
    void scopedToTheOwner();
    void claimMovesAnUploadIntoItsSession();
    void deletingTheSessionDropsTheBytes();
    void unusedUploadsAreCollected();
};

void FileStoreTest::sameBytesKeptOnce()
{
    FileStore files = store();
    const QByteArray png = TestFiles::image(16, 16);
    const FileRow a = upload(files, png, u"a.png"_s);
    const FileRow b = upload(files, png, u"b.png"_s);
    QVERIFY(!a.id.isEmpty() && !b.id.isEmpty() && a.id != b.id);
    QCOMPARE(a.sha256, b.sha256);
    QCOMPARE(a.size, png.size());
    QCOMPARE(blobs(), 1);
    QCOMPARE(files.read(a), png);
    const FileRow c = upload(files, TestFiles::image(16, 16, "png", false, Qt::blue), u"c.png"_s);
    QCOMPARE(blobs(), 2);
    QCOMPARE(files.get(m_acme, m_alice, c.id)->width, 4);
}

void FileStoreTest::scopedToTheOwner()
{
    FileStore files = store();
    const FileRow a = upload(files, TestFiles::image(8, 8), u"mine.png"_s);
    QVERIFY(files.get(m_acme, m_alice, a.id));
    QVERIFY(!files.get(m_acme, m_bob, a.id));
    QVERIFY(!files.get(m_globex, m_alice, a.id));
    QVERIFY(!files.claim(m_acme, m_bob, newSession(u"bob's"_s), {a.id}));
}

void FileStoreTest::claimMovesAnUploadIntoItsSession()
{
    FileStore files = store();
    const FileRow a = upload(files, TestFiles::image(8, 8), u"a.png"_s);
    QVERIFY(a.sessionId.isEmpty());
    const QString first = newSession(u"first"_s);
    const auto claimed = files.claim(m_acme, m_alice, first, {a.id});
    QVERIFY(claimed && claimed->size() == 1);
    QCOMPARE(claimed->first().id, a.id); // an unused upload moves
    QCOMPARE(files.get(m_acme, m_alice, a.id)->sessionId, first);
    // Claimed again by its own session: nothing changes.
    QCOMPARE(files.claim(m_acme, m_alice, first, {a.id})->first().id, a.id);
    // Used in a second session: that one gets a copy of its own.
    const QString second = newSession(u"second"_s);
    const auto copied = files.claim(m_acme, m_alice, second, {a.id});
    QVERIFY(copied);
    QVERIFY(copied->first().id != a.id);
    QCOMPARE(copied->first().sessionId, second);
    QCOMPARE(copied->first().sha256, a.sha256);
    QCOMPARE(blobs(), 1);
}

void FileStoreTest::deletingTheSessionDropsTheBytes()
{
    FileStore files = store();
    const QByteArray shared = TestFiles::image(8, 8);
    const QString first = newSession(u"first"_s);
    const QString second = newSession(u"second"_s);
    upload(files, shared, u"a.png"_s, first);
    upload(files, shared, u"a.png"_s, second);
    const FileRow own = upload(files, TestFiles::image(9, 9), u"b.png"_s, first);
    QCOMPARE(blobs(), 2);

    QStringList hashes = files.hashesOf(first);
    QCOMPARE(hashes.size(), 2);
    QVERIFY(SessionStore(*m_db).remove(m_acme, m_alice, first));
    QCOMPARE(files.drop(hashes), 1); // the shared bytes stay for the second session
    QCOMPARE(blobs(), 1);
    QVERIFY(!files.get(m_acme, m_alice, own.id));

    hashes = files.hashesOf(second);
    QVERIFY(SessionStore(*m_db).remove(m_acme, m_alice, second));
    QCOMPARE(files.drop(hashes), 1);
    QCOMPARE(blobs(), 0);
}

void FileStoreTest::unusedUploadsAreCollected()
{
    FileStore files = store();
    const FileRow unused = upload(files, TestFiles::image(8, 8), u"never sent.png"_s);
    const FileRow used = upload(files, TestFiles::image(9, 9), u"sent.png"_s);
    QVERIFY(files.claim(m_acme, m_alice, newSession(u"s"_s), {used.id}));
    QCOMPARE(files.collectGarbage(), 0); // young: it may still be sent
    QTest::qWait(5);
    QCOMPARE(files.collectGarbage(1), 1);
    QVERIFY(!files.get(m_acme, m_alice, unused.id));
    QVERIFY(files.get(m_acme, m_alice, used.id));
    QCOMPARE(blobs(), 1);
}

QTEST_GUILESS_MAIN(FileStoreTest)
#include "tst_filestore.moc"
