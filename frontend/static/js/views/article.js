// views/article.js — "What you are looking at" (its first column and "Colours and shapes") and the tail-latency caption follow the loaded run: data parallelism (the ring all-reduce), or what the run's strategy's frontend says (the parameter server: its consistency mode and its pulls and pushes; a compressed data-parallel run: its all-gathered encoded gradients).
//
// Only the keys change; applyI18n-style elements (data-i18n / data-i18n-html) keep
// re-translating on a language switch.

import { t } from "../core/i18n.js";
import { frontendFor, strategyFrontends } from "../core/registry.js";

/** "dp" (the page's default text, also with no run) or the kind a strategy's frontend
 *  names for the run (`articleKind`, e.g. "ps-async"). */
export function articleKind(state) {
  const fe = state ? frontendFor(state.strategy || (state.config && state.config.strategy)) : null;
  return (fe && fe.articleKind && fe.articleKind(state)) || "dp";
}

/** The i18n keys for the first article column, the run's part of "Colours and shapes"
 *  (what its own views draw; the loss, timeline and boundary items are common) and the
 *  tail caption. */
export function articleKeys(kind) {
  if (kind !== "dp") {
    for (const fe of strategyFrontends()) {
      const keys = fe.articleKeys && fe.articleKeys(kind);
      if (keys) return keys;
    }
  }
  return { title: "article.dpTitle", body: "article.dp", views: "article.views", tail: "tail.explain" };
}

let shown = "";

/** Point the article's and the caption's elements at the run's keys (cheap when unchanged). */
export function syncArticle(state, doc = document) {
  const kind = articleKind(state);
  if (kind === shown) return;
  shown = kind;
  const keys = articleKeys(kind);
  const title = doc.querySelector('[data-article="title"]');
  const body = doc.querySelector('[data-article="body"]');
  const views = doc.querySelector('[data-article="views"]');
  const tail = doc.getElementById("tail-explain");
  if (title) {
    title.dataset.i18n = keys.title;
    title.textContent = t(keys.title);
  }
  if (body) {
    body.dataset.i18nHtml = keys.body;
    body.innerHTML = t(keys.body);
  }
  if (views) {
    const key = keys.views || "article.views";
    views.dataset.i18nHtml = key;
    views.innerHTML = t(key);
  }
  if (tail) {
    tail.dataset.i18n = keys.tail;
    tail.textContent = t(keys.tail);
  }
}
