// i18n/page.js — the page's frame: header and its tools, card titles, the player bar, run statuses, errors.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "app.tagline": "a live lab for distributed training",
    "header.status": "Run",
    "lang.toggle": "中文",
    "lang.toggleTitle": "切换到简体中文 (Switch to Chinese)",
    "presenter.toggle": "Large type",
    "presenter.title": "Presenter mode: larger type and higher contrast for projectors",
    "keys.hint": "Keys: space = play/pause, → = step, ? = all keys",

    "status.none": "no run",
    "status.starting": "starting",
    "status.running": "running",
    "status.paused": "paused",
    "status.finished": "finished",
    "status.stopped": "stopped",
    "status.failed": "failed",
    "status.interrupted": "interrupted",

    "panel.setup": "Run setup",
    "list.comma": ", ",
    "list.semicolon": "; ",
    "error.specs": "Could not load the strategies from the server: {msg}",
    "strategy.singleShort": "single",
    "strategy.dpShort": "data parallel",
    "btn.start": "Start",
    "btn.pause": "Pause",
    "btn.resume": "Resume",
    "btn.step": "Step",
    "btn.stop": "Stop",
    "btn.refresh": "Refresh",
    "error.generic": "The server answered {status}.",
    "error.network": "Cannot reach the server.",
    "error.notLive": "This run is not live any more.",

    "player.replay": "Replay",
    "player.pauseReplay": "Pause",
    "player.live": "Live",
    "player.speed": "Replay speed",
    "player.speedUnit": "{n} steps/s",
    "player.stepOf": "step {step} / {last}",
    "player.modeLive": "following live",
    "player.modeScrub": "viewing the past",
    "player.modeReplay": "replaying",
    "player.scrubber": "Step shown",
    "conn.reconnecting": "connection lost, reconnecting…",

    "card.topology": "Workers",

    "card.loss": "Training loss",

    "card.timeline": "Timeline",

    "card.boundary": "Decision boundary",

    "footer.measured": "Every number on this page was measured on a real torch.distributed process group.",
    "error.baseline": "The uncompressed baseline could not start: {msg}",
    "error.afterBaseline": "The baseline started, but the compressed run could not: {msg}",
    "jump.compression": "Compression ↓",
    "jump.alphabeta": "α–β model ↓",
    "status.restarting": "restarting",
    "card.tail": "Tail latency: the slowest worker sets the pace",
    "jump.tail": "Tail latency ↓",
    "error.noRun": "no run with id {id}",
    "control.onlyInstructor": "Only the instructor controls this run — fork it to experiment.",
    "control.notYours": "Only the page that started this run controls it — fork it to experiment."
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "app.tagline": "分布式训练实时实验室",
    "header.status": "运行",
    "lang.toggle": "English",
    "lang.toggleTitle": "Switch to English (切换到英文)",
    "presenter.toggle": "大字体",
    "presenter.title": "演示模式：为投影仪放大字体、提高对比度",
    "keys.hint": "快捷键：空格 = 播放/暂停，→ = 单步，? = 全部快捷键",

    "status.none": "无运行",
    "status.starting": "启动中",
    "status.running": "运行中",
    "status.paused": "已暂停",
    "status.finished": "已完成",
    "status.stopped": "已停止",
    "status.failed": "失败",
    "status.interrupted": "已中断",

    "panel.setup": "运行设置",
    "list.comma": "、",
    "list.semicolon": "；",
    "error.specs": "无法从服务器加载训练策略：{msg}",
    "strategy.singleShort": "单进程",
    "strategy.dpShort": "数据并行",
    "btn.start": "开始",
    "btn.pause": "暂停",
    "btn.resume": "继续",
    "btn.step": "单步",
    "btn.stop": "停止",
    "btn.refresh": "刷新",
    "error.generic": "服务器返回 {status}。",
    "error.network": "无法连接服务器。",
    "error.notLive": "该运行已不在进行中。",

    "player.replay": "回放",
    "player.pauseReplay": "暂停",
    "player.live": "实时",
    "player.speed": "回放速度",
    "player.speedUnit": "{n} 步/秒",
    "player.stepOf": "第 {step} 步 / 共 {last} 步",
    "player.modeLive": "实时跟随",
    "player.modeScrub": "查看历史",
    "player.modeReplay": "回放中",
    "player.scrubber": "显示的步",
    "conn.reconnecting": "连接中断，正在重连…",

    "card.topology": "工作进程",

    "card.loss": "训练损失",

    "card.timeline": "时间线",

    "card.boundary": "决策边界",

    "footer.measured": "本页上的每个数字都来自一个真实的 torch.distributed 进程组的测量。",
    "error.baseline": "未压缩的基线无法启动：{msg}",
    "error.afterBaseline": "基线已启动，但压缩运行无法启动：{msg}",
    "jump.compression": "压缩 ↓",
    "jump.alphabeta": "α–β 模型 ↓",
    "status.restarting": "重启中",
    "card.tail": "尾延迟：最慢的工作进程决定节奏",
    "jump.tail": "尾延迟 ↓",
    "error.noRun": "没有 ID 为 {id} 的运行",
    "control.onlyInstructor": "只有老师能控制这次运行——想自己试试，请复制一份到你的沙盒。",
    "control.notYours": "只有启动这次运行的页面能控制它——想自己试试，请复制一份到你的沙盒。"
  } /*END CATALOG:zh*/,
};
