// i18n.js — every UI string, in English and 简体中文.
//
// The catalogs are JSON object literals between the CATALOG markers so that
// tests/test_frontend_contract.py can json.loads them and check that both languages
// have exactly the same keys. Elements opt in with data-i18n="key" (textContent),
// data-i18n-html="key" (trusted markup from this file), data-i18n-title="key" and
// data-i18n-aria="key". Placeholders look like {name}.

const EN = /*CATALOG:en*/ {
  "app.tagline": "a live lab for distributed training",
  "header.status": "Run",
  "lang.toggle": "中文",
  "lang.toggleTitle": "切换到简体中文 (Switch to Chinese)",
  "presenter.toggle": "Large type",
  "presenter.title": "Presenter mode: larger type and higher contrast for projectors",
  "keys.hint": "Keys: space = play/pause, → = step",

  "status.none": "no run",
  "status.starting": "starting",
  "status.running": "running",
  "status.paused": "paused",
  "status.finished": "finished",
  "status.stopped": "stopped",
  "status.failed": "failed",
  "status.interrupted": "interrupted",

  "panel.setup": "Run setup",
  "form.scenario": "Scenario",
  "form.scenarioCustom": "— custom —",
  "form.strategy": "Strategy",
  "strategy.single": "Single process (reference)",
  "strategy.data_parallel": "Data parallelism",
  "strategy.singleShort": "single",
  "strategy.dpShort": "data parallel",
  "form.workers": "Workers",
  "form.steps": "Steps",
  "form.lr": "Learning rate",
  "form.batch": "Batch size per worker",
  "form.dataset": "Dataset",
  "dataset.spirals": "Spirals",
  "dataset.moons": "Moons",
  "dataset.blobs": "Blobs",
  "form.seed": "Seed",
  "form.pace": "Pace (steps/s)",
  "form.fullSpeed": "full speed",
  "form.detail": "Detail: one event per message",
  "form.allreduce": "All-reduce algorithm",
  "allreduce.builtin": "Built-in (process group)",
  "allreduce.ring": "Ring",
  "allreduce.tree": "Tree",
  "allreduce.naive": "Naive (via rank 0)",
  "algo.ring": "ring",
  "algo.tree": "tree",
  "algo.naive": "naive",
  "form.detailHint": "Detail is on so that every message can be animated (it costs a little speed).",
  "form.detailOffHint": "Tick Detail to watch every message of the hand-written all-reduce.",
  "btn.start": "Start",
  "btn.pause": "Pause",
  "btn.resume": "Resume",
  "btn.step": "Step",
  "btn.stop": "Stop",
  "btn.refresh": "Refresh",
  "runs.title": "Past runs",
  "runs.empty": "No runs yet.",
  "runs.workers": "{n} workers",
  "runs.worker1": "1 worker",
  "runs.steps": "{done}/{total} steps",
  "error.generic": "The server answered {status}.",
  "error.network": "Cannot reach the server.",
  "error.notLive": "This run is not live any more.",

  "player.replay": "▶ Replay",
  "player.pauseReplay": "⏸ Pause",
  "player.live": "● Live",
  "player.speed": "Replay speed",
  "player.speedUnit": "{n} steps/s",
  "player.stepOf": "step {step} / {last}",
  "player.modeLive": "following live",
  "player.modeScrub": "viewing the past",
  "player.modeReplay": "replaying",
  "player.scrubber": "Step shown",
  "conn.reconnecting": "connection lost, reconnecting…",

  "card.topology": "Workers",
  "topo.caption": "drawn as a ring; built-in all-reduce, bytes counted as for a ring",
  "topo.empty": "Press Start to launch workers",
  "topo.waiting": "starting workers…",
  "topo.allreduce": "all-reduce",
  "topo.single": "single process",
  "topo.reducescatter": "reduce-scatter",
  "topo.allgather": "all-gather",
  "topo.step": "step {step}",
  "topo.rank": "rank {rank}",
  "topo.pid": "pid {pid}",
  "topo.loss": "loss {loss}",
  "topo.status": "status",
  "topo.device": "device",
  "topo.shard": "shard size",
  "topo.checksum": "parameter checksum (sum)",
  "topo.hash": "parameter hash",
  "badge.same": "all replicas identical ✓",
  "badge.differ": "replicas differ ✗",
  "badge.single": "one replica (reference)",
  "legend.fill": "fill = status",
  "legend.outline": "outline = rank",
  "legend.rs": "reduce-scatter",
  "legend.ag": "all-gather",
  "legend.reduce": "reduce",
  "legend.broadcast": "broadcast",
  "legend.chunk": "digit = chunk",
  "topo.algoShort.builtin": "all-reduce",
  "topo.algoShort.ring": "ring all-reduce",
  "topo.algoShort.tree": "tree all-reduce",
  "topo.algoShort.naive": "naive all-reduce",
  "topo.captionReal": "every packet is a real message between worker processes · arrow labels: bytes per link so far",
  "topo.captionNoDetail": "hand-written all-reduce without Detail: start a run with Detail ticked to see every message",
  "topo.linkTitle": "rank {src} → rank {dst}: {bytes} so far",
  "topo.traffic": "sent {sent}, received {recv} so far",
  "topo.packetTitle": "{op}: rank {src} → rank {dst}, {bytes} in {ms} ms",
  "topo.phase": "step {step} · {op}, round {round} of {of}",
  "op.reduce_scatter": "reduce-scatter",
  "op.all_gather": "all-gather",
  "op.reduce": "reduce",
  "op.broadcast": "broadcast",
  "op.all_reduce": "all-reduce",

  "card.bytes": "Bytes per rank",
  "bytes.rank": "rank",
  "bytes.sent": "sent",
  "bytes.recv": "received",
  "bytes.formula": "formula",
  "bytes.formulaTitle": "what the formula predicts for this rank over the same steps",
  "bytes.N": "N (gradient) = {params} params × 4 B = {bytes}",
  "bytes.formula.ring": "ring: each rank sends 2(n−1)/n·N = {per} per step",
  "bytes.formula.naive": "naive: the root sends and receives (n−1)·N = {per} per step; the others N",
  "bytes.formula.tree": "tree: the root sends ⌈log2 n⌉·N = {per} per step",
  "bytes.formula.builtin": "built-in (counted as for a ring): 2(n−1)/n·N = {per} per step",
  "bytes.sourceComm": "measured: every message of steps 1–{step}",
  "bytes.sourceSteps": "measured: the ranks' byte counters, steps 1–{step}",
  "bytes.setup": "not counted: the set-up broadcast of the initial weights, {bytes} from rank {rank} to each other rank",
  "bytes.chunks": "ring chunks differ by one float when N is not a multiple of n, so the ranks differ by a few bytes",
  "bytes.empty": "No traffic yet.",
  "bytes.compressed": "compressed gradients: fewer bytes than N travel, so the formulas for N do not apply",

  "card.loss": "Training loss",
  "chart.rank": "rank {rank}",
  "chart.mean": "global mean",
  "chart.ranks": "ranks:",
  "chart.step": "step",
  "chart.loss": "loss",
  "chart.logY": "log scale",
  "chart.caption": "thin: each worker's loss on its own batch · bold: mean over workers",

  "card.timeline": "Timeline",
  "timeline.wait": "wait",
  "timeline.compute": "compute",
  "timeline.comm": "communication",
  "timeline.axisWall": "measured wall time (s since run start); blank = idle / pace sleep",
  "timeline.axisCompact": "measured durations with idle time removed (ms)",
  "timeline.modeWall": "wall time",
  "timeline.modeCompact": "hide idle",
  "timeline.empty": "No steps yet.",

  "card.boundary": "Decision boundary",
  "boundary.empty": "No data set yet.",
  "boundary.waiting": "waiting for the first boundary…",
  "boundary.asOf": "model as of step {step}",
  "boundary.shards": "each worker trains on its own shard",
  "boundary.class": "class {c}",
  "boundary.heat": "background: P(class 1)",
  "boundary.ring": "ring colour = shard owner (rank)",

  "narr.idle": "Pick a scenario or set the options, then press Start.",
  "narr.starting": "Starting {n} workers…",
  "narr.dp": "step {step}: {n} workers all-reduced {bytes} of gradients in {ms}; {replicas}",
  "narr.ring": "step {step}: ring all-reduce — {msgs} messages per rank, {bytes} each way, {ms}; {replicas}",
  "narr.tree": "step {step}: tree all-reduce — {msgs} messages in {rounds} rounds, root sent {root}, {ms}; {replicas}",
  "narr.naive": "step {step}: naive all-reduce via rank 0 — {msgs} messages, {root} in and out of rank 0, {ms}; {replicas}",
  "narr.algo": "step {step}: {algo} — {n} workers sent {bytes} in all, {ms}; {replicas}",
  "narr.identical": "replicas identical",
  "narr.differ": "replicas differ!",
  "narr.pending": "waiting for every rank",
  "narr.single": "step {step}: one process computed loss {loss} in {ms} (no communication)",
  "narr.finished": "finished: {steps} steps in {wall} s ({sps} steps/s), final loss {loss}",
  "narr.stopped": "stopped after {steps} steps",
  "narr.failed": "failed: {error}",
  "narr.interrupted": "interrupted: the server stopped while this run was live",
  "narr.paused": "paused after step {step} — Step (→) runs one more step, Resume (space) continues",

  "footer.measured": "Every number on this page was measured on a real torch.distributed process group.",

  "article.title": "What you are looking at",
  "article.dpTitle": "Data parallelism in four moves",
  "article.dp": "<ol><li>Every worker process (a <b>rank</b>) holds a full copy of the model and its own <b>shard</b> of the training data.</li><li>Each rank computes the loss and the <b>local gradients</b> on a batch from its shard — the ranks see different data, so their losses differ.</li><li>An <b>all-reduce</b> sums the gradients of all ranks and divides by their number, so every rank ends up with the same <b>averaged gradient</b>.</li><li>Every rank applies the identical update, so the replicas stay <b>bit-for-bit identical</b> — the checksum on each node and the green badge prove it at every step. With N workers this equals one process training on an N-times larger batch.</li></ol>",
  "article.viewsTitle": "Colours and shapes",
  "article.views": "<ul><li><b>Workers</b>: one circle per rank with its process id, its latest local loss and Σ, the sum of all its parameters. The fill shows the status (blue running, yellow paused, green finished, red failed); the outline colour is the rank's colour everywhere on the page.</li><li><b>Packets</b> travel along the ring after each step: orange for reduce-scatter, blue for all-gather. Their speed comes from the measured communication time, scaled up so you can see it. PyTorch's built-in all-reduce chooses its own algorithm; the bytes are counted as a ring would send them.</li><li><b>Hand-written all-reduce</b> (ring, tree or naive, with Detail): every packet is one real message between two worker processes, on the link it used, round by round; the digit on a ring packet is its chunk, the number on an arrow the bytes that link has carried. <b>Bytes per rank</b> sets the measured bytes beside the formulas for a gradient of N bytes: ring 2(n−1)/n·N for every rank (bandwidth-optimal), naive (n−1)·N through rank 0, tree ⌈log2 n⌉·N from rank 0.</li><li><b>Loss</b>: a thin line per rank, the bold black line is the mean over ranks.</li><li><b>Timeline</b>: one lane per rank; grey = waiting for others, blue = computing, orange = communicating. Blank space is idle time (for example the pace sleep).</li><li><b>Decision boundary</b>: the background shades the model's probability of class 1; dots are the training points, filled by their class and ringed by the colour of the rank whose shard holds them.</li></ul>",
  "article.clockTitle": "Which clock?",
  "article.clock": "<p>The timeline shows <b>measured wall-clock time</b> on this machine. All workers run on one computer, so the “network” is the loopback device: communication is much faster (and behaves differently) than on a real cluster. Drag the scrubber to look at any earlier step; every view is recomputed from the recorded events.</p>",
  "article.refsTitle": "Read more",
  "article.refs": "<ul><li>S. Li et al., “PyTorch Distributed: Experiences on Accelerating Data Parallel Training”, VLDB 2020.</li><li>P. Goyal et al., “Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour”, 2017.</li><li>P. Patarasuk and X. Yuan, “Bandwidth optimal all-reduce algorithms for clusters of workstations”, JPDC 2009.</li></ul>"
} /*END CATALOG:en*/;

const ZH = /*CATALOG:zh*/ {
  "app.tagline": "分布式训练实时实验室",
  "header.status": "运行",
  "lang.toggle": "English",
  "lang.toggleTitle": "Switch to English (切换到英文)",
  "presenter.toggle": "大字体",
  "presenter.title": "演示模式：为投影仪放大字体、提高对比度",
  "keys.hint": "快捷键：空格 = 播放/暂停，→ = 单步",

  "status.none": "无运行",
  "status.starting": "启动中",
  "status.running": "运行中",
  "status.paused": "已暂停",
  "status.finished": "已完成",
  "status.stopped": "已停止",
  "status.failed": "失败",
  "status.interrupted": "已中断",

  "panel.setup": "运行设置",
  "form.scenario": "场景",
  "form.scenarioCustom": "— 自定义 —",
  "form.strategy": "策略",
  "strategy.single": "单进程（参照）",
  "strategy.data_parallel": "数据并行",
  "strategy.singleShort": "单进程",
  "strategy.dpShort": "数据并行",
  "form.workers": "工作进程数",
  "form.steps": "训练步数",
  "form.lr": "学习率",
  "form.batch": "每个进程的批大小",
  "form.dataset": "数据集",
  "dataset.spirals": "螺旋",
  "dataset.moons": "双月",
  "dataset.blobs": "高斯簇",
  "form.seed": "随机种子",
  "form.pace": "节奏（步/秒）",
  "form.fullSpeed": "全速",
  "form.detail": "详细：每条消息记录一个事件",
  "form.allreduce": "全归约算法",
  "allreduce.builtin": "内置（进程组自带）",
  "allreduce.ring": "环形 (ring)",
  "allreduce.tree": "树形 (tree)",
  "allreduce.naive": "朴素（经由 rank 0）",
  "algo.ring": "环形",
  "algo.tree": "树形",
  "algo.naive": "朴素",
  "form.detailHint": "已勾选“详细”，以便动画显示每一条消息（会稍微降低速度）。",
  "form.detailOffHint": "勾选“详细”即可看到手写全归约的每一条消息。",
  "btn.start": "开始",
  "btn.pause": "暂停",
  "btn.resume": "继续",
  "btn.step": "单步",
  "btn.stop": "停止",
  "btn.refresh": "刷新",
  "runs.title": "历史运行",
  "runs.empty": "还没有运行记录。",
  "runs.workers": "{n} 个进程",
  "runs.worker1": "1 个进程",
  "runs.steps": "{done}/{total} 步",
  "error.generic": "服务器返回 {status}。",
  "error.network": "无法连接服务器。",
  "error.notLive": "该运行已不在进行中。",

  "player.replay": "▶ 回放",
  "player.pauseReplay": "⏸ 暂停",
  "player.live": "● 实时",
  "player.speed": "回放速度",
  "player.speedUnit": "{n} 步/秒",
  "player.stepOf": "第 {step} 步 / 共 {last} 步",
  "player.modeLive": "实时跟随",
  "player.modeScrub": "查看历史",
  "player.modeReplay": "回放中",
  "player.scrubber": "显示的步",
  "conn.reconnecting": "连接中断，正在重连…",

  "card.topology": "工作进程",
  "topo.caption": "按环形绘制；使用内置 all-reduce，字节数按环形算法计算",
  "topo.empty": "按“开始”启动工作进程",
  "topo.waiting": "正在启动工作进程…",
  "topo.allreduce": "全归约",
  "topo.single": "单进程",
  "topo.reducescatter": "归约分发",
  "topo.allgather": "全收集",
  "topo.step": "第 {step} 步",
  "topo.rank": "进程 {rank}",
  "topo.pid": "pid {pid}",
  "topo.loss": "损失 {loss}",
  "topo.status": "状态",
  "topo.device": "设备",
  "topo.shard": "分片大小",
  "topo.checksum": "参数校验和（求和）",
  "topo.hash": "参数哈希",
  "badge.same": "所有副本完全一致 ✓",
  "badge.differ": "副本不一致 ✗",
  "badge.single": "单一副本（参照）",
  "legend.fill": "填充色 = 状态",
  "legend.outline": "边框色 = 进程",
  "legend.rs": "归约分发",
  "legend.ag": "全收集",
  "legend.reduce": "归约",
  "legend.broadcast": "广播",
  "legend.chunk": "数字 = 分块编号",
  "topo.algoShort.builtin": "全归约",
  "topo.algoShort.ring": "环形全归约",
  "topo.algoShort.tree": "树形全归约",
  "topo.algoShort.naive": "朴素全归约",
  "topo.captionReal": "每个数据包都是工作进程之间的一条真实消息 · 箭头标签：该链路至今的字节数",
  "topo.captionNoDetail": "手写全归约但未勾选“详细”：勾选“详细”再运行，即可看到每一条消息",
  "topo.linkTitle": "rank {src} → rank {dst}：至今 {bytes}",
  "topo.traffic": "至今发送 {sent}，接收 {recv}",
  "topo.packetTitle": "{op}：rank {src} → rank {dst}，{bytes}，用时 {ms} 毫秒",
  "topo.phase": "第 {step} 步 · {op}，第 {round}/{of} 轮",
  "op.reduce_scatter": "归约分发",
  "op.all_gather": "全收集",
  "op.reduce": "归约",
  "op.broadcast": "广播",
  "op.all_reduce": "全归约",

  "card.bytes": "各进程的字节数",
  "bytes.rank": "进程",
  "bytes.sent": "发送",
  "bytes.recv": "接收",
  "bytes.formula": "公式",
  "bytes.formulaTitle": "公式预测该进程在相同步数内的发送量",
  "bytes.N": "N（梯度）= {params} 个参数 × 4 字节 = {bytes}",
  "bytes.formula.ring": "环形：每个进程每步发送 2(n−1)/n·N = {per}",
  "bytes.formula.naive": "朴素：根进程每步发送并接收 (n−1)·N = {per}；其他进程各 N",
  "bytes.formula.tree": "树形：根进程每步发送 ⌈log2 n⌉·N = {per}",
  "bytes.formula.builtin": "内置（按环形算法计数）：每步 2(n−1)/n·N = {per}",
  "bytes.sourceComm": "实测：第 1–{step} 步每一条消息之和",
  "bytes.sourceSteps": "实测：各进程第 1–{step} 步的字节计数",
  "bytes.setup": "未计入：启动时 rank {rank} 广播初始权重，向其余每个进程发送 {bytes}",
  "bytes.chunks": "N 不是 n 的倍数时，环形分块相差一个浮点数，所以各进程相差几个字节",
  "bytes.empty": "还没有通信。",
  "bytes.compressed": "梯度经过压缩：传输的字节少于 N，关于 N 的公式不适用",

  "card.loss": "训练损失",
  "chart.rank": "进程 {rank}",
  "chart.mean": "全局平均",
  "chart.ranks": "进程：",
  "chart.step": "步",
  "chart.loss": "损失",
  "chart.logY": "对数坐标",
  "chart.caption": "细线：各进程在自己批次上的损失 · 粗线：所有进程的平均",

  "card.timeline": "时间线",
  "timeline.wait": "等待",
  "timeline.compute": "计算",
  "timeline.comm": "通信",
  "timeline.axisWall": "实测挂钟时间（自运行开始的秒数）；空白 = 空闲 / 节奏等待",
  "timeline.axisCompact": "实测耗时，已去除空闲时间（毫秒）",
  "timeline.modeWall": "挂钟时间",
  "timeline.modeCompact": "隐藏空闲",
  "timeline.empty": "还没有训练步。",

  "card.boundary": "决策边界",
  "boundary.empty": "还没有数据集。",
  "boundary.waiting": "等待第一个决策边界…",
  "boundary.asOf": "第 {step} 步时的模型",
  "boundary.shards": "每个工作进程在自己的数据分片上训练",
  "boundary.class": "类别 {c}",
  "boundary.heat": "背景：P(类别 1)",
  "boundary.ring": "外圈颜色 = 分片所属进程",

  "narr.idle": "选择一个场景或设置参数，然后按“开始”。",
  "narr.starting": "正在启动 {n} 个工作进程…",
  "narr.dp": "第 {step} 步：{n} 个工作进程用 {ms} 全归约了 {bytes} 的梯度；{replicas}",
  "narr.ring": "第 {step} 步：环形全归约——每个进程 {msgs} 条消息，收发各 {bytes}，用时 {ms}；{replicas}",
  "narr.tree": "第 {step} 步：树形全归约——{rounds} 轮共 {msgs} 条消息，根进程发送 {root}，用时 {ms}；{replicas}",
  "narr.naive": "第 {step} 步：经由 rank 0 的朴素全归约——共 {msgs} 条消息，rank 0 收发各 {root}，用时 {ms}；{replicas}",
  "narr.algo": "第 {step} 步：{algo}——{n} 个工作进程共发送 {bytes}，用时 {ms}；{replicas}",
  "narr.identical": "副本一致",
  "narr.differ": "副本不一致！",
  "narr.pending": "等待所有进程",
  "narr.single": "第 {step} 步：单进程用 {ms} 算得损失 {loss}（无通信）",
  "narr.finished": "已完成：{steps} 步，用时 {wall} 秒（{sps} 步/秒），最终损失 {loss}",
  "narr.stopped": "在 {steps} 步后停止",
  "narr.failed": "失败：{error}",
  "narr.interrupted": "已中断：运行期间服务器停止了",
  "narr.paused": "在第 {step} 步后暂停——“单步”(→) 再走一步，“继续”(空格) 恢复运行",

  "footer.measured": "本页上的每个数字都来自一个真实的 torch.distributed 进程组的测量。",

  "article.title": "你在看什么",
  "article.dpTitle": "数据并行的四个动作",
  "article.dp": "<ol><li>每个工作进程（一个 <b>rank</b>）都持有一份完整的模型，以及训练数据中属于自己的<b>分片</b>。</li><li>每个进程在自己分片的一个批次上计算损失和<b>本地梯度</b>——各进程看到的数据不同，所以损失也不同。</li><li><b>全归约（all-reduce）</b>把所有进程的梯度求和再除以进程数，于是每个进程都得到同一个<b>平均梯度</b>。</li><li>每个进程执行完全相同的更新，所以各副本保持<b>逐位一致</b>——每个节点上的校验和以及绿色徽章在每一步都证明了这一点。N 个进程的效果等于一个进程用 N 倍大的批次训练。</li></ol>",
  "article.viewsTitle": "颜色和形状",
  "article.views": "<ul><li><b>工作进程</b>：每个 rank 一个圆，显示进程号 (pid)、最新的本地损失和 Σ（全部参数之和）。填充色表示状态（蓝色运行、黄色暂停、绿色完成、红色失败）；边框色是该进程在整页中统一使用的颜色。</li><li><b>数据包</b>在每一步之后沿环移动：橙色为归约分发 (reduce-scatter)，蓝色为全收集 (all-gather)。它们的速度来自实测的通信时间，并放大以便观察。PyTorch 内置的 all-reduce 会自行选择算法；字节数按环形算法计算。</li><li><b>手写全归约</b>（环形、树形或朴素，需勾选“详细”）：每个数据包都是两个工作进程之间的一条真实消息，沿它实际使用的链路逐轮移动；环形数据包上的数字是分块编号，箭头上的数字是该链路至今传送的字节数。<b>各进程的字节数</b>把实测字节数与公式（梯度大小为 N 字节）并列：环形每个进程 2(n−1)/n·N（带宽最优），朴素经由 rank 0 为 (n−1)·N，树形 rank 0 发送 ⌈log2 n⌉·N。</li><li><b>损失</b>：每个进程一条细线，黑色粗线是所有进程的平均。</li><li><b>时间线</b>：每个进程一条泳道；灰色 = 等待其他进程，蓝色 = 计算，橙色 = 通信。空白是空闲时间（例如节奏等待）。</li><li><b>决策边界</b>：背景深浅表示模型判为类别 1 的概率；圆点是训练样本，填充色表示类别，外圈颜色表示持有该样本分片的进程。</li></ul>",
  "article.clockTitle": "用的是哪个时钟？",
  "article.clock": "<p>时间线显示的是本机上<b>实测的挂钟时间</b>。所有工作进程都在同一台计算机上运行，“网络”只是本地回环设备：通信比真实集群快得多（表现也不同）。拖动进度条可以查看任何更早的一步；每个视图都由记录下来的事件重新计算。</p>",
  "article.refsTitle": "延伸阅读",
  "article.refs": "<ul><li>S. Li 等，“PyTorch Distributed: Experiences on Accelerating Data Parallel Training”，VLDB 2020。</li><li>P. Goyal 等，“Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour”，2017。</li><li>P. Patarasuk 与 X. Yuan，“Bandwidth optimal all-reduce algorithms for clusters of workstations”，JPDC 2009。</li></ul>"
} /*END CATALOG:zh*/;

export const CATALOGS = { en: EN, zh: ZH };
export const LANGS = ["en", "zh"];

let lang = "en";
const listeners = new Set();

export function getLang() {
  return lang;
}

/** Translate `key`, filling {placeholders} from `params`. Falls back to English, then the key. */
export function t(key, params) {
  let s = CATALOGS[lang][key] ?? EN[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return s;
}

export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-html]")) el.innerHTML = t(el.dataset.i18nHtml);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  if (root === document) {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }
}

/** Language from ?lang=, then localStorage, then English. */
export function initLang() {
  let want = null;
  try {
    want = new URLSearchParams(location.search).get("lang");
    if (!LANGS.includes(want)) want = localStorage.getItem("distlab.lang");
  } catch {
    want = null;
  }
  lang = LANGS.includes(want) ? want : "en";
  return lang;
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  try {
    localStorage.setItem("distlab.lang", next);
  } catch {
    /* private mode */
  }
  const url = new URL(location.href);
  if (next === "en") url.searchParams.delete("lang");
  else url.searchParams.set("lang", next);
  history.replaceState(null, "", url);
  applyI18n(document);
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

// ---- number formatting (locale independent, compact)

export function fmtNum(x, digits = 3) {
  if (x == null || !Number.isFinite(Number(x))) return "–";
  const v = Number(x);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(2);
  return String(Number(v.toPrecision(Math.max(digits, Math.ceil(Math.log10(a + 1)) ))));
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return "–";
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Compact bytes for labels inside the drawing: 512B, 7.3K, 1.2M. */
export function fmtBytesShort(n) {
  if (!Number.isFinite(n)) return "–";
  if (n < 1000) return `${Math.round(n)}B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function fmtTime(when) {
  if (when == null || when === "") return "";
  // ISO string, or a Unix timestamp in seconds (what the store keeps)
  const d = typeof when === "number" ? new Date(when < 1e11 ? when * 1000 : when) : new Date(when);
  if (Number.isNaN(d.getTime())) return String(when);
  const pad = (x) => String(x).padStart(2, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
