<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Banner</name>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Hide this message</source>
        <translation>隐藏此消息</translation>
    </message>
</context>
<context>
    <name>BuildCard</name>
    <message>
        <source>Collecting…</source>
        <translation>正在收集…</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Copied (without the server&apos;s part: {0})</source>
        <translation>已复制（不含服务器部分：{0}）</translation>
    </message>
    <message>
        <source>This build</source>
        <translation>本版本</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Build</source>
        <translation>构建</translation>
    </message>
    <message>
        <source>Runs models on</source>
        <translation>模型运行于</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>For a bug report: the versions, backend, devices, settings and the server&apos;s recent log, never your API key or tokens.</source>
        <translation>用于报告问题：包含版本、后端、设备、设置和服务器的近期日志，绝不包含你的 API 密钥或令牌。</translation>
    </message>
    <message>
        <source>Copy support info</source>
        <translation>复制支持信息</translation>
    </message>
    <message>
        <source>This server is not XinDesk: it does not report its build.</source>
        <translation>此服务器不是 XinDesk：它不报告自己的构建信息。</translation>
    </message>
    <message>
        <source>Cannot ask the server: {0}</source>
        <translation>无法询问服务器：{0}</translation>
    </message>
    <message>
        <source>Asking the server…</source>
        <translation>正在询问服务器…</translation>
    </message>
    <message>
        <source>{0} (this window: {1})</source>
        <translation>{0}（本窗口：{1}）</translation>
    </message>
    <message>
        <source>CPU build</source>
        <translation>CPU 版</translation>
    </message>
    <message>
        <source>NVIDIA CUDA build</source>
        <translation>NVIDIA CUDA 版</translation>
    </message>
    <message>
        <source>AMD ROCm build</source>
        <translation>AMD ROCm 版</translation>
    </message>
    <message>
        <source>Apple Metal build</source>
        <translation>Apple Metal 版</translation>
    </message>
    <message>
        <source>Run from source (llama-cpp-python {0})</source>
        <translation>从源码运行（llama-cpp-python {0}）</translation>
    </message>
    <message>
        <source>Unknown build</source>
        <translation>未知版本</translation>
    </message>
    <message>
        <source>{0} (llama-cpp-python {1})</source>
        <translation>{0}（llama-cpp-python {1}）</translation>
    </message>
    <message>
        <source>llama.cpp cannot be loaded, so no model can run. {0}</source>
        <translation>无法加载 llama.cpp，因此无法运行任何模型。{0}</translation>
    </message>
    <message>
        <source>Built for {0}: models run on {1}</source>
        <translation>为 {0} 构建：模型运行在 {1} 上</translation>
    </message>
    <message>
        <source>Built for the processor (CPU): models run on the CPU</source>
        <translation>为处理器（CPU）构建：模型运行在 CPU 上</translation>
    </message>
    <message>
        <source>Built for {0}, but no graphics card it can use was found: models run on the CPU</source>
        <translation>为 {0} 构建，但未找到可用的显卡：模型运行在 CPU 上</translation>
    </message>
</context>
<context>
    <name>CatalogModel</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>What it is</source>
        <translation>简介</translation>
    </message>
    <message>
        <source>Sizes</source>
        <translation>规模</translation>
    </message>
    <message>
        <source>Reads up to</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>Languages</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Can do</source>
        <translation>能力</translation>
    </message>
    <message>
        <source>The name the model launches by</source>
        <translation>启动模型时使用的名称</translation>
    </message>
    <message>
        <source>A short description</source>
        <translation>简短介绍</translation>
    </message>
    <message>
        <source>Billions of parameters: bigger models know more but need more memory</source>
        <translation>参数量（单位：十亿，B）：模型越大懂得越多，但需要更多内存</translation>
    </message>
    <message>
        <source>The longest text the model can read at once, in tokens (context length)</source>
        <translation>模型一次能读取的最长文本，以 token 计（上下文长度）</translation>
    </message>
    <message>
        <source>Languages the model was trained for</source>
        <translation>模型训练时支持的语言</translation>
    </message>
    <message>
        <source>What the model can do besides answering</source>
        <translation>模型除回答问题外还能做什么</translation>
    </message>
    <message>
        <source>{0} (added by you)</source>
        <translation>{0}（你添加的）</translation>
    </message>
    <message>
        <source>{0} tokens, {1}</source>
        <translation>{0} 个 token，{1}</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>No chat model is running</source>
        <translation>没有正在运行的对话模型</translation>
    </message>
    <message>
        <source>Start a chat model on the Models page (a small one loads in seconds), then come back to talk to it here. This is the quickest way to check a model before you connect FastGPT to it.</source>
        <translation>先在“模型”页面启动一个对话模型（小模型几秒就能加载好），再回到这里和它对话。在把 FastGPT 接入之前，这是检查模型最快的方法。</translation>
    </message>
    <message>
        <source>Open Models</source>
        <translation>打开模型页面</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>List the running chat models again</source>
        <translation>重新列出正在运行的对话模型</translation>
    </message>
    <message>
        <source>Type a message below and press Enter. The whole conversation is sent each time, so the model remembers what was said.</source>
        <translation>在下方输入消息并按 Enter 发送。每次都会发送完整对话，所以模型记得之前说过的内容。</translation>
    </message>
    <message>
        <source>Message the model (Enter sends, Shift+Enter starts a new line)</source>
        <translation>给模型发消息（Enter 发送，Shift+Enter 换行）</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the answer here (Esc)</source>
        <translation>在此处停止回答（Esc）</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Start a new conversation</source>
        <translation>开始新对话</translation>
    </message>
    <message>
        <source>Copy answer</source>
        <translation>复制回答</translation>
    </message>
    <message>
        <source>Copy the last answer to the clipboard</source>
        <translation>将最后一条回答复制到剪贴板</translation>
    </message>
    <message>
        <source>Copy chat</source>
        <translation>复制对话</translation>
    </message>
    <message>
        <source>Copy the whole conversation as text</source>
        <translation>以文本形式复制整段对话</translation>
    </message>
    <message>
        <source>Hello! In one sentence, what can you help me with?</source>
        <translation>你好！请用一句话介绍一下你能帮我做什么？</translation>
    </message>
    <message>
        <source>{0} (loading)</source>
        <translation>{0}（加载中）</translation>
    </message>
    <message>
        <source>{0} (stopped)</source>
        <translation>{0}（已停止）</translation>
    </message>
    <message>
        <source>Cannot list the running models: {0}</source>
        <translation>无法列出正在运行的模型：{0}</translation>
    </message>
    <message>
        <source>The answer was cut short: {0}</source>
        <translation>回答被中断：{0}</translation>
    </message>
    <message>
        <source>Answering… {0} tokens</source>
        <translation>正在回答… 已生成 {0} 个 token</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Reading the conversation…</source>
        <translation>正在读取对话…</translation>
    </message>
    <message>
        <source>The conversation sent to the model was {0} tokens long.</source>
        <translation>发送给模型的对话共 {0} 个 token。</translation>
    </message>
    <message>
        <source>{0} tokens</source>
        <translation>{0} 个 token</translation>
    </message>
    <message>
        <source>{0} tok/s</source>
        <translation>{0} token/秒</translation>
    </message>
    <message>
        <source>first token after {0} s</source>
        <translation>首个 token 用时 {0} 秒</translation>
    </message>
    <message>
        <source>stopped by you</source>
        <translation>已被你停止</translation>
    </message>
    <message>
        <source>stopped: length (max tokens reached)</source>
        <translation>结束原因：length（达到最大 token 数）</translation>
    </message>
    <message>
        <source>stopped: stop (answer complete)</source>
        <translation>结束原因：stop（回答完毕）</translation>
    </message>
    <message>
        <source>stopped: unknown</source>
        <translation>结束原因：未知</translation>
    </message>
    <message>
        <source>stopped: {0}</source>
        <translation>结束原因：{0}</translation>
    </message>
    <message>
        <source>System:</source>
        <translation>系统：</translation>
    </message>
    <message>
        <source>You:</source>
        <translation>你：</translation>
    </message>
    <message>
        <source>Assistant:</source>
        <translation>助手：</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
<context>
    <name>ChatSettings</name>
    <message>
        <source>Settings</source>
        <translation>参数设置</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>For example: You are a helpful assistant.</source>
        <translation>例如：你是一个乐于助人的助手。</translation>
    </message>
    <message>
        <source>Instructions the model follows for the whole conversation.</source>
        <translation>模型在整段对话中都会遵循的指令。</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度（Temperature）</translation>
    </message>
    <message>
        <source>Higher gives more varied answers, lower more focused and repeatable ones.</source>
        <translation>越高回答越多样，越低回答越集中、越稳定。</translation>
    </message>
    <message>
        <source>Top P</source>
        <translation>Top P</translation>
    </message>
    <message>
        <source>Only the likeliest words, up to this share of probability, are considered.</source>
        <translation>只考虑累计概率不超过该比例的最可能的词。</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>最大 token 数</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <source>The answer stops after this many tokens (a token is about ¾ of a word).</source>
        <translation>回答达到这么多 token 后停止（1 个 token 约为 ¾ 个英文单词，或 1 个左右汉字）。</translation>
    </message>
    <message>
        <source>Stop sequences</source>
        <translation>停止词</translation>
    </message>
    <message>
        <source>One per line, or separated by commas</source>
        <translation>每行一个，或用英文逗号分隔</translation>
    </message>
    <message>
        <source>The answer ends where the model writes one of these. Write \n for a line break.</source>
        <translation>模型输出其中任意一个时，回答即结束。换行请写作 \n。</translation>
    </message>
</context>
<context>
    <name>ConnectPage</name>
    <message>
        <source>Connect</source>
        <translation>接入</translation>
    </message>
    <message>
        <source>Point FastGPT, Dify or any OpenAI-compatible app at one of these addresses. For the model name, use the model&apos;s ID from the Running page.</source>
        <translation>在 FastGPT、Dify 或任何兼容 OpenAI 的应用里填写下面其中一个地址。模型名称请使用“运行中”页面上的模型 ID。</translation>
    </message>
    <message>
        <source>Base URL for FastGPT / OpenAI clients</source>
        <translation>FastGPT / OpenAI 客户端的接口地址（Base URL）</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>FastGPT in Docker on this computer</source>
        <translation>本机 Docker 中的 FastGPT</translation>
    </message>
    <message>
        <source>Inside a container, 127.0.0.1 is the container itself, so use this address. On Linux, also add extra_hosts: [&quot;host.docker.internal:host-gateway&quot;] to FastGPT&apos;s docker-compose.yml and turn on network access below.</source>
        <translation>在容器内，127.0.0.1 指的是容器自身，所以请使用这个地址。在 Linux 上，还需要在 FastGPT 的 docker-compose.yml 中加入 extra_hosts: [&quot;host.docker.internal:host-gateway&quot;]，并打开下方的局域网访问。</translation>
    </message>
    <message>
        <source>Other computers</source>
        <translation>其他电脑</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Turn off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Network access</source>
        <translation>局域网访问</translation>
    </message>
    <message>
        <source>Allow other computers on my network</source>
        <translation>允许局域网内的其他电脑访问</translation>
    </message>
    <message>
        <source>Other computers must send the API key, so a key is needed first. The change takes effect when the server restarts.</source>
        <translation>其他电脑必须携带 API 密钥，因此需要先创建密钥。更改在服务器重启后生效。</translation>
    </message>
    <message>
        <source>Test it from a terminal</source>
        <translation>在终端中测试</translation>
    </message>
    <message>
        <source>FastGPT / One API</source>
        <translation>FastGPT / One API</translation>
    </message>
    <message>
        <source>Ready-to-paste FastGPT and One API settings will appear here.</source>
        <translation>可直接粘贴的 FastGPT 和 One API 配置将显示在这里。</translation>
    </message>
    <message>
        <source>This server</source>
        <translation>此服务器</translation>
    </message>
    <message>
        <source>No network connection was found on this computer.</source>
        <translation>本机没有找到网络连接。</translation>
    </message>
    <message>
        <source>Not reachable from other computers. Turn on &quot;Allow other computers on my network&quot; below to use XinDesk from them.</source>
        <translation>其他电脑无法访问。打开下方的“允许局域网内的其他电脑访问”，即可在其他电脑上使用 XinDesk。</translation>
    </message>
    <message>
        <source>Reading the server&apos;s settings…</source>
        <translation>正在读取服务器设置…</translation>
    </message>
    <message>
        <source>On: every client must send this key (FastGPT: the model&apos;s API key field).</source>
        <translation>已开启：每个客户端都必须携带此密钥（FastGPT：填写在模型的 API 密钥一栏）。</translation>
    </message>
    <message>
        <source>Off: any program on this computer can use the server without a key. Create a key to require one.</source>
        <translation>已关闭：本机上的任何程序无需密钥即可使用服务器。创建密钥后即要求提供密钥。</translation>
    </message>
    <message>
        <source>Replace key…</source>
        <translation>更换密钥…</translation>
    </message>
    <message>
        <source>Create key</source>
        <translation>创建密钥</translation>
    </message>
    <message>
        <source>This computer has no keychain, so a new key lasts only until the server stops: {0}</source>
        <translation>本机没有系统钥匙串，新密钥只在服务器停止前有效：{0}</translation>
    </message>
    <message>
        <source>Waiting for a server restart: until then, other computers {0}.</source>
        <translation>等待服务器重启：在此之前，其他电脑{0}。</translation>
    </message>
    <message>
        <source>cannot connect</source>
        <translation>无法连接</translation>
    </message>
    <message>
        <source>can still connect</source>
        <translation>仍可连接</translation>
    </message>
    <message>
        <source>Model name to use: {0}</source>
        <translation>要使用的模型名称：{0}</translation>
    </message>
    <message>
        <source>No model is running yet: start one on the Models page.</source>
        <translation>还没有正在运行的模型：请在“模型”页面启动一个。</translation>
    </message>
    <message>
        <source>&lt;your API key&gt;</source>
        <translation>&lt;你的 API 密钥&gt;</translation>
    </message>
    <message>
        <source>&lt;model ID&gt;</source>
        <translation>&lt;模型 ID&gt;</translation>
    </message>
    <message>
        <source>Paste this into a terminal: the model should answer with a short message. Press Show above to include the key.</source>
        <translation>把这条命令粘贴到终端运行：模型应该会回复一条简短消息。点击上方的“显示”可把密钥填入命令。</translation>
    </message>
    <message>
        <source>Paste this into a terminal: the model should answer with a short message.</source>
        <translation>把这条命令粘贴到终端运行：模型应该会回复一条简短消息。</translation>
    </message>
    <message>
        <source>Replace the API key?</source>
        <translation>更换 API 密钥？</translation>
    </message>
    <message>
        <source>Clients using the old key will stop working until you give them the new one. Replace the key?</source>
        <translation>使用旧密钥的客户端将无法工作，直到你为它们填上新密钥。确定更换密钥吗？</translation>
    </message>
    <message>
        <source>Turn the API key off?</source>
        <translation>关闭 API 密钥？</translation>
    </message>
    <message>
        <source>Any program on this computer will be able to use the server without a key. Turn the key off?</source>
        <translation>本机上的任何程序都可以无需密钥使用服务器。确定关闭密钥吗？</translation>
    </message>
    <message>
        <source>Network access needs a key the server still has after a restart, but this computer has no keychain to keep it in. Start XinDesk from a terminal with the XINDESK_API_KEY environment variable set to a key, then turn network access on.</source>
        <translation>局域网访问需要一个服务器重启后仍然有效的密钥，但本机没有可以保存密钥的系统钥匙串。请在终端中设置环境变量 XINDESK_API_KEY 为一个密钥后启动 XinDesk，再打开局域网访问。</translation>
    </message>
    <message>
        <source>Saved. Restart the server for this to take effect (stop `xindesk serve` and start it again on the computer where it runs).</source>
        <translation>已保存。重启服务器后生效（在运行服务器的电脑上停止 `xindesk serve` 后再次启动）。</translation>
    </message>
    <message>
        <source>Restart the server?</source>
        <translation>重启服务器？</translation>
    </message>
    <message>
        <source>Restart the server now? Running models will stop.</source>
        <translation>现在重启服务器吗？正在运行的模型将会停止。</translation>
    </message>
    <message>
        <source>Saved. The change takes effect the next time the server starts.</source>
        <translation>已保存。更改将在服务器下次启动时生效。</translation>
    </message>
</context>
<context>
    <name>CopyField</name>
    <message>
        <source>Copied</source>
        <extracomment>How long a button (or a status line) says &quot;Copied&quot; before it reads as before.</extracomment>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>DownloadActions</name>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Stop for now; resume later from where it is</source>
        <translation>暂时停止，之后可从当前位置继续</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Continue from where it stopped</source>
        <translation>从停止的位置继续下载</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Try again, continuing from where it stopped</source>
        <translation>重试，从停止的位置继续</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop this download for good</source>
        <translation>彻底停止此下载</translation>
    </message>
    <message>
        <source>Show files</source>
        <translation>查看文件</translation>
    </message>
    <message>
        <source>Open the folder the files were saved in</source>
        <translation>打开文件所在的文件夹</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove from this list; downloaded files stay on disk</source>
        <translation>从列表中移除；已下载的文件仍保留在磁盘上</translation>
    </message>
</context>
<context>
    <name>DownloadsModel</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Downloaded</source>
        <translation>已下载</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>The model or file being downloaded</source>
        <translation>正在下载的模型或文件</translation>
    </message>
    <message>
        <source>How much of the download is done</source>
        <translation>下载完成了多少</translation>
    </message>
    <message>
        <source>Bytes on disk so far, of the whole download</source>
        <translation>目前已写入磁盘的大小 / 下载总大小</translation>
    </message>
    <message>
        <source>Current download speed</source>
        <translation>当前下载速度</translation>
    </message>
    <message>
        <source>Estimated time until the download is done</source>
        <translation>预计还需多久下载完成</translation>
    </message>
    <message>
        <source>What the download is doing now</source>
        <translation>下载当前的状态</translation>
    </message>
    <message>
        <source>Pause, resume, retry or cancel the download</source>
        <translation>暂停、继续、重试或取消下载</translation>
    </message>
    <message>
        <source>{0}%</source>
        <translation>{0}%</translation>
    </message>
    <message>
        <source>{0} from {1}
Files: {2}
Saved in: {3}</source>
        <translation>{0}，来自 {1}
文件：{2}
保存位置：{3}</translation>
    </message>
    <message>
        <source>{0}, about {1} left</source>
        <translation>{0}，约剩 {1}</translation>
    </message>
    <message>
        <source>{0} of {1}</source>
        <translation>{0} / {1}</translation>
    </message>
    <message>
        <source>Downloading (retry {0})</source>
        <translation>下载中（第 {0} 次重试）</translation>
    </message>
    <message>
        <source>Failed: {0}</source>
        <translation>失败：{0}</translation>
    </message>
    <message>
        <source>unknown error</source>
        <translation>未知错误</translation>
    </message>
    <message>
        <source>Waiting to start</source>
        <translation>等待开始</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>下载中</translation>
    </message>
    <message>
        <source>Checking the file</source>
        <translation>正在校验文件</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>{0} downloading</source>
        <translation>{0} 个正在下载</translation>
    </message>
    <message>
        <source>{0} paused</source>
        <translation>{0} 个已暂停</translation>
    </message>
    <message>
        <source>{0} failed</source>
        <translation>{0} 个失败</translation>
    </message>
    <message>
        <source>Nothing downloading</source>
        <translation>没有正在进行的下载</translation>
    </message>
</context>
<context>
    <name>DownloadsPage</name>
    <message>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Downloads keep going when you close this window. If you quit XinDesk, they continue from where they stopped the next time it starts.</source>
        <translation>关闭此窗口后下载会继续进行。如果退出 XinDesk，下次启动时会从中断的位置继续下载。</translation>
    </message>
    <message>
        <source>Clear finished</source>
        <translation>清除已结束的</translation>
    </message>
    <message>
        <source>Remove completed and cancelled downloads from the list; files stay on disk</source>
        <translation>从列表中移除已完成和已取消的下载；文件仍保留在磁盘上</translation>
    </message>
    <message>
        <source>No downloads yet — pick a model on the Models page.</source>
        <translation>还没有下载任务——去“模型”页面挑一个模型吧。</translation>
    </message>
    <message>
        <source>Browse models</source>
        <translation>浏览模型</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Cannot load the downloads: {0}</source>
        <translation>无法加载下载列表：{0}</translation>
    </message>
    <message>
        <source>{0} ({1})</source>
        <translation>{0}（{1}）</translation>
    </message>
    <message>
        <source>{0}: {1} from {2}</source>
        <translation>{0}：{1}，来自 {2}</translation>
    </message>
    <message>
        <source>Files: {0}</source>
        <translation>文件：{0}</translation>
    </message>
    <message>
        <source>Downloaded: {0}</source>
        <translation>已下载：{0}</translation>
    </message>
    <message>
        <source>Saved in: {0}</source>
        <translation>保存位置：{0}</translation>
    </message>
    <message>
        <source>What went wrong: {0}</source>
        <translation>出错原因：{0}</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Cancel the download of {0}?</source>
        <translation>取消下载 {0}？</translation>
    </message>
    <message>
        <source>You can keep what is already downloaded ({0}): downloading the same model later continues from there.</source>
        <translation>你可以保留已下载的部分（{0}）：以后再次下载同一个模型时会从这里继续。</translation>
    </message>
    <message>
        <source>Cancel and delete the partial file</source>
        <translation>取消并删除未完成的文件</translation>
    </message>
    <message>
        <source>Cancel, keep the partial file</source>
        <translation>取消，保留未完成的文件</translation>
    </message>
    <message>
        <source>Keep downloading</source>
        <translation>继续下载</translation>
    </message>
    <message>
        <source>The download could not be changed: {0}</source>
        <translation>无法更改此下载：{0}</translation>
    </message>
</context>
<context>
    <name>DownloadsSection</name>
    <message>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Download models from</source>
        <translation>模型下载源</translation>
    </message>
    <message>
        <source>Automatic (the one that answers)</source>
        <translation>自动（选择能连通的那个）</translation>
    </message>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>ModelScope (faster in mainland China)</source>
        <translation>魔搭社区 ModelScope（中国大陆更快）</translation>
    </message>
    <message>
        <source>Hugging Face mirror</source>
        <translation>Hugging Face 镜像</translation>
    </message>
    <message>
        <source>Use hf-mirror.com</source>
        <translation>使用 hf-mirror.com</translation>
    </message>
    <message>
        <source>ModelScope address</source>
        <translation>魔搭社区 ModelScope 地址</translation>
    </message>
    <message>
        <source>Proxy</source>
        <translation>代理</translation>
    </message>
    <message>
        <source>Downloads at the same time</source>
        <translation>同时下载数</translation>
    </message>
    <message>
        <source>Save download settings</source>
        <translation>保存下载设置</translation>
    </message>
    <message>
        <source>The Hugging Face mirror must be a web address starting with http:// or https://, e.g. https://hf-mirror.com</source>
        <translation>Hugging Face 镜像必须是以 http:// 或 https:// 开头的网址，例如 https://hf-mirror.com</translation>
    </message>
    <message>
        <source>The ModelScope address must be a web address starting with http:// or https://, e.g. https://www.modelscope.cn</source>
        <translation>魔搭社区 ModelScope 地址必须是以 http:// 或 https:// 开头的网址，例如 https://www.modelscope.cn</translation>
    </message>
    <message>
        <source>The proxy must look like http://host:port (or https://, socks5://), e.g. http://127.0.0.1:7890</source>
        <translation>代理的格式应为 http://主机:端口（或 https://、socks5://），例如 http://127.0.0.1:7890</translation>
    </message>
    <message>
        <source>Download settings saved.</source>
        <translation>下载设置已保存。</translation>
    </message>
</context>
<context>
    <name>ExportPanel</name>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Save the configuration</source>
        <translation>保存配置</translation>
    </message>
    <message>
        <source>Could not save the file: {0}</source>
        <translation>无法保存文件：{0}</translation>
    </message>
    <message>
        <source>Sending FastGPT&apos;s requests…</source>
        <translation>正在发送 FastGPT 会发送的请求…</translation>
    </message>
    <message>
        <source>Pass</source>
        <translation>通过</translation>
    </message>
    <message>
        <source>Fail</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Stopped after {0} checks.</source>
        <translation>已在 {0} 项检查后停止。</translation>
    </message>
    <message>
        <source>All {0} checks passed: FastGPT can use this endpoint.</source>
        <translation>全部 {0} 项检查通过：FastGPT 可以使用此接口地址。</translation>
    </message>
    <message>
        <source>{0} of {1} checks passed. The failures say what FastGPT would trip on.</source>
        <translation>{1} 项检查中通过 {0} 项。失败项说明了 FastGPT 会在哪里出错。</translation>
    </message>
    <message>
        <source>The check could not run: {0}</source>
        <translation>检查无法运行：{0}</translation>
    </message>
    <message>
        <source>Stop the test</source>
        <translation>停止测试</translation>
    </message>
    <message>
        <source>Test it as FastGPT would</source>
        <translation>模拟 FastGPT 进行测试</translation>
    </message>
    <message>
        <source>What to paste into</source>
        <translation>要粘贴到哪里</translation>
    </message>
    <message>
        <source>Where FastGPT runs</source>
        <translation>FastGPT 运行在哪里</translation>
    </message>
    <message>
        <source>FastGPT 4.8.20 or newer: model JSON to append in Model settings</source>
        <translation>FastGPT 4.8.20 及以上：在“模型配置”中追加的模型 JSON</translation>
    </message>
    <message>
        <source>FastGPT 4.8.19 or older: parts to merge into config.json</source>
        <translation>FastGPT 4.8.19 及以下：合并到 config.json 中的片段</translation>
    </message>
    <message>
        <source>FastGPT 4.8.19 or older: a whole config.json</source>
        <translation>FastGPT 4.8.19 及以下：完整的 config.json</translation>
    </message>
    <message>
        <source>One API: channel settings</source>
        <translation>One API：渠道设置</translation>
    </message>
    <message>
        <source>AI Proxy (FastGPT 4.9+): channel settings</source>
        <translation>AI Proxy（FastGPT 4.9+）：渠道设置</translation>
    </message>
    <message>
        <source>docker-compose: environment lines</source>
        <translation>docker-compose：环境变量配置行</translation>
    </message>
    <message>
        <source>curl commands to test by hand</source>
        <translation>手动测试用的 curl 命令</translation>
    </message>
    <message>
        <source>In Docker on this computer</source>
        <translation>本机的 Docker 中</translation>
    </message>
    <message>
        <source>On this computer, not in Docker</source>
        <translation>本机（不在 Docker 中）</translation>
    </message>
    <message>
        <source>On another computer on my network</source>
        <translation>局域网内的另一台电脑</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Save as…</source>
        <translation>另存为…</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Why</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>The test sends the requests FastGPT sends (chat, streaming, tools, embeddings, rerank) to this endpoint with your key.</source>
        <translation>测试会用你的密钥，向此接口地址发送 FastGPT 会发送的请求（对话、流式输出、工具调用、嵌入、重排序）。</translation>
    </message>
</context>
<context>
    <name>FolderSection</name>
    <message>
        <source>Models folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Change…</source>
        <translation>更改…</translation>
    </message>
    <message>
        <source>Where downloaded models are kept. Changing it moves the models already downloaded into the new folder.</source>
        <translation>下载的模型存放在这里。更改后，已下载的模型会被移动到新文件夹。</translation>
    </message>
    <message>
        <source>This server is not XinDesk: change its settings on that server.</source>
        <translation>此服务器不是 XinDesk：请在该服务器上更改它的设置。</translation>
    </message>
    <message>
        <source>Choose the models folder</source>
        <translation>选择模型文件夹</translation>
    </message>
    <message>
        <source>Move the models?</source>
        <translation>移动模型？</translation>
    </message>
    <message>
        <source>Your downloaded models will be moved to {0}. Large models can take a while to move to another disk. Running models must be stopped first. Continue?</source>
        <translation>已下载的模型将被移动到 {0}。把大模型移动到另一块磁盘可能需要一段时间。正在运行的模型需要先停止。是否继续？</translation>
    </message>
    <message>
        <source>Moving the models to {0}…</source>
        <translation>正在把模型移动到 {0}…</translation>
    </message>
    <message>
        <source>Models folder is now {0}.</source>
        <translation>模型文件夹已改为 {0}。</translation>
    </message>
</context>
<context>
    <name>Format</name>
    <message>
        <source>{0} s</source>
        <translation>{0} 秒</translation>
    </message>
    <message>
        <source>{0} min {1} s</source>
        <translation>{0} 分 {1} 秒</translation>
    </message>
    <message>
        <source>{0} h {1} min</source>
        <translation>{0} 小时 {1} 分</translation>
    </message>
</context>
<context>
    <name>InstalledTableModel</name>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>From</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Quality level</source>
        <translation>量化等级</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Ready to launch</source>
        <translation>可以启动</translation>
    </message>
    <message>
        <source>Not a model of its own</source>
        <translation>不是独立的模型</translation>
    </message>
    <message>
        <source>Imported file</source>
        <translation>导入的文件</translation>
    </message>
</context>
<context>
    <name>KeepDialog</name>
    <message>
        <source>Keep {0}</source>
        <extracomment>The longest idle time the dialog offers, in minutes (a week).</extracomment>
        <translation>保持 {0}</translation>
    </message>
    <message>
        <source>Pinned: never unload it (idle or to make room)</source>
        <translation>固定：从不卸载（空闲或腾出内存时都不卸载）</translation>
    </message>
    <message>
        <source>Load it when the server starts</source>
        <translation>服务器启动时加载</translation>
    </message>
    <message>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>从不</translation>
    </message>
    <message>
        <source>An unloaded model frees its memory and loads again, in a few seconds, for the next request that names it.</source>
        <translation>卸载的模型会释放内存；下一个指名它的请求会在几秒内重新加载它。</translation>
    </message>
    <message>
        <source>Unload after</source>
        <translation>空闲多久后卸载</translation>
    </message>
</context>
<context>
    <name>LanguageSection</name>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>LaunchDialog</name>
    <message>
        <source>Give the model a name that apps will call it by.</source>
        <translation>请给模型起一个名称，应用将通过这个名称调用它。</translation>
    </message>
    <message>
        <source>A model is already running as “{0}”. Choose another name above, or stop that one on the Running page. ({1})</source>
        <translation>已有模型以“{0}”的名称运行。请在上方换一个名称，或在“运行中”页面停止那个模型。（{1}）</translation>
    </message>
    <message>
        <source>Launching…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Launch</source>
        <translation>启动</translation>
    </message>
    <message>
        <source>Full precision: the conversation&apos;s memory grows with the context length above.</source>
        <translation>全精度：对话占用的内存随上面的上下文长度增长。</translation>
    </message>
    <message>
        <source>The conversation takes {0}% of the memory it takes at full precision, so a longer context or more requests at once fit; answers change very little.</source>
        <translation>对话只占全精度时 {0}% 的内存，因此能容纳更长的上下文或更多同时进行的请求；回答几乎不变。</translation>
    </message>
    <message>
        <source>{0} tokens, {1} of conversation and documents. More needs more memory.</source>
        <translation>{0} 个 token，可容纳{1}的对话和文档。越长需要的内存越多。</translation>
    </message>
    <message>
        <source>Launch {0}</source>
        <translation>启动 {0}</translation>
    </message>
    <message>
        <source>It is not on this computer yet: {0} will be downloaded first, then it starts. You can follow both on the Running page.</source>
        <translation>本机上还没有这个模型：会先下载 {0}，然后再启动。两者的进度都可以在“运行中”页面查看。</translation>
    </message>
    <message>
        <source>Name clients use (model UID)</source>
        <translation>客户端使用的名称（模型 UID）</translation>
    </message>
    <message>
        <source>Apps such as FastGPT ask for the model by this name.</source>
        <translation>FastGPT 等应用通过这个名称调用模型。</translation>
    </message>
    <message>
        <source>Kind of model</source>
        <translation>模型类型</translation>
    </message>
    <message>
        <source>How much text it can keep in mind (context length)</source>
        <translation>能记住多少文本（上下文长度）</translation>
    </message>
    <message>
        <source>{0} tokens ({1})</source>
        <translation>{0} token（{1}）</translation>
    </message>
    <message>
        <source>GPU offload</source>
        <translation>GPU 卸载（用 GPU 加速）</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>CPU only</source>
        <translation>仅 CPU</translation>
    </message>
    <message>
        <source>Layers:</source>
        <translation>层数：</translation>
    </message>
    <message>
        <source>No GPU that XinDesk can use was found: the model runs on the CPU.</source>
        <translation>没有找到 XinDesk 可用的 GPU：模型将在 CPU 上运行。</translation>
    </message>
    <message>
        <source>Automatic puts as much of the model on the GPU as fits. Fewer layers leave GPU memory for other programs but answer more slowly.</source>
        <translation>“自动”会在显存允许的范围内把尽可能多的模型层放到 GPU 上。层数越少，给其他程序留的显存越多，但回答越慢。</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <source>Use:</source>
        <translation>使用：</translation>
    </message>
    <message>
        <source>Advanced options</source>
        <translation>高级选项</translation>
    </message>
    <message>
        <source>Flash attention</source>
        <translation>快速注意力（Flash Attention）</translation>
    </message>
    <message>
        <source>Automatic (on where the device supports it)</source>
        <translation>自动（设备支持时开启）</translation>
    </message>
    <message>
        <source>On</source>
        <translation>开启</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Memory for the conversation (KV cache)</source>
        <translation>对话内存（KV 缓存）</translation>
    </message>
    <message>
        <source>Full precision (f16)</source>
        <translation>全精度（f16）</translation>
    </message>
    <message>
        <source>Half (q8_0)</source>
        <translation>一半（q8_0）</translation>
    </message>
    <message>
        <source>Quarter (q4_0)</source>
        <translation>四分之一（q4_0）</translation>
    </message>
    <message>
        <source>Batch size (tokens read at once)</source>
        <translation>批大小（一次读取的 token 数）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>LogModel</name>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
</context>
<context>
    <name>LogsPage</name>
    <message>
        <source>Logs</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>What the XinDesk server has been doing: models loaded, downloads, requests that failed. If something goes wrong, press Copy diagnostics and paste the result into your bug report (it never contains your API key).</source>
        <translation>XinDesk 服务器的运行记录：加载了哪些模型、下载情况、失败的请求。遇到问题时，点击“复制诊断信息”，把结果粘贴到你的问题反馈中（其中绝不会包含你的 API 密钥）。</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>显示：</translation>
    </message>
    <message>
        <source>Server log</source>
        <translation>服务器日志</translation>
    </message>
    <message>
        <source>Console output of the local server</source>
        <translation>本机服务器的控制台输出</translation>
    </message>
    <message>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
    <message>
        <source>All messages</source>
        <translation>全部消息</translation>
    </message>
    <message>
        <source>Warnings and errors</source>
        <translation>警告和错误</translation>
    </message>
    <message>
        <source>Errors only</source>
        <translation>仅错误</translation>
    </message>
    <message>
        <source>Filter: text in the message or source</source>
        <translation>筛选：消息或来源中的文字</translation>
    </message>
    <message>
        <source>Clear view</source>
        <translation>清空视图</translation>
    </message>
    <message>
        <source>Empty this list; only new messages are shown from now on.</source>
        <translation>清空此列表；此后只显示新消息。</translation>
    </message>
    <message>
        <source>Copy diagnostics</source>
        <translation>复制诊断信息</translation>
    </message>
    <message>
        <source>Select a line to read it in full here.</source>
        <translation>选中一行，即可在这里查看完整内容。</translation>
    </message>
    <message>
        <source>Copy a support bundle (versions, hardware, settings, models, recent log) to the clipboard. It holds no API key or token.</source>
        <translation>将诊断信息包（版本、硬件、设置、模型、最近日志）复制到剪贴板。其中不含 API 密钥或访问令牌。</translation>
    </message>
    <message>
        <source>Copy selected lines</source>
        <translation>复制选中的行</translation>
    </message>
    <message>
        <source>Show console output</source>
        <translation>显示控制台输出</translation>
    </message>
    <message>
        <source>Cannot read the server&apos;s log: {0}</source>
        <translation>无法读取服务器日志：{0}</translation>
    </message>
    <message>
        <source>{0} lines</source>
        <translation>{0} 行</translation>
    </message>
    <message>
        <source>{0} of {1} lines match the filter</source>
        <translation>{1} 行中有 {0} 行符合筛选条件</translation>
    </message>
    <message>
        <source>No console output: this window did not start the server (it was already running), so only the server log can be shown.</source>
        <translation>没有控制台输出：服务器不是由此窗口启动的（它之前已在运行），因此只能显示服务器日志。</translation>
    </message>
    <message>
        <source>{0} · scrolled up: scroll to the bottom to follow new lines</source>
        <translation>{0} · 已向上滚动：滚动到底部即可跟随新日志</translation>
    </message>
    <message>
        <source>Collecting…</source>
        <translation>正在收集…</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Copied (without the server&apos;s part: {0})</source>
        <translation>已复制（不含服务器部分：{0}）</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Connected to a remote server: {0}</source>
        <translation>已连接到远程服务器：{0}</translation>
    </message>
    <message>
        <source>Server stopped</source>
        <translation>服务器已停止</translation>
    </message>
    <message>
        <source>Server starting…</source>
        <translation>服务器启动中…</translation>
    </message>
    <message>
        <source>Server running at {0}</source>
        <translation>服务器运行中：{0}</translation>
    </message>
    <message>
        <source>Using the server already running at {0}</source>
        <translation>正在使用已在运行的服务器：{0}</translation>
    </message>
    <message>
        <source>Server failed to start: {0}</source>
        <translation>服务器启动失败：{0}</translation>
    </message>
    <message>
        <source>Start server</source>
        <translation>启动服务器</translation>
    </message>
    <message>
        <source>XinDesk: your private AI server</source>
        <translation>XinDesk：你的私有 AI 服务器</translation>
    </message>
</context>
<context>
    <name>ModelDetail</name>
    <message>
        <source>{0} tokens ({1})</source>
        <translation>{0} token（{1}）</translation>
    </message>
    <message>
        <source>There are no downloadable GGUF files for this model right now.</source>
        <translation>这个模型目前没有可下载的 GGUF 文件。</translation>
    </message>
    <message>
        <source>The hub does not have the files of this model right now. Try another size or another download source in Settings.</source>
        <translation>模型社区目前没有这个模型的文件。请换一个规模，或在“设置”中换一个下载源。</translation>
    </message>
    <message>
        <source>this computer&apos;s GPU memory ({0} free) and RAM ({1} free)</source>
        <translation>本机的显存（可用 {0}）和内存（可用 {1}）</translation>
    </message>
    <message>
        <source>this computer&apos;s RAM ({0} free; no GPU XinDesk can use)</source>
        <translation>本机的内存（可用 {0}；没有 XinDesk 可用的 GPU）</translation>
    </message>
    <message>
        <source>“On this computer” is an estimate for {0} tokens of context with {1}. Smaller levels need less memory and answer faster, a little less accurately. ★ marks the best one that runs well here.</source>
        <translation>“本机运行”一栏是按 {0} 个 token 的上下文，结合{1}估算的。档位越小，占用内存越少、回答越快，但准确度略低。★ 标出在本机运行良好的最佳档位。</translation>
    </message>
    <message>
        <source>Downloading {0}. It carries on in the background.</source>
        <translation>正在下载 {0}，下载会在后台继续进行。</translation>
    </message>
    <message>
        <source>Open Downloads</source>
        <translation>打开下载页面</translation>
    </message>
    <message>
        <source>Added as “{0}”: it is in the {1} list now, and apps can launch it by that name.</source>
        <translation>已添加为“{0}”：它现在在{1}列表中，应用可以按这个名称启动它。</translation>
    </message>
    <message>
        <source>{0} {1}</source>
        <translation>{0} {1}</translation>
    </message>
    <message>
        <source>{0}, {1}</source>
        <translation>{0}，{1}</translation>
    </message>
    <message>
        <source>Pick a quality / size level above.</source>
        <translation>请在上方选择一个质量 / 体积档位。</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Selected: {0}, {1}</source>
        <translation>已选择：{0}，{1}</translation>
    </message>
    <message>
        <source>Downloaded</source>
        <translation>已下载</translation>
    </message>
    <message>
        <source>← All models</source>
        <translation>← 全部模型</translation>
    </message>
    <message>
        <source>Model size (billions of parameters)</source>
        <translation>模型规模（参数量，单位：十亿）</translation>
    </message>
    <message>
        <source>Bigger models know more and write better, but need more memory.</source>
        <translation>模型越大懂得越多、写得越好，但需要更多内存。</translation>
    </message>
    <message>
        <source>Plan for this much text (context length)</source>
        <translation>计划处理的文本长度（上下文长度）</translation>
    </message>
    <message>
        <source>How much text the model keeps in mind at once: the conversation plus any documents. Longer needs more memory.</source>
        <translation>模型一次能记住多少文本：对话加上所有文档。越长需要的内存越多。</translation>
    </message>
    <message>
        <source>Quality / size level (quantization)</source>
        <translation>质量 / 体积档位（量化精度）</translation>
    </message>
    <message>
        <source>Checking the files and the memory each needs…</source>
        <translation>正在检查文件以及各自所需的内存…</translation>
    </message>
    <message>
        <source>Launch…</source>
        <translation>启动…</translation>
    </message>
    <message>
        <source>Start the model so apps can use it (it is downloaded first if needed)</source>
        <translation>启动模型供应用使用（如有需要会先下载）</translation>
    </message>
    <message>
        <source>Only download it now, to launch later</source>
        <translation>现在只下载，稍后再启动</translation>
    </message>
</context>
<context>
    <name>ModelDetails</name>
    <message>
        <source>Use {0} from other apps</source>
        <translation>在其他应用中使用 {0}</translation>
    </message>
    <message>
        <source>{0} tokens</source>
        <translation>{0} 个 token</translation>
    </message>
    <message>
        <source>What went wrong: {0}</source>
        <translation>出错原因：{0}</translation>
    </message>
    <message>
        <source>API address</source>
        <translation>API 地址</translation>
    </message>
    <message>
        <source>Model ID</source>
        <translation>模型 ID</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>Runs on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <source>Kept</source>
        <translation>保持方式</translation>
    </message>
</context>
<context>
    <name>ModelFacts</name>
    <message>
        <source>{0}B</source>
        <translation>{0}B</translation>
    </message>
    <message>
        <source>{0}K</source>
        <translation>{0}K</translation>
    </message>
    <message>
        <source>about {0:,} words</source>
        <translation>约 {0:,} 字</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英语</translation>
    </message>
    <message>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>many languages</source>
        <translation>多种语言</translation>
    </message>
    <message>
        <source>German</source>
        <translation>德语</translation>
    </message>
    <message>
        <source>French</source>
        <translation>法语</translation>
    </message>
    <message>
        <source>Spanish</source>
        <translation>西班牙语</translation>
    </message>
    <message>
        <source>Italian</source>
        <translation>意大利语</translation>
    </message>
    <message>
        <source>Portuguese</source>
        <translation>葡萄牙语</translation>
    </message>
    <message>
        <source>Hindi</source>
        <translation>印地语</translation>
    </message>
    <message>
        <source>Thai</source>
        <translation>泰语</translation>
    </message>
    <message>
        <source>Japanese</source>
        <translation>日语</translation>
    </message>
    <message>
        <source>Korean</source>
        <translation>韩语</translation>
    </message>
    <message>
        <source>chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>text completion</source>
        <translation>文本补全</translation>
    </message>
    <message>
        <source>tool calls</source>
        <translation>工具调用</translation>
    </message>
    <message>
        <source>reads images</source>
        <translation>识图</translation>
    </message>
    <message>
        <source>thinks step by step</source>
        <translation>深度思考</translation>
    </message>
    <message>
        <source>thinking on or off</source>
        <translation>可开关思考</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>Rerank</source>
        <translation>重排序</translation>
    </message>
    <message>
        <source>Turns text into vectors for search ({0} dimensions)</source>
        <translation>把文本转换为用于检索的向量（{0} 维）</translation>
    </message>
    <message>
        <source>Turns text into vectors for search</source>
        <translation>把文本转换为用于检索的向量</translation>
    </message>
    <message>
        <source>Sorts search results by how well they answer the question</source>
        <translation>按与问题的相关程度给检索结果排序</translation>
    </message>
    <message>
        <source>{0} – {1} ({2} sizes)</source>
        <translation>{0} – {1}（{2} 种规模）</translation>
    </message>
    <message>
        <source>{0} and {1} more</source>
        <translation>{0} 及另外 {1} 种</translation>
    </message>
</context>
<context>
    <name>ModelSummary</name>
    <message>
        <source>{0} model from the XinDesk catalog</source>
        <extracomment>What a model&apos;s page shows: a catalog family, or a repository found on a hub.</extracomment>
        <translation>XinDesk 模型库中的{0}模型</translation>
    </message>
    <message>
        <source>{0} model you added</source>
        <translation>你添加的{0}模型</translation>
    </message>
    <message>
        <source>Reads up to {0} tokens ({1})</source>
        <translation>最多可读取 {0} 个 token（{1}）</translation>
    </message>
    <message>
        <source>Languages: {0}</source>
        <translation>语言：{0}</translation>
    </message>
    <message>
        <source>Can do: {0}</source>
        <translation>能力：{0}</translation>
    </message>
    <message>
        <source>Size: {0} parameters</source>
        <translation>规模：{0} 参数</translation>
    </message>
    <message>
        <source>Vectors of {0} numbers</source>
        <translation>向量维度：{0}</translation>
    </message>
    <message>
        <source>Repository on {0}</source>
        <translation>{0} 上的仓库</translation>
    </message>
    <message>
        <source>Repository on a model hub</source>
        <translation>模型社区上的仓库</translation>
    </message>
    <message>
        <source>Found by search. Pick a quality / size level to download it, or add it to your models so apps can launch it by name.</source>
        <translation>通过搜索找到。选择一个质量 / 体积档位即可下载，或把它添加到“我的模型”，这样应用就能按名称启动它。</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Chat ({0})</source>
        <translation>对话（{0}）</translation>
    </message>
    <message>
        <source>Embedding ({0})</source>
        <translation>嵌入（{0}）</translation>
    </message>
    <message>
        <source>Rerank ({0})</source>
        <translation>重排序（{0}）</translation>
    </message>
    <message>
        <source>On this computer ({0})</source>
        <translation>本机（{0}）</translation>
    </message>
    <message>
        <source>Online ({0})</source>
        <translation>在线（{0}）</translation>
    </message>
    <message>
        <source>Online search</source>
        <translation>在线搜索</translation>
    </message>
    <message>
        <source>Type a model name (or owner/repository) to search.</source>
        <translation>请输入模型名称（或“所有者/仓库”）进行搜索。</translation>
    </message>
    <message>
        <source>Searching for “{0}”…</source>
        <translation>正在搜索“{0}”…</translation>
    </message>
    <message>
        <source>{0} repositories with GGUF files for “{1}”. Click one to see its quality levels and what runs on this computer.</source>
        <translation>找到 {0} 个与“{1}”相关、包含 GGUF 文件的仓库。点击一个即可查看它的量化等级，以及哪些能在本机运行。</translation>
    </message>
    <message>
        <source>No GGUF models found for “{0}”. Try fewer or other words.</source>
        <translation>没有找到与“{0}”相关的 GGUF 模型。试试更少或其他关键词。</translation>
    </message>
    <message>
        <source>The search did not work; see the message above.</source>
        <translation>搜索失败，请查看上方的消息。</translation>
    </message>
    <message>
        <source>Chat models answer questions; embedding models turn documents into vectors for a knowledge base; rerank models sort search results. Pick one to see its sizes and what runs on this computer.</source>
        <translation>对话模型回答问题；嵌入模型把文档转换为向量，用于知识库；重排序模型给检索结果排序。选择一个模型，即可查看它的规模以及哪些能在本机运行。</translation>
    </message>
    <message>
        <source>Filter the list, or press Enter to search Hugging Face and ModelScope</source>
        <translation>筛选列表，或按 Enter 在 Hugging Face 和魔搭社区搜索</translation>
    </message>
    <message>
        <source>Hugging Face and ModelScope</source>
        <translation>Hugging Face 和魔搭社区</translation>
    </message>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>ModelScope</source>
        <translation>魔搭社区 ModelScope</translation>
    </message>
    <message>
        <source>Where to search online</source>
        <translation>在哪里在线搜索</translation>
    </message>
    <message>
        <source>Search online</source>
        <translation>在线搜索</translation>
    </message>
    <message>
        <source>Models downloaded, imported, or found in the Hugging Face cache.</source>
        <translation>已下载、已导入，或在 Hugging Face 缓存中找到的模型。</translation>
    </message>
    <message>
        <source>Launch…</source>
        <translation>启动…</translation>
    </message>
    <message>
        <source>Type a name above and press Enter to search Hugging Face and ModelScope for models that run here (GGUF files).</source>
        <translation>在上方输入名称并按 Enter，即可在 Hugging Face 和魔搭社区搜索能在本机运行的模型（GGUF 文件）。</translation>
    </message>
    <message>
        <source>Models that chat, answer questions and write</source>
        <translation>能对话、回答问题和写作的模型</translation>
    </message>
    <message>
        <source>Models that turn text into vectors, for knowledge bases</source>
        <translation>把文本转换为向量的模型，用于知识库</translation>
    </message>
    <message>
        <source>Models that sort search results by how well they answer</source>
        <translation>按相关程度给检索结果排序的模型</translation>
    </message>
    <message>
        <source>Model files already on this computer</source>
        <translation>本机上已有的模型文件</translation>
    </message>
    <message>
        <source>Search results from Hugging Face and ModelScope</source>
        <translation>来自 Hugging Face 和魔搭社区的搜索结果</translation>
    </message>
</context>
<context>
    <name>QuantModel</name>
    <message>
        <source>Unknown level</source>
        <translation>未知档位</translation>
    </message>
    <message>
        <source>Good – the usual balance of size and quality</source>
        <translation>良好——体积与质量的常用平衡点</translation>
    </message>
    <message>
        <source>Original quality – largest file</source>
        <translation>原始质量——文件最大</translation>
    </message>
    <message>
        <source>Near original quality – large file</source>
        <translation>接近原始质量——文件较大</translation>
    </message>
    <message>
        <source>Very good quality</source>
        <translation>质量很好</translation>
    </message>
    <message>
        <source>Good quality, smaller file</source>
        <translation>质量良好，文件较小</translation>
    </message>
    <message>
        <source>Fair – noticeably less accurate</source>
        <translation>一般——准确度明显下降</translation>
    </message>
    <message>
        <source>Low – only if nothing bigger fits</source>
        <translation>较低——仅在更大的都放不下时使用</translation>
    </message>
    <message>
        <source>Fits in GPU memory</source>
        <translation>可完全放入显存</translation>
    </message>
    <message>
        <source>Partly on GPU</source>
        <translation>部分在 GPU 上</translation>
    </message>
    <message>
        <source>Runs on CPU</source>
        <translation>在 CPU 上运行</translation>
    </message>
    <message>
        <source>Too big for this computer</source>
        <translation>对本机来说太大</translation>
    </message>
    <message>
        <source>Not checked</source>
        <translation>未检查</translation>
    </message>
    <message>
        <source>The memory this needs could not be estimated.</source>
        <translation>无法估算所需的内存。</translation>
    </message>
    <message>
        <source>Memory (RAM): needs {0}, {1} usable</source>
        <translation>内存：需要 {0}，可用 {1}</translation>
    </message>
    <message>
        <source>GPU memory: needs {0}, {1} usable</source>
        <translation>显存：需要 {0}，可用 {1}</translation>
    </message>
    <message>
        <source>Not on {0} right now (missing {1})</source>
        <translation>仓库 {0} 中暂时没有（缺少 {1}）</translation>
    </message>
    <message>
        <source>Some parts of this split file are missing on the hub</source>
        <translation>模型社区上缺少这个分卷文件的部分分卷</translation>
    </message>
    <message>
        <source>Quality / size level</source>
        <translation>质量 / 体积档位</translation>
    </message>
    <message>
        <source>What it means</source>
        <translation>含义</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载大小</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>本机运行</translation>
    </message>
    <message>
        <source>The quantization: how much the model&apos;s numbers were rounded to make the file smaller. Smaller files need less memory and answer faster, a little less accurately.</source>
        <translation>量化精度：为了缩小文件，模型中的数值被舍入了多少。文件越小，占用内存越少、回答越快，但准确度略低。</translation>
    </message>
    <message>
        <source>How close to the original model this level is</source>
        <translation>这个档位与原始模型有多接近</translation>
    </message>
    <message>
        <source>Size of the file(s) to download</source>
        <translation>要下载的文件大小</translation>
    </message>
    <message>
        <source>Whether it runs on this computer at the chosen context length</source>
        <translation>在所选上下文长度下能否在本机运行</translation>
    </message>
    <message>
        <source>Not available</source>
        <translation>不可用</translation>
    </message>
    <message>
        <source>{0} files: {1}</source>
        <translation>{0} 个文件：{1}</translation>
    </message>
    <message>
        <source>★ Recommended</source>
        <translation>★ 推荐</translation>
    </message>
    <message>
        <source>✓ Downloaded</source>
        <translation>✓ 已下载</translation>
    </message>
</context>
<context>
    <name>RegisterRow</name>
    <message>
        <source>Add to my models as</source>
        <translation>添加到我的模型，名称为</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
</context>
<context>
    <name>RunningActions</name>
    <message>
        <source>Open in chat</source>
        <translation>去对话</translation>
    </message>
    <message>
        <source>Talk to this model on the Chat page</source>
        <translation>在“对话”页面与这个模型对话</translation>
    </message>
    <message>
        <source>Load</source>
        <translation>加载</translation>
    </message>
    <message>
        <source>Load the model into memory now</source>
        <translation>现在把模型加载到内存</translation>
    </message>
    <message>
        <source>Unload</source>
        <translation>卸载</translation>
    </message>
    <message>
        <source>Free its memory; the next request that names it loads it again</source>
        <translation>释放它的内存；下一个指名它的请求会重新加载它</translation>
    </message>
    <message>
        <source>Keep…</source>
        <translation>保持…</translation>
    </message>
    <message>
        <source>Pin it, load it when the server starts, or set its idle time</source>
        <translation>固定它、在服务器启动时加载，或设置空闲时间</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop serving the model and free its memory</source>
        <translation>停止提供该模型并释放内存</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop starting this model (a download keeps what it already has)</source>
        <translation>停止启动这个模型（已下载的部分会保留）</translation>
    </message>
    <message>
        <source>Relaunch</source>
        <translation>重新启动</translation>
    </message>
    <message>
        <source>Start the model again with the same settings</source>
        <translation>使用相同设置再次启动模型</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove this failed model from the list</source>
        <translation>从列表中移除这个启动失败的模型</translation>
    </message>
</context>
<context>
    <name>RunningModelsModel</name>
    <message>
        <source>Model ID (UID)</source>
        <translation>模型 ID（UID）</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Quality level</source>
        <translation>量化等级</translation>
    </message>
    <message>
        <source>Memory used</source>
        <translation>内存占用</translation>
    </message>
    <message>
        <source>Runs on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>The name other apps use to call this model (the &quot;model&quot; field of API requests)</source>
        <translation>其他应用调用这个模型时使用的名称（API 请求中的 model 字段）</translation>
    </message>
    <message>
        <source>Which model was launched</source>
        <translation>启动的是哪个模型</translation>
    </message>
    <message>
        <source>Chat models answer messages; embedding models turn text into numbers for search; rerank models sort search results</source>
        <translation>对话模型回复消息；嵌入模型把文本转换为用于检索的向量；重排序模型给检索结果排序</translation>
    </message>
    <message>
        <source>Quality / size level (quantization): lower levels such as Q4 use less memory, higher ones such as Q8 answer a little better</source>
        <translation>质量 / 体积档位（量化精度）：Q4 等较低档位占用内存更少，Q8 等较高档位回答稍好</translation>
    </message>
    <message>
        <source>Computer memory (RAM) the model&apos;s process uses; memory on a graphics card is not counted</source>
        <translation>模型进程占用的内存（RAM），不含显卡上的显存</translation>
    </message>
    <message>
        <source>Where the model&apos;s layers run: on the graphics card (GPU), which is fast, or on the processor (CPU)</source>
        <translation>模型的各层运行在哪里：显卡（GPU，速度快）或处理器（CPU）</translation>
    </message>
    <message>
        <source>Whether the model is ready to answer</source>
        <translation>模型是否已可以回答</translation>
    </message>
    <message>
        <source>Open in chat, stop or relaunch the model</source>
        <translation>去对话、停止或重新启动模型</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>File: {0}</source>
        <translation>文件：{0}</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>处理器（CPU）</translation>
    </message>
    <message>
        <source>{0}/{1} layers on {2}</source>
        <translation>{0}/{1} 层在 {2} 上</translation>
    </message>
    <message>
        <source>the GPU</source>
        <translation>显卡</translation>
    </message>
    <message>
        <source>All {0} layers run on the graphics card, which holds {1} of it</source>
        <translation>全部 {0} 层都运行在显卡上，占用显存 {1}</translation>
    </message>
    <message>
        <source>{0} of {1} layers run on the graphics card ({2}); the rest run on the processor, which is slower</source>
        <translation>{1} 层中有 {0} 层运行在显卡上（{2}）；其余运行在处理器上，速度较慢</translation>
    </message>
    <message>
        <source>Launched to run on the processor only (no GPU layers asked for)</source>
        <translation>启动时要求只用处理器运行（未请求任何 GPU 层）</translation>
    </message>
    <message>
        <source>Runs on the processor: this XinDesk build or this computer has no graphics card it can use</source>
        <translation>运行在处理器上：此 XinDesk 版本或这台电脑没有可用的显卡</translation>
    </message>
    <message>
        <source>Chat (LLM)</source>
        <translation>对话（LLM）</translation>
    </message>
    <message>
        <source>Text generation (LLM)</source>
        <translation>文本生成（LLM）</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>Rerank</source>
        <translation>重排序</translation>
    </message>
    <message>
        <source>Downloading…</source>
        <translation>下载中…</translation>
    </message>
    <message>
        <source>Download paused at {0}%</source>
        <translation>下载已暂停，进度 {0}%</translation>
    </message>
    <message>
        <source>Downloading {0}% · {1}</source>
        <translation>下载中 {0}% · {1}</translation>
    </message>
    <message>
        <source>Downloading {0}%</source>
        <translation>下载中 {0}%</translation>
    </message>
    <message>
        <source>Loading into memory… {0}</source>
        <translation>加载中… {0}</translation>
    </message>
    <message>
        <source>Loading into memory…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <source>Error: {0}</source>
        <translation>错误：{0}</translation>
    </message>
    <message>
        <source>unknown error</source>
        <translation>未知错误</translation>
    </message>
    <message>
        <source>Unloaded · loads on the next request</source>
        <translation>已卸载 · 下一个请求时加载</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Pinned: never unloaded</source>
        <translation>已固定：从不卸载</translation>
    </message>
    <message>
        <source>Unloads after {0} min idle</source>
        <translation>空闲 {0} 分钟后卸载</translation>
    </message>
    <message>
        <source>Stays loaded</source>
        <translation>保持加载</translation>
    </message>
    <message>
        <source>loads when the server starts</source>
        <translation>服务器启动时加载</translation>
    </message>
    <message>
        <source>{0} ready</source>
        <translation>{0} 个运行中</translation>
    </message>
    <message>
        <source>{0} starting</source>
        <translation>{0} 个启动中</translation>
    </message>
    <message>
        <source>{0} unloaded</source>
        <translation>{0} 个已卸载</translation>
    </message>
    <message>
        <source>{0} stopped with an error</source>
        <translation>{0} 个出错停止</translation>
    </message>
    <message>
        <source>{0} of memory</source>
        <translation>占用内存 {0}</translation>
    </message>
</context>
<context>
    <name>RunningPage</name>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Running models</source>
        <translation>运行中的模型</translation>
    </message>
    <message>
        <source>Models listed here answer other apps (FastGPT, scripts) at the API address below, by their model ID. Stop a model to free its memory.</source>
        <translation>这里列出的模型通过下方的 API 地址、按模型 ID 响应其他应用（FastGPT、脚本）的请求。停止模型即可释放它占用的内存。</translation>
    </message>
    <message>
        <source>No model is running — launch one from the Models page.</source>
        <translation>没有正在运行的模型——去“模型”页面启动一个吧。</translation>
    </message>
    <message>
        <source>Go to Models</source>
        <translation>前往模型页面</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Cannot load the running models: {0}</source>
        <translation>无法加载运行中的模型：{0}</translation>
    </message>
    <message>
        <source>Stop model</source>
        <translation>停止模型</translation>
    </message>
    <message>
        <source>Stop {0}? Apps that use it (FastGPT, the chat) get errors until you launch it again.</source>
        <translation>停止 {0}？在你再次启动它之前，使用它的应用（FastGPT、对话页面）都会报错。</translation>
    </message>
    <message>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
</context>
<context>
    <name>SearchModel</name>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>ModelScope</source>
        <translation>魔搭社区 ModelScope</translation>
    </message>
    <message>
        <source>Repository</source>
        <translation>仓库</translation>
    </message>
    <message>
        <source>Found on</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载量</translation>
    </message>
    <message>
        <source>Likes</source>
        <translation>点赞</translation>
    </message>
    <message>
        <source>Updated</source>
        <translation>更新时间</translation>
    </message>
    <message>
        <source>{0} GGUF files</source>
        <translation>{0} 个 GGUF 文件</translation>
    </message>
</context>
<context>
    <name>ServerSection</name>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>This computer (XinDesk runs the models here)</source>
        <translation>本机（XinDesk 在这台电脑上运行模型）</translation>
    </message>
    <message>
        <source>Another server: another XinDesk, or an Xinference cluster</source>
        <translation>其他服务器：另一个 XinDesk，或 Xinference 集群</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Leave empty if the server needs no key</source>
        <translation>服务器不需要密钥时请留空</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <source>Connect to this server</source>
        <translation>连接到此服务器</translation>
    </message>
    <message>
        <source>Use this computer</source>
        <translation>使用本机</translation>
    </message>
    <message>
        <source>Now using the server at {0}.</source>
        <translation>当前使用的服务器：{0}。</translation>
    </message>
    <message>
        <source>Now using the server on this computer ({0}).</source>
        <translation>当前使用本机的服务器（{0}）。</translation>
    </message>
    <message>
        <source>Enter the server&apos;s address starting with http:// or https://, e.g. http://192.168.1.20:9997</source>
        <translation>请输入以 http:// 或 https:// 开头的服务器地址，例如 http://192.168.1.20:9997</translation>
    </message>
    <message>
        <source>Connected: {0} answers at {1}.</source>
        <translation>已连接：{0} 在 {1} 响应。</translation>
    </message>
    <message>
        <source>Cannot reach {0}. Check the address, that the server is running, and that it allows other computers (LAN access).</source>
        <translation>无法访问 {0}。请检查地址是否正确、服务器是否在运行，以及它是否允许其他电脑访问（局域网访问）。</translation>
    </message>
    <message>
        <source>{0} refused the API key. Check the key and try again.</source>
        <translation>{0} 拒绝了 API 密钥。请检查密钥后重试。</translation>
    </message>
    <message>
        <source>{0} answers, but it is not an XinDesk or Xinference server.</source>
        <translation>{0} 有响应，但它不是 XinDesk 或 Xinference 服务器。</translation>
    </message>
    <message>
        <source>{0} answered with an error: {1}</source>
        <translation>{0} 返回了错误：{1}</translation>
    </message>
    <message>
        <source>Connected to {0}, but the key could not be kept in the keychain, so you will need to enter it again next time: {1}</source>
        <translation>已连接到 {0}，但密钥无法保存到系统钥匙串，下次需要重新输入：{1}</translation>
    </message>
    <message>
        <source>Connected to {0} ({1}).</source>
        <translation>已连接到 {0}（{1}）。</translation>
    </message>
    <message>
        <source>Saved. Quit XinDesk (from the tray icon&apos;s menu) and open it again to start the server on this computer.</source>
        <translation>已保存。请退出 XinDesk（通过托盘图标的菜单）后重新打开，以启动本机的服务器。</translation>
    </message>
    <message>
        <source>Now using the server on this computer.</source>
        <translation>当前使用本机的服务器。</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>The models folder, downloads and tokens below are those of the server at {0}.</source>
        <translation>下面的模型文件夹、下载设置和令牌属于 {0} 上的服务器。</translation>
    </message>
</context>
<context>
    <name>SettingsSection</name>
    <message>
        <source>Could not save the setting: {0}</source>
        <translation>无法保存设置：{0}</translation>
    </message>
</context>
<context>
    <name>StarterCard</name>
    <message>
        <source>Chat</source>
        <translation>对话模型</translation>
    </message>
    <message>
        <source>Answers questions and writes. FastGPT uses it for its replies.</source>
        <translation>回答问题、撰写内容。FastGPT 用它来生成回复。</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>嵌入模型</translation>
    </message>
    <message>
        <source>Turns documents into vectors, so a knowledge base finds the right passages.</source>
        <translation>把文档转换为向量，让知识库能找到正确的段落。</translation>
    </message>
    <message>
        <source>Rerank</source>
        <translation>重排序模型</translation>
    </message>
    <message>
        <source>Puts the most relevant passages first, for sharper answers.</source>
        <translation>把最相关的段落排在前面，让回答更准确。</translation>
    </message>
    <message>
        <source>Other choices</source>
        <translation>其他选择</translation>
    </message>
    <message>
        <source>Looking for a model that suits this computer…</source>
        <translation>正在寻找适合本机的模型…</translation>
    </message>
    <message>
        <source>No suggestion: the catalog has none of this kind.</source>
        <translation>暂无推荐：模型库中没有这类模型。</translation>
    </message>
    <message>
        <source>Get it</source>
        <translation>获取</translation>
    </message>
    <message>
        <source>{0} ({1})</source>
        <translation>{0}（{1}）</translation>
    </message>
    <message>
        <source>About {0} to download · quality level {1}</source>
        <translation>下载约 {0} · 量化等级 {1}</translation>
    </message>
    <message>
        <source>{0} to download · quality level {1}</source>
        <translation>下载 {0} · 量化等级 {1}</translation>
    </message>
    <message>
        <source>Checking the fit…</source>
        <translation>正在检查能否运行…</translation>
    </message>
    <message>
        <source>{0} (estimate)</source>
        <translation>{0}（估算）</translation>
    </message>
    <message>
        <source>Could not check the exact files and memory with the hub, so the size and fit are estimates from this computer&apos;s memory: {0}</source>
        <translation>无法通过模型社区确认准确的文件和内存需求，因此大小和能否运行是根据本机内存估算的：{0}</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>启动中…</translation>
    </message>
    <message>
        <source>Asking the server to get it…</source>
        <translation>正在请求服务器获取…</translation>
    </message>
    <message>
        <source>Downloading…</source>
        <translation>下载中…</translation>
    </message>
    <message>
        <source>Downloading: {0} of {1}</source>
        <translation>下载中：{0} / {1}</translation>
    </message>
    <message>
        <source>Downloaded. Loading it into memory…</source>
        <translation>已下载，正在加载到内存…</translation>
    </message>
    <message>
        <source>Open in Chat</source>
        <translation>去对话</translation>
    </message>
    <message>
        <source>Show running</source>
        <translation>查看运行中</translation>
    </message>
    <message>
        <source>Running. Apps call it “{0}”.</source>
        <translation>运行中。应用通过“{0}”调用它。</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Did not work: {0}</source>
        <translation>未成功：{0}</translation>
    </message>
</context>
<context>
    <name>TokensSection</name>
    <message>
        <source>Hub access tokens</source>
        <translation>模型社区访问令牌</translation>
    </message>
    <message>
        <source>Only needed for gated or private models. Tokens are kept in the system keychain and are never shown again.</source>
        <translation>只有需要授权或私有的模型才需要。令牌保存在系统钥匙串中，保存后不会再显示。</translation>
    </message>
    <message>
        <source>Hugging Face token</source>
        <translation>Hugging Face 令牌</translation>
    </message>
    <message>
        <source>ModelScope token</source>
        <translation>魔搭社区 ModelScope 令牌</translation>
    </message>
    <message>
        <source>Paste a token to save it</source>
        <translation>粘贴令牌以保存</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Saved</source>
        <translation>已保存</translation>
    </message>
    <message>
        <source>From the server&apos;s environment</source>
        <translation>来自服务器的环境变量</translation>
    </message>
    <message>
        <source>Not set</source>
        <translation>未设置</translation>
    </message>
    <message>
        <source>Paste the token into the field first.</source>
        <translation>请先把令牌粘贴到输入框中。</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>Remote server: {0}</source>
        <translation>远程服务器：{0}</translation>
    </message>
    <message>
        <source>Server stopped</source>
        <translation>服务器已停止</translation>
    </message>
    <message>
        <source>Server starting…</source>
        <translation>服务器启动中…</translation>
    </message>
    <message>
        <source>Server running</source>
        <translation>服务器运行中</translation>
    </message>
    <message>
        <source>Server failed</source>
        <translation>服务器出错</translation>
    </message>
    <message>
        <source>Copy endpoint {0}</source>
        <translation>复制接口地址 {0}</translation>
    </message>
    <message>
        <source>Open XinDesk</source>
        <translation>打开 XinDesk</translation>
    </message>
    <message>
        <source>Quit XinDesk</source>
        <translation>退出 XinDesk</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome</source>
        <translation>欢迎</translation>
    </message>
    <message>
        <source>NVIDIA GPU (CUDA)</source>
        <translation>NVIDIA GPU（CUDA）</translation>
    </message>
    <message>
        <source>AMD GPU (ROCm / HIP)</source>
        <translation>AMD GPU（ROCm / HIP）</translation>
    </message>
    <message>
        <source>Apple GPU (Metal)</source>
        <translation>Apple GPU（Metal）</translation>
    </message>
    <message>
        <source>GPU (Vulkan)</source>
        <translation>GPU（Vulkan）</translation>
    </message>
    <message>
        <source>The processor only (CPU)</source>
        <translation>仅处理器（CPU）</translation>
    </message>
    <message>
        <source>Unknown processor</source>
        <translation>未知处理器</translation>
    </message>
    <message>
        <source>{0} · {1} cores, {2} threads</source>
        <translation>{0} · {1} 核 {2} 线程</translation>
    </message>
    <message>
        <source>{0} · {1} cores</source>
        <translation>{0} · {1} 核</translation>
    </message>
    <message>
        <source>{0} free of {1}</source>
        <translation>可用 {0} / 共 {1}</translation>
    </message>
    <message>
        <source>{0} free of {1} video memory (VRAM)</source>
        <translation>显存可用 {0} / 共 {1}</translation>
    </message>
    <message>
        <source>video memory unknown</source>
        <translation>显存大小未知</translation>
    </message>
    <message>
        <source>shares the computer&apos;s RAM</source>
        <translation>与电脑共享内存</translation>
    </message>
    <message>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
    <message>
        <source>None that XinDesk can use</source>
        <translation>没有 XinDesk 可用的 GPU</translation>
    </message>
    <message>
        <source>Models run on the processor here: small models answer quickly, big ones slowly. The suggestions below take that into account.</source>
        <translation>在这台电脑上，模型由处理器（CPU）运行：小模型回答很快，大模型较慢。下面的推荐已考虑到这一点。</translation>
    </message>
    <message>
        <source>Could not save that the welcome was seen: {0}</source>
        <translation>无法保存“已看过欢迎页”的状态：{0}</translation>
    </message>
    <message>
        <source>Welcome to XinDesk</source>
        <translation>欢迎使用 XinDesk</translation>
    </message>
    <message>
        <source>XinDesk runs AI models on this computer and serves them to FastGPT, Dify or any app that speaks the OpenAI or Xinference API. Nothing leaves this machine.</source>
        <translation>XinDesk 在这台电脑上运行 AI 模型，并提供给 FastGPT、Dify 或任何支持 OpenAI 或 Xinference API 的应用使用。所有数据都不会离开这台电脑。</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>The server&apos;s computer ({0})</source>
        <translation>服务器所在的电脑（{0}）</translation>
    </message>
    <message>
        <source>Runs models on</source>
        <translation>模型运行于</translation>
    </message>
    <message>
        <source>Processor</source>
        <translation>处理器</translation>
    </message>
    <message>
        <source>Memory (RAM)</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Graphics (GPU)</source>
        <translation>显卡（GPU）</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>检测中…</translation>
    </message>
    <message>
        <source>Three models to start a knowledge base</source>
        <translation>搭建知识库的三个模型</translation>
    </message>
    <message>
        <source>Picked to run well on this computer. “Get it” downloads the model once and starts it; apps then reach it at {0}/v1.</source>
        <translation>这些模型是按本机配置挑选的，都能流畅运行。点击“获取”会下载模型（只需一次）并启动它；之后应用可通过 {0}/v1 访问。</translation>
    </message>
    <message>
        <source>Get all three</source>
        <translation>全部获取</translation>
    </message>
    <message>
        <source>Skip – go to all models</source>
        <translation>跳过——查看全部模型</translation>
    </message>
</context>
<context>
    <name>WindowSection</name>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Keep the server running in the tray when I close the window</source>
        <translation>关闭窗口时，让服务器在托盘中继续运行</translation>
    </message>
    <message>
        <source>Models stay available to FastGPT and other apps while the window is closed. Quit from the tray icon&apos;s menu.</source>
        <translation>窗口关闭后，FastGPT 等应用仍可使用模型。要退出，请使用托盘图标的菜单。</translation>
    </message>
    <message>
        <source>This desktop has no tray area, so closing the window quits XinDesk and stops the server it started.</source>
        <translation>当前桌面没有托盘区域，因此关闭窗口会退出 XinDesk，并停止它启动的服务器。</translation>
    </message>
    <message>
        <source>Start XinDesk when I log in</source>
        <translation>开机自启：登录时自动启动 XinDesk</translation>
    </message>
    <message>
        <source>Could not change starting at login: {0}</source>
        <translation>无法更改开机自启设置：{0}</translation>
    </message>
</context>
</TS>
