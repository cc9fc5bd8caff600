#include "fakescenario.h"

#include <QUrl>

using namespace Qt::StringLiterals;

static bool parseInt(const QString &value, int min, int *out)
{
    bool ok = false;
    const int v = value.toInt(&ok);
    if (!ok || v < min)
        return false;
    *out = v;
    return true;
}

static bool parseBool(const QString &value, bool *out)
{
    if (value == "1"_L1 || value == "true"_L1 || value.isEmpty()) {
        *out = true;
        return true;
    }
    if (value == "0"_L1 || value == "false"_L1) {
        *out = false;
        return true;
    }
    return false;
}

bool FakeScenario::set(const QString &key, const QString &value, QString *error)
{
    bool ok = true;
    if (key == "tokens"_L1)
        ok = parseInt(value, 0, &tokens);
    else if (key == "delay"_L1)
        ok = parseInt(value, 0, &delayMs);
    else if (key == "first"_L1)
        ok = parseInt(value, 0, &firstMs);
    else if (key == "text"_L1)
        text = value;
    else if (key == "split"_L1)
        ok = parseInt(value, 0, &split);
    else if (key == "status"_L1)
        ok = parseInt(value, 100, &status) && status <= 599;
    else if (key == "cut"_L1)
        ok = parseInt(value, -1, &cut);
    else if (key == "stall"_L1)
        ok = parseInt(value, -1, &stall);
    else if (key == "malformed"_L1)
        ok = parseBool(value, &malformed);
    else if (key == "finish"_L1)
        ok = !(finish = value).isEmpty();
    else if (key == "crlf"_L1)
        ok = parseBool(value, &crlf);
    else if (key == "nodone"_L1)
        ok = parseBool(value, &noDone);
    else if (key == "stamp"_L1)
        ok = parseBool(value, &stamp);
    else if (key == "chunked"_L1)
        ok = parseBool(value, &chunked);
    else if (key == "json"_L1)
        ok = parseBool(value, &json);
    else if (key == "close"_L1)
        ok = parseBool(value, &close);
    else if (key == "idle"_L1)
        ok = parseInt(value, 0, &idleMs);
    else if (key == "ascii"_L1)
        ok = parseBool(value, &ascii);
    else if (key == "calls"_L1) {
        calls.clear();
        for (const QString &call : value.split(u';', Qt::SkipEmptyParts)) {
            const qsizetype bar = call.indexOf(u'|');
            calls.append({bar < 0 ? call : call.left(bar), bar < 0 ? u"{}"_s : call.mid(bar + 1)});
        }
        ok = !calls.isEmpty();
    } else if (key == "argsplit"_L1)
        ok = parseInt(value, 1, &argSplit);
    else if (key == "reuse"_L1)
        ok = parseBool(value, &reuseIndex);
    else if (key == "noid"_L1)
        ok = parseBool(value, &noIds);
    else if (key == "rounds"_L1)
        ok = parseInt(value, 1, &rounds);
    else if (key == "pre"_L1)
        pre = value;
    else if (key == "reasoning"_L1)
        reasoning = value;
    else if (key == "rtokens"_L1)
        ok = parseInt(value, 1, &reasoningTokens);
    else if (key == "rfield"_L1)
        ok = (reasoningField = value) == "reasoning_content"_L1 || value == "reasoning"_L1 ||
             value == "think"_L1;
    else if (key == "echo"_L1)
        ok = parseBool(value, &requireEcho);
    else if (key == "vision"_L1)
        ok = parseBool(value, &vision);
    else if (key == "blind"_L1) { // vision=0 in a name that does not say "vision" (servers guess from it)
        ok = parseBool(value, &vision);
        vision = !vision;
    } else if (key == "inband"_L1)
        ok = parseInt(value, -1, &inband);
    else if (key == "usage"_L1) {
        if (value == "0"_L1)
            usage = Usage::None;
        else if (value == "1"_L1)
            usage = Usage::Separate;
        else if (value == "inline"_L1)
            usage = Usage::Inline;
        else
            ok = false;
    } else {
        if (error)
            *error = u"unknown fake scenario key \"%1\""_s.arg(key);
        return false;
    }
    if (!ok && error)
        *error = u"bad value \"%1\" for fake scenario key \"%2\""_s.arg(value, key);
    return ok;
}

bool FakeScenario::applyModel(const QString &model, QString *error)
{
    if (!model.startsWith("fake:"_L1))
        return true;
    const QStringList items = model.mid(5).split(u',', Qt::SkipEmptyParts);
    for (const QString &item : items) {
        const qsizetype eq = item.indexOf(u'=');
        const QString key = (eq < 0 ? item : item.left(eq)).trimmed();
        const QString value = eq < 0 ? QString() : QUrl::fromPercentEncoding(item.mid(eq + 1).toUtf8());
        if (!set(key, value, error))
            return false;
    }
    return true;
}

QString FakeScenario::syntheticPiece(int i)
{
    static const char *const words[] = {"Hello",     "from", "the",   "fake",  "upstream",
                                        "streaming", "one",  "token", "after", "another"};
    constexpr int count = int(sizeof(words) / sizeof(words[0]));
    return (i ? u" "_s : QString()) + QLatin1String(words[i % count]);
}

QStringList FakeScenario::splitText(const QString &text, int count, bool ascii)
{
    QStringList out;
    // Split on code points, never inside a surrogate pair (unless `ascii` asks for it).
    QList<qsizetype> starts;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (ascii || !text.at(i).isLowSurrogate() || i == 0 || !text.at(i - 1).isHighSurrogate())
            starts.append(i);
    }
    const qsizetype chars = starts.size();
    const qsizetype n = qMin<qsizetype>(count, chars);
    for (qsizetype k = 0; k < n; ++k) {
        const qsizetype from = starts.at(k * chars / n);
        const qsizetype to = (k + 1) * chars / n < chars ? starts.at((k + 1) * chars / n) : text.size();
        out.append(text.mid(from, to - from));
    }
    return out;
}

QStringList FakeScenario::pieces() const
{
    QStringList out;
    if (tokens <= 0)
        return out;
    if (text.isEmpty()) {
        static const char *const words[] = {"Hello",     "from", "the",   "fake",  "upstream",
                                            "streaming", "one",  "token", "after", "another"};
        constexpr int count = int(sizeof(words) / sizeof(words[0]));
        for (int i = 0; i < tokens; ++i)
            out.append((i ? u" "_s : QString()) + QLatin1String(words[i % count]));
        return out;
    }
    return splitText(text, tokens, ascii);
}
