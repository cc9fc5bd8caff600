#pragma once

#include "eventloop/epolleventdispatcher.h"

#include <QCoreApplication>
#include <QTest>

// A test main that runs the test on the headless server's EpollEventDispatcher when
// AGENTDESK_EVENT_LOOP=epoll (ctest runs these tests both ways): under it an HttpExchange reads its
// socket itself, under Qt's dispatcher through QTcpSocket.
#define AGENTDESK_TEST_MAIN_EITHER_LOOP(TestObject)                                                          \
    int main(int argc, char **argv)                                                                          \
    {                                                                                                        \
        if (qgetenv("AGENTDESK_EVENT_LOOP") == "epoll")                                                      \
            QCoreApplication::setEventDispatcher(new EpollEventDispatcher);                                  \
        QCoreApplication app(argc, argv);                                                                    \
        TestObject test;                                                                                     \
        QTEST_SET_MAIN_SOURCE_PATH                                                                           \
        return QTest::qExec(&test, argc, argv);                                                              \
    }
