#include "servertext.h"

#include <QCoreApplication>
#include <QTest>
#include <QTranslator>

using namespace Qt::StringLiterals;

// The server's error sentences (as backend/chat/chatturn.cpp and providerresolver.cpp write
// them) said in the window's language, with what they name kept.
class ServerTextTest : public QObject
{
    Q_OBJECT

private:
    static QStringList serverSentences()
    {
        return {
            u"Cannot reach the model provider \u201cenv\u201d at http://127.0.0.1:9/v1: Connection refused"_s,
            u"Cannot reach the model provider: Host not found"_s,
            u"The model provider \u201cdeepseek\u201d refused the API key (HTTP 401: Invalid key). Check the provider's API key in Settings."_s,
            u"The model provider \u201clocal\u201d answered HTTP 429: Rate limit reached"_s,
            u"The model provider at https://api.example.com/v1: Operation timed out"_s,
            u"The agent's provider \"work\" is not configured"_s,
            u"The reply failed"_s,
        };
    }

private Q_SLOTS:
    void englishIsWhatTheServerWrote()
    {
        for (const QString &s : serverSentences())
            QCOMPARE(ServerText::localized(s), s);
        QCOMPARE(ServerText::localized(u"Something else entirely"_s), u"Something else entirely"_s);
        QCOMPARE(ServerText::localized(QString()), QString());
    }

    void chineseKeepsNamesAndDetails()
    {
        QTranslator zh;
        QVERIFY(zh.load(u":/i18n/agentdesk_zh_CN.qm"_s));
        QCoreApplication::installTranslator(&zh);
        const QStringList sentences = serverSentences();
        QStringList said;
        for (const QString &s : sentences)
            said.append(ServerText::localized(s));
        QCoreApplication::removeTranslator(&zh);

        for (qsizetype i = 0; i < said.size(); ++i) {
            QVERIFY2(said.at(i) != sentences.at(i), qPrintable(said.at(i)));
            bool chinese = false;
            for (const QChar c : said.at(i))
                chinese = chinese || c.script() == QChar::Script_Han;
            QVERIFY2(chinese, qPrintable(said.at(i)));
        }
        QVERIFY(said.at(0).contains(u"\u201cenv\u201d"_s));
        QVERIFY(said.at(0).contains(u"http://127.0.0.1:9/v1"_s));
        QVERIFY(said.at(0).contains(u"Connection refused"_s)); // the upstream's own words
        QVERIFY(said.at(2).contains(u"401"_s));
        QVERIFY(said.at(2).contains(u"Invalid key"_s));
        QVERIFY(said.at(3).contains(u"429"_s));
        QVERIFY(said.at(4).contains(u"https://api.example.com/v1"_s));
        QVERIFY(said.at(5).contains(u"work"_s));
    }
};

QTEST_GUILESS_MAIN(ServerTextTest)
#include "tst_servertext.moc"
