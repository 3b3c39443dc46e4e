// i18n/hosts.js — the hosts panel of a torchrun run (views/hosts.js) and why a host was lost.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "hosts.title": "Hosts",
    "hosts.waiting": "waiting for {n} hosts ({per} processes each): paste this command on each host, where DistLab is installed",
    "hosts.neverJoined": "the {n} hosts never all joined",
    "hosts.joined": "{n} hosts joined, backend {backend}",
    "hosts.copy": "Copy",
    "hosts.copied": "Copied",
    "hosts.noToken": "The command to join holds the run's token: only the page that started the run (or the instructor) sees it.",
    "hosts.ended": "The run takes no more hosts.",
    "hosts.line": "{host} (node {node}, {address}): {ranks}",
    "hosts.rank": "rank {rank} {status}",
    "hosts.refused": "refused {who}: {reason}",
    "cause.host_lost": "host {host} was lost: its agent went away",
    "form.launcher": "Launcher",
    "form.nnodes": "Hosts (nnodes)",
    "form.launcher": "Launcher",
    "form.launcherHint": "local: this server starts the workers. torchrun: the workers run on other hosts, started there by the command this page shows once the run is created.",
    "launcher.local": "local",
    "launcher.torchrun": "torchrun, other hosts",
    "form.nnodes": "Hosts (nnodes)",
    "form.nnodesHint": "How many hosts a torchrun run waits for; each runs processes ÷ hosts of them. They are its nodes for the network model."
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "hosts.title": "主机",
    "hosts.waiting": "正在等待 {n} 台主机（每台 {per} 个进程）：在每台装有 DistLab 的主机上粘贴这条命令",
    "hosts.neverJoined": "{n} 台主机始终没有全部加入",
    "hosts.joined": "{n} 台主机已加入，后端 {backend}",
    "hosts.copy": "复制",
    "hosts.copied": "已复制",
    "hosts.noToken": "加入命令里含有本次运行的令牌：只有启动这次运行的页面（或教师）能看到它。",
    "hosts.ended": "这次运行不再接受主机加入。",
    "hosts.line": "{host}（节点 {node}，{address}）：{ranks}",
    "hosts.rank": "进程 {rank} {status}",
    "hosts.refused": "已拒绝 {who}：{reason}",
    "cause.host_lost": "主机 {host} 已失联：它的代理进程没了",
    "form.launcher": "启动方式",
    "form.nnodes": "主机数（nnodes）",
    "form.launcher": "启动方式",
    "form.launcherHint": "本机：由本服务器启动各工作进程。torchrun：工作进程运行在其他主机上，由运行创建后本页显示的命令在那里启动。",
    "launcher.local": "本机",
    "launcher.torchrun": "torchrun（多主机）",
    "form.nnodes": "主机数（nnodes）",
    "form.nnodesHint": "torchrun 运行要等待的主机数；每台主机运行 进程数 ÷ 主机数 个进程。对网络模型而言它们就是节点。"
  } /*END CATALOG:zh*/,
};
