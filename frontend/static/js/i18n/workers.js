// i18n/workers.js — a worker node's words, shared by every topology, the timeline and the fault menu.
//
// The catalog is JSON between the CATALOG markers (tests read it with json.loads); every
// key lives in exactly one module, in English and 简体中文.

export default {
  en: /*CATALOG:en*/ {
    "topo.step": "step {step}",
    "topo.rank": "rank {rank}",
    "topo.pid": "pid {pid}",
    "topo.loss": "loss {loss}",
    "topo.status": "status"
  } /*END CATALOG:en*/,
  zh: /*CATALOG:zh*/ {
    "topo.step": "第 {step} 步",
    "topo.rank": "进程 {rank}",
    "topo.pid": "pid {pid}",
    "topo.loss": "损失 {loss}",
    "topo.status": "状态"
  } /*END CATALOG:zh*/,
};
