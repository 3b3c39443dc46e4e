// core/i18n.js — the i18n core: t(), the page's language, number formatting, and the catalogs merged (English and 简体中文).
//
// The words live in catalogs by feature (i18n/*.js) and in each strategy's frontend
// (strategies/<name>/catalog.js, registered by strategies/index.js); every key in exactly
// one of them. Elements opt in with data-i18n="key" (textContent), data-i18n-html="key"
// (trusted markup from a catalog), data-i18n-title="key" and data-i18n-aria="key".
// Placeholders look like {name}. A strategy's spec brings its own words (its title, its
// options' labels and help) from the server, not from here.

import { COMMON_CATALOGS } from "../i18n/index.js";
import { getParam, setParams } from "./urlstate.js";

export const LANGS = ["en", "zh"];

/** Every string, by language: the common catalogs (i18n/) and those the strategies'
 *  frontends register, merged. */
export const CATALOGS = { en: {}, zh: {} };

/** Merge a catalog ({en, zh}) in: a feature's (i18n/index.js) or a strategy's. */
export function registerCatalog(catalog) {
  for (const l of LANGS) Object.assign(CATALOGS[l], (catalog && catalog[l]) || {});
}

for (const c of COMMON_CATALOGS) registerCatalog(c);

let lang = "en";
const listeners = new Set();

export function getLang() {
  return lang;
}

/** Translate `key`, filling {placeholders} from `params`. Falls back to English, then the key. */
export function t(key, params) {
  let s = CATALOGS[lang][key] ?? CATALOGS.en[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return s;
}

export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-html]")) el.innerHTML = t(el.dataset.i18nHtml);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  if (root === document) {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }
}

/** Language from ?lang=, then localStorage, then English. */
export function initLang() {
  let want = null;
  try {
    want = getParam("lang");
    if (!LANGS.includes(want)) want = localStorage.getItem("distlab.lang");
  } catch {
    want = null;
  }
  lang = LANGS.includes(want) ? want : "en";
  return lang;
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  try {
    localStorage.setItem("distlab.lang", next);
  } catch {
    /* private mode */
  }
  setParams({ lang: next });
  applyI18n(document);
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

// ---- number formatting (locale independent, compact)

export function fmtNum(x, digits = 3) {
  if (x == null || !Number.isFinite(Number(x))) return "–";
  const v = Number(x);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(2);
  return String(Number(v.toPrecision(Math.max(digits, Math.ceil(Math.log10(a + 1)) ))));
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return "–";
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Compact bytes for labels inside the drawing: 512B, 7.3K, 1.2M. */
export function fmtBytesShort(n) {
  if (!Number.isFinite(n)) return "–";
  if (n < 1000) return `${Math.round(n)}B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function fmtTime(when) {
  if (when == null || when === "") return "";
  // ISO string, or a Unix timestamp in seconds (what the store keeps)
  const d = typeof when === "number" ? new Date(when < 1e11 ? when * 1000 : when) : new Date(when);
  if (Number.isNaN(d.getTime())) return String(when);
  const pad = (x) => String(x).padStart(2, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
