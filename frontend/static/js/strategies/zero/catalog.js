// strategies/zero/catalog.js — ZeRO's words: its narration and its name in the run list.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "strategy.zeroShort": "ZeRO",
    "narr.zero": "step {step}: {n} workers reduce-scattered the gradients and all-gathered the parameters ({bytes} per worker); ZeRO stage {stage}: each holds 1/{n} of {what}; loss {loss}",
    "zero.what1": "Adam's state",
    "zero.what2": "Adam's state and the gradients",
    "zero.what3": "Adam's state, the gradients and the parameters"
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "strategy.zeroShort": "ZeRO",
    "narr.zero": "第 {step} 步：{n} 个工作进程对梯度做归约分发、对参数做全收集（每个进程 {bytes}）；ZeRO 阶段 {stage}：每个进程持有 {what} 的 1/{n}；损失 {loss}",
    "zero.what1": "Adam 状态",
    "zero.what2": "Adam 状态和梯度",
    "zero.what3": "Adam 状态、梯度和参数"
  } /*END CATALOG:zh*/,
};
