// CompletionRequest::decode: what POST /v1/chat/completions accepts, how it becomes the caller's
// part of a ChatRequest, and the field each refusal names, as OpenAI names them.
#include "openai/completionrequest.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
const QByteArray png = QByteArray::fromBase64(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QJsonObject withMessages(const QJsonArray &messages, const QJsonObject &extra = {})
{
    QJsonObject body{{u"model"_s, u"helper"_s}, {u"messages"_s, messages}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        body.insert(it.key(), it.value());
    return body;
}

const QJsonObject hello{{u"role"_s, u"user"_s}, {u"content"_s, u"你好"_s}};
} // namespace

class CompletionRequestTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void conversationAsGiven();
    void toolsAndSettings();
    void recordOfAToolFollowUp();
    void refusals_data();
    void refusals();
};

void CompletionRequestTest::conversationAsGiven()
{
    const QJsonArray messages{
        QJsonObject{{u"role"_s, u"developer"_s}, {u"content"_s, u"Answer in French."_s}},
        QJsonObject{
            {u"role"_s, u"user"_s},
            {u"content"_s,
             QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"What is this?"_s}},
                        QJsonObject{{u"type"_s, u"image_url"_s},
                                    {u"image_url"_s,
                                     QJsonObject{{u"url"_s, u"data:image/png;base64,"_s +
                                                                QString::fromLatin1(png.toBase64())}}}}}}},
    };
    const auto result = CompletionRequest::decode(json(withMessages(
        messages, {{u"stream"_s, true}, {u"stream_options"_s, QJsonObject{{u"include_usage"_s, true}}}})));
    QVERIFY2(result.ok(), qPrintable(result.error.message));
    const CompletionRequest &r = result.request;
    QCOMPARE(r.model, u"helper"_s);
    QVERIFY(r.stream && r.includeUsage);
    QCOMPARE(r.caller.messages.size(), 2);
    QCOMPARE(r.caller.messages.at(0).role, u"system"_s); // developer is the system's newer name
    QCOMPARE(r.caller.messages.at(1).content, u"What is this?"_s);
    QCOMPARE(r.caller.messages.at(1).images.size(), 1);
    QCOMPARE(r.caller.messages.at(1).images.first().mediaType, u"image/png"_s);
    QCOMPARE(r.caller.messages.at(1).images.first().data, png);
    QCOMPARE(r.record, u"What is this?\n[1 image(s)]"_s);
    QVERIFY(r.caller.toolChoice.isUndefined());
}

void CompletionRequestTest::toolsAndSettings()
{
    const QJsonArray tools{QJsonObject{
        {u"type"_s, u"function"_s},
        {u"function"_s, QJsonObject{{u"name"_s, u"get_weather"_s}, {u"description"_s, u"Weather"_s}}}}};
    const auto result = CompletionRequest::decode(json(withMessages(
        {hello},
        {{u"tools"_s, tools},
         {u"tool_choice"_s, QJsonObject{{u"type"_s, u"function"_s},
                                        {u"function"_s, QJsonObject{{u"name"_s, u"get_weather"_s}}}}},
         {u"parallel_tool_calls"_s, false},
         {u"temperature"_s, 0.2},
         {u"max_tokens"_s, 99},
         {u"max_completion_tokens"_s, 50},
         {u"stop"_s, u"END"_s},
         {u"seed"_s, 7},
         {u"n"_s, 1},
         {u"user"_s, u"someone"_s}})));
    QVERIFY2(result.ok(), qPrintable(result.error.message));
    const ChatRequest &c = result.request.caller;
    QCOMPARE(c.tools.size(), 1);
    // No parameters: an empty object schema, which every provider takes.
    QCOMPARE(c.tools.at(0)[u"function"_s][u"parameters"_s][u"type"_s].toString(), u"object"_s);
    QCOMPARE(c.toolChoice.toObject().value("function"_L1)[u"name"_s].toString(), u"get_weather"_s);
    QCOMPARE(c.parallelToolCalls, std::optional<bool>(false));
    QCOMPARE(c.temperature, std::optional<double>(0.2));
    QCOMPARE(c.maxTokens, std::optional<int>(50)); // the newer name wins
    QCOMPARE(c.stop, QStringList{u"END"_s});
    QCOMPARE(c.seed, std::optional<qint64>(7));
    QCOMPARE(result.request.record, u"你好"_s);
}

void CompletionRequestTest::recordOfAToolFollowUp()
{
    const QJsonArray messages{
        hello,
        QJsonObject{{u"role"_s, u"assistant"_s},
                    {u"content"_s, QJsonValue()},
                    {u"tool_calls"_s,
                     QJsonArray{QJsonObject{{u"id"_s, u"call_1"_s},
                                            {u"type"_s, u"function"_s},
                                            {u"function"_s, QJsonObject{{u"name"_s, u"get_weather"_s},
                                                                        {u"arguments"_s, u"{}"_s}}}}}}},
        QJsonObject{{u"role"_s, u"tool"_s}, {u"tool_call_id"_s, u"call_1"_s}, {u"content"_s, u"18°C"_s}},
    };
    const auto result = CompletionRequest::decode(json(withMessages(messages)));
    QVERIFY2(result.ok(), qPrintable(result.error.message));
    QCOMPARE(result.request.caller.messages.at(1).toolCalls.size(), 1);
    QCOMPARE(result.request.caller.messages.at(2).toolCallId, u"call_1"_s);
    QCOMPARE(result.request.record, u"Tool results:\n[call_1] 18°C"_s);
}

void CompletionRequestTest::refusals_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("param");
    QTest::addColumn<QString>("code");
    const auto row = [](const char *name, const QJsonObject &body, const QString &param,
                        const QString &code) {
        QTest::newRow(name) << json(body) << param << code;
    };
    QTest::newRow("not JSON") << QByteArray("{\"model\":") << QString() << u"invalid_json"_s;
    QTest::newRow("an array") << QByteArray("[]") << QString() << u"invalid_json"_s;
    row("no model", QJsonObject{{u"messages"_s, QJsonArray{hello}}}, u"model"_s,
        u"missing_required_parameter"_s);
    row("model not a string", withMessages({hello}, {{u"model"_s, 3}}), u"model"_s, u"invalid_value"_s);
    row("no messages", QJsonObject{{u"model"_s, u"m"_s}}, u"messages"_s, u"missing_required_parameter"_s);
    row("empty messages", withMessages({}), u"messages"_s, u"invalid_value"_s);
    row("n = 2", withMessages({hello}, {{u"n"_s, 2}}), u"n"_s, u"invalid_value"_s);
    row("stream_options without stream",
        withMessages({hello}, {{u"stream_options"_s, QJsonObject{{u"include_usage"_s, true}}}}),
        u"stream_options"_s, u"invalid_value"_s);
    row("stream not bool", withMessages({hello}, {{u"stream"_s, u"yes"_s}}), u"stream"_s, u"invalid_type"_s);
    row("unknown role", withMessages({QJsonObject{{u"role"_s, u"robot"_s}, {u"content"_s, u"x"_s}}}),
        u"messages[0].role"_s, u"invalid_value"_s);
    row("message not an object", withMessages({hello, 5}), u"messages[1]"_s, u"invalid_type"_s);
    row("content a number", withMessages({QJsonObject{{u"role"_s, u"user"_s}, {u"content"_s, 5}}}),
        u"messages[0].content"_s, u"invalid_type"_s);
    row("audio part",
        withMessages({QJsonObject{{u"role"_s, u"user"_s},
                                  {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"input_audio"_s}}}}}}),
        u"messages[0].content[0]"_s, u"invalid_value"_s);
    const auto image = [](const QString &url) {
        return withMessages({QJsonObject{
            {u"role"_s, u"user"_s},
            {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"text"_s}, {u"text"_s, u"x"_s}},
                                      QJsonObject{{u"type"_s, u"image_url"_s},
                                                  {u"image_url"_s, QJsonObject{{u"url"_s, url}}}}}}}});
    };
    row("image by URL", image(u"https://example.com/cat.png"_s), u"messages[0].content[1].image_url.url"_s,
        u"invalid_value"_s);
    row("image not base64", image(u"data:image/png;base64,@@@@"_s), u"messages[0].content[1].image_url.url"_s,
        u"invalid_value"_s);
    row("image that is text", image(u"data:image/png;base64,aGVsbG8gd29ybGQ="_s),
        u"messages[0].content[1].image_url.url"_s, u"invalid_image_format"_s);
    row("image in a system message",
        withMessages({QJsonObject{{u"role"_s, u"system"_s},
                                  {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"image_url"_s}}}}}}),
        u"messages[0].content[0]"_s, u"invalid_value"_s);
    row("tool without id", withMessages({hello, QJsonObject{{u"role"_s, u"tool"_s}, {u"content"_s, u"x"_s}}}),
        u"messages[1].tool_call_id"_s, u"missing_required_parameter"_s);
    row("tool call without name",
        withMessages({QJsonObject{{u"role"_s, u"assistant"_s},
                                  {u"tool_calls"_s, QJsonArray{QJsonObject{{u"id"_s, u"c"_s}}}}}}),
        u"messages[0].tool_calls[0]"_s, u"invalid_value"_s);
    const QJsonObject fn{{u"type"_s, u"function"_s}, {u"function"_s, QJsonObject{{u"name"_s, u"f"_s}}}};
    row("tool of another type",
        withMessages({hello}, {{u"tools"_s, QJsonArray{QJsonObject{{u"type"_s, u"web"_s}}}}}),
        u"tools[0].type"_s, u"invalid_value"_s);
    row("tool name with spaces",
        withMessages({hello},
                     {{u"tools"_s, QJsonArray{QJsonObject{
                                       {u"type"_s, u"function"_s},
                                       {u"function"_s, QJsonObject{{u"name"_s, u"get weather"_s}}}}}}}),
        u"tools[0].function.name"_s, u"invalid_value"_s);
    row("two tools of one name", withMessages({hello}, {{u"tools"_s, QJsonArray{fn, fn}}}),
        u"tools[1].function.name"_s, u"invalid_value"_s);
    row("tool_choice unknown",
        withMessages({hello}, {{u"tools"_s, QJsonArray{fn}}, {u"tool_choice"_s, u"always"_s}}),
        u"tool_choice"_s, u"invalid_value"_s);
    row("tool_choice names another",
        withMessages({hello},
                     {{u"tools"_s, QJsonArray{fn}},
                      {u"tool_choice"_s, QJsonObject{{u"type"_s, u"function"_s},
                                                     {u"function"_s, QJsonObject{{u"name"_s, u"g"_s}}}}}}),
        u"tool_choice"_s, u"invalid_value"_s);
    row("required without tools", withMessages({hello}, {{u"tool_choice"_s, u"required"_s}}),
        u"tool_choice"_s, u"invalid_value"_s);
    row("temperature 3", withMessages({hello}, {{u"temperature"_s, 3}}), u"temperature"_s,
        u"invalid_value"_s);
    row("max_tokens 0", withMessages({hello}, {{u"max_tokens"_s, 0}}), u"max_tokens"_s, u"invalid_value"_s);
    row("max_completion_tokens 1.5", withMessages({hello}, {{u"max_completion_tokens"_s, 1.5}}),
        u"max_completion_tokens"_s, u"invalid_value"_s);
    row("five stops",
        withMessages({hello}, {{u"stop"_s, QJsonArray{u"a"_s, u"b"_s, u"c"_s, u"d"_s, u"e"_s}}}), u"stop"_s,
        u"invalid_value"_s);
    row("seed 1.5", withMessages({hello}, {{u"seed"_s, 1.5}}), u"seed"_s, u"invalid_type"_s);
}

void CompletionRequestTest::refusals()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, param);
    QFETCH(QString, code);
    const auto result = CompletionRequest::decode(body);
    QVERIFY(!result.ok());
    QCOMPARE(result.error.status, 400);
    QCOMPARE(result.error.param, param);
    QCOMPARE(result.error.code, code);
    QVERIFY(!result.error.message.isEmpty());
    const QJsonObject error = result.error.body().value("error"_L1).toObject();
    QCOMPARE(error.value("type"_L1).toString(), u"invalid_request_error"_s);
    QCOMPARE(error.keys(), (QStringList{u"code"_s, u"message"_s, u"param"_s, u"type"_s}));
}

QTEST_GUILESS_MAIN(CompletionRequestTest)
#include "tst_completionrequest.moc"
