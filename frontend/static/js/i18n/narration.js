// i18n/narration.js — the one-line narration of a step, for every strategy.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "narr.idle": "Pick a scenario or set the options, then press Start.",
    "narr.starting": "Starting {n} workers…",
    "narr.dp": "step {step}: {n} workers all-reduced {bytes} of gradients in {ms}; {replicas}",
    "narr.identical": "replicas identical",
    "narr.differ": "replicas differ!",
    "narr.pending": "waiting for every rank",
    "narr.single": "step {step}: one process computed loss {loss} in {ms} (no communication)",
    "narr.finished": "finished: {steps} steps in {wall} s ({sps} steps/s), final loss {loss}",
    "narr.stopped": "stopped after {steps} steps",
    "narr.failed": "failed: {error}",
    "narr.interrupted": "interrupted: the server stopped while this run was live",
    "narr.paused": "paused after step {step} — Step (→) runs one more step, Resume (space) continues",
    "narr.modelledMs": " (modelled {net}: {ms})",
    "narr.checkpoint": " · ⚑ checkpoint after step {step}: {bytes} in {ms} ms",
    "narr.failedDetected": "failed: {error} (detected after {d})",
    "narr.pausedByInstructor": "the instructor paused the run after step {step}",
    "narr.pausedByOwner": "the run is paused after step {step} (by the page that started it)",
    "narr.pausedStart": "paused before the first step — Step (→) runs one step, Resume (space) starts the run",
    "narr.pausedByInstructorStart": "the instructor paused the run before its first step",
    "narr.pausedByOwnerStart": "the run is paused before its first step (by the page that started it)",
    "narr.slower": "step {step}: rank {rank} is {k}× slower — no straggler was set, but it has been slower over the last {w} steps (a busier core?) — the other {n} wait {ms} for it at the all-reduce",
    "narr.slower1": "step {step}: rank {rank} is {k}× slower — no straggler was set, but it has been slower over the last {w} steps (a busier core?) — the other worker waits {ms} for it at the all-reduce",
    "narr.jitter": " · rank {rank} took {k}× longer this step: jitter, not a straggler (it was not slower over the last {w} steps)"
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "narr.idle": "选择一个场景或设置参数，然后按“开始”。",
    "narr.starting": "正在启动 {n} 个工作进程…",
    "narr.dp": "第 {step} 步：{n} 个工作进程用 {ms} 全归约了 {bytes} 的梯度；{replicas}",
    "narr.identical": "副本一致",
    "narr.differ": "副本不一致！",
    "narr.pending": "等待所有进程",
    "narr.single": "第 {step} 步：单进程用 {ms} 算得损失 {loss}（无通信）",
    "narr.finished": "已完成：{steps} 步，用时 {wall} 秒（{sps} 步/秒），最终损失 {loss}",
    "narr.stopped": "在 {steps} 步后停止",
    "narr.failed": "失败：{error}",
    "narr.interrupted": "已中断：运行期间服务器停止了",
    "narr.paused": "在第 {step} 步后暂停——“单步”(→) 再走一步，“继续”(空格) 恢复运行",
    "narr.modelledMs": "（模拟 {net}：{ms}）",
    "narr.checkpoint": " · ⚑ 第 {step} 步后保存检查点：{bytes}，耗时 {ms} ms",
    "narr.failedDetected": "失败：{error}（{d} 后被检测到）",
    "narr.pausedByInstructor": "老师在第 {step} 步后暂停了运行",
    "narr.pausedByOwner": "运行在第 {step} 步后暂停（由启动它的页面控制）",
    "narr.pausedStart": "在第一步之前暂停——“单步”(→) 走一步，“继续”(空格) 开始运行",
    "narr.pausedByInstructorStart": "老师在第一步之前暂停了运行",
    "narr.pausedByOwnerStart": "运行在第一步之前暂停（由启动它的页面控制）",
    "narr.slower": "第 {step} 步：进程 {rank} 的用时是其他进程的 {k} 倍——没有设置掉队者，但最近 {w} 步它一直更慢（所在的核更忙？）——其余 {n} 个工作进程在全归约处等了它 {ms}",
    "narr.slower1": "第 {step} 步：进程 {rank} 的用时是另一个进程的 {k} 倍——没有设置掉队者，但最近 {w} 步它一直更慢（所在的核更忙？）——另一个工作进程在全归约处等了它 {ms}",
    "narr.jitter": " · 进程 {rank} 这一步的用时是其他进程的 {k} 倍：这是抖动，不是掉队者（最近 {w} 步里它并不更慢）"
  } /*END CATALOG:zh*/,
};
