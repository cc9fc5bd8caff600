<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AgentDialog</name>
    <message>
        <source>Edit agent</source>
        <translation>编辑智能体</translation>
    </message>
    <message>
        <source>New agent</source>
        <translation>新建智能体</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>e.g. Writing assistant</source>
        <translation>例如：写作助手</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>How the agent should behave</source>
        <translation>智能体应如何表现</translation>
    </message>
    <message>
        <source>Greeting</source>
        <translation>问候语</translation>
    </message>
    <message>
        <source>The first message of every chat (optional)</source>
        <translation>每次对话的第一条消息（可选）</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>服务商</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Default provider</source>
        <translation>默认服务商</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>model default</source>
        <translation>模型默认</translation>
    </message>
    <message>
        <source>Delete agent</source>
        <translation>删除智能体</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Delete agent?</source>
        <translation>删除智能体？</translation>
    </message>
    <message>
        <source>“%1” and all its chats will be deleted. This cannot be undone.</source>
        <translation>“%1”及其所有对话都将被删除，且无法恢复。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>No MCP server is set up yet, so this agent can only talk.</source>
        <translation>还没有设置 MCP 服务器，所以这个智能体只能对话。</translation>
    </message>
    <message>
        <source>What the agent may use. All of a server&apos;s tools includes those it adds later.</source>
        <translation>智能体可以使用的工具。选择服务器的全部工具时，也包括它以后新增的工具。</translation>
    </message>
    <message>
        <source>Add an MCP server…</source>
        <translation>添加 MCP 服务器…</translation>
    </message>
    <message>
        <source>All tools of %1</source>
        <translation>%1 的全部工具</translation>
    </message>
    <message>
        <source>Before a tool runs</source>
        <translation>工具运行前</translation>
    </message>
    <message>
        <source>Ask me each time (Allow / Always / Deny)</source>
        <translation>每次询问我（允许 / 始终允许 / 拒绝）</translation>
    </message>
    <message>
        <source>Run it without asking</source>
        <translation>直接运行，不询问</translation>
    </message>
    <message>
        <source>Tool approval</source>
        <translation>工具审批</translation>
    </message>
    <message>
        <source>Steps per reply</source>
        <translation>每次回复的步数</translation>
    </message>
    <message>
        <source>rounds of tool calls before the reply ends</source>
        <translation>回复结束前最多进行的工具调用轮数</translation>
    </message>
    <message>
        <source>Runs without asking: %1</source>
        <translation>无需询问即可运行：%1</translation>
    </message>
    <message>
        <source>Ask again</source>
        <translation>重新询问</translation>
    </message>
    <message>
        <source>All tools of %1 (not connected)</source>
        <translation>%1 的全部工具（未连接）</translation>
    </message>
    <message>
        <source>All tools of %1 (connecting)</source>
        <translation>%1 的全部工具（正在连接）</translation>
    </message>
    <message>
        <source>Reasoning</source>
        <translation>推理</translation>
    </message>
    <message>
        <source>The model&apos;s default</source>
        <translation>模型默认</translation>
    </message>
    <message>
        <source>Off (where the provider can turn it off)</source>
        <translation>关闭（服务商支持关闭时）</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>低</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>中</translation>
    </message>
    <message>
        <source>High</source>
        <translation>高</translation>
    </message>
    <message>
        <source>Reasoning effort</source>
        <translation>推理强度</translation>
    </message>
    <message>
        <source>How hard a reasoning model thinks before it answers: OpenAI&apos;s reasoning effort, Anthropic&apos;s extended thinking budget, Ollama&apos;s think.</source>
        <translation>推理模型回答前思考的深度：对应 OpenAI 的 reasoning effort、Anthropic 的扩展思考预算、Ollama 的 think。</translation>
    </message>
</context>
<context>
    <name>ApiClient</name>
    <message>
        <source>The server answered HTTP %1 to a health check.</source>
        <translation>服务器对健康检查返回了 HTTP %1。</translation>
    </message>
    <message>
        <source>The server answered HTTP %1.</source>
        <translation>服务器返回了 HTTP %1。</translation>
    </message>
    <message>
        <source>The server&apos;s answer is not valid JSON.</source>
        <translation>服务器的响应不是有效的 JSON。</translation>
    </message>
</context>
<context>
    <name>AttachmentList</name>
    <message>
        <source>Uploading…</source>
        <translation>正在上传…</translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation>移除 %1</translation>
    </message>
</context>
<context>
    <name>AttachmentTray</name>
    <message>
        <source>A message can carry at most %1 files.</source>
        <translation>一条消息最多可带 %1 个文件。</translation>
    </message>
    <message>
        <source>Cannot read this file.</source>
        <translation>无法读取此文件。</translation>
    </message>
    <message>
        <source>Pasted image %1.png</source>
        <translation>粘贴的图片 %1.png</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>Offline: %1 cannot be reached. Showing saved history; reconnecting…</source>
        <translation>离线：无法连接 %1。正在显示已保存的历史记录；正在重新连接…</translation>
    </message>
    <message>
        <source>The local AgentDesk service is not answering; reconnecting…</source>
        <translation>本地 AgentDesk 服务没有响应；正在重新连接…</translation>
    </message>
    <message>
        <source>Sending is disabled while the server is unreachable.</source>
        <translation>服务器无法连接，暂时不能发送。</translation>
    </message>
    <message>
        <source>Sending is disabled while the local service is not answering.</source>
        <translation>本地服务没有响应，暂时不能发送。</translation>
    </message>
    <message>
        <source>The server refused the access token. Set a valid token in Settings.</source>
        <translation>服务器拒绝了访问令牌。请在设置中填写有效的令牌。</translation>
    </message>
    <message>
        <source>A reply is being written. Press Stop (Esc) to end it.</source>
        <translation>正在生成回复。按“停止”（Esc）可结束。</translation>
    </message>
    <message>
        <source>Create an agent to start chatting.</source>
        <translation>创建一个智能体即可开始对话。</translation>
    </message>
    <message>
        <source>Choose an agent.</source>
        <translation>请选择一个智能体。</translation>
    </message>
    <message>
        <source>The server refused the access token.</source>
        <translation>服务器拒绝了访问令牌。</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Could not load the agents: %1</source>
        <translation>无法加载智能体：%1</translation>
    </message>
    <message>
        <source>%1 (copy)</source>
        <translation>%1（副本）</translation>
    </message>
    <message>
        <source>Could not copy the chat: %1</source>
        <translation>无法复制对话：%1</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>A general assistant</source>
        <translation>通用助手</translation>
    </message>
    <message>
        <source>You are a helpful assistant. Answer in the language of the user.</source>
        <translation>你是一个乐于助人的助手。请用用户使用的语言回答。</translation>
    </message>
    <message numerus="yes">
        <source>Uploading %n file(s)…</source>
        <translation>
            <numerusform>正在上传 %n 个文件…</numerusform>
        </translation>
    </message>
    <message>
        <source>Remove the files that could not be uploaded to send.</source>
        <translation>请先移除上传失败的文件再发送。</translation>
    </message>
    <message>
        <source>Could not change the model: %1</source>
        <translation>无法更换模型：%1</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>无法打开 %1：%2</translation>
    </message>
    <message>
        <source>Could not save %1 to open it.</source>
        <translation>无法保存 %1 以打开它。</translation>
    </message>
    <message>
        <source>No application here opens %1.</source>
        <translation>本机没有可以打开 %1 的应用。</translation>
    </message>
</context>
<context>
    <name>ChatStream</name>
    <message>
        <source>The server stopped sending the reply.</source>
        <translation>服务器停止发送回复。</translation>
    </message>
    <message>
        <source>The server answered HTTP %1.</source>
        <translation>服务器返回了 HTTP %1。</translation>
    </message>
    <message>
        <source>The reply ended before it was complete.</source>
        <translation>回复在完成前中断了。</translation>
    </message>
    <message>
        <source>The reply has ended.</source>
        <translation>回复已结束。</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>No agent</source>
        <translation>没有智能体</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>智能体</translation>
    </message>
    <message>
        <source>Edit agent</source>
        <translation>编辑智能体</translation>
    </message>
    <message>
        <source>New agent</source>
        <translation>新建智能体</translation>
    </message>
    <message>
        <source>Welcome to AgentDesk</source>
        <translation>欢迎使用 AgentDesk</translation>
    </message>
    <message>
        <source>What can I help with?</source>
        <translation>有什么可以帮你？</translation>
    </message>
    <message>
        <source>Create an agent — a name, a system prompt and a model — to start chatting.</source>
        <translation>创建一个智能体（名称、系统提示词和模型）即可开始对话。</translation>
    </message>
    <message>
        <source>Send a message to start a new chat with %1.</source>
        <translation>发送消息，开始与 %1 的新对话。</translation>
    </message>
    <message>
        <source>Create an agent</source>
        <translation>创建智能体</translation>
    </message>
    <message>
        <source>Jump to the latest message</source>
        <translation>跳到最新消息</translation>
    </message>
    <message>
        <source>Hide the chat list (Ctrl+B)</source>
        <translation>隐藏对话列表（Ctrl+B）</translation>
    </message>
    <message>
        <source>Show the chat list (Ctrl+B)</source>
        <translation>显示对话列表（Ctrl+B）</translation>
    </message>
    <message>
        <source>Drop files to attach them</source>
        <translation>拖放文件即可添加为附件</translation>
    </message>
    <message>
        <source>Provider&apos;s model</source>
        <translation>服务商的模型</translation>
    </message>
    <message>
        <source>This chat&apos;s own model: click to change it</source>
        <translation>此对话专用的模型：点击更换</translation>
    </message>
    <message>
        <source>The agent&apos;s model: click to use another in this chat</source>
        <translation>智能体的模型：点击可在此对话中改用其他模型</translation>
    </message>
    <message>
        <source>Model for this chat</source>
        <translation>此对话的模型</translation>
    </message>
    <message>
        <source>Use the agent&apos;s model (%1)</source>
        <translation>使用智能体的模型（%1）</translation>
    </message>
    <message>
        <source>the provider&apos;s</source>
        <translation>服务商的</translation>
    </message>
</context>
<context>
    <name>CodeBlock</name>
    <message>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>Message %1…</source>
        <translation>给 %1 发消息…</translation>
    </message>
    <message>
        <source>Type a message…</source>
        <translation>输入消息…</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Enter sends, Shift+Enter starts a new line</source>
        <translation>Enter 发送，Shift+Enter 换行</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>发送（Enter）</translation>
    </message>
    <message>
        <source>Enter to send · Shift+Enter for a new line · Esc to stop · Ctrl+N new chat</source>
        <translation>Enter 发送 · Shift+Enter 换行 · Esc 停止 · Ctrl+N 新对话</translation>
    </message>
    <message>
        <source>Attach files</source>
        <translation>添加附件</translation>
    </message>
    <message>
        <source>Images, PDFs and text (*.png *.jpg *.jpeg *.webp *.gif *.pdf *.txt *.md *.csv *.json *.py *.js *.ts *.c *.cpp *.h *.java *.go *.rs *.html *.css *.xml *.yaml *.yml *.sql *.sh *.log)</source>
        <translation>图片、PDF 和文本 (*.png *.jpg *.jpeg *.webp *.gif *.pdf *.txt *.md *.csv *.json *.py *.js *.ts *.c *.cpp *.h *.java *.go *.rs *.html *.css *.xml *.yaml *.yml *.sql *.sh *.log)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
    <message>
        <source>Attach images or documents (or paste, or drop them here)</source>
        <translation>添加图片或文档（也可以粘贴或拖放到这里）</translation>
    </message>
</context>
<context>
    <name>Conversation</name>
    <message>
        <source>Could not show that version: %1</source>
        <translation>无法显示该版本：%1</translation>
    </message>
</context>
<context>
    <name>KeychainStore</name>
    <message>
        <source>the system keychain is turned off</source>
        <translation>系统钥匙串已关闭</translation>
    </message>
    <message>
        <source>API keys and tokens are kept in the system keychain.</source>
        <translation>API 密钥和令牌保存在系统钥匙串中。</translation>
    </message>
    <message>
        <source>No system keychain is available (%1): API keys and tokens are kept in a file only you can read: %2</source>
        <translation>没有可用的系统钥匙串（%1）：API 密钥和令牌保存在只有你能读取的文件中：%2</translation>
    </message>
    <message>
        <source>API keys and tokens go to the system keychain when it is available.</source>
        <translation>系统钥匙串可用时，API 密钥和令牌将保存在其中。</translation>
    </message>
    <message>
        <source>the keychain service does not answer</source>
        <translation>钥匙串服务没有响应</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
<context>
    <name>MessageBubble</name>
    <message>
        <source>The reply failed.</source>
        <translation>回复失败。</translation>
    </message>
    <message>
        <source>Not sent</source>
        <translation>未发送</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Copy message</source>
        <translation>复制消息</translation>
    </message>
    <message>
        <source>Connection lost — reconnecting…</source>
        <translation>连接已断开 — 正在重新连接…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Edit and send again</source>
        <translation>编辑并重新发送</translation>
    </message>
    <message>
        <source>Previous version</source>
        <translation>上一个版本</translation>
    </message>
    <message>
        <source>Next version</source>
        <translation>下一个版本</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Continue in a new chat from here</source>
        <translation>从这里开始新对话</translation>
    </message>
</context>
<context>
    <name>MessageListModel</name>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 词元/秒</translation>
    </message>
    <message>
        <source>%1 tokens (%2 prompt + %3 reply)</source>
        <translation>%1 词元（提示 %2 + 回复 %3）</translation>
    </message>
    <message>
        <source>%1 tokens</source>
        <translation>%1 词元</translation>
    </message>
    <message>
        <source>(estimated)</source>
        <translation>（估算）</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>Failed after %1</source>
        <translation>%1 后失败</translation>
    </message>
    <message>
        <source>Done in %1</source>
        <translation>完成，用时 %1</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Did not finish</source>
        <translation>未完成</translation>
    </message>
    <message>
        <source>Sending your answer…</source>
        <translation>正在发送你的答复…</translation>
    </message>
    <message>
        <source>Waiting for your approval</source>
        <translation>等待你的批准</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>运行中…</translation>
    </message>
    <message>
        <source>Writing the call…</source>
        <translation>正在生成调用…</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>(%1 more characters)</source>
        <translation>（还有 %1 个字符）</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Thought for a moment</source>
        <translation>思考了片刻</translation>
    </message>
    <message>
        <source>Thought for %1 s</source>
        <translation>思考了 %1 秒</translation>
    </message>
    <message>
        <source>Reasoning · %1 tokens</source>
        <translation>推理 · %1 个 token</translation>
    </message>
    <message>
        <source>Reasoning</source>
        <translation>推理</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message numerus="yes">
        <source>%n page(s)</source>
        <translation>
            <numerusform>%n 页</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ModelListModel</name>
    <message>
        <source>sees images</source>
        <translation>可识图</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <source>The provider&apos;s model</source>
        <translation>服务商的默认模型</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>List the provider&apos;s models</source>
        <translation>列出服务商的模型</translation>
    </message>
    <message>
        <source>Asking the provider for its models…</source>
        <translation>正在向服务商获取模型列表…</translation>
    </message>
    <message>
        <source>The provider lists no models: type one.</source>
        <translation>服务商没有列出模型：请直接输入。</translation>
    </message>
    <message>
        <source>No model matches; it is used as typed.</source>
        <translation>没有匹配的模型；将按输入的名称使用。</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>cannot create %1</source>
        <translation>无法创建 %1</translation>
    </message>
</context>
<context>
    <name>ReplyStreamer</name>
    <message>
        <source>Connection lost — reconnecting…</source>
        <translation>连接已断开 — 正在重新连接…</translation>
    </message>
    <message>
        <source>That tool call no longer waits for an answer.</source>
        <translation>该工具调用已不再等待答复。</translation>
    </message>
    <message>
        <source>Could not send your answer: %1</source>
        <translation>无法发送你的答复：%1</translation>
    </message>
    <message>
        <source>The reply failed.</source>
        <translation>回复失败。</translation>
    </message>
    <message>
        <source>The reply is no longer on the server.</source>
        <translation>服务器上已没有这条回复。</translation>
    </message>
    <message>
        <source>Cannot reach the server: the message was not sent.</source>
        <translation>无法连接服务器：消息未发送。</translation>
    </message>
    <message>
        <source>Cannot reach the local service: the message was not sent.</source>
        <translation>无法连接本地服务：消息未发送。</translation>
    </message>
    <message>
        <source>Another reply is still being written in this chat. Try again in a moment.</source>
        <translation>此对话中仍有回复正在生成，请稍后再试。</translation>
    </message>
    <message>
        <source>The server stopped sending the reply.</source>
        <translation>服务器停止发送回复。</translation>
    </message>
    <message>
        <source>The connection was lost and the reply could not be resumed.</source>
        <translation>连接已断开，回复无法续传。</translation>
    </message>
</context>
<context>
    <name>ServerText</name>
    <message>
        <source>model provider “%1”</source>
        <translation>模型服务商“%1”</translation>
    </message>
    <message>
        <source>model provider</source>
        <translation>模型服务商</translation>
    </message>
    <message>
        <source>The %1 refused the API key (HTTP %2: %3). Check the provider&apos;s API key in Settings.</source>
        <translation>%1拒绝了 API 密钥（HTTP %2：%3）。请在“设置”中检查该服务商的 API 密钥。</translation>
    </message>
    <message>
        <source>The %1 answered HTTP %2: %3</source>
        <translation>%1返回了 HTTP %2：%3</translation>
    </message>
    <message>
        <source>Cannot reach the %1: %2</source>
        <translation>无法连接%1：%2</translation>
    </message>
    <message>
        <source>Cannot reach the %1 at %2: %3</source>
        <translation>无法连接位于 %2 的%1：%3</translation>
    </message>
    <message>
        <source>The %1: %2</source>
        <translation>%1出错：%2</translation>
    </message>
    <message>
        <source>The %1 at %2: %3</source>
        <translation>位于 %2 的%1出错：%3</translation>
    </message>
    <message>
        <source>The agent&apos;s provider &quot;%1&quot; is not configured</source>
        <translation>智能体的服务商“%1”尚未配置</translation>
    </message>
    <message>
        <source>The reply failed</source>
        <translation>回复失败。</translation>
    </message>
</context>
<context>
    <name>SessionList</name>
    <message>
        <source>New chat (Ctrl+N)</source>
        <translation>新对话（Ctrl+N）</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>More</source>
        <translation>更多</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>No chat title matches “%1”.</source>
        <translation>没有标题包含“%1”的对话。</translation>
    </message>
    <message>
        <source>Your chats will appear here.</source>
        <translation>你的对话将显示在这里。</translation>
    </message>
    <message>
        <source>Connected to %1</source>
        <translation>已连接到 %1</translation>
    </message>
    <message>
        <source>Running on this computer</source>
        <translation>在本机运行</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Settings (Ctrl+,)</source>
        <translation>设置（Ctrl+,）</translation>
    </message>
    <message>
        <source>Rename chat</source>
        <translation>重命名对话</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Delete chat?</source>
        <translation>删除对话？</translation>
    </message>
    <message>
        <source>“%1” and all its messages will be deleted. This cannot be undone.</source>
        <translation>“%1”及其所有消息都将被删除，且无法恢复。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Search all messages</source>
        <translation>搜索全部消息</translation>
    </message>
    <message>
        <source>Search results</source>
        <translation>搜索结果</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message numerus="yes">
        <source>%n matching messages</source>
        <translation>
            <numerusform>%n 条匹配的消息</numerusform>
        </translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>搜索失败：%1</translation>
    </message>
    <message>
        <source>No message matches “%1”.</source>
        <translation>没有消息包含“%1”。</translation>
    </message>
    <message>
        <source>Unpin</source>
        <translation>取消置顶</translation>
    </message>
    <message>
        <source>Pin to the top</source>
        <translation>置顶</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Which chats to list</source>
        <translation>显示哪些对话</translation>
    </message>
    <message>
        <source>Show calls through the OpenAI API</source>
        <translation>显示通过 OpenAI API 的调用</translation>
    </message>
    <message>
        <source>A call through the OpenAI-compatible API</source>
        <translation>通过兼容 OpenAI 的 API 进行的调用</translation>
    </message>
</context>
<context>
    <name>SessionListController</name>
    <message>
        <source>Could not rename the chat: %1</source>
        <translation>无法重命名对话：%1</translation>
    </message>
    <message>
        <source>Could not pin the chat: %1</source>
        <translation>无法置顶对话：%1</translation>
    </message>
    <message>
        <source>Could not delete the chat: %1</source>
        <translation>无法删除对话：%1</translation>
    </message>
</context>
<context>
    <name>SessionListModel</name>
    <message>
        <source>Other agent</source>
        <translation>其他智能体</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Pinned</source>
        <translation>已置顶</translation>
    </message>
</context>
<context>
    <name>SettingsController</name>
    <message>
        <source>A provider needs a name.</source>
        <translation>服务商需要一个名称。</translation>
    </message>
    <message>
        <source>The base URL must start with http:// or https://.</source>
        <translation>基础 URL 必须以 http:// 或 https:// 开头。</translation>
    </message>
    <message>
        <source>Connected: %1 answered in %2 ms.</source>
        <translation>连接成功：%1 在 %2 毫秒内响应。</translation>
    </message>
    <message>
        <source>The provider did not answer.</source>
        <translation>服务商没有响应。</translation>
    </message>
    <message>
        <source>An agent needs a name.</source>
        <translation>智能体需要一个名称。</translation>
    </message>
    <message>
        <source>The URL must start with http:// or https://.</source>
        <translation>URL 必须以 http:// 或 https:// 开头。</translation>
    </message>
    <message>
        <source>Type the command that starts the server, e.g. npx -y @modelcontextprotocol/server-everything</source>
        <translation>请输入启动服务器的命令，例如 npx -y @modelcontextprotocol/server-everything</translation>
    </message>
    <message>
        <source>Write each header as Name: value.</source>
        <translation>每个请求头请写成 名称: 值。</translation>
    </message>
    <message>
        <source>Write each variable as NAME=value.</source>
        <translation>每个变量请写成 名称=值。</translation>
    </message>
    <message>
        <source>A server name is 1 to 32 letters, digits, _ or -, starting with a letter or digit.</source>
        <translation>服务器名称为 1 到 32 个字母、数字、_ 或 -，并以字母或数字开头。</translation>
    </message>
    <message>
        <source>“%1” is reserved: choose another name.</source>
        <translation>“%1”是保留名称，请换一个。</translation>
    </message>
    <message>
        <source>A name is 1 to 64 letters, digits, “.”, “_” or “-”, without spaces.</source>
        <translation>名称为 1 到 64 个字母、数字、“.”、“_”或“-”，不能有空格。</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Required by %1</source>
        <translation>%1 需要</translation>
    </message>
    <message>
        <source>Not needed for a local server</source>
        <translation>本地服务器不需要</translation>
    </message>
    <message>
        <source>Saved — leave empty to keep it</source>
        <translation>已保存 — 留空则保持不变</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>关闭（Esc）</translation>
    </message>
    <message>
        <source>Providers</source>
        <translation>服务商</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>默认</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <source>Make default</source>
        <translation>设为默认</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>No provider yet: add one below.</source>
        <translation>还没有服务商：请在下方添加。</translation>
    </message>
    <message>
        <source>Edit provider “%1”</source>
        <translation>编辑服务商“%1”</translation>
    </message>
    <message>
        <source>Add a provider</source>
        <translation>添加服务商</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>基础 URL</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Use as the default provider</source>
        <translation>设为默认服务商</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Save provider</source>
        <translation>保存服务商</translation>
    </message>
    <message>
        <source>Secrets</source>
        <translation>密钥</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Connected to the AgentDesk server at %1.</source>
        <translation>已连接到位于 %1 的 AgentDesk 服务器。</translation>
    </message>
    <message>
        <source>AgentDesk runs its own service on this computer; start it with --server URL to use a shared server instead.</source>
        <translation>AgentDesk 在本机运行自己的服务；使用 --server URL 启动即可改用共享服务器。</translation>
    </message>
    <message>
        <source>Access token (agentdesk token create)</source>
        <translation>访问令牌（agentdesk token create）</translation>
    </message>
    <message>
        <source>Access token</source>
        <translation>访问令牌</translation>
    </message>
    <message>
        <source>Save token</source>
        <translation>保存令牌</translation>
    </message>
    <message>
        <source>“%1” is connected.</source>
        <translation>“%1”已连接。</translation>
    </message>
    <message>
        <source>“%1” was saved but did not connect: %2</source>
        <translation>“%1”已保存，但未能连接：%2</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>General</source>
        <translation>通用</translation>
    </message>
    <message>
        <source>Tools (MCP servers)</source>
        <translation>工具（MCP 服务器）</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Agents act through the tools of MCP servers. Add a server by the command that starts it or by its URL, then choose its tools in an agent&apos;s settings.</source>
        <translation>智能体通过 MCP 服务器的工具执行操作。按启动命令或 URL 添加服务器，然后在智能体设置中选择它的工具。</translation>
    </message>
    <message>
        <source>Connected · 1 tool</source>
        <translation>已连接 · 1 个工具</translation>
    </message>
    <message>
        <source>Connected · %1 tools</source>
        <translation>已连接 · %1 个工具</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Hide tools</source>
        <translation>隐藏工具</translation>
    </message>
    <message>
        <source>Show tools</source>
        <translation>显示工具</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>No MCP server yet: add one below.</source>
        <translation>还没有 MCP 服务器：请在下方添加。</translation>
    </message>
    <message>
        <source>Edit server “%1”</source>
        <translation>编辑服务器“%1”</translation>
    </message>
    <message>
        <source>Add a server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <source>Command</source>
        <translation>命令</translation>
    </message>
    <message>
        <source>URL (Streamable HTTP)</source>
        <translation>URL（Streamable HTTP）</translation>
    </message>
    <message>
        <source>e.g. files (letters, digits, _ or -)</source>
        <translation>例如 files（字母、数字、_ 或 -）</translation>
    </message>
    <message>
        <source>Server name</source>
        <translation>服务器名称</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>Server URL</source>
        <translation>服务器 URL</translation>
    </message>
    <message>
        <source>Command line</source>
        <translation>命令行</translation>
    </message>
    <message>
        <source>Headers</source>
        <translation>请求头</translation>
    </message>
    <message>
        <source>Environment</source>
        <translation>环境变量</translation>
    </message>
    <message>
        <source>Authorization: Bearer …  (one per line, kept as secrets)</source>
        <translation>Authorization: Bearer …（每行一个，作为密钥保存）</translation>
    </message>
    <message>
        <source>API_KEY=…  (one per line, kept as secrets)</source>
        <translation>API_KEY=…（每行一个，作为密钥保存）</translation>
    </message>
    <message>
        <source>Call time-out</source>
        <translation>调用超时</translation>
    </message>
    <message>
        <source>Call time-out in seconds</source>
        <translation>调用超时（秒）</translation>
    </message>
    <message>
        <source>seconds without an answer or progress</source>
        <translation>秒内无响应或无进度即超时</translation>
    </message>
    <message>
        <source>Connecting to “%1”…</source>
        <translation>正在连接“%1”…</translation>
    </message>
    <message>
        <source>Save server</source>
        <translation>保存服务器</translation>
    </message>
    <message>
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <source>“%1” is saved and still connecting.</source>
        <translation>“%1”已保存，仍在连接。</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Save every chat as Markdown to read, or as JSON to import elsewhere (every version of every turn). Import reads an AgentDesk JSON export or ChatGPT&apos;s conversations.json; chats imported before are skipped.</source>
        <translation>把所有对话保存为便于阅读的 Markdown，或保存为可在别处导入的 JSON（包含每一轮的所有版本）。导入支持 AgentDesk 的 JSON 导出文件和 ChatGPT 的 conversations.json；之前导入过的对话会被跳过。</translation>
    </message>
    <message>
        <source>Export all as Markdown…</source>
        <translation>全部导出为 Markdown…</translation>
    </message>
    <message>
        <source>Export all as JSON…</source>
        <translation>全部导出为 JSON…</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>Exports (*.json)</source>
        <translation>导出文件 (*.json)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
    <message>
        <source>From the server&apos;s OPENAI_* variables</source>
        <translation>来自服务器的 OPENAI_* 环境变量</translation>
    </message>
    <message>
        <source>Saved “%1”.</source>
        <translation>已保存“%1”。</translation>
    </message>
    <message>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <source>Like the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Shortcuts: Ctrl+N new chat, Esc stop, Ctrl+F search chats, Ctrl+B chat list, Ctrl+, settings, Ctrl+Q quit.</source>
        <translation>快捷键：Ctrl+N 新对话，Esc 停止，Ctrl+F 搜索对话，Ctrl+B 对话列表，Ctrl+, 设置，Ctrl+Q 退出。</translation>
    </message>
    <message>
        <source>Any OpenAI-compatible endpoint, Anthropic&apos;s API or an Ollama server. Agents use the default provider unless they name another.</source>
        <translation>任何兼容 OpenAI 的接口、Anthropic 的 API 或 Ollama 服务器。智能体默认使用默认服务商，除非另行指定。</translation>
    </message>
    <message>
        <source>Protocol</source>
        <translation>协议</translation>
    </message>
    <message>
        <source>OpenAI-compatible (/chat/completions)</source>
        <translation>兼容 OpenAI（/chat/completions）</translation>
    </message>
    <message>
        <source>Anthropic (Messages API)</source>
        <translation>Anthropic（Messages API）</translation>
    </message>
    <message>
        <source>Ollama (native /api/chat)</source>
        <translation>Ollama（原生 /api/chat）</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>Known per model (asked of Ollama)</source>
        <translation>按模型判断（询问 Ollama）</translation>
    </message>
    <message>
        <source>Its models take images</source>
        <translation>它的模型可以接收图片</translation>
    </message>
    <message>
        <source>Its models cannot take images</source>
        <translation>它的模型不能接收图片</translation>
    </message>
    <message>
        <source>Whether the models take images</source>
        <translation>模型是否可以接收图片</translation>
    </message>
</context>
<context>
    <name>ThinkingBlock</name>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Reasoning</source>
        <translation>推理</translation>
    </message>
    <message>
        <source>Hide the reasoning</source>
        <translation>隐藏推理过程</translation>
    </message>
    <message>
        <source>Show the reasoning</source>
        <translation>显示推理过程</translation>
    </message>
</context>
<context>
    <name>ToolCard</name>
    <message>
        <source>Tool %1: %2</source>
        <translation>工具 %1：%2</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>收起</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>展开</translation>
    </message>
    <message>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Image from %1</source>
        <translation>来自 %1 的图片</translation>
    </message>
    <message>
        <source>Let the agent run %1 from %2?</source>
        <translation>允许智能体运行 %2 的 %1 吗？</translation>
    </message>
    <message>
        <source>Let the agent run %1?</source>
        <translation>允许智能体运行 %1 吗？</translation>
    </message>
    <message>
        <source>Deny</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Always allow</source>
        <translation>始终允许</translation>
    </message>
    <message>
        <source>Run %1 for this agent from now on without asking</source>
        <translation>从现在起，此智能体运行 %1 时不再询问</translation>
    </message>
    <message>
        <source>Allow</source>
        <translation>允许</translation>
    </message>
</context>
<context>
    <name>TransferController</name>
    <message>
        <source>Could not export: %1</source>
        <translation>无法导出：%1</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Saved to %1.</source>
        <translation>已保存到 %1。</translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>无法读取 %1：%2</translation>
    </message>
    <message>
        <source>The file is over 64 MiB.</source>
        <translation>文件超过 64 MiB。</translation>
    </message>
    <message>
        <source>Nothing was imported: %1</source>
        <translation>未导入任何内容：%1</translation>
    </message>
    <message numerus="yes">
        <source>Imported %n chat(s); %1 were there already.</source>
        <translation>
            <numerusform>已导入 %n 个对话；%1 个已存在。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Imported %n chat(s).</source>
        <translation>
            <numerusform>已导入 %n 个对话。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TypingIndicator</name>
    <message>
        <source>Writing a reply</source>
        <translation>正在撰写回复</translation>
    </message>
</context>
</TS>
