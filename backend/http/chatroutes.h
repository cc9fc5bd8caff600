#pragma once

#include "chatrequest.h"

#include <QObject>

class ChatService;
class Router;
struct RequestContext;

// The chat endpoints: the SSE stream (POST, and GET for EventSource), the whole-reply variant and
// cancel.
class ChatRoutes : public QObject
{
    Q_OBJECT
public:
    ChatRoutes(ChatService &chat, QObject *parent = nullptr);

    void registerRoutes(Router &router);
    void setKeepAliveInterval(int ms) { m_keepAliveMs = ms; }

private:
    bool readInput(RequestContext &context, bool fromQuery, ChatInput *input);
    void stream(RequestContext &context, bool fromQuery);
    void complete(RequestContext &context);
    void cancel(RequestContext &context);

    ChatService &m_chat;
    int m_keepAliveMs = 15000;
};
