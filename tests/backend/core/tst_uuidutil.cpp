// Ids: version 7 UUIDs (RFC 9562) in the canonical form, ordered by the time they were made.
#include "core/uuidutil.h"

#include <QDateTime>
#include <QSet>
#include <QTest>
#include <QThread>
#include <QUuid>

using namespace Qt::StringLiterals;

class UuidUtilTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void versionSevenInCanonicalForm();
    void timeOrderedAndUnique();
    void validity();
};

void UuidUtilTest::versionSevenInCanonicalForm()
{
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const QString id = Uuid::create();
    const qint64 after = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(id.size(), 36);
    QCOMPARE(id, id.toLower());
    const QUuid uuid = QUuid::fromString(id);
    QVERIFY(!uuid.isNull());
    // Qt 6.4's QUuid::version() knows versions 1 to 5 only: the nibbles as written.
    QCOMPARE(id.at(14), u'7');
    QVERIFY(u"89ab"_s.contains(id.at(19))); // the variant bits 10
    QCOMPARE(uuid.variant(), QUuid::DCE);
    // The first 48 bits are the Unix time in milliseconds.
    const qint64 ms = id.left(8).toLongLong(nullptr, 16) << 16 | id.mid(9, 4).toLongLong(nullptr, 16);
    QVERIFY2(ms >= before && ms <= after, qPrintable(id));
}

void UuidUtilTest::timeOrderedAndUnique()
{
    QSet<QString> seen;
    QString previous = Uuid::create();
    for (int i = 0; i < 20; ++i) {
        QThread::msleep(2); // ids of one millisecond are in random order among themselves
        const QString next = Uuid::create();
        QVERIFY2(next > previous, qPrintable(previous + u" then "_s + next));
        previous = next;
    }
    for (int i = 0; i < 10000; ++i)
        seen.insert(Uuid::create());
    QCOMPARE(seen.size(), 10000);
}

void UuidUtilTest::validity()
{
    QVERIFY(Uuid::isValid(Uuid::create()));
    QVERIFY(Uuid::isValid(Uuid::create().toUpper()));
    QVERIFY(Uuid::isValid(QUuid::createUuid().toString(QUuid::WithoutBraces))); // ids made before (v4)
    QVERIFY(!Uuid::isValid(QUuid::createUuid().toString()));                    // braces
    QVERIFY(!Uuid::isValid(u"not-a-uuid"_s));
    QVERIFY(!Uuid::isValid(QString()));
}

QTEST_GUILESS_MAIN(UuidUtilTest)
#include "tst_uuidutil.moc"
