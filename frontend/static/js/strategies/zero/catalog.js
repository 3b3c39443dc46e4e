// strategies/zero/catalog.js — ZeRO's words: its narration and its name in the run list.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "strategy.zeroShort": "ZeRO",
    "narr.zero": "step {step}: {n} workers {how} ({bytes} per worker); ZeRO stage {stage}: each holds 1/{n} of {what}; loss {loss}",
    "zero.how1": "all-reduced the gradients and all-gathered the new parameters",
    "zero.how2": "reduce-scattered the gradients and all-gathered the new parameters",
    "zero.how3": "all-gathered the parameters and reduce-scattered the gradients",
    "zero.what1": "Adam's state",
    "zero.what2": "Adam's state and the gradients",
    "zero.what3": "Adam's state, the gradients and the parameters",
    "zero.bytes.1": "ZeRO stage 1: each worker sends 3(n−1)/n·N = {per} per step: the gradients' all-reduce 2(n−1)/n·N, then the new parameters' all-gather (n−1)/n·N",
    "zero.bytes.2": "ZeRO stage 2: each worker sends 2(n−1)/n·N = {per} per step: the gradients' reduce-scatter (n−1)/n·N, then the new parameters' all-gather (n−1)/n·N — as much as data parallelism's all-reduce",
    "zero.bytes.3": "ZeRO stage 3: each worker sends 2(n−1)/n·N = {per} per step: the parameters' all-gather before the forward pass (n−1)/n·N, then the gradients' reduce-scatter (n−1)/n·N",
    "zero.bytes.paper1": "The paper's stage 1 sends 2(n−1)/n·N = {paper} (§7.2.1): a worker needs only its own shard's summed gradient, so a reduce-scatter does; ours all-reduces, as stage 1 keeps the whole gradient.",
    "zero.bytes.paper3": "The paper's stage 3 sends 3(n−1)/n·N = {paper}, 1.5× data parallelism (§7.2.2): it frees the gathered parameters after the forward pass and all-gathers them again for the backward; ours keeps them through the backward (fewer bytes, more memory at the peak)."
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "strategy.zeroShort": "ZeRO",
    "narr.zero": "第 {step} 步：{n} 个工作进程{how}（每个进程 {bytes}）；ZeRO 阶段 {stage}：每个进程持有 {what} 的 1/{n}；损失 {loss}",
    "zero.how1": "对梯度做全归约、对新参数做全收集",
    "zero.how2": "对梯度做归约分发、对新参数做全收集",
    "zero.how3": "对参数做全收集、对梯度做归约分发",
    "zero.what1": "Adam 状态",
    "zero.what2": "Adam 状态和梯度",
    "zero.what3": "Adam 状态、梯度和参数",
    "zero.bytes.1": "ZeRO 阶段 1：每个工作进程每步发送 3(n−1)/n·N = {per}：梯度的全归约 2(n−1)/n·N，再加新参数的全收集 (n−1)/n·N",
    "zero.bytes.2": "ZeRO 阶段 2：每个工作进程每步发送 2(n−1)/n·N = {per}：梯度的归约分发 (n−1)/n·N，再加新参数的全收集 (n−1)/n·N——与数据并行的全归约一样多",
    "zero.bytes.3": "ZeRO 阶段 3：每个工作进程每步发送 2(n−1)/n·N = {per}：前向之前参数的全收集 (n−1)/n·N，再加梯度的归约分发 (n−1)/n·N",
    "zero.bytes.paper1": "论文中的阶段 1 每步发送 2(n−1)/n·N = {paper}（§7.2.1）：每个进程只需要自己分片的梯度之和，归约分发就够了；这里做全归约，因为阶段 1 保留完整的梯度。",
    "zero.bytes.paper3": "论文中的阶段 3 每步发送 3(n−1)/n·N = {paper}，是数据并行的 1.5 倍（§7.2.2）：前向之后释放收集来的参数，反向时再全收集一次；这里一直保留到反向结束（字节更少，峰值内存更多）。"
  } /*END CATALOG:zh*/,
};
