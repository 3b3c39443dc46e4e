// strategies/tensor_parallel/catalog.js — tensor parallelism's words: the shards each process holds, the all-reduces per block and their bytes.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "article.tpTitle": "Tensor parallelism in four moves",
    "article.tp": "<ol><li>Every process holds every layer, but only a slice of it: some of each attention layer's heads, some columns of each MLP's first matrix and the matching rows of its second.</li><li>Every process reads the same batch. A column slice needs the whole input and gives part of the output; the row slice after it gives a partial sum of the whole output.</li><li>Forward: an all-reduce adds the partial sums, once per attention and once per MLP. Backward: an all-reduce adds the gradients of the input, once each again. Four per block per step, each of the activations' size.</li><li>The embedding, norms and head are replicated and see the same inputs everywhere, so they need no communication: the processes end each step where one process would.</li></ol>",
    "article.viewsTp": "<li><b>Tensor shards</b>: which heads and MLP columns each process holds, and every block's four all-reduces of the newest step with their measured time; below, their bytes beside the formula.</li><li><b>Workers</b>: one circle per process; the badge says the model is split, so their Σ differ by design.</li><li><b>What the model writes</b>: the transformer's greedy continuation of the text, every process computing its slices.</li>",
    "tail.explainTp": "Every block waits for its all-reduces: the slowest process sets the pace of every layer, not only of the step.",
    "strategy.tpShort": "tensor parallel",
    "card.tpShards": "Tensor shards and their all-reduces",
    "tp.holds": "rank {rank}: heads {h0}–{h1} of {heads} · MLP columns {c0}–{c1} of {hidden}",
    "tp.block": "block {n}",
    "tp.attentionForward": "attention, forward",
    "tp.mlpForward": "MLP, forward",
    "tp.mlpBackward": "MLP, backward",
    "tp.attentionBackward": "attention, backward",
    "tp.formula": "each all-reduce sums the activations: batch × context × d_model × 4 B = {tensor}; 4 per block × {layers} blocks = {n} per step; a ring sends 2(t − 1)/t of each: {expected} per process per step (measured: {measured})",
    "tp.waiting": "The all-reduces appear after the first step.",
    "tp.caption": "Time of each all-reduce on rank 0 in the newest step (ms, measured). Columns split the first matrix, rows the second; their partial sums meet in the forward all-reduce, the input gradients in the backward one.",
    "narr.tp": "step {step}: {t} processes each computed their slice of every block; {n} all-reduces; loss {loss}"
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "article.tpTitle": "张量并行四步走",
    "article.tp": "<ol><li>每个进程都持有每一层，但只持有其中一片：每个注意力层的部分头、每个 MLP 第一个矩阵的部分列以及第二个矩阵对应的行。</li><li>每个进程读取同一个批次。按列切分的一片需要完整的输入，给出输出的一部分；其后按行切分的一片给出完整输出的部分和。</li><li>前向：一次全归约把部分和加起来，每个注意力层一次、每个 MLP 一次。反向：再各做一次全归约，把输入的梯度加起来。每个块每步 4 次，每次都是激活值的大小。</li><li>嵌入层、归一化层和输出头是复制的，处处看到相同的输入，因此无需通信：各进程每一步都与单进程走到同一处。</li></ol>",
    "article.viewsTp": "<li><b>张量分片</b>：每个进程持有哪些头和 MLP 的哪些列，以及最新一步中每个块的 4 次全归约及其实测用时；下方是字节数与公式的对照。</li><li><b>工作进程</b>：每个进程一个圆；徽章说明模型已切分，所以它们的 Σ 本来就不同。</li><li><b>模型写出的文字</b>：Transformer 对文本的贪心续写，每个进程计算自己的那一片。</li>",
    "tail.explainTp": "每个块都要等它的全归约：最慢的进程决定每一层的节奏，而不只是每一步。",
    "strategy.tpShort": "张量并行",
    "card.tpShards": "张量分片与全归约",
    "tp.holds": "进程 {rank}：第 {h0}–{h1} 个头（共 {heads} 个）· MLP 第 {c0}–{c1} 列（共 {hidden} 列）",
    "tp.block": "第 {n} 块",
    "tp.attentionForward": "注意力，前向",
    "tp.mlpForward": "MLP，前向",
    "tp.mlpBackward": "MLP，反向",
    "tp.attentionBackward": "注意力，反向",
    "tp.formula": "每次全归约对激活值求和：批大小 × 上下文 × d_model × 4 字节 = {tensor}；每块 4 次 × {layers} 块 = 每步 {n} 次；环形算法每次发送其 2(t − 1)/t：每个进程每步 {expected}（实测：{measured}）",
    "tp.waiting": "第一步之后显示各次全归约。",
    "tp.caption": "最新一步中 0 号进程上每次全归约的用时（毫秒，实测）。第一个矩阵按列切分，第二个按行切分；前向的全归约把部分和加起来，反向的全归约把输入梯度加起来。",
    "narr.tp": "第 {step} 步：{t} 个进程各自计算每个块中自己的那一片；{n} 次全归约；损失 {loss}"
  } /*END CATALOG:zh*/,
};
