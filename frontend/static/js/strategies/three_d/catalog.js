// strategies/three_d/catalog.js — 3-D parallelism's words: the mesh, its three kinds of group and the bytes each carried.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "article.tdTitle": "3-D parallelism in four moves",
    "article.td": "<ol><li>The processes form a mesh of dp × pp × tp; each sits at (d, p, t). Ranks are laid out tensor innermost, then pipeline, then data, as Megatron-LM does: the busiest groups get neighbouring ranks.</li><li><b>Tensor</b> group (same d, p): together they hold one pipeline stage, every block split by heads and MLP columns; four all-reduces of the activations per block per micro-batch.</li><li><b>Pipeline</b> group (same d, t): stage p sends its activations to stage p + 1 and the gradients come back, micro-batch by micro-batch, in the GPipe or 1F1B order.</li><li><b>Data</b> group (same p, t): dp replicas of the whole pipeline, each on its share of the batch; after the backward one all-reduce averages the gradients, and the run ends each step where one process would.</li></ol>",
    "article.viewsTd": "<li><b>Mesh</b>: one square per process, one block per data replica, stages as rows and tensor slices as columns. Point at a process to see its three groups; below, the bytes the newest step sent over each kind of group.</li><li><b>Pipeline schedule</b>: the forwards and backwards of the pipeline of replica 0, slice 0.</li>",
    "tail.explainTd": "Every process waits on three groups: its tensor group inside every block, its pipeline neighbours every micro-batch, its data group once per step.",
    "strategy.tdShort": "3-D parallel",
    "card.mesh": "Mesh: data × pipeline × tensor",
    "td.group.tensor": "tensor",
    "td.group.pipeline": "pipeline",
    "td.group.data": "data",
    "td.replica": "replica d = {d}",
    "td.stage": "stage {p}",
    "td.slice": "t = {t}",
    "td.rankTitle": "rank {rank}: (d, p, t) = ({d}, {p}, {t}) · tensor group {tensor} · pipeline group {pipeline} · data group {data}",
    "td.selected": "rank {rank} at (d, p, t) = ({d}, {p}, {t}): tensor group {tensor}, pipeline group {pipeline}, data group {data}",
    "td.traffic": "step {step}, bytes sent over each kind of group (all processes):",
    "td.trafficRank": "rank {rank} sent: tensor {tensor} · pipeline {pipeline} · data {data}",
    "td.waiting": "The traffic appears after the first step.",
    "td.caption": "Measured bytes sent per step (each all-reduce counted as a ring: 2(n − 1)/n of the tensor per process). Tensor traffic is the largest and most frequent, so its group gets neighbouring ranks.",
    "td.measured": "bytes sent in step {step}, all {n} processes: tensor groups {tensor} · pipeline groups {pipeline} · data groups {data}",
    "td.measuredMost": "the most bytes: the {group} groups",
    "narr.td": "step {step}: {n} processes as dp {dp} × pp {pp} × tp {tp}; sent: tensor {tensor}, pipeline {pipeline}, data {data}; loss {loss}"
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "article.tdTitle": "三维并行四步走",
    "article.td": "<ol><li>进程排成 dp × pp × tp 的网格，每个进程位于 (d, p, t)。进程编号先排张量维，再排流水线维，最后排数据维，与 Megatron-LM 相同：通信最频繁的组用相邻的进程。</li><li><b>张量</b>组（d、p 相同）：共同持有一个流水线阶段，每个块按注意力头和 MLP 的列切分；每个微批次每个块做 4 次激活值全归约。</li><li><b>流水线</b>组（d、t 相同）：阶段 p 把激活值发给阶段 p + 1，梯度再传回来，逐个微批次，按 GPipe 或 1F1B 的顺序。</li><li><b>数据</b>组（p、t 相同）：整条流水线有 dp 个副本，各自处理批次的一部分；反向之后一次全归约对梯度求平均，每一步都与单进程走到同一处。</li></ol>",
    "article.viewsTd": "<li><b>网格</b>：每个进程一个方块，每个数据副本一个区块，行是阶段，列是张量切片。指向一个进程即可看到它所在的三个组；下方是最新一步在每种组上发送的字节数。</li><li><b>流水线调度</b>：副本 0、切片 0 这条流水线的前向与反向。</li>",
    "tail.explainTd": "每个进程都要等三个组：每个块里等张量组，每个微批次等流水线上的相邻阶段，每一步等一次数据组。",
    "strategy.tdShort": "三维并行",
    "card.mesh": "网格：数据 × 流水线 × 张量",
    "td.group.tensor": "张量",
    "td.group.pipeline": "流水线",
    "td.group.data": "数据",
    "td.replica": "副本 d = {d}",
    "td.stage": "阶段 {p}",
    "td.slice": "t = {t}",
    "td.rankTitle": "进程 {rank}：(d, p, t) = ({d}, {p}, {t}) · 张量组 {tensor} · 流水线组 {pipeline} · 数据组 {data}",
    "td.selected": "进程 {rank} 位于 (d, p, t) = ({d}, {p}, {t})：张量组 {tensor}，流水线组 {pipeline}，数据组 {data}",
    "td.traffic": "第 {step} 步，在每种组上发送的字节数（所有进程合计）：",
    "td.trafficRank": "进程 {rank} 发送：张量 {tensor} · 流水线 {pipeline} · 数据 {data}",
    "td.waiting": "第一步之后显示通信量。",
    "td.caption": "实测每步发送的字节数（全归约按环形算法计：每个进程发送张量的 2(n − 1)/n）。张量组的通信量最大、最频繁，所以用相邻的进程。",
    "td.measured": "第 {step} 步发送的字节数（全部 {n} 个进程）：张量组 {tensor} · 流水线组 {pipeline} · 数据组 {data}",
    "td.measuredMost": "字节最多的是：{group}组",
    "narr.td": "第 {step} 步：{n} 个进程，dp {dp} × pp {pp} × tp {tp}；发送：张量 {tensor}，流水线 {pipeline}，数据 {data}；损失 {loss}"
  } /*END CATALOG:zh*/,
};
