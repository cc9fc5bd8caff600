// bench_smoke: agentdesk-loadclient against an in-process fake upstream. Checks that it reads
// chunked streams split into small writes, parses every stamp and reports; no timing assertions.

#include "fakeupstream.h"

#include <QMap>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::StringLiterals;

class BenchSmokeTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void streams();
    void ttft();
    void refusesOtherHosts();

private:
    // Runs the client while this event loop serves the fake; the `result` lines as maps.
    QList<QMap<QString, QString>> run(const QStringList &arguments, QByteArray *output = nullptr);
    QString target(const QString &label) const;

    FakeUpstream m_fake;
};

void BenchSmokeTest::initTestCase()
{
    m_fake.setRecordRequests(false);
    QVERIFY(m_fake.listen());
}

QString BenchSmokeTest::target(const QString &label) const
{
    return label + u"=http://127.0.0.1:%1/v1/chat/completions"_s.arg(m_fake.port());
}

QList<QMap<QString, QString>> BenchSmokeTest::run(const QStringList &arguments, QByteArray *output)
{
    QProcess process;
    QSignalSpy finished(&process, &QProcess::finished);
    process.start(QStringLiteral(AGENTDESK_LOADCLIENT), arguments);
    if (!process.waitForStarted(5000) || !finished.wait(20000)) {
        process.kill();
        process.waitForFinished();
        return {};
    }
    const QByteArray out = process.readAllStandardOutput();
    if (output)
        *output = out + process.readAllStandardError();
    QList<QMap<QString, QString>> results;
    for (const QByteArray &line : out.split('\n')) {
        if (!line.startsWith("result "))
            continue;
        QMap<QString, QString> map;
        for (const QByteArray &pair : line.split(' ')) {
            const qsizetype eq = pair.indexOf('=');
            if (eq > 0)
                map.insert(QString::fromUtf8(pair.left(eq)), QString::fromUtf8(pair.mid(eq + 1)));
        }
        results.append(map);
    }
    return results;
}

void BenchSmokeTest::streams()
{
    // 5 streams of 20 frames, 10 ms apart, written in 7-byte pieces: every frame must be parsed.
    const QString body =
        uR"(fake={"model":"fake:tokens=20,delay=10,stamp=1,split=7","stream":true,"messages":[{"role":"user","content":"hi"}]})"_s;
    QByteArray output;
    const auto results = run({u"--mode"_s, u"streams"_s, u"--target"_s, target(u"fake"_s), u"--body"_s, body,
                              u"--concurrency"_s, u"5"_s, u"--frames"_s, u"20"_s, u"--settle-ms"_s, u"0"_s,
                              u"--timeout-s"_s, u"15"_s},
                             &output);
    QVERIFY2(results.size() == 1, output.constData());
    const auto &r = results.first();
    QCOMPARE(r.value(u"ok"_s), u"5"_s);
    QCOMPARE(r.value(u"failed"_s), u"0"_s);
    QCOMPARE(r.value(u"frames"_s), u"100"_s);
    QCOMPARE(r.value(u"missing"_s), u"0"_s);
    QCOMPARE(r.value(u"lat_n"_s), u"100"_s);
    QCOMPARE(r.value(u"ttft_n"_s), u"5"_s);
    QVERIFY(r.value(u"lat_p50_us"_s).toLongLong() >= 0);
    QVERIFY2(r.value(u"gap_p50_us"_s).toLongLong() >= 5000, output.constData()); // paced 10 ms apart
}

void BenchSmokeTest::ttft()
{
    // Two targets alternating; a missing frame count (tokens=3 where 4 are expected) is a failure.
    const QStringList args{
        u"--mode"_s,   u"ttft"_s,
        u"--target"_s, target(u"a"_s),
        u"--target"_s, target(u"b"_s),
        u"--body"_s,   uR"(a={"model":"fake:tokens=4,stamp=1","stream":true,"messages":[]})"_s,
        u"--body"_s,   uR"(b={"model":"fake:tokens=3,stamp=1","stream":true,"messages":[]})"_s,
        u"--frames"_s, u"4"_s,
        u"--rounds"_s, u"10"_s,
        u"--warmup"_s, u"2"_s};
    QByteArray output;
    const auto results = run(args, &output);
    QVERIFY2(results.size() == 2, output.constData());
    QCOMPARE(results.at(0).value(u"target"_s), u"a"_s);
    QCOMPARE(results.at(0).value(u"ok"_s), u"10"_s);
    QCOMPARE(results.at(0).value(u"ttft_n"_s), u"10"_s);
    QCOMPARE(results.at(0).value(u"lat_n"_s), u"40"_s);
    QCOMPARE(results.at(1).value(u"ok"_s), u"0"_s);
    QCOMPARE(results.at(1).value(u"failed"_s), u"10"_s);
    QVERIFY(results.at(1).value(u"fail_reasons"_s).startsWith(u"frames_3_of_4"_s));
    QVERIFY(output.contains("added target=b vs=a"));
}

void BenchSmokeTest::refusesOtherHosts()
{
    QProcess process;
    process.start(QStringLiteral(AGENTDESK_LOADCLIENT),
                  {u"--mode"_s, u"streams"_s, u"--target"_s, u"x=http://192.0.2.1:80/"_s});
    QVERIFY(process.waitForFinished(5000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(process.readAllStandardError().contains("non-loopback"));
}

QTEST_GUILESS_MAIN(BenchSmokeTest)
#include "tst_benchsmoke.moc"
