// article.js — "What you are looking at" and the tail-latency caption follow the loaded
// run: data parallelism (all-reduce) or a parameter server in its consistency mode
// (sync, backup workers, async, SSP). Only the keys change; applyI18n-style elements
// (data-i18n / data-i18n-html) keep re-translating on a language switch.

import { t } from "../core/i18n.js";
import { psConfig } from "../strategies/parameter_server/slice.js";

/** "dp" or "ps-<mode>" for a run's state (no run: "dp", the page's default text). */
export function articleKind(state) {
  const ps = state ? psConfig(state) : null;
  if (!ps) return "dp";
  return `ps-${["sync", "backup", "async", "ssp"].includes(ps.mode) ? ps.mode : "sync"}`;
}

/** The i18n keys for the first article column and the tail caption. */
export function articleKeys(kind) {
  if (kind === "dp") return { title: "article.dpTitle", body: "article.dp", tail: "tail.explain" };
  const mode = kind.slice(3);
  return {
    title: "article.psTitle",
    body: `article.ps.${mode}`,
    tail: mode === "async" || mode === "ssp" ? `tail.${mode}` : mode === "backup" ? "tail.backup" : "tail.psSync",
  };
}

let shown = "";

/** Point the article's and the caption's elements at the run's keys (cheap when unchanged). */
export function syncArticle(state, doc = document) {
  const kind = articleKind(state);
  if (kind === shown) return;
  shown = kind;
  const keys = articleKeys(kind);
  const title = doc.querySelector('[data-i18n="article.dpTitle"], [data-i18n="article.psTitle"]');
  const body = doc.querySelector('[data-i18n-html^="article.dp"], [data-i18n-html^="article.ps."]');
  const tail = doc.getElementById("tail-explain");
  if (title) {
    title.dataset.i18n = keys.title;
    title.textContent = t(keys.title);
  }
  if (body) {
    body.dataset.i18nHtml = keys.body;
    body.innerHTML = t(keys.body);
  }
  if (tail) {
    tail.dataset.i18n = keys.tail;
    tail.textContent = t(keys.tail);
  }
}
