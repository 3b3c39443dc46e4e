// i18n/frameworks.js — chapter 5's lesson: the run as PyTorch DDP, Horovod and TensorFlow code, and 表5.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "fw.title": "The same job in three frameworks",
    "fw.ddp": "PyTorch DDP — this run's script",
    "fw.ddpWait": "Start the run: its exported script appears here.",
    "fw.ddpPlaceholder": "# torchrun --standalone --nproc-per-node {n} train.py\n# (the script of the lesson's run, once it has started)",
    "fw.ddpNote": "Exported by the server from this run; torchrun reproduces it (same data, model, seed and steps).",
    "fw.download": "Download train.py",
    "fw.horovod": "Horovod",
    "fw.tf": "TensorFlow MultiWorkerMirroredStrategy",
    "fw.notRun": "Written from this run's settings, to compare — not run here (neither is installed).",
    "fw.table5": "Table 5 · DistLab's engine against the exported DDP script",
    "fw.table5Caption": "Measured on {machine} on {date} ({setup}) with {command}. Steps per second are counted from the end of step 1 to the end of the last; the loss is the mean of the ranks' last losses.",
    "fw.colConfig": "Compression",
    "fw.colEngine": "DistLab engine",
    "fw.colDdp": "PyTorch DDP script",
    "fw.colRatio": "DDP ÷ engine (speed)",
    "fw.colSameHash": "Same final parameters (hash)",
    "fw.cell": "{rate} steps/s · loss {loss}",
    "fw.yes": "yes, bit for bit",
    "fw.no": "no (rounding differs)"
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "fw.title": "同一个任务，三种框架",
    "fw.ddp": "PyTorch DDP——本次运行导出的脚本",
    "fw.ddpWait": "开始运行后，这里显示它导出的脚本。",
    "fw.ddpPlaceholder": "# torchrun --standalone --nproc-per-node {n} train.py\n# （课程运行开始后，这里是它的脚本）",
    "fw.ddpNote": "由服务器从本次运行导出；用 torchrun 运行即可复现（相同的数据、模型、种子和步数）。",
    "fw.download": "下载 train.py",
    "fw.horovod": "Horovod",
    "fw.tf": "TensorFlow MultiWorkerMirroredStrategy",
    "fw.notRun": "根据本次运行的设置写出，用于对照——这里不运行（两者都未安装）。",
    "fw.table5": "表5 · DistLab 引擎与导出的 DDP 脚本对比",
    "fw.table5Caption": "{date} 在 {machine} 上测得（{setup}），命令：{command}。每秒步数从第 1 步结束计到最后一步结束；损失为各进程最后一步损失的平均。",
    "fw.colConfig": "压缩",
    "fw.colEngine": "DistLab 引擎",
    "fw.colDdp": "PyTorch DDP 脚本",
    "fw.colRatio": "DDP ÷ 引擎（速度）",
    "fw.colSameHash": "最终参数相同（哈希）",
    "fw.cell": "{rate} 步/秒 · 损失 {loss}",
    "fw.yes": "相同，逐位一致",
    "fw.no": "不同（舍入不同）"
  } /*END CATALOG:zh*/,
};
