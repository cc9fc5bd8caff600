// ChatRequestDecoder: every way a chat request is refused, and what a valid one becomes.
#include "http/chatrequest.h"

#include <QTest>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

class ChatRequestTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void body_data();
    void body();
    void query_data();
    void query();
    void messageAtTheLimit();
    void parseObject();
    void attachmentsAndModel_data();
    void attachmentsAndModel();
    void editAndRegenerateBodies();
};

namespace {
const QString agent = u"0f8e6b1c-2a3d-4e5f-8a9b-0c1d2e3f4a5b"_s;
const QString session = u"1F8E6B1C-2A3D-4E5F-8A9B-0C1D2E3F4A5B"_s;
} // namespace

void ChatRequestTest::body_data()
{
    QTest::addColumn<QString>("agentId");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");

    QTest::newRow("ok") << agent << QByteArray(R"({"message":"hi"})") << 0 << QString();
    QTest::newRow("ok, whitespace between tokens")
        << agent << QByteArray("\r\n{\t\"message\" :\n\"hi\"\r\n}\n") << 0 << QString();
    QTest::newRow("ok, stream and session")
        << agent.toUpper()
        << QByteArray(R"({"message":"hi","stream":false,"session_id":")" + session.toUtf8() + "\"}") << 0
        << QString();
    QTest::newRow("null session and stream")
        << agent << QByteArray(R"({"message":"hi","stream":null,"session_id":null})") << 0 << QString();
    QTest::newRow("agent not uuid") << u"../../etc"_s << QByteArray(R"({"message":"hi"})") << 400
                                    << u"invalid_uuid"_s;
    QTest::newRow("agent braces") << u"{"_s + agent + u"}"_s << QByteArray("{}") << 400 << u"invalid_uuid"_s;
    QTest::newRow("agent checked before body")
        << u"x"_s << QByteArray("not json") << 400 << u"invalid_uuid"_s;
    QTest::newRow("empty body") << agent << QByteArray() << 400 << u"invalid_json"_s;
    QTest::newRow("blank body") << agent << QByteArray(" \r\n\t") << 400 << u"invalid_json"_s;
    QTest::newRow("not json") << agent << QByteArray("message=hi") << 400 << u"invalid_json"_s;
    QTest::newRow("array") << agent << QByteArray(R"(["hi"])") << 400 << u"invalid_json"_s;
    QTest::newRow("invalid utf-8") << agent << QByteArray("{\"message\":\"\xff\xfe\"}") << 400
                                   << u"invalid_json"_s;
    QTest::newRow("raw nul in string")
        << agent << QByteArray("{\"message\":\"a\0b\"}", 17) << 400 << u"invalid_json"_s;
    QTest::newRow("raw control char")
        << agent << QByteArray("{\"message\":\"a\x01b\"}") << 400 << u"invalid_json"_s;
    QTest::newRow("deep nesting") << agent << QByteArray("{\"message\":" + QByteArray(100000, '[')) << 400
                                  << u"invalid_json"_s;
    QTest::newRow("stream not bool") << agent << QByteArray(R"({"message":"hi","stream":"yes"})") << 400
                                     << u"invalid_field"_s;
    QTest::newRow("stream checked first")
        << agent << QByteArray(R"({"stream":1})") << 400 << u"invalid_field"_s;
    QTest::newRow("no message") << agent << QByteArray(R"({"text":"hi"})") << 400 << u"missing_message"_s;
    QTest::newRow("null message") << agent << QByteArray(R"({"message":null})") << 400
                                  << u"missing_message"_s;
    QTest::newRow("number message") << agent << QByteArray(R"({"message":42})") << 400 << u"invalid_field"_s;
    QTest::newRow("object message") << agent << QByteArray(R"({"message":{"a":1}})") << 400
                                    << u"invalid_field"_s;
    QTest::newRow("empty message") << agent << QByteArray(R"({"message":""})") << 400 << u"empty_message"_s;
    QTest::newRow("blank message") << agent << QByteArray(R"({"message":" \n\t "})") << 400
                                   << u"empty_message"_s;
    QTest::newRow("long message") << agent
                                  << QByteArray(R"({"message":")" +
                                                QByteArray(ChatRequestDecoder::maxMessageLength + 1, 'a') +
                                                "\"}")
                                  << 413 << u"payload_too_large"_s;
    QTest::newRow("session number") << agent << QByteArray(R"({"message":"hi","session_id":7})") << 400
                                    << u"invalid_uuid"_s;
    QTest::newRow("session not uuid")
        << agent << QByteArray(R"({"message":"hi","session_id":"1' OR '1'='1"})") << 400 << u"invalid_uuid"_s;
    QTest::newRow("session empty") << agent << QByteArray(R"({"message":"hi","session_id":""})") << 400
                                   << u"invalid_uuid"_s;
}

void ChatRequestTest::body()
{
    QFETCH(QString, agentId);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    const ChatRequestDecoder::Result result = ChatRequestDecoder::fromBody(agentId, body);
    QCOMPARE(result.error.status, status);
    QCOMPARE(result.error.code, code);
    QCOMPARE(result.ok(), status == 0);
    if (result.ok()) {
        QCOMPARE(result.input.agentId, agent);
        QCOMPARE(result.input.message, u"hi"_s);
        if (body.contains("session_id\":\""))
            QCOMPARE(result.input.sessionId, session.toLower());
        else
            QVERIFY(result.input.sessionId.isEmpty());
    } else {
        QVERIFY(!result.error.message.isEmpty());
    }
}

void ChatRequestTest::query_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("message");

    QTest::newRow("ok") << u"message=hi"_s << 0 << QString() << u"hi"_s;
    QTest::newRow("encoded") << u"message=%E4%BD%A0%E5%A5%BD%20%26&session_id="_s + session << 0 << QString()
                             << u"你好 &"_s;
    QTest::newRow("no message") << u"session_id="_s + session << 400 << u"missing_message"_s << QString();
    QTest::newRow("empty message") << u"message="_s << 400 << u"empty_message"_s << QString();
    QTest::newRow("bad session") << u"message=hi&session_id=..%2F.."_s << 400 << u"invalid_uuid"_s
                                 << QString();
    QTest::newRow("empty session") << u"message=hi&session_id="_s << 400 << u"invalid_uuid"_s << QString();
}

void ChatRequestTest::query()
{
    QFETCH(QString, query);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, message);
    const ChatRequestDecoder::Result result = ChatRequestDecoder::fromQuery(agent, QUrlQuery(query));
    QCOMPARE(result.error.status, status);
    QCOMPARE(result.error.code, code);
    if (result.ok())
        QCOMPARE(result.input.message, message);
}

void ChatRequestTest::messageAtTheLimit()
{
    const QByteArray body = R"({"message":")" + QByteArray(ChatRequestDecoder::maxMessageLength, 'a') + "\"}";
    const auto result = ChatRequestDecoder::fromBody(agent, body);
    QVERIFY(result.ok());
    QCOMPARE(result.input.message.size(), ChatRequestDecoder::maxMessageLength);
}

void ChatRequestTest::parseObject()
{
    QJsonObject object;
    QVERIFY(!ChatRequestDecoder::parseObject(R"({"a":1})", &object).isError());
    QCOMPARE(object.value(u"a"_s).toInt(), 1);
    const ApiError error = ChatRequestDecoder::parseObject("{\"a\":", &object);
    QCOMPARE(error.status, 400);
    QCOMPARE(error.code, u"invalid_json"_s);
    QVERIFY2(error.message.contains(u"offset"_s), qPrintable(error.message));
}

void ChatRequestTest::attachmentsAndModel_data()
{
    const QByteArray file = "\"5F0C8C1E-8F5A-4E55-9D5E-1B2A3C4D5E6F\"";
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QStringList>("attachments");
    QTest::addColumn<QString>("model"); // "<none>": not given
    const QStringList one{u"5f0c8c1e-8f5a-4e55-9d5e-1b2a3c4d5e6f"_s};
    QTest::newRow("files") << "{\"message\":\"hi\",\"attachments\":[" + file + "]}" << QString() << one
                           << u"<none>"_s;
    QTest::newRow("files without words")
        << "{\"attachments\":[" + file + "," + file + "]}" << QString() << one << u"<none>"_s;
    QTest::newRow("blank words with files")
        << "{\"message\":\"  \",\"attachments\":[" + file + "]}" << QString() << one << u"<none>"_s;
    QTest::newRow("no words, no files")
        << QByteArray("{\"attachments\":[]}") << u"missing_message"_s << QStringList() << QString();
    QTest::newRow("not a list") << QByteArray("{\"message\":\"hi\",\"attachments\":\"x\"}")
                                << u"invalid_field"_s << QStringList() << QString();
    QTest::newRow("not an id") << QByteArray("{\"message\":\"hi\",\"attachments\":[\"../x\"]}")
                               << u"invalid_uuid"_s << QStringList() << QString();
    QTest::newRow("model") << QByteArray("{\"message\":\"hi\",\"model\":\" gpt-4o \"}") << QString()
                           << QStringList() << u"gpt-4o"_s;
    QTest::newRow("model cleared") << QByteArray("{\"message\":\"hi\",\"model\":null}") << QString()
                                   << QStringList() << QString();
    QTest::newRow("model not text") << QByteArray("{\"message\":\"hi\",\"model\":1}") << u"invalid_field"_s
                                    << QStringList() << QString();
}

void ChatRequestTest::attachmentsAndModel()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, code);
    QFETCH(QStringList, attachments);
    QFETCH(QString, model);
    const auto result = ChatRequestDecoder::fromBody(agent, body);
    QCOMPARE(result.error.code, code);
    if (!code.isEmpty())
        return;
    QCOMPARE(result.input.attachments, attachments);
    QCOMPARE(result.input.model.has_value(), model != "<none>"_L1);
    if (result.input.model)
        QCOMPARE(*result.input.model, model);
}

void ChatRequestTest::editAndRegenerateBodies()
{
    // An edit without "attachments" keeps the message's files (its words may then be empty).
    auto result = ChatRequestDecoder::messageOnly("{\"message\":\"\"}");
    QVERIFY(result.ok());
    QVERIFY(!result.input.hasAttachments);
    result = ChatRequestDecoder::messageOnly("{\"message\":\"new\",\"attachments\":[]}");
    QVERIFY(result.ok());
    QVERIFY(result.input.hasAttachments && result.input.attachments.isEmpty());
    QCOMPARE(ChatRequestDecoder::messageOnly("{}").error.code, u"missing_message"_s);
    // Regenerating takes an empty body, or a model.
    QVERIFY(ChatRequestDecoder::optionsOnly({}).ok());
    result = ChatRequestDecoder::optionsOnly("{\"model\":\"o3\"}");
    QCOMPARE(result.input.model.value_or(QString()), u"o3"_s);
    QCOMPARE(ChatRequestDecoder::optionsOnly("[1]").error.code, u"invalid_json"_s);
    // EventSource's query.
    const auto query = ChatRequestDecoder::fromQuery(
        agent,
        QUrlQuery(
            u"attachments=5f0c8c1e-8f5a-4e55-9d5e-1b2a3c4d5e6f,5F0C8C1E-8F5A-4E55-9D5E-1B2A3C4D5E6E&model=m"_s));
    QVERIFY(query.ok());
    QCOMPARE(query.input.attachments.size(), 2);
    QCOMPARE(query.input.model.value_or(QString()), u"m"_s);
    // A query without a model keeps the session's (none given is not "back to the agent's").
    const auto plainQuery = ChatRequestDecoder::fromQuery(agent, QUrlQuery(u"message=hi"_s));
    QVERIFY(plainQuery.ok());
    QVERIFY(!plainQuery.input.model.has_value());
    QVERIFY(!plainQuery.input.hasAttachments);
    // Too many ids are refused before any is looked at.
    QStringList many;
    for (int i = 0; i < 41; ++i)
        many.append(u"5f0c8c1e-8f5a-4e55-9d5e-1b2a3c4d5e%1"_s.arg(i, 2, 10, QChar(u'0')));
    QCOMPARE(ChatRequestDecoder::fromQuery(agent, QUrlQuery(u"message=hi&attachments="_s + many.join(u',')))
                 .error.code,
             u"too_many_attachments"_s);
}

QTEST_GUILESS_MAIN(ChatRequestTest)
#include "tst_chatrequest.moc"
