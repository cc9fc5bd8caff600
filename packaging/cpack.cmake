set(CPACK_PACKAGE_NAME agentdesk)
