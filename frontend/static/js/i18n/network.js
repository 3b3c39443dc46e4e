// i18n/network.js — the modelled network: presets, α and β, per-link overrides.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "network.none": "none — wall time only",
    "network.1gbe": "1 GbE",
    "network.10gbe": "10 GbE",
    "network.100g_ib": "100 Gb InfiniBand",
    "network.slow_link": "slow link: 0→1 is 10× slower",
    "network.two_level": "two levels: fast inside a node, 10 GbE between nodes",
    "network.custom": "custom…",
    "net.name.1gbe": "1 GbE",
    "net.name.10gbe": "10 GbE",
    "net.name.100g_ib": "100 Gb InfiniBand",
    "net.name.slow_link": "10 GbE with one slow link",
    "net.name.two_level": "nodes: 200 Gb/s inside, 10 GbE between",
    "net.name.custom": "custom network",
    "net.params": "{name}, α = {alpha} µs, β = {beta} Gb/s",
    "net.link": "link {src}→{dst}: α = {alpha} µs, β = {beta} Gb/s",
    "net.moreLinks": "{n} more links",
    "form.nodeSize": "Processes per node",
    "form.nodeSizeHint": "blank: no nodes. Two-level network and hierarchical all-reduce need it."
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "network.none": "无——只有挂钟时间",
    "network.1gbe": "1 GbE（千兆以太网）",
    "network.10gbe": "10 GbE（万兆以太网）",
    "network.100g_ib": "100 Gb InfiniBand",
    "network.slow_link": "慢链路：0→1 慢 10 倍",
    "network.two_level": "两级：节点内快速，节点间 10 GbE",
    "network.custom": "自定义…",
    "net.name.1gbe": "1 GbE",
    "net.name.10gbe": "10 GbE",
    "net.name.100g_ib": "100 Gb InfiniBand",
    "net.name.slow_link": "带一条慢链路的 10 GbE",
    "net.name.two_level": "多节点：节点内 200 Gb/s，节点间 10 GbE",
    "net.name.custom": "自定义网络",
    "net.params": "{name}，α = {alpha} 微秒，β = {beta} Gb/s",
    "net.link": "链路 {src}→{dst}：α = {alpha} 微秒，β = {beta} Gb/s",
    "net.moreLinks": "另有 {n} 条链路",
    "form.nodeSize": "每个节点的进程数",
    "form.nodeSizeHint": "留空：不分节点。两级网络和分层全归约需要它。"
  } /*END CATALOG:zh*/,
};
