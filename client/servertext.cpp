#include "servertext.h"

#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace {

// "model provider “env”" or "model provider": the provider's name, if any.
QString provider(const QString &named)
{
    static const QRegularExpression quoted(u"^model provider \u201c(.*)\u201d$"_s);
    const QRegularExpressionMatch m = quoted.match(named);
    return m.hasMatch() ? ServerText::tr("model provider \u201c%1\u201d").arg(m.captured(1))
                        : ServerText::tr("model provider");
}

} // namespace

QString ServerText::localized(const QString &text)
{
    if (text.isEmpty())
        return text;
    static const QRegularExpression refused(
        u"^The (model provider(?: \u201c.*\u201d)?) refused the API key \\(HTTP (\\d+): (.*)\\)\\. Check the provider's API key in Settings\\.$"_s,
        QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression http(
        u"^The (model provider(?: \u201c.*?\u201d)?) answered HTTP (\\d+): (.*)$"_s,
        QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression unreachable(
        u"^Cannot reach the (model provider(?: \u201c.*?\u201d)?)(?: at (\\S+))?: (.*)$"_s,
        QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression other(
        u"^The (model provider(?: \u201c.*?\u201d)?)(?: at (\\S+))?: (.*)$"_s,
        QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression missing(u"^The agent's provider \"(.*)\" is not configured$"_s);

    if (const auto m = refused.match(text); m.hasMatch())
        return tr("The %1 refused the API key (HTTP %2: %3). Check the provider's API key in Settings.")
            .arg(provider(m.captured(1)), m.captured(2), m.captured(3));
    if (const auto m = http.match(text); m.hasMatch())
        return tr("The %1 answered HTTP %2: %3").arg(provider(m.captured(1)), m.captured(2), m.captured(3));
    if (const auto m = unreachable.match(text); m.hasMatch())
        return m.captured(2).isEmpty()
                   ? tr("Cannot reach the %1: %2").arg(provider(m.captured(1)), m.captured(3))
                   : tr("Cannot reach the %1 at %2: %3")
                         .arg(provider(m.captured(1)), m.captured(2), m.captured(3));
    if (const auto m = other.match(text); m.hasMatch())
        return m.captured(2).isEmpty()
                   ? tr("The %1: %2").arg(provider(m.captured(1)), m.captured(3))
                   : tr("The %1 at %2: %3").arg(provider(m.captured(1)), m.captured(2), m.captured(3));
    if (const auto m = missing.match(text); m.hasMatch())
        return tr("The agent's provider \"%1\" is not configured").arg(m.captured(1));
    if (text == "The reply failed"_L1)
        return tr("The reply failed");
    return text;
}
