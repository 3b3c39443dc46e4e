// views/queuewords.js — why a queued run waits, in the page's language: the server's code and numbers (backend/waiting.py), or its English sentence where this page does not know the code.

import { t } from "../core/i18n.js";

export function waitingWords(run, tr = t) {
  const reason = run && run.waiting_reason;
  if (reason && reason.code) {
    const key = `queue.why.${reason.code}`;
    const args = { ...(reason.args || {}) };
    if (reason.code === "cluster_full") {
      const unit = args.gpus ? "queue.cpusGpus" : args.n === 1 ? "queue.cpu" : "queue.cpus";
      args.what = tr(unit, { n: args.n });
    }
    const text = tr(key, args);
    if (text !== key) return text;
  }
  return (run && run.waiting_for) || "";
}
