#include "openaichunkreader.h"

#include <simdjson.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <utility>

using namespace simdjson;

namespace {
// Larger chunks are rare (long tool arguments) and would keep a large parser per thread.
constexpr size_t maxChunk = 64 * 1024;

// A field's key and value; false where it is not well-formed JSON.
template<typename Field> bool readField(Field &field, std::string_view &key, ondemand::value &value)
{
    return !field.unescaped_key().get(key) && !field.value().get(value);
}

// A key read a second time: which one counts is the JSON reader's choice; leave it to Qt's.
bool once(bool &seen)
{
    return !std::exchange(seen, true);
}

// Null, and nothing else.
bool isNull(ondemand::value value)
{
    bool null = false;
    return !value.is_null().get(null) && null;
}

// A value of no interest, read through all the same: On-Demand only checks what is read, and a
// chunk Qt would refuse must not pass here.
bool valid(ondemand::value value, int depth = 0)
{
    ondemand::json_type type;
    if (depth > 32 || value.type().get(type))
        return false;
    switch (type) {
    case ondemand::json_type::array: {
        ondemand::array array;
        if (value.get_array().get(array))
            return false;
        for (auto element : array) {
            ondemand::value item;
            if (element.get(item) || !valid(item, depth + 1))
                return false;
        }
        return true;
    }
    case ondemand::json_type::object: {
        ondemand::object object;
        if (value.get_object().get(object))
            return false;
        for (auto field : object) {
            std::string_view key;
            ondemand::value item;
            if (!readField(field, key, item) || !valid(item, depth + 1))
                return false;
        }
        return true;
    }
    case ondemand::json_type::number: {
        const std::string_view raw = value.raw_json_token();
        double number = 0;
        if (value.get_double().get(number) || !std::isfinite(number))
            return false;
        if (std::fabs(number) >= DBL_MIN)
            return true;
        // Zero or subnormal: Qt refuses a number that only rounds to it (1e-400).
        for (const char c : raw) {
            if (c == 'e' || c == 'E')
                break;
            if (c >= '1' && c <= '9')
                return false;
        }
        return true;
    }
    case ondemand::json_type::string: {
        std::string_view string;
        return !value.get_string().get(string);
    }
    case ondemand::json_type::boolean: {
        bool boolean = false;
        return !value.get_bool().get(boolean);
    }
    case ondemand::json_type::null:
        return isNull(value);
    }
    return false;
}

// A string (into `out`, `read` set) or null; anything else is not a chunk we vouch for.
bool stringOrNull(ondemand::value value, std::string_view &out, bool *read = nullptr)
{
    bool null = false;
    if (value.is_null().get(null))
        return false;
    if (null)
        return true;
    if (read)
        *read = true;
    return !value.get_string().get(out);
}

bool readDelta(ondemand::object delta, OpenAiChunkReader::Chunk &out)
{
    bool content = false;
    for (auto field : delta) {
        std::string_view key;
        ondemand::value value;
        if (!readField(field, key, value))
            return false;
        if (key == "content") {
            if (!once(content) || !stringOrNull(value, out.content, &out.hasContent))
                return false;
        } else if (key == "reasoning_content" || key == "reasoning" || key == "tool_calls" ||
                   key == "function_call") {
            if (!isNull(value))
                return false;
        } else if (!valid(value)) { // role, refusal (null) and the like say nothing we relay
            return false;
        }
    }
    return true;
}

bool readChoice(ondemand::object choice, OpenAiChunkReader::Chunk &out)
{
    bool index = false;
    bool delta = false;
    bool finish = false;
    for (auto field : choice) {
        std::string_view key;
        ondemand::value value;
        if (!readField(field, key, value))
            return false;
        if (key == "index") {
            int64_t number = -1;
            if (!once(index) || value.get_int64().get(number) || number != 0)
                return false;
        } else if (key == "delta") {
            ondemand::object object;
            if (!once(delta) || value.get_object().get(object) || !readDelta(object, out))
                return false;
        } else if (key == "finish_reason") {
            if (!once(finish) || !stringOrNull(value, out.finishReason))
                return false;
        } else if (key == "reasoning_content" || key == "reasoning" || key == "tool_calls" ||
                   key == "function_call" || key == "error" || key == "usage" || key == "message") {
            return false; // not where they belong: whatever it means, Qt's reading decides
        } else if (!valid(value)) {
            return false;
        }
    }
    return true;
}
} // namespace

bool OpenAiChunkReader::read(const QByteArray &json, Chunk &out)
{
    const size_t size = size_t(json.size());
    if (size == 0 || size > maxChunk)
        return false;
    thread_local ondemand::parser parser;
    thread_local padded_string buffer(maxChunk);
    std::memcpy(buffer.data(), json.constData(), size);
    std::memset(buffer.data() + size, 0, SIMDJSON_PADDING);

    out = {};
    ondemand::document doc;
    if (parser.iterate(buffer.data(), size, buffer.size() + SIMDJSON_PADDING).get(doc))
        return false;
    ondemand::object chunk;
    if (doc.get_object().get(chunk))
        return false;
    int choices = 0;
    bool list = false;
    bool model = false;
    for (auto field : chunk) {
        std::string_view key;
        ondemand::value value;
        if (!readField(field, key, value))
            return false;
        if (key == "choices") {
            ondemand::array elements;
            if (!once(list) || value.get_array().get(elements))
                return false;
            for (auto element : elements) {
                ondemand::object choice;
                if (++choices > 1 || element.get_object().get(choice) || !readChoice(choice, out))
                    return false;
            }
        } else if (key == "model") {
            if (!once(model) || !stringOrNull(value, out.model))
                return false;
        } else if (key == "usage" || key == "error") {
            if (!isNull(value))
                return false;
        } else if (!valid(value)) {
            return false;
        }
    }
    return choices == 1 && doc.current_location().error() == OUT_OF_BOUNDS; // nothing after the object
}
