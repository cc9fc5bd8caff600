// Fuzz target: the request-body decoders (backend/http/chatrequest.*, JsonView::applyAgent in
// backend/http/jsonview.*). Checks that whatever comes in, the result is either a request that
// obeys every documented rule or an error with a status and code of the documented set, and that
// an agent written back as JSON decodes to itself.
#include "core/uuidutil.h"
#include "fuzzutil.h"
#include "http/chatrequest.h"
#include "http/jsonview.h"

#include <QJsonDocument>
#include <QSet>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {

void checkError(const ApiError &error)
{
    static const QSet<QString> codes{u"invalid_json"_s, u"missing_message"_s, u"empty_message"_s,
                                     u"invalid_uuid"_s, u"invalid_field"_s,   u"payload_too_large"_s};
    FUZZ_CHECK(error.status == 400 || error.status == 413);
    FUZZ_CHECK(codes.contains(error.code));
    FUZZ_CHECK(!error.message.isEmpty());
}

void checkChat(const ChatRequestDecoder::Result &result)
{
    if (!result.ok()) {
        checkError(result.error);
        return;
    }
    const ChatInput &input = result.input;
    FUZZ_CHECK(Uuid::isValid(input.agentId) && input.agentId == input.agentId.toLower());
    FUZZ_CHECK(!input.message.trimmed().isEmpty());
    FUZZ_CHECK(input.message.size() <= ChatRequestDecoder::maxMessageLength);
    FUZZ_CHECK(input.sessionId.isEmpty() ||
               (Uuid::isValid(input.sessionId) && input.sessionId == input.sessionId.toLower()));
}

void checkAgent(const QJsonObject &body, bool creating)
{
    Agent agent;
    const ApiError error = JsonView::applyAgent(body, agent, creating);
    if (error.isError()) {
        FUZZ_CHECK(error.status == 400 && error.code == u"invalid_field"_s);
        return;
    }
    FUZZ_CHECK(agent.name.size() <= 200 && agent.description.size() <= 4000);
    FUZZ_CHECK(agent.systemPrompt.size() <= 100000 && agent.greeting.size() <= 20000);
    FUZZ_CHECK(agent.provider.size() <= 200 && agent.model.size() <= 200);
    FUZZ_CHECK(agent.name == agent.name.trimmed());
    if (creating)
        FUZZ_CHECK(!agent.name.isEmpty());
    FUZZ_CHECK(!agent.temperature || (*agent.temperature >= 0 && *agent.temperature <= 2));
    FUZZ_CHECK(!agent.maxTokens || (*agent.maxTokens >= 1 && *agent.maxTokens <= 1000000));
    // What the API answers for it decodes to the same agent.
    Agent again;
    const ApiError roundTrip = JsonView::applyAgent(JsonView::agent(agent), again, creating);
    FUZZ_CHECK(!roundTrip.isError() || (agent.name.isEmpty() && roundTrip.code == u"invalid_field"_s));
    if (!roundTrip.isError()) {
        FUZZ_CHECK(again.name == agent.name && again.description == agent.description);
        FUZZ_CHECK(again.systemPrompt == agent.systemPrompt && again.greeting == agent.greeting);
        FUZZ_CHECK(again.provider == agent.provider && again.model == agent.model);
        FUZZ_CHECK(again.temperature == agent.temperature && again.maxTokens == agent.maxTokens);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const quint8 mode = data[0];
    const QByteArray body(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    // The agent id segment: a valid one most of the time, else bytes from the input.
    const QString agentId =
        (mode & 0x80) ? QString::fromUtf8(body.left(40)) : u"0F8E6B1C-2A3D-4E5F-8A9B-0C1D2E3F4A5B"_s;
    switch (mode % 4) {
    case 0:
        checkChat(ChatRequestDecoder::fromBody(agentId, body));
        break;
    case 1:
        checkChat(ChatRequestDecoder::fromQuery(agentId, QUrlQuery(QString::fromUtf8(body))));
        break;
    default: {
        QJsonObject object;
        const ApiError error = ChatRequestDecoder::parseObject(body, &object);
        if (error.isError()) {
            checkError(error);
            FUZZ_CHECK(error.code == u"invalid_json"_s);
            break;
        }
        // A body the decoder took is valid JSON: what it parsed serialises and parses back.
        const QByteArray json = QJsonDocument(object).toJson(QJsonDocument::Compact);
        QJsonObject reparsed;
        FUZZ_CHECK(!ChatRequestDecoder::parseObject(json, &reparsed).isError());
        checkAgent(object, mode % 4 == 2);
        break;
    }
    }
    return 0;
}
