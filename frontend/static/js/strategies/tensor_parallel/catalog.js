// strategies/tensor_parallel/catalog.js — tensor parallelism's words: the shards each process holds, the all-reduces per block and their bytes.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
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
