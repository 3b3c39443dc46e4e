// controls.js — the left panel: run form, scenario presets, run buttons, past runs.
// It knows the DOM of the panel and nothing about events; main.js wires callbacks.

import { getLang, t, fmtTime } from "./i18n.js";
import { isLive } from "./state.js";

export const DEFAULT_CONFIG = {
  strategy: "data_parallel",
  workers: 4,
  steps: 200,
  batch_size: 32,
  lr: 0.5,
  seed: 0,
  pace: 10,
  model: "mlp",
  dataset: "spirals",
  backend: "auto",
  detail: false,
  allreduce: "builtin",
  // No controls for these yet: sent as the API's defaults, or as a scenario sets them.
  compression: null,
  qsgd_levels: 7,
  compress_fraction: 0.01,
  powersgd_rank: 1,
  error_feedback: false,
  network: null,
  latency_us: null,
  bandwidth_gbps: null,
  links: [],
};

// Exactly the fields POST /api/runs accepts (it rejects any other).
export const CONFIG_FIELDS = Object.keys(DEFAULT_CONFIG);

// Form fields that round-trip through the URL (?workers=4&lr=0.1 ...).
const URL_FIELDS = ["strategy", "workers", "steps", "batch_size", "lr", "seed", "pace", "dataset", "detail", "allreduce"];
const STRING_FIELDS = ["strategy", "dataset", "allreduce"];

const $ = (id) => document.getElementById(id);

function numOrRaw(s) {
  // Keep what the student typed if it is not a number; the server explains what is wrong.
  if (s === "" || s == null) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

export function createControls(cb) {
  const f = {
    scenario: $("f-scenario"),
    scenarioDesc: $("scenario-desc"),
    strategy: $("f-strategy"),
    workers: $("f-workers"),
    steps: $("f-steps"),
    lr: $("f-lr"),
    batch: $("f-batch"),
    dataset: $("f-dataset"),
    seed: $("f-seed"),
    pace: $("f-pace"),
    fullSpeed: $("f-fullspeed"),
    detail: $("f-detail"),
    allreduce: $("f-allreduce"),
    detailHint: $("detail-hint"),
    error: $("form-error"),
    start: $("btn-start"),
    pause: $("btn-pause"),
    step: $("btn-step"),
    stop: $("btn-stop"),
    runList: $("run-list"),
    refresh: $("btn-refresh-runs"),
  };
  let scenarios = [];
  let baseConfig = { ...DEFAULT_CONFIG };
  let lastWorkers = DEFAULT_CONFIG.workers;

  function syncDisabled() {
    const single = f.strategy.value === "single";
    if (single) {
      if (f.workers.value !== "1") lastWorkers = f.workers.value || lastWorkers;
      f.workers.value = "1";
    } else if (f.workers.disabled) {
      f.workers.value = String(lastWorkers || DEFAULT_CONFIG.workers);
    }
    f.workers.disabled = single;
    f.allreduce.disabled = single; // one process: nothing to all-reduce
    f.pace.disabled = f.fullSpeed.checked;
    renderDetailHint();
  }

  // A hand-written all-reduce is worth watching message by message: choosing one ticks
  // Detail (the student may untick it) and says why.
  let detailSuggested = false;
  function renderDetailHint() {
    const handWritten = !f.allreduce.disabled && f.allreduce.value !== "builtin";
    let key = "";
    if (handWritten && f.detail.checked && detailSuggested) key = "form.detailHint";
    else if (handWritten && !f.detail.checked) key = "form.detailOffHint";
    f.detailHint.dataset.i18n = key;
    f.detailHint.textContent = key ? t(key) : "";
    f.detailHint.hidden = !key;
  }
  function allreduceChanged() {
    const handWritten = f.allreduce.value !== "builtin";
    if (handWritten && !f.detail.checked) {
      f.detail.checked = true;
      detailSuggested = true;
    }
    if (!handWritten) detailSuggested = false;
  }

  function fillForm(cfg) {
    const c = { ...DEFAULT_CONFIG, ...cfg };
    f.strategy.value = c.strategy;
    f.workers.value = String(c.workers);
    if (c.strategy !== "single") lastWorkers = c.workers;
    f.steps.value = String(c.steps);
    f.lr.value = String(c.lr);
    f.batch.value = String(c.batch_size);
    f.dataset.value = c.dataset;
    f.seed.value = String(c.seed);
    f.fullSpeed.checked = c.pace == null;
    if (c.pace != null) f.pace.value = String(c.pace);
    else if (!f.pace.value) f.pace.value = String(DEFAULT_CONFIG.pace);
    f.detail.checked = !!c.detail;
    f.allreduce.value = c.allreduce;
    if (f.allreduce.selectedIndex < 0) f.allreduce.value = DEFAULT_CONFIG.allreduce;
    syncDisabled();
  }

  function readConfig() {
    const single = f.strategy.value === "single";
    const base = {};
    for (const k of CONFIG_FIELDS) base[k] = k in baseConfig ? baseConfig[k] : DEFAULT_CONFIG[k];
    return {
      ...base,
      strategy: f.strategy.value,
      workers: single ? 1 : numOrRaw(f.workers.value),
      steps: numOrRaw(f.steps.value),
      batch_size: numOrRaw(f.batch.value),
      lr: numOrRaw(f.lr.value),
      seed: numOrRaw(f.seed.value),
      pace: f.fullSpeed.checked ? null : numOrRaw(f.pace.value),
      dataset: f.dataset.value,
      detail: f.detail.checked,
      allreduce: single ? DEFAULT_CONFIG.allreduce : f.allreduce.value,
    };
  }

  function writeUrl() {
    const url = new URL(location.href);
    const cfg = readConfig();
    for (const k of URL_FIELDS) {
      const v = cfg[k];
      if (v === DEFAULT_CONFIG[k] || v == null && k !== "pace") url.searchParams.delete(k);
      else url.searchParams.set(k, k === "pace" && v == null ? "full" : String(v));
    }
    if (f.scenario.value) url.searchParams.set("scenario", f.scenario.value);
    else url.searchParams.delete("scenario");
    history.replaceState(null, "", url);
  }

  function readUrl() {
    const q = new URLSearchParams(location.search);
    const cfg = {};
    for (const k of URL_FIELDS) {
      if (!q.has(k)) continue;
      const v = q.get(k);
      if (STRING_FIELDS.includes(k)) cfg[k] = v;
      else if (k === "detail") cfg[k] = v === "true" || v === "1";
      else if (k === "pace" && v === "full") cfg[k] = null;
      else cfg[k] = numOrRaw(v);
    }
    return { cfg, scenario: q.get("scenario") };
  }

  function renderScenarioOptions() {
    const lang = getLang();
    const current = f.scenario.value;
    const opts = [`<option value="">${t("form.scenarioCustom")}</option>`];
    for (const s of scenarios) {
      const title = (s.title && (s.title[lang] || s.title.en)) || s.name;
      const o = document.createElement("option");
      o.value = s.name;
      o.textContent = title;
      opts.push(o.outerHTML);
    }
    f.scenario.innerHTML = opts.join("");
    f.scenario.value = scenarios.some((s) => s.name === current) ? current : "";
    renderScenarioDesc();
  }

  function renderScenarioDesc() {
    const s = scenarios.find((x) => x.name === f.scenario.value);
    const lang = getLang();
    f.scenarioDesc.textContent = s && s.description ? s.description[lang] || s.description.en || "" : "";
  }

  function setScenarios(list) {
    scenarios = Array.isArray(list) ? list : [];
    renderScenarioOptions();
  }

  function chooseScenario(name) {
    const s = scenarios.find((x) => x.name === name);
    f.scenario.value = s ? name : "";
    if (s) {
      baseConfig = { ...DEFAULT_CONFIG, ...s.config };
      fillForm(baseConfig);
    }
    renderScenarioDesc();
    writeUrl();
  }

  // ---- errors
  function showError(msg) {
    f.error.textContent = msg || "";
    f.error.hidden = !msg;
  }

  // ---- buttons
  function setRunStatus(status, hasRun) {
    const live = hasRun && isLive(status);
    f.pause.disabled = !live || status === "starting";
    f.pause.dataset.action = status === "paused" ? "resume" : "pause";
    f.pause.textContent = status === "paused" ? t("btn.resume") : t("btn.pause");
    f.pause.setAttribute("data-i18n", status === "paused" ? "btn.resume" : "btn.pause");
    f.step.disabled = !(live && status === "paused");
    f.stop.disabled = !live;
  }

  // ---- run list
  function renderRuns(runs, activeId) {
    if (!Array.isArray(runs) || !runs.length) {
      f.runList.innerHTML = `<li class="empty">${t("runs.empty")}</li>`;
      return;
    }
    f.runList.replaceChildren(
      ...runs.map((run) => {
        const li = document.createElement("li");
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "run-item" + (run.id === activeId ? " active" : "");
        btn.dataset.runId = run.id;
        const c = run.config || {};
        let strat = c.strategy === "single" ? t("strategy.singleShort") : t("strategy.dpShort");
        if (c.strategy !== "single" && c.allreduce && c.allreduce !== "builtin") strat += ` · ${t("algo." + c.allreduce)}`;
        btn.innerHTML = `<span class="run-status-dot" data-status="${run.status}"></span>
          <span class="run-main"></span><span class="run-sub"></span>`;
        btn.querySelector(".run-main").textContent = `${strat} · ${c.workers === 1 ? t("runs.worker1") : t("runs.workers", { n: c.workers ?? "?" })} · ${c.dataset ? t("dataset." + c.dataset) : ""}`;
        btn.querySelector(".run-sub").textContent =
          `${t("status." + run.status)} · ${t("runs.steps", { done: run.step ?? 0, total: c.steps ?? "?" })} · ${fmtTime(run.created_at)}`;
        btn.title = run.id;
        btn.addEventListener("click", () => cb.onPickRun?.(run.id));
        li.appendChild(btn);
        return li;
      }),
    );
  }

  // ---- wiring
  f.scenario.addEventListener("change", () => chooseScenario(f.scenario.value));
  f.allreduce.addEventListener("change", allreduceChanged);
  for (const el of [f.strategy, f.workers, f.steps, f.lr, f.batch, f.dataset, f.seed, f.detail, f.allreduce]) {
    el.addEventListener("change", () => {
      syncDisabled();
      writeUrl();
    });
  }
  const paceChanged = () => {
    syncDisabled();
    writeUrl();
    const pace = f.fullSpeed.checked ? null : Number(f.pace.value);
    if (pace === null || (Number.isFinite(pace) && pace > 0)) cb.onPaceChange?.(pace);
  };
  f.pace.addEventListener("change", paceChanged);
  f.fullSpeed.addEventListener("change", paceChanged);
  $("run-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    cb.onStart?.(readConfig());
  });
  f.pause.addEventListener("click", () => cb.onControl?.(f.pause.dataset.action || "pause"));
  f.step.addEventListener("click", () => cb.onControl?.("step"));
  f.stop.addEventListener("click", () => cb.onControl?.("stop"));
  f.refresh.addEventListener("click", () => cb.onRefreshRuns?.());

  // initial form from URL
  const fromUrl = readUrl();
  fillForm({ ...DEFAULT_CONFIG, ...fromUrl.cfg });
  const pendingScenario = fromUrl.scenario;

  return {
    readConfig,
    fillForm,
    setScenarios(list) {
      setScenarios(list);
      if (pendingScenario && scenarios.some((s) => s.name === pendingScenario)) {
        f.scenario.value = pendingScenario;
        baseConfig = { ...DEFAULT_CONFIG, ...scenarios.find((s) => s.name === pendingScenario).config };
        renderScenarioDesc();
      }
    },
    chooseScenario,
    showError,
    setRunStatus,
    renderRuns,
    relocalize() {
      renderScenarioOptions();
      renderDetailHint();
    },
  };
}
