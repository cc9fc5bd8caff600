// Fuzz target: the /v1/chat/completions body decoder (backend/openai/completionrequest.*). Checks
// that whatever comes in, the result is either a request within every documented limit or a 400
// in OpenAI's shape with a code of the documented set, and that an accepted request's images are
// images and its tools offer each name once.
#include "fuzzutil.h"
#include "openai/completionrequest.h"

#include <QJsonArray>
#include <QSet>

using namespace Qt::StringLiterals;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    const CompletionRequest::Result result = CompletionRequest::decode(body);
    if (!result.ok()) {
        static const QSet<QString> codes{u"invalid_json"_s, u"invalid_value"_s, u"invalid_type"_s,
                                         u"missing_required_parameter"_s, u"invalid_image_format"_s};
        FUZZ_CHECK(result.error.status == 400);
        FUZZ_CHECK(codes.contains(result.error.code));
        FUZZ_CHECK(!result.error.message.isEmpty());
        FUZZ_CHECK(result.error.body().value("error"_L1).toObject().size() == 4);
        return 0;
    }
    const CompletionRequest &r = result.request;
    FUZZ_CHECK(!r.model.isEmpty() && r.model == r.model.trimmed());
    FUZZ_CHECK(!r.caller.messages.isEmpty() && r.caller.messages.size() <= CompletionRequest::maxMessages);
    FUZZ_CHECK(!r.includeUsage || r.stream);
    qsizetype images = 0;
    for (const ChatMessage &m : r.caller.messages) {
        FUZZ_CHECK(m.role == "system"_L1 || m.role == "user"_L1 || m.role == "assistant"_L1 ||
                   m.role == "tool"_L1);
        FUZZ_CHECK(m.images.isEmpty() || m.role == "user"_L1);
        FUZZ_CHECK(m.role != "tool"_L1 || !m.toolCallId.isEmpty());
        for (const ChatImage &image : m.images)
            FUZZ_CHECK(image.mediaType.startsWith("image/"_L1) && !image.data.isEmpty() &&
                       image.data.size() <= CompletionRequest::maxImageBytes);
        images += m.images.size();
    }
    FUZZ_CHECK(images <= CompletionRequest::maxImages);
    QSet<QString> names;
    for (const QJsonValue &tool : r.caller.tools) {
        const QString name = tool[u"function"_s][u"name"_s].toString();
        FUZZ_CHECK(!name.isEmpty() && name.size() <= 64 && !names.contains(name));
        names.insert(name);
    }
    FUZZ_CHECK(r.caller.stop.size() <= CompletionRequest::maxStops);
    FUZZ_CHECK(!r.caller.temperature || (*r.caller.temperature >= 0 && *r.caller.temperature <= 2));
    FUZZ_CHECK(!r.caller.maxTokens || *r.caller.maxTokens >= 1);
    return 0;
}
