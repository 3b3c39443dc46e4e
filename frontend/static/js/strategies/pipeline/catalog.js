// strategies/pipeline/catalog.js — pipeline parallelism's words: the schedule grid, the bubble and the activations held.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "card.schedule": "Pipeline schedule",
    "pipeline.measuredBubble": "idle (bubble): {measured} of each step (median of the last {n} steps), formula {formula}",
    "pipeline.measuredHeld": "micro-batches' activations held at most, stage by stage: {held}",
    "narr.pipeline": "step {step}: {p} stages ran {m} micro-batches forward and back ({schedule}); idle {bubble} of the step; loss {loss}",
    "pipeline.schedule.gpipe": "GPipe",
    "pipeline.schedule.1f1b": "1F1B",
    "pipeline.waiting": "The grid fills in after the first step: one row per stage, one cell per forward (F) or backward (B) pass of a micro-batch.",
    "pipeline.stepOf": "step {step}",
    "pipeline.bubble": "idle (bubble), measured: {measured} · formula (p − 1)/(m + p − 1) = ({p} − 1)/({m} + {p} − 1) = {formula}",
    "pipeline.stage": "stage {stage}",
    "pipeline.held": "held at most {n} micro-batches' activations ({bytes})",
    "pipeline.forward": "forward",
    "pipeline.backward": "backward",
    "pipeline.idle": "idle (waiting for a neighbour)",
    "pipeline.caption": "Measured on the real stage processes (wall time, this machine's cores shared by all stages). Gaps are waits for the activation or gradient a pass needs.",
    "pipeline.pieces": "holds {pieces}",
    "pipeline.embedding": "embedding",
    "pipeline.head": "head",
    "pipeline.blocks": "blocks {first}–{last}",
    "pipeline.block": "block {n}"
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "card.schedule": "流水线调度",
    "pipeline.measuredBubble": "空闲（气泡）：占每步的 {measured}（最近 {n} 步的中位数），公式 {formula}",
    "pipeline.measuredHeld": "各阶段最多保存的微批次激活值个数：{held}",
    "narr.pipeline": "第 {step} 步：{p} 个阶段完成了 {m} 个微批次的前向与反向（{schedule}）；空闲占本步的 {bubble}；损失 {loss}",
    "pipeline.schedule.gpipe": "GPipe",
    "pipeline.schedule.1f1b": "1F1B",
    "pipeline.waiting": "第一步完成后网格开始填充：每个阶段一行，每个微批次的一次前向（F）或反向（B）一格。",
    "pipeline.stepOf": "第 {step} 步",
    "pipeline.bubble": "空闲（气泡），实测：{measured} · 公式 (p − 1)/(m + p − 1) = ({p} − 1)/({m} + {p} − 1) = {formula}",
    "pipeline.stage": "阶段 {stage}",
    "pipeline.held": "最多同时保存 {n} 个微批次的激活值（{bytes}）",
    "pipeline.forward": "前向",
    "pipeline.backward": "反向",
    "pipeline.idle": "空闲（等待相邻阶段）",
    "pipeline.caption": "在真实的阶段进程上测得（墙钟时间，本机的 CPU 核由所有阶段共享）。空隙是在等待所需的激活值或梯度。",
    "pipeline.pieces": "持有 {pieces}",
    "pipeline.embedding": "嵌入层",
    "pipeline.head": "输出头",
    "pipeline.blocks": "第 {first}–{last} 块",
    "pipeline.block": "第 {n} 块"
  } /*END CATALOG:zh*/,
};
