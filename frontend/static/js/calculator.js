// calculator.js — the calculator page (/calculator): memory per GPU, bubble and traffic for real models, from views/calculatorcore.js; English and 简体中文 like the lab.

import { applyI18n, fmtBytes, getLang, initLang, onLangChange, setLang, t } from "./core/i18n.js";
import { ACCELERATORS, MODELS, perGpu } from "./views/calculatorcore.js";

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

function render() {
  const setup = {
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
}

initLang();
applyI18n(document);
fillModels();
loadModel();
render();
$("c-model").addEventListener("change", () => {
  loadModel();
  render();
});
$("calc-form").addEventListener("input", (e) => {
  if (e.target.id !== "c-model" && ["c-params", "c-layers", "c-hidden", "c-heads"].includes(e.target.id)) $("c-model").value = "custom";
  render();
});
$("lang-toggle").addEventListener("click", () => setLang(getLang() === "en" ? "zh" : "en"));
onLangChange(() => {
  fillModels();
  render();
});
window.distlabCalculator = { render };
