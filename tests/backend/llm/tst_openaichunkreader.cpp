// OpenAiChunkReader: the common chunk of an OpenAI-style stream read with simdjson, and everything
// else left to QJsonDocument. What it accepts must read exactly as Qt reads it (the same check
// runs on random input in fuzz_openaichunk).
#include "llm/openaichunkreader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;

class OpenAiChunkReaderTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void accepted_data();
    void accepted();
    void leftToQt_data();
    void leftToQt();
    void aLongChunkIsLeftToQt();
};

namespace {
QByteArray chunk(const QByteArray &delta, const QByteArray &finish = "null", const QByteArray &extra = {})
{
    return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1733580000,"model":"gpt-4o",)" +
           extra + R"("choices":[{"index":0,"delta":)" + delta + R"(,"logprobs":null,"finish_reason":)" +
           finish + "}]}";
}
} // namespace

void OpenAiChunkReaderTest::accepted_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("hasContent");
    QTest::addColumn<QString>("content");
    QTest::addColumn<QString>("finish");
    QTest::newRow("text") << chunk(R"({"content":"Hello"})") << true << u"Hello"_s << QString();
    QTest::newRow("role first") << chunk(R"({"role":"assistant","content":""})") << true << QString()
                                << QString();
    QTest::newRow("escapes and Chinese")
        << chunk(R"({"content":"\"a\"\\\n\t\u00e9 \ud83d\ude00 你好，世界"})") << true
        << u"\"a\"\\\n\t\u00e9 \U0001F600 你好，世界"_s << QString();
    QTest::newRow("null content") << chunk(R"({"content":null})") << false << QString() << QString();
    QTest::newRow("finish") << chunk("{}", R"("stop")") << false << QString() << u"stop"_s;
    QTest::newRow("usage null, fingerprint, reasoning null")
        << chunk(R"({"content":"x","reasoning_content":null,"tool_calls":null,"refusal":null})", "null",
                 R"("system_fingerprint":"fp_1","usage":null,"obfuscation":"abc",)")
        << true << u"x"_s << QString();
    QTest::newRow("whitespace") << QByteArray(
                                       " {\n \"choices\" : [ { \"delta\" : { \"content\" : \"y\" } } ] }\n")
                                << true << u"y"_s << QString();
}

void OpenAiChunkReaderTest::accepted()
{
    QFETCH(QByteArray, json);
    QFETCH(bool, hasContent);
    QFETCH(QString, content);
    QFETCH(QString, finish);
    OpenAiChunkReader::Chunk read;
    QVERIFY(OpenAiChunkReader::read(json, read));
    QCOMPARE(read.hasContent, hasContent);
    QCOMPARE(QString::fromUtf8(read.content.data(), qsizetype(read.content.size())), content);
    QCOMPARE(QString::fromUtf8(read.finishReason.data(), qsizetype(read.finishReason.size())), finish);

    // As Qt reads it.
    const QJsonObject object = QJsonDocument::fromJson(json).object();
    const QJsonObject choice = object.value("choices"_L1).toArray().first().toObject();
    const QJsonValue text = choice.value("delta"_L1).toObject().value("content"_L1);
    QCOMPARE(text.isString(), hasContent);
    QCOMPARE(text.toString(), content);
    QCOMPARE(choice.value("finish_reason"_L1).toString(), finish);
    QCOMPARE(QString::fromUtf8(read.model.data(), qsizetype(read.model.size())),
             object.value("model"_L1).toString());
}

void OpenAiChunkReaderTest::leftToQt_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::newRow("usage") << QByteArray(
        R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}})");
    QTest::newRow("usage with a choice") << chunk("{}", R"("stop")", R"("usage":{"prompt_tokens":3},)");
    QTest::newRow("no choices") << QByteArray(R"({"id":"x","model":"m"})");
    QTest::newRow("error") << QByteArray(R"({"error":{"message":"overloaded"}})");
    QTest::newRow("two choices") << QByteArray(
        R"({"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]})");
    QTest::newRow("index 1") << QByteArray(R"({"choices":[{"index":1,"delta":{"content":"b"}}]})");
    QTest::newRow("index 0.0") << QByteArray(R"({"choices":[{"index":0.0,"delta":{"content":"b"}}]})");
    QTest::newRow("tool call") << chunk(R"({"tool_calls":[{"index":0,"id":"c","function":{"name":"f"}}]})");
    QTest::newRow("reasoning") << chunk(R"({"reasoning_content":"think"})");
    QTest::newRow("reasoning, OpenRouter") << chunk(R"({"reasoning":"think"})");
    QTest::newRow("content not a string") << chunk(R"({"content":5})");
    QTest::newRow("finish not a string") << chunk("{}", "3");
    QTest::newRow("model not a string") << QByteArray(R"({"model":7,"choices":[{"delta":{"content":"a"}}]})");
    QTest::newRow("delta not an object") << chunk(R"("a")");
    QTest::newRow("content twice") << chunk(R"({"content":"a","content":"b"})");
    QTest::newRow("model twice") << QByteArray(R"({"model":"a","model":"b","choices":[{"delta":{}}]})");
    QTest::newRow("trailing bytes") << chunk(R"({"content":"a"})") + " x";
    QTest::newRow("two objects") << chunk(R"({"content":"a"})") + chunk(R"({"content":"b"})");
    QTest::newRow("cut") << chunk(R"({"content":"a"})").chopped(3);
    QTest::newRow("not UTF-8") << chunk("{\"content\":\"a\xff\"}");
    QTest::newRow("lone surrogate") << chunk(R"({"content":"\ud800"})");
    QTest::newRow("array") << QByteArray(R"([{"choices":[]}])");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("[DONE]") << QByteArray("[DONE]");
}

void OpenAiChunkReaderTest::leftToQt()
{
    QFETCH(QByteArray, json);
    OpenAiChunkReader::Chunk read;
    QVERIFY(!OpenAiChunkReader::read(json, read));
}

void OpenAiChunkReaderTest::aLongChunkIsLeftToQt()
{
    // Over 64 KiB (long tool arguments, a pasted document echoed): Qt reads it, and the reader
    // keeps no buffer that large per thread.
    const QByteArray text(70 * 1024, 'x');
    OpenAiChunkReader::Chunk read;
    QVERIFY(!OpenAiChunkReader::read(chunk("{\"content\":\"" + text + "\"}"), read));
    QVERIFY(OpenAiChunkReader::read(chunk(R"({"content":"short again"})"), read));
    QCOMPARE(read.content, std::string_view("short again"));
}

QTEST_GUILESS_MAIN(OpenAiChunkReaderTest)
#include "tst_openaichunkreader.moc"
