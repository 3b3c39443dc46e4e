// calculator.js — the calculator page (/calculator): memory per GPU, bubble and traffic for real models, from views/calculatorcore.js; English and 简体中文 like the lab.
//
// Every input is in the URL (/calculator?model=llama3-405b&data=128&pipeline=16&tensor=8&zero=2…,
// written back as the inputs change), and ?case=ID fills them with a published set-up of
// frontend/static/data/cases.json, shown with its source (the case-studies lesson links here).

import { applyI18n, fmtBytes, getLang, initLang, onLangChange, setLang, t } from "./core/i18n.js";
import { ACCELERATORS, MODELS, calcQuery, caseSetup, modelOf, parseCalcQuery, perGpu } from "./views/calculatorcore.js";

const $ = (id) => document.getElementById(id);
const KINDS = ["params", "grads", "optimizer", "activations"];
const GIB = 2 ** 30;

function fillModels() {
  const sel = $("c-model");
  const current = sel.value || "gpt3-175b";
  sel.replaceChildren(
    ...[...Object.keys(MODELS), "custom"].map((name) => {
      const o = document.createElement("option");
      o.value = name;
      o.textContent = name === "custom" ? t("calc.custom") : name;
      return o;
    }),
  );
  sel.value = current;
}

function loadModel() {
  const m = MODELS[$("c-model").value];
  if (!m) return;
  $("c-params").value = String(m.params / 1e9);
  $("c-layers").value = String(m.layers);
  $("c-hidden").value = String(m.hidden);
  $("c-heads").value = String(m.heads);
}

const num = (id, low = 1) => Math.max(low, Number($(id).value) || low);

// The inputs, by the set-up's field names (the URL's keys).
const INPUTS = { params: "c-params", layers: "c-layers", hidden: "c-hidden", heads: "c-heads", seq: "c-seq", micro_batch: "c-mb", micro_batches: "c-m", data: "c-d", pipeline: "c-p", tensor: "c-t", zero: "c-zero", mixed: "c-mixed", recompute: "c-recompute" };

let cases = []; // frontend/static/data/cases.json
let shownCase = null; // the published set-up the inputs came from, or null

/** Fill the inputs with (part of) a set-up; the model select follows the shape. */
function fillInputs(setup) {
  for (const [k, id] of Object.entries(INPUTS)) {
    if (!(k in setup)) continue;
    const v = setup[k];
    if (k === "mixed" || k === "recompute") $(id).checked = !!v;
    else $(id).value = k === "params" ? String(v / 1e9) : String(v);
  }
  $("c-model").value = modelOf(readSetup()) || "custom";
}

function fillFromCase(c) {
  shownCase = c;
  $("c-case").value = c ? c.id : "";
  if (c) fillInputs(caseSetup(c));
}

function readSetup() {
  return {
    params: num("c-params", 0.001) * 1e9,
    layers: num("c-layers"),
    hidden: num("c-hidden"),
    heads: num("c-heads"),
    seq: num("c-seq"),
    micro_batch: num("c-mb"),
    micro_batches: num("c-m"),
    data: num("c-d"),
    pipeline: num("c-p"),
    tensor: num("c-t"),
    zero: Number($("c-zero").value),
    mixed: $("c-mixed").checked,
    recompute: $("c-recompute").checked,
  };
}

const near = (a, b) => a === b || (typeof a === "number" && typeof b === "number" && Math.abs(a - b) <= 1e-9 * Math.abs(b));
const same = (a, b) => Object.keys(INPUTS).every((k) => near(a[k], b[k]));

/** "Deepak Narayanan, Mohammad Shoeybi, Jared Casper, et al. (2021). Title. SC." */
function cite(s) {
  const names = String(s.authors).split(/,\s*/);
  const authors = names.length > 3 ? `${names.slice(0, 3).join(", ")}, et al.` : s.authors;
  return `${authors} (${s.year}). ${s.title}. ${s.venue}.`;
}

/** The published set-up's card: its source, its story, and the paper's numbers beside the
 *  calculator's (d · p · t against the GPU count, memory per GPU against the GPU's). */
function renderCase(setup, r) {
  const card = $("calc-case");
  const c = shownCase;
  card.hidden = !c;
  $("calc-out").dataset.case = c ? c.id : "";
  if (!c) return card.replaceChildren();
  const lang = getLang();
  const text = (x) => (x && (x[lang] || x.en)) || "";
  const p = (cls, txt, testid) => {
    const e = document.createElement("p");
    e.className = cls;
    if (testid) e.dataset.testid = testid;
    e.textContent = txt;
    return e;
  };
  const h = document.createElement("h3");
  h.textContent = text(c.title);
  const gpus = setup.data * setup.pipeline * setup.tensor;
  const cap = ACCELERATORS[c.accelerator];
  const gib = r.total / GIB;
  const check = p("calc-case-check", t(gpus === c.gpus ? "calc.caseGpusMatch" : "calc.caseGpusDiffer", { n: gpus, paper: c.gpus }), "calc-case-gpus");
  check.dataset.match = String(gpus === c.gpus);
  const fit = p("calc-case-check", t(gib <= cap ? "calc.caseFits" : "calc.caseTooBig", { gb: gib.toFixed(1), acc: c.accelerator, cap }), "calc-case-fit");
  fit.dataset.fits = String(gib <= cap);
  const src = c.source;
  card.replaceChildren(
    h,
    p("calc-case-src", t("calc.caseSource", { cite: cite(src), where: text(src.where) }), "calc-case-source"),
    p("", text(c.story)),
    check,
    fit,
    p("caption", t("calc.caseAssumed", { text: text(c.assumed) })),
  );
  if (!same(setup, caseSetup(c))) card.append(p("calc-case-changed", t("calc.caseChanged"), "calc-case-changed"));
}

function render() {
  const setup = readSetup();
  const r = perGpu(setup);
  const gib = r.total / GIB;
  const total = $("calc-total");
  total.dataset.gib = gib.toFixed(3);
  total.textContent = `${t("calc.total", { gb: gib.toFixed(1) })} · ${t("calc.gpus", { n: setup.data * setup.pipeline * setup.tensor })}`;
  $("calc-bars").replaceChildren(
    ...KINDS.map((k) => {
      const row = document.createElement("div");
      row.className = "mem-row";
      row.dataset.kind = k;
      const label = document.createElement("span");
      label.className = "mem-label";
      label.textContent = t(`calc.${k}.out`);
      const bar = document.createElement("span");
      bar.className = "mem-bar";
      const seg = document.createElement("span");
      seg.className = `mem-seg mem-${k}`;
      seg.style.width = `${(100 * r[k]) / Math.max(r.total, 1)}%`;
      bar.append(seg);
      const v = document.createElement("span");
      v.className = "mem-total";
      v.textContent = `${(r[k] / GIB).toFixed(2)} GiB`; // as the total and the GPUs' memory
      row.append(label, bar, v);
      return row;
    }),
  );
  $("calc-fit").replaceChildren(
    ...Object.entries(ACCELERATORS).map(([name, cap]) => {
      const li = document.createElement("li");
      const fits = gib <= cap;
      li.dataset.fits = String(fits);
      li.textContent = `${name}: ${fits ? t("calc.fits") : t("calc.tooBig")}`;
      return li;
    }),
  );
  $("calc-bubble").textContent = t("calc.bubble", { pct: `${(100 * r.bubble).toFixed(1)} %` });
  $("calc-bytes").textContent = t("calc.bytes", { dp: fmtBytes(r.bytes_data), tp: fmtBytes(r.bytes_tensor), pp: fmtBytes(r.bytes_pipeline) });
  renderCase(setup, r);
  // the URL holds every input (and the case), so the page can be linked as it is
  const q = calcQuery(setup, shownCase && shownCase.id);
  const lang = new URLSearchParams(location.search).get("lang");
  history.replaceState(null, "", `${location.pathname}?${q}${lang ? `&lang=${lang}` : ""}`);
}

function fillCases() {
  const sel = $("c-case");
  const none = document.createElement("option");
  none.value = "";
  none.textContent = t("calc.caseNone");
  sel.replaceChildren(
    none,
    ...cases.map((c) => {
      const o = document.createElement("option");
      o.value = c.id;
      o.textContent = (c.title[getLang()] || c.title.en).split(":")[0].split("：")[0];
      return o;
    }),
  );
  sel.value = shownCase ? shownCase.id : "";
}

async function loadCases() {
  try {
    const r = await fetch(`/static/data/cases.json?v=${document.documentElement.dataset.version || ""}`, { cache: "no-cache" });
    if (r.ok) cases = (await r.json()).cases || [];
  } catch {
    cases = [];
  }
}

/** The URL's set-up: its case first, then its model, then every input it gives. */
function fromUrl() {
  const want = parseCalcQuery(location.search);
  const c = cases.find((x) => x.id === want.case) || null;
  fillFromCase(c);
  if (want.model) {
    $("c-model").value = want.model;
    loadModel();
  }
  fillInputs(want.setup);
}

initLang();
applyI18n(document);
fillModels();
loadModel();
await loadCases();
fillCases();
fromUrl();
render();
$("calc-out").dataset.ready = "1";
$("c-model").addEventListener("change", () => {
  loadModel();
  render();
});
$("c-case").addEventListener("change", () => {
  fillFromCase(cases.find((x) => x.id === $("c-case").value) || null);
  render();
});
$("calc-form").addEventListener("input", (e) => {
  if (e.target.id === "c-case" || e.target.id === "c-model") return; // their change handlers
  if (["c-params", "c-layers", "c-hidden", "c-heads"].includes(e.target.id)) $("c-model").value = modelOf(readSetup()) || "custom";
  render();
});
$("lang-toggle").addEventListener("click", () => setLang(getLang() === "en" ? "zh" : "en"));
onLangChange(() => {
  fillModels();
  fillCases();
  render();
});
window.distlabCalculator = { render };
