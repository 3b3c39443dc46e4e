// controls.js — the left panel: run form, scenario presets, run buttons, past runs.
// It knows the DOM of the panel and nothing about events; main.js wires callbacks.

import { getLang, t, fmtTime } from "./i18n.js";
import { compressionText, networkName } from "./netlabels.js";
import { compressionOf, isLive, qsgdBits } from "./state.js";

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
  compression: null,
  qsgd_levels: 7,
  compress_fraction: 0.01,
  powersgd_rank: 1,
  error_feedback: false,
  // The "Faults" section: what a data-parallel run does with a NaN gradient.
  nan_policy: "skip",
  // Checkpoints and recovery (same section): restart needs data parallelism and K.
  checkpoint_every: null,
  recovery: "none",
  max_restarts: 3,
  // Faults planned before the run (the schedule editor in the same section).
  faults: [],
  // Parameter-server fields (the "Parameter server & stragglers" section).
  servers: 1,
  ps_mode: "sync",
  backup_workers: 0,
  staleness_bound: 2,
  emulated_compute_ms: 0.0,
  straggler: "none",
  straggler_factor: 5.0,
  straggler_rank: 0,
  straggler_prob: 0.1,
  network: null,
  latency_us: null,
  bandwidth_gbps: null,
  links: [],
};

// Exactly the fields POST /api/runs accepts (it rejects any other).
export const CONFIG_FIELDS = Object.keys(DEFAULT_CONFIG);

const PS_FIELDS = [
  "servers",
  "ps_mode",
  "backup_workers",
  "staleness_bound",
  "emulated_compute_ms",
  "straggler",
  "straggler_factor",
  "straggler_rank",
  "straggler_prob",
];

// Form fields that round-trip through the URL (?workers=4&lr=0.1 ...).
const URL_FIELDS = [
  "strategy",
  "workers",
  "steps",
  "batch_size",
  "lr",
  "seed",
  "pace",
  "dataset",
  "detail",
  "allreduce",
  "network",
  "latency_us",
  "bandwidth_gbps",
  "links",
  "compression",
  "qsgd_levels",
  "compress_fraction",
  "powersgd_rank",
  "error_feedback",
  "nan_policy",
  "checkpoint_every",
  "recovery",
  "max_restarts",
  "faults",
  ...PS_FIELDS,
];
const STRING_FIELDS = ["strategy", "dataset", "allreduce", "network", "compression", "ps_mode", "straggler", "nan_policy", "recovery"];
const BOOL_FIELDS = ["detail", "error_feedback"];

/** Link overrides in the URL: "0-1:20:1,2-3:50:0.5" (src-dst:latency_us:bandwidth_gbps). */
export function linksToUrl(links) {
  return (links || []).map((l) => `${l.src}-${l.dst}:${l.latency_us}:${l.bandwidth_gbps}`).join(",");
}

export function linksFromUrl(s) {
  const out = [];
  for (const part of String(s || "").split(",")) {
    const m = /^(\d+)-(\d+):([^:]+):([^:]+)$/.exec(part.trim());
    if (m) out.push({ src: Number(m[1]), dst: Number(m[2]), latency_us: numOrRaw(m[3]), bandwidth_gbps: numOrRaw(m[4]) });
  }
  return out;
}

/** Actions a scheduled fault can take (engine.config.SCHEDULED_ACTIONS), rank faults
 *  first, then the link faults. */
export const SCHEDULED_ACTIONS = ["kill", "freeze", "slow", "corrupt", "rejoin", "delay", "drop"];
const LINK_ACTIONS = ["delay", "drop"];

/** A scheduled fault with exactly the fields its action takes (as the API wants it);
 *  `prev` supplies the values that survive a change of action. */
export function shapeFault(prev, action) {
  const p = prev || {};
  const out = { after_step: p.after_step ?? 10, action };
  if (LINK_ACTIONS.includes(action)) {
    out.src = p.src ?? 0;
    out.dst = p.dst ?? 1;
    if (action === "delay") out.ms = p.ms ?? 50;
  } else {
    out.rank = p.rank ?? 0;
    if (action === "slow") out.factor = p.factor ?? 5;
  }
  return out;
}

/** Scheduled faults in the URL: "10:kill:2,5:slow:1:3,8:delay:0-1:50,9:drop:0-1"
 *  (after_step:action:rank or src-dst[:factor or ms]). */
export function faultsToUrl(faults) {
  return (faults || [])
    .map((f) => {
      const target = LINK_ACTIONS.includes(f.action) ? `${f.src}-${f.dst}` : `${f.rank}`;
      const extra = f.action === "slow" ? `:${f.factor}` : f.action === "delay" ? `:${f.ms}` : "";
      return `${f.after_step}:${f.action}:${target}${extra}`;
    })
    .join(",");
}

export function faultsFromUrl(s) {
  const out = [];
  for (const part of String(s || "").split(",")) {
    const m = /^([^:]+):(\w+):([^:]+)(?::([^:]+))?$/.exec(part.trim());
    if (!m || !SCHEDULED_ACTIONS.includes(m[2])) continue;
    const f = { after_step: numOrRaw(m[1]), action: m[2] };
    if (LINK_ACTIONS.includes(m[2])) {
      const link = /^(\d+)-(\d+)$/.exec(m[3]);
      if (!link) continue;
      f.src = Number(link[1]);
      f.dst = Number(link[2]);
      if (m[2] === "delay") f.ms = numOrRaw(m[4] ?? "50");
    } else {
      f.rank = numOrRaw(m[3]);
      if (m[2] === "slow") f.factor = numOrRaw(m[4] ?? "5");
    }
    out.push(f);
  }
  return out;
}

/** Why each recovery policy cannot be chosen for this form, or null when it can:
 *  {restart, shrink, continue} of catalog keys (the engine's rules, engine/config.py). */
export function recoveryBlocks({ strategy, workers, checkpointEvery, psMode }) {
  const out = { none: null, restart: null, shrink: null, continue: null };
  if (strategy === "single") out.restart = "elastic.why.restartSingle";
  else if (checkpointEvery == null || checkpointEvery === "") out.restart = "elastic.why.restartK";
  if (strategy !== "data_parallel") out.shrink = "elastic.why.shrinkDp";
  else if (!(Number(workers) >= 2)) out.shrink = "elastic.why.shrink2";
  if (strategy !== "parameter_server" || psMode === "sync") out.continue = "elastic.why.continuePs";
  return out;
}

/** The baseline of a compressed run: the same run (same seed) without compression, at
 *  full speed and without per-message events, so it finishes long before the paced run. */
export function baselineConfig(config) {
  return { ...config, compression: null, error_feedback: false, pace: null, detail: false };
}

/** A percentage for the fraction input without float noise (0.07 → 7). */
function pctOf(fraction) {
  return Number.isFinite(fraction) ? String(Number((fraction * 100).toPrecision(12))) : "";
}

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
    allreduceNote: $("allreduce-note"),
    detailHint: $("detail-hint"),
    section: $("comm-section"),
    sectionSummary: $("comm-summary"),
    network: $("f-network"),
    latency: $("f-latency"),
    bandwidth: $("f-bandwidth"),
    linksEditor: $("links-editor"),
    linksRows: $("links-rows"),
    addLink: $("btn-add-link"),
    compression: $("f-compression"),
    levels: $("f-qsgd-levels"),
    fraction: $("f-fraction"),
    rank: $("f-powersgd-rank"),
    ef: $("f-ef"),
    compHint: $("comp-hint"),
    baseline: $("f-baseline"),
    baselineRow: $("baseline-row"),
    psSection: $("ps-section"),
    psSummary: $("ps-summary"),
    servers: $("f-servers"),
    psMode: $("f-ps-mode"),
    backup: $("f-backup"),
    bound: $("f-bound"),
    emulated: $("f-emulated"),
    straggler: $("f-straggler"),
    sfactor: $("f-sfactor"),
    srank: $("f-srank"),
    sprob: $("f-sprob"),
    faultSection: $("fault-section"),
    faultSummary: $("fault-summary"),
    nanPolicy: $("f-nan-policy"),
    checkpointEvery: $("f-checkpoint-every"),
    recovery: $("f-recovery"),
    maxRestarts: $("f-max-restarts"),
    recoveryNote: $("recovery-note"),
    schedRows: $("sched-rows"),
    addSched: $("btn-add-sched"),
    allreduceField: $("allreduce-field"),
    compressionField: $("compression-field"),
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
  let links = []; // per-link overrides being edited
  let schedule = []; // scheduled faults being edited (RunCreate.faults)
  // The algorithm the student chose, kept while a compression forces "builtin".
  let allreduceWanted = DEFAULT_CONFIG.allreduce;

  const gathered = () => !!f.compression.value && f.compression.value !== "powersgd";

  function syncDisabled() {
    const single = f.strategy.value === "single";
    if (single) {
      if (f.workers.value !== "1") lastWorkers = f.workers.value || lastWorkers;
      f.workers.value = "1";
    } else if (f.workers.disabled) {
      f.workers.value = String(lastWorkers || DEFAULT_CONFIG.workers);
    }
    f.workers.disabled = single;
    const ps = f.strategy.value === "parameter_server";
    f.compression.disabled = single || ps; // compression applies to data parallelism
    f.allreduceField.hidden = ps; // a parameter server pushes and pulls: no all-reduce
    f.compressionField.hidden = ps;
    f.psSection.hidden = !ps;
    syncPs();
    // Compressed gradients are all-gathered, not all-reduced: no algorithm to choose.
    const forced = !single && gathered();
    if (forced && f.allreduce.value !== "builtin") {
      allreduceWanted = f.allreduce.value;
      f.allreduce.value = "builtin";
    } else if (!forced && !single && f.allreduce.disabled && allreduceWanted !== "builtin") {
      f.allreduce.value = allreduceWanted;
    }
    f.allreduce.disabled = single || forced || ps; // one process: nothing to all-reduce
    f.allreduceNote.hidden = !forced;
    f.pace.disabled = f.fullSpeed.checked;
    syncSection();
    renderDetailHint();
    renderFaultSummary();
  }

  /** Show only the parameter-server inputs the chosen mode and straggler profile use. */
  function syncPs() {
    const mode = f.psMode.value;
    const strag = f.straggler.value;
    for (const el of f.psSection.querySelectorAll("[data-ps-for]")) el.hidden = el.dataset.psFor !== mode;
    for (const el of f.psSection.querySelectorAll("[data-straggler-for]")) {
      el.hidden = !el.dataset.stragglerFor.split(" ").includes(strag);
    }
    renderPsSummary();
  }

  function renderPsSummary() {
    const bits = [t("psmode." + f.psMode.value)];
    if (Number(f.servers.value) > 1) bits.push(t("form.serversN", { n: f.servers.value }));
    if (f.straggler.value !== "none") bits.push(t("straggler.short." + f.straggler.value, { k: f.sfactor.value, p: f.sprob.value }));
    f.psSummary.textContent = bits.join(" · ");
  }

  /** Show only the inputs the chosen network and compression use. */
  function syncSection() {
    const net = f.network.value;
    const comp = f.compression.disabled ? "" : f.compression.value;
    for (const el of f.section.querySelectorAll(".net-custom")) el.hidden = net !== "custom";
    f.linksEditor.hidden = !net;
    for (const el of f.section.querySelectorAll("[data-for]")) el.hidden = !el.dataset.for.split(" ").includes(comp);
    f.ef.closest("label").hidden = !comp || comp === "powersgd";
    f.baselineRow.hidden = !comp;
    renderCompHint();
    renderSummary();
  }

  function renderCompHint() {
    const comp = f.compression.disabled ? "" : f.compression.value;
    let key = "";
    let params = {};
    if (comp === "qsgd") {
      const s = Number(f.levels.value);
      if (Number.isInteger(s) && s >= 1 && s <= 127) {
        key = "form.qsgdHint";
        params = { levels: s, bits: qsgdBits(s) };
      }
    } else if (comp === "powersgd") key = "form.powersgdHint";
    else if (comp === "sign") key = "form.signHint";
    else if (comp === "fp16") key = "form.fp16Hint";
    else if (comp === "topk" || comp === "randk") key = "form.fractionHint";
    f.compHint.textContent = key ? t(key, params) : "";
    f.compHint.hidden = !key;
  }

  /** Each recovery policy is offered only where the engine accepts it: the others are
   *  disabled (their title says why), a chosen one that became invalid falls back to
   *  "fail the run", and a note lists why the disabled ones are unavailable. */
  function syncRecovery() {
    const blocks = recoveryBlocks({
      strategy: f.strategy.value,
      workers: f.workers.value,
      checkpointEvery: f.checkpointEvery.value.trim(),
      psMode: f.psMode.value,
    });
    const why = [];
    for (const opt of f.recovery.querySelectorAll("option")) {
      const key = blocks[opt.value];
      opt.disabled = !!key;
      opt.title = key ? t(key) : "";
      if (key) why.push(t(key));
    }
    if (blocks[f.recovery.value]) f.recovery.value = "none";
    f.recoveryNote.hidden = !why.length;
    f.recoveryNote.textContent = why.length ? t("elastic.why", { list: why.join("; ") }) : "";
    f.maxRestarts.disabled = f.recovery.value !== "restart";
    f.checkpointEvery.placeholder = t("form.never");
  }

  function renderFaultSummary() {
    syncRecovery();
    const parts = [];
    if (f.nanPolicy.value === "spread") parts.push(t("nan.spread"));
    const k = f.checkpointEvery.value.trim();
    if (k) parts.push(t("recovery.summaryK", { k }));
    if (f.recovery.value === "restart") parts.push(t("recovery.summaryRestart"));
    if (f.recovery.value === "shrink") parts.push(t("elastic.summaryShrink"));
    if (f.recovery.value === "continue") parts.push(t("elastic.summaryContinue"));
    if (schedule.length) parts.push(t("elastic.sched.summary", { n: schedule.length }));
    f.faultSummary.textContent = parts.join(" · ");
  }

  /** The closed section says what is set inside it. */
  function renderSummary() {
    const bits = [];
    if (f.network.value) bits.push(networkName({ name: f.network.value }));
    const c = compressionOf(f.compression.disabled ? null : readCompression());
    if (c) bits.push(compressionText(c));
    f.sectionSummary.textContent = bits.join(" · ");
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
    allreduceWanted = f.allreduce.value;
    if (handWritten && !f.detail.checked) {
      f.detail.checked = true;
      detailSuggested = true;
    }
    if (!handWritten) detailSuggested = false;
  }

  // ---- link overrides: a tiny table of (src, dst, α, β) rows
  function renderLinks() {
    f.linksRows.replaceChildren(
      ...links.map((l, i) => {
        const row = document.createElement("div");
        row.className = "link-row";
        row.setAttribute("data-testid", "link-row");
        const num = (key, attrs, label) => {
          const inp = document.createElement("input");
          inp.type = "number";
          inp.step = "any";
          for (const [k, v] of Object.entries(attrs)) inp.setAttribute(k, v);
          inp.value = l[key] == null ? "" : String(l[key]);
          inp.dataset.key = key;
          inp.setAttribute("aria-label", label);
          inp.addEventListener("change", () => {
            links[i] = { ...links[i], [key]: numOrRaw(inp.value) };
            writeUrl();
          });
          return inp;
        };
        const arrow = document.createElement("span");
        arrow.className = "link-arrow";
        arrow.textContent = "→";
        const del = document.createElement("button");
        del.type = "button";
        del.className = "link-del";
        del.textContent = "×";
        del.title = t("form.linkRemove");
        del.setAttribute("aria-label", t("form.linkRemove"));
        del.addEventListener("click", () => {
          links.splice(i, 1);
          renderLinks();
          writeUrl();
        });
        row.append(
          num("src", { min: "0", step: "1" }, t("form.linkSrc")),
          arrow,
          num("dst", { min: "0", step: "1" }, t("form.linkDst")),
          num("latency_us", { min: "0" }, t("form.latency")),
          num("bandwidth_gbps", { min: "0" }, t("form.bandwidth")),
          del,
        );
        return row;
      }),
    );
    f.linksEditor.classList.toggle("has-rows", links.length > 0);
  }

  // ---- scheduled faults: rows of (after step, action, rank or src→dst, factor or ms)
  function renderSchedule() {
    f.schedRows.replaceChildren(
      ...schedule.map((fault, i) => {
        const row = document.createElement("div");
        row.className = "sched-row";
        row.setAttribute("data-testid", "sched-row");
        row.dataset.action = fault.action;
        const num = (key, attrs, label) => {
          const inp = document.createElement("input");
          inp.type = "number";
          inp.step = "any";
          for (const [k, v] of Object.entries(attrs)) inp.setAttribute(k, v);
          inp.value = fault[key] == null ? "" : String(fault[key]);
          inp.dataset.key = key;
          inp.className = `sched-${key}`;
          inp.setAttribute("aria-label", label);
          inp.title = label;
          inp.addEventListener("change", () => {
            schedule[i] = { ...schedule[i], [key]: numOrRaw(inp.value) };
            writeUrl();
          });
          return inp;
        };
        const sel = document.createElement("select");
        sel.className = "sched-action";
        sel.setAttribute("data-testid", "sched-action");
        sel.setAttribute("aria-label", t("elastic.sched.action"));
        for (const a of SCHEDULED_ACTIONS) {
          const o = document.createElement("option");
          o.value = a;
          o.textContent = t("elastic.action." + a);
          sel.appendChild(o);
        }
        sel.value = fault.action;
        sel.addEventListener("change", () => {
          schedule[i] = shapeFault(schedule[i], sel.value);
          renderSchedule();
          renderFaultSummary();
          writeUrl();
        });
        const at = document.createElement("span");
        at.className = "sched-label";
        at.textContent = t("elastic.sched.after");
        const parts = [at, num("after_step", { min: "1", step: "1" }, t("elastic.sched.after")), sel];
        if (LINK_ACTIONS.includes(fault.action)) {
          const arrow = document.createElement("span");
          arrow.className = "link-arrow";
          arrow.textContent = "→";
          parts.push(num("src", { min: "0", step: "1" }, t("elastic.sched.src")), arrow, num("dst", { min: "0", step: "1" }, t("elastic.sched.dst")));
          if (fault.action === "delay") parts.push(num("ms", { min: "0" }, t("elastic.sched.ms")));
        } else {
          parts.push(num("rank", { min: "0", step: "1" }, t("elastic.sched.rank")));
          if (fault.action === "slow") parts.push(num("factor", { min: "1" }, t("elastic.sched.factor")));
        }
        const del = document.createElement("button");
        del.type = "button";
        del.className = "link-del";
        del.textContent = "×";
        del.title = t("elastic.sched.remove");
        del.setAttribute("aria-label", t("elastic.sched.remove"));
        del.setAttribute("data-testid", "sched-remove");
        del.addEventListener("click", () => {
          schedule.splice(i, 1);
          renderSchedule();
          renderFaultSummary();
          writeUrl();
        });
        parts.push(del);
        row.append(...parts);
        return row;
      }),
    );
    f.schedRows.closest(".sched-editor").classList.toggle("has-rows", schedule.length > 0);
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
    allreduceWanted = f.allreduce.value;
    f.network.value = c.network || "";
    if (f.network.selectedIndex < 0) f.network.value = "";
    f.latency.value = c.latency_us == null ? "" : String(c.latency_us);
    f.bandwidth.value = c.bandwidth_gbps == null ? "" : String(c.bandwidth_gbps);
    links = Array.isArray(c.links) ? c.links.map((l) => ({ ...l })) : [];
    renderLinks();
    f.compression.value = c.compression || "";
    if (f.compression.selectedIndex < 0) f.compression.value = "";
    f.levels.value = String(c.qsgd_levels);
    f.fraction.value = typeof c.compress_fraction === "number" ? pctOf(c.compress_fraction) : String(c.compress_fraction ?? "");
    f.rank.value = String(c.powersgd_rank);
    f.ef.checked = !!c.error_feedback;
    f.servers.value = String(c.servers);
    f.psMode.value = c.ps_mode;
    if (f.psMode.selectedIndex < 0) f.psMode.value = DEFAULT_CONFIG.ps_mode;
    f.backup.value = String(c.backup_workers || 1); // read only in backup mode
    f.bound.value = String(c.staleness_bound);
    f.emulated.value = String(c.emulated_compute_ms);
    f.straggler.value = c.straggler;
    if (f.straggler.selectedIndex < 0) f.straggler.value = "none";
    f.sfactor.value = String(c.straggler_factor);
    f.srank.value = String(c.straggler_rank);
    f.sprob.value = String(c.straggler_prob);
    f.nanPolicy.value = c.nan_policy;
    if (f.nanPolicy.selectedIndex < 0) f.nanPolicy.value = DEFAULT_CONFIG.nan_policy;
    f.checkpointEvery.value = c.checkpoint_every == null ? "" : String(c.checkpoint_every);
    f.maxRestarts.value = String(c.max_restarts ?? DEFAULT_CONFIG.max_restarts);
    f.recovery.value = c.recovery || "none";
    if (f.recovery.selectedIndex < 0) f.recovery.value = "none";
    schedule = Array.isArray(c.faults) ? c.faults.map((x) => ({ ...x })) : [];
    renderSchedule();
    if (schedule.length) f.faultSection.open = true;
    if (c.nan_policy && c.nan_policy !== DEFAULT_CONFIG.nan_policy) f.faultSection.open = true;
    if (c.checkpoint_every != null || (c.recovery && c.recovery !== "none")) f.faultSection.open = true;
    if (c.strategy === "parameter_server") f.psSection.open = true;
    if (c.network || c.compression) f.section.open = true;
    syncDisabled();
    writeUrl(); // a copied link carries the shown run's settings too
  }

  /** The compression fields as the API wants them (only the chosen method's parameter
   *  is read from its input; the others keep their defaults). */
  function readCompression() {
    const comp = f.compression.value || null;
    const base = (k) => (k in baseConfig ? baseConfig[k] : DEFAULT_CONFIG[k]);
    const pct = numOrRaw(f.fraction.value);
    return {
      compression: comp,
      qsgd_levels: comp === "qsgd" ? numOrRaw(f.levels.value) : base("qsgd_levels"),
      compress_fraction:
        comp === "topk" || comp === "randk" ? (typeof pct === "number" ? pct / 100 : pct) : base("compress_fraction"),
      powersgd_rank: comp === "powersgd" ? numOrRaw(f.rank.value) : base("powersgd_rank"),
      error_feedback: !!comp && comp !== "powersgd" && f.ef.checked,
    };
  }

  function readConfig() {
    const single = f.strategy.value === "single";
    const base = {};
    for (const k of CONFIG_FIELDS) base[k] = k in baseConfig ? baseConfig[k] : DEFAULT_CONFIG[k];
    const network = f.network.value || null;
    const custom = network === "custom";
    const comp = single ? { compression: null, error_feedback: false } : readCompression();
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
      allreduce: single || gathered() ? DEFAULT_CONFIG.allreduce : f.allreduce.value,
      network,
      latency_us: custom ? numOrRaw(f.latency.value) : null,
      bandwidth_gbps: custom ? numOrRaw(f.bandwidth.value) : null,
      links: network ? links.map((l) => ({ ...l })) : [],
      ...comp,
      nan_policy: f.nanPolicy.value,
      checkpoint_every: numOrRaw(f.checkpointEvery.value.trim()),
      recovery: f.recovery.value,
      max_restarts: f.recovery.value === "restart" ? numOrRaw(f.maxRestarts.value) ?? DEFAULT_CONFIG.max_restarts : DEFAULT_CONFIG.max_restarts,
      faults: single ? [] : schedule.map((x) => ({ ...x })),
      ...(f.strategy.value === "parameter_server" ? readPs() : {}),
    };
  }

  /** The parameter-server fields; the knobs the chosen mode or profile does not use keep
   *  their defaults (the API rejects, e.g., backup workers outside backup mode). */
  function readPs() {
    const mode = f.psMode.value;
    const strag = f.straggler.value;
    const base = (k) => (k in baseConfig ? baseConfig[k] : DEFAULT_CONFIG[k]);
    return {
      allreduce: DEFAULT_CONFIG.allreduce,
      compression: null,
      error_feedback: false,
      servers: numOrRaw(f.servers.value),
      ps_mode: mode,
      backup_workers: mode === "backup" ? numOrRaw(f.backup.value) : DEFAULT_CONFIG.backup_workers,
      staleness_bound: mode === "ssp" ? numOrRaw(f.bound.value) : base("staleness_bound"),
      emulated_compute_ms: numOrRaw(f.emulated.value) ?? 0,
      straggler: strag,
      straggler_factor: strag !== "none" ? numOrRaw(f.sfactor.value) : base("straggler_factor"),
      straggler_rank: strag === "one" ? numOrRaw(f.srank.value) : base("straggler_rank"),
      straggler_prob: strag === "random" ? numOrRaw(f.sprob.value) : base("straggler_prob"),
    };
  }

  function writeUrl() {
    const url = new URL(location.href);
    const cfg = readConfig();
    const ps = cfg.strategy === "parameter_server";
    for (const k of URL_FIELDS) {
      let v = cfg[k];
      if (!ps && PS_FIELDS.includes(k)) v = DEFAULT_CONFIG[k];
      if (k === "links") v = linksToUrl(v) || null;
      if (k === "faults") v = faultsToUrl(v) || null;
      if (v === DEFAULT_CONFIG[k] || (v == null && k !== "pace")) url.searchParams.delete(k);
      else url.searchParams.set(k, k === "pace" && v == null ? "full" : String(v));
    }
    if (f.scenario.value) url.searchParams.set("scenario", f.scenario.value);
    else url.searchParams.delete("scenario");
    if (f.baseline.checked) url.searchParams.delete("baseline");
    else url.searchParams.set("baseline", "0");
    history.replaceState(null, "", url);
    renderSummary();
  }

  function readUrl() {
    const q = new URLSearchParams(location.search);
    const cfg = {};
    for (const k of URL_FIELDS) {
      if (!q.has(k)) continue;
      const v = q.get(k);
      if (STRING_FIELDS.includes(k)) cfg[k] = v || null;
      else if (BOOL_FIELDS.includes(k)) cfg[k] = v === "true" || v === "1";
      else if (k === "pace" && v === "full") cfg[k] = null;
      else if (k === "links") cfg[k] = linksFromUrl(v);
      else if (k === "faults") cfg[k] = faultsFromUrl(v);
      else cfg[k] = numOrRaw(v);
    }
    return { cfg, scenario: q.get("scenario"), baseline: q.get("baseline") !== "0" };
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
    scenarios = (Array.isArray(list) ? list : []).filter(Boolean);
    renderScenarioOptions();
  }

  /** Fill the form from a scenario; `overrides` (a lesson's preset) change some of its knobs. */
  function chooseScenario(name, overrides = {}) {
    const s = scenarios.find((x) => x.name === name);
    f.scenario.value = s ? name : "";
    if (s) {
      baseConfig = { ...DEFAULT_CONFIG, ...s.config, ...overrides };
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
  function runLabel(c) {
    let strat =
      c.strategy === "single"
        ? t("strategy.singleShort")
        : c.strategy === "parameter_server"
          ? t("strategy.psShort")
          : t("strategy.dpShort");
    const comp = compressionOf(c);
    if (c.strategy === "parameter_server") {
      strat += ` · ${t("psmode.short." + (c.ps_mode || "sync"))}`;
      if (c.straggler && c.straggler !== "none") strat += ` · ${t("straggler.short." + c.straggler, { k: c.straggler_factor, p: c.straggler_prob })}`;
    } else if (comp) strat += ` · ${compressionText(comp, { feedback: false })}`;
    else if (c.strategy !== "single" && c.allreduce && c.allreduce !== "builtin") strat += ` · ${t("algo." + c.allreduce)}`;
    if (c.network) strat += ` · ${networkName({ name: c.network })}`;
    return strat;
  }

  let compareId = null;
  function renderRuns(runs, activeId, compare = compareId) {
    compareId = compare;
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
        btn.innerHTML = `<span class="run-status-dot" data-status="${run.status}"></span>
          <span class="run-main"></span><span class="run-sub"></span>`;
        btn.querySelector(".run-main").textContent = `${runLabel(c)} · ${c.workers === 1 ? t("runs.worker1") : t("runs.workers", { n: c.workers ?? "?" })} · ${c.dataset ? t("dataset." + c.dataset) : ""}`;
        btn.querySelector(".run-sub").textContent =
          `${t("status." + run.status)} · ${t("runs.steps", { done: run.step ?? 0, total: c.steps ?? "?" })} · ${fmtTime(run.created_at)}`;
        btn.title = run.id;
        btn.addEventListener("click", () => cb.onPickRun?.(run.id));
        li.appendChild(btn);
        if (activeId && run.id !== activeId) {
          const cmp = document.createElement("button");
          cmp.type = "button";
          const on = run.id === compareId;
          cmp.className = "run-compare" + (on ? " on" : "");
          cmp.dataset.testid = "compare-run";
          cmp.setAttribute("data-testid", "compare-run");
          cmp.dataset.runId = run.id;
          cmp.setAttribute("aria-pressed", String(on));
          cmp.textContent = on ? t("runs.compareOn") : t("runs.compare");
          cmp.title = t("runs.compareTitle");
          cmp.addEventListener("click", () => cb.onCompare?.(on ? null : run.id));
          li.classList.add("has-compare");
          li.appendChild(cmp);
        }
        return li;
      }),
    );
  }

  // ---- wiring
  f.scenario.addEventListener("change", () => chooseScenario(f.scenario.value));
  f.allreduce.addEventListener("change", allreduceChanged);
  const formInputs = [
    f.strategy, f.workers, f.steps, f.lr, f.batch, f.dataset, f.seed, f.detail, f.allreduce,
    f.network, f.latency, f.bandwidth, f.compression, f.levels, f.fraction, f.rank, f.ef, f.baseline,
    f.servers, f.psMode, f.backup, f.bound, f.emulated, f.straggler, f.sfactor, f.srank, f.sprob, f.nanPolicy,
    f.checkpointEvery, f.recovery, f.maxRestarts,
  ];
  for (const el of formInputs) {
    el.addEventListener("change", () => {
      syncDisabled();
      writeUrl();
    });
  }
  f.levels.addEventListener("input", renderCompHint);
  f.checkpointEvery.addEventListener("input", () => renderFaultSummary());
  f.addSched.addEventListener("click", () => {
    const last = schedule[schedule.length - 1];
    const steps = Number(f.steps.value) || 20;
    // the next fault a little after the previous one, on a worker of this run
    const servers = f.strategy.value === "parameter_server" ? Number(f.servers.value) || 1 : 0;
    const after = last && Number.isFinite(Number(last.after_step)) ? Number(last.after_step) + 5 : Math.max(1, Math.floor(steps / 4));
    schedule.push(shapeFault({ after_step: Math.min(after, Math.max(1, steps - 1)), rank: servers + (Number(f.workers.value) > 1 ? 1 : 0) }, "kill"));
    renderSchedule();
    renderFaultSummary();
    writeUrl();
  });
  f.addLink.addEventListener("click", () => {
    const last = links[links.length - 1];
    const n = Number(f.workers.value) || 2;
    const src = last ? (Number(last.src) + 1) % n : 0;
    const alpha = Number(f.latency.value);
    const beta = Number(f.bandwidth.value);
    links.push({
      src,
      dst: (src + 1) % n,
      latency_us: f.network.value === "custom" && Number.isFinite(alpha) && f.latency.value !== "" ? alpha : 20,
      bandwidth_gbps: f.network.value === "custom" && beta > 0 ? beta / 10 : 1,
    });
    renderLinks();
    writeUrl();
  });
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
    const config = readConfig();
    cb.onStart?.(config, { baseline: !!config.compression && f.baseline.checked });
  });
  f.pause.addEventListener("click", () => cb.onControl?.(f.pause.dataset.action || "pause"));
  f.step.addEventListener("click", () => cb.onControl?.("step"));
  f.stop.addEventListener("click", () => cb.onControl?.("stop"));
  f.refresh.addEventListener("click", () => cb.onRefreshRuns?.());

  // initial form from URL
  const fromUrl = readUrl();
  f.baseline.checked = fromUrl.baseline;
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
      renderCompHint();
      renderSummary();
      renderPsSummary();
      renderFaultSummary();
      renderLinks();
      renderSchedule();
    },
  };
}
