// Fuzz target: OpenAiChunkReader (backend/llm/openaichunkreader.*), differential against Qt: a chunk
// the simdjson reader accepts must be valid JSON to QJsonDocument and say the same text, finish
// reason and model; anything it might read otherwise it must leave to Qt.
#include "fuzzutil.h"
#include "llm/openaichunkreader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

namespace {
QString text(std::string_view view)
{
    return QString::fromUtf8(view.data(), qsizetype(view.size()));
}

bool absentOrNull(const QJsonObject &object, const char *key)
{
    const QJsonValue value = object.value(QLatin1String(key));
    return value.isUndefined() || value.isNull();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray json(reinterpret_cast<const char *>(data), qsizetype(size));
    OpenAiChunkReader::Chunk chunk;
    if (!OpenAiChunkReader::read(json, chunk))
        return 0;

    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    FUZZ_CHECK(error.error == QJsonParseError::NoError && doc.isObject());
    const QJsonObject object = doc.object();
    FUZZ_CHECK(absentOrNull(object, "usage") && absentOrNull(object, "error"));
    FUZZ_CHECK(text(chunk.model) == object.value(QLatin1String("model")).toString());
    const QJsonValue choices = object.value(QLatin1String("choices"));
    FUZZ_CHECK(choices.isArray() && choices.toArray().size() == 1);
    const QJsonValue choiceValue = choices.toArray().first();
    FUZZ_CHECK(choiceValue.isObject());
    const QJsonObject choice = choiceValue.toObject();
    FUZZ_CHECK(choice.value(QLatin1String("index")).toInt(-1) == 0 ||
               choice.value(QLatin1String("index")).isUndefined());
    FUZZ_CHECK(text(chunk.finishReason) == choice.value(QLatin1String("finish_reason")).toString());
    const QJsonObject delta = choice.value(QLatin1String("delta")).toObject();
    const QJsonValue content = delta.value(QLatin1String("content"));
    FUZZ_CHECK(content.isString() == chunk.hasContent);
    FUZZ_CHECK(text(chunk.content) == content.toString());
    for (const char *key : {"reasoning_content", "reasoning", "tool_calls", "function_call"})
        FUZZ_CHECK(absentOrNull(delta, key));
    return 0;
}
