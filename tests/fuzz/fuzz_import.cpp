// Fuzz target: the import reader (backend/transfer/conversationimport.*) and the Markdown export
// of what it reads. Whatever comes in: an error of the documented set, or conversations whose
// messages are users' and assistants', with unique ids, every parent before its children, and an
// active end that is one of them (or none).
#include "fuzzutil.h"
#include "transfer/conversationimport.h"
#include "transfer/markdownexport.h"

#include <QSet>

using namespace Qt::StringLiterals;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    const ConversationImport::Result result = ConversationImport::parse(body);
    if (!result.ok()) {
        static const QSet<QString> codes{u"invalid_json"_s, u"invalid_import"_s, u"unknown_import_format"_s,
                                         u"unsupported_import_version"_s, u"too_many_conversations"_s};
        FUZZ_CHECK(result.error.status == 400);
        FUZZ_CHECK(codes.contains(result.error.code));
        FUZZ_CHECK(!result.error.message.isEmpty());
        return 0;
    }
    FUZZ_CHECK(result.format == "chatgpt"_L1 || result.format == "agentdesk"_L1);
    for (const ConversationImport::Conversation &conversation : result.conversations) {
        FUZZ_CHECK(conversation.importKey.startsWith(result.format + u':'));
        FUZZ_CHECK(conversation.session.title.size() <= 200);
        QSet<QString> seen;
        for (const Message &message : conversation.messages) {
            FUZZ_CHECK(message.role == "user"_L1 || message.role == "assistant"_L1);
            FUZZ_CHECK(!message.id.isEmpty() && !seen.contains(message.id));
            FUZZ_CHECK(message.parentId.isEmpty() || seen.contains(message.parentId));
            seen.insert(message.id);
        }
        if (result.format == "chatgpt"_L1)
            FUZZ_CHECK(conversation.activeLeafId.isEmpty() || seen.contains(conversation.activeLeafId));
        const QString markdown = MarkdownExport::render(conversation.session, {}, conversation.messages);
        FUZZ_CHECK(markdown.startsWith(u"# "_s));
    }
    return 0;
}
