// views/controls.js — the left panel: run form, scenario presets, run buttons, past runs.
// It knows the DOM of the panel and nothing about events; main.js wires callbacks.
//
// The form is learnt from the server at boot (setSpecs): the strategy select and the
// section of the selected strategy's options from GET /api/strategies (optionsform.js),
// the defaults, ranges and choices of the common settings from GET /api/schema/config.
// The common settings are the hand-written fields of index.html with data-field="<name>"
// (selects with data-choices="<catalog prefix>" get their options from the schema).

import { setAttr, setData, setProp, setText } from "./dom.js";
import { getLang, t } from "../core/i18n.js";
import { networkName } from "./netlabels.js";
import { createOptionsForm, valueOf as optionValue } from "./optionsform.js";
import { createFieldErrors } from "./fielderrors.js";
import { createLinksEditor, createScheduleEditor, shapeFault } from "./formrows.js";
import {
  commonField,
  datasetsFor,
  firstStrategy,
  formDefaults,
  fieldSpec,
  isDistributed,
  mergeConfig,
  optionDefaults,
  sendableOptions,
  strategyList,
  strategySpec,
  textIn,
  whyNot,
} from "../core/specs.js";
import { isLive } from "../core/selectors.js";
import { baselineConfigOf } from "./baseline.js";
import { faultChoices, optionNotes, recoveryBlocks } from "./formrules.js";
import { renderRunList } from "./runlist.js";
import { fitPanelToWindow } from "./panelfit.js";
import { formParams, getParam, numOrRaw, setFormParams } from "../core/urlstate.js";

const $ = (id) => document.getElementById(id);

/** The common settings of the stragglers section (shown for distributed strategies). */
const STRAGGLER_FIELDS = ["emulated_compute_ms", "straggler", "straggler_factor", "straggler_rank", "straggler_prob"];

export function createControls(cb) {
  const form = $("run-form");
  const f = {
    scenario: $("f-scenario"),
    scenarioDesc: $("scenario-desc"),
    strategy: $("f-strategy"),
    strategySummary: $("strategy-summary"),
    workers: $("f-workers"),
    model: $("f-model"),
    optimizer: $("f-optimizer"),
    dataset: $("f-dataset"),
    transformerRow: $("transformer-row"),
    steps: $("f-steps"),
    pace: $("f-pace"),
    fullSpeed: $("f-fullspeed"),
    detail: $("f-detail"),
    detailHint: $("detail-hint"),
    optionHint: $("option-hint"),
    optionNote: $("option-note"),
    section: $("comm-section"),
    sectionSummary: $("comm-summary"),
    network: $("f-network"),
    latency: $("f-latency"),
    bandwidth: $("f-bandwidth"),
    linksEditor: $("links-editor"),
    addLink: $("btn-add-link"),
    baseline: $("f-baseline"),
    baselineRow: $("baseline-row"),
    stragglerSection: $("straggler-section"),
    stragglerSummary: $("straggler-summary"),
    emulated: $("f-emulated"),
    straggler: $("f-straggler"),
    sfactor: $("f-sfactor"),
    sprob: $("f-sprob"),
    faultSection: $("fault-section"),
    faultSummary: $("fault-summary"),
    nanPolicy: $("f-nan-policy"),
    checkpointEvery: $("f-checkpoint-every"),
    recovery: $("f-recovery"),
    maxRestarts: $("f-max-restarts"),
    recoveryNote: $("recovery-note"),
    schedEditor: $("sched-editor"),
    faultHint: $("fault-hint"),
    addSched: $("btn-add-sched"),
    error: $("form-error"),
    start: $("btn-start"),
    pause: $("btn-pause"),
    step: $("btn-step"),
    stop: $("btn-stop"),
    runList: $("run-list"),
    refresh: $("btn-refresh-runs"),
  };
  /** The hand-written common settings: data-field="<name of the config schema>". */
  const fields = [...form.querySelectorAll("[data-field]")];
  let ready = false; // the specs have arrived (until then Start is off)
  let scenarios = [];
  let baseConfig = {}; // what the form does not show comes from here (scenario, loaded run)
  let lastWorkers = null;
  const optionMemory = {}; // options typed for each strategy, kept across a switch

  const writeUrl = () => {
    if (!ready) return;
    setFormParams(readConfig(), { scenario: f.scenario.value || null, baseline: f.baseline.checked });
    renderSummary();
  };
  const changed = () => {
    sync();
    writeUrl();
  };

  const options = createOptionsForm({
    section: $("strategy-options"),
    title: $("strategy-options-title"),
    grid: $("strategy-options-grid"),
    onChange(name) {
      if (name === "allreduce") allreduceChanged();
      changed();
    },
  });
  const links = createLinksEditor({ editor: f.linksEditor, rows: $("links-rows"), onChange: writeUrl });
  const schedule = createScheduleEditor({
    editor: f.schedEditor,
    rows: $("sched-rows"),
    actions: () => faultChoices(spec(), options.read()),
    onChange: () => {
      renderFaultSummary();
      writeUrl();
    },
  });

  const spec = () => strategySpec(f.strategy.value);

  // ---- a refused value, said next to its field (fielderrors.js)

  /** A field of the form by its name (a common setting, a strategy option, or the rows of
   *  "faults" / "links"): its control, where its message goes and its label; null when it
   *  is not on show. */
  function locate(name) {
    if (name === "faults" || name === "links") {
      const box = name === "faults" ? f.schedEditor : f.linksEditor;
      return box.closest("[hidden]") ? null : { input: null, box, label: box.querySelector("span")?.textContent || name };
    }
    const input = form.querySelector(`[data-field="${name}"]`) || options.input(name);
    if (!input || input.disabled || input.closest("[hidden]")) return null;
    const box = input.closest(".field, label") || input.parentElement;
    return { input, box, label: (box.querySelector(":scope > span") || box.querySelector("span"))?.textContent || name };
  }
  const errors = createFieldErrors({
    summary: f.error,
    locate,
    specOf: (name) => fieldSpec(spec(), name),
    valueOf: (el) => (el.dataset.option ? optionValue(options.spec.options.find((o) => o.name === el.dataset.option), el.value, el.checked) : readField(el)),
  });
  let lastSent = null; // the config of the last Start (a 422's rules between fields)

  // ---- the common settings, from the config schema

  /** Ranges of the number inputs and choices of the selects, from the schema. */
  function applySchema() {
    for (const el of fields) {
      const field = commonField(el.dataset.field);
      if (!field) continue;
      if (el.tagName === "SELECT") buildChoices(el, field);
      else if (el.type === "number") {
        if (field.min != null && !field.exclusive_min) el.min = String(field.min);
        if (field.max != null) el.max = String(field.max);
        el.step = field.type === "int" ? "1" : "any";
      }
    }
  }

  /** A select's options: the schema's choices, in the catalog's words where it has them
   *  (data-choices="dataset." → dataset.moons), else the schema's label. */
  function buildChoices(sel, field) {
    const prefix = sel.dataset.choices || "";
    const values = [...(field.nullable ? [""] : []), ...field.choices.map((c) => c.value)];
    sel.replaceChildren(
      ...values.map((v) => {
        const o = document.createElement("option");
        o.value = v;
        const key = prefix + (v || "none");
        if (t(key) !== key) o.dataset.i18n = key;
        else o.dataset.label = JSON.stringify(v ? field.choices.find((c) => c.value === v).label : null);
        return o;
      }),
    );
    localizeChoices(sel);
  }

  function localizeChoices(sel) {
    for (const o of sel.options) {
      if (o.dataset.i18n) o.textContent = t(o.dataset.i18n);
      else o.textContent = o.value ? textIn(JSON.parse(o.dataset.label || "null"), getLang()) || o.value : t("form.none");
    }
  }

  function readField(el) {
    if (el.type === "checkbox") return el.checked;
    const field = commonField(el.dataset.field);
    if (el.tagName === "SELECT") return el.value === "" && field && field.nullable ? null : el.value;
    return numOrRaw(el.value.trim());
  }

  function fillField(el, v) {
    if (el.type === "checkbox") el.checked = !!v;
    else if (el.tagName === "SELECT") {
      el.value = v == null ? "" : String(v);
      if (el.selectedIndex < 0) el.value = String(commonField(el.dataset.field)?.default ?? "");
    } else el.value = v == null ? "" : String(v);
  }

  function renderStrategies() {
    const lang = getLang();
    const current = f.strategy.value;
    f.strategy.replaceChildren(
      ...strategyList().map((s) => {
        const o = document.createElement("option");
        o.value = s.name;
        o.textContent = textIn(s.title, lang);
        return o;
      }),
    );
    if (current) f.strategy.value = current;
    const s = spec();
    f.strategySummary.textContent = s ? textIn(s.summary, lang) : "";
  }

  // ---- keeping the form consistent

  function sync() {
    const s = spec();
    if (!s) return;
    const one = s.workers.min === s.workers.max;
    if (one) {
      if (!f.workers.disabled) lastWorkers = f.workers.value || lastWorkers;
      f.workers.value = String(s.workers.min);
    } else if (f.workers.disabled && lastWorkers) {
      f.workers.value = String(lastWorkers);
    }
    f.workers.disabled = one;
    syncModel(s);
    f.stragglerSection.hidden = !isDistributed(s);
    const strag = f.straggler.value;
    for (const el of f.stragglerSection.querySelectorAll("[data-straggler-for]")) {
      el.hidden = !el.dataset.stragglerFor.split(" ").includes(strag);
    }
    for (const el of f.section.querySelectorAll(".net-custom")) el.hidden = f.network.value !== "custom";
    f.linksEditor.hidden = !f.network.value;
    f.pace.disabled = f.fullSpeed.checked;
    const opts = options.read();
    f.baselineRow.hidden = !baselineConfigOf({ strategy: s.name, options: opts });
    const notes = optionNotes(s.name, opts);
    f.optionHint.hidden = !notes.hint;
    f.optionHint.textContent = notes.hint ? t(...notes.hint) : "";
    f.optionNote.hidden = !notes.note;
    f.optionNote.textContent = notes.note ? t(notes.note) : "";
    const faults = Object.keys(s.faults || {}).length > 0;
    f.schedEditor.hidden = !faults;
    f.faultHint.hidden = !faults;
    renderDetailHint();
    renderStragglerSummary();
    renderFaultSummary();
  }

  /** Offer the models the strategy trains and the data sets the model learns from (the
   *  others disabled; a choice that became impossible moves to the first allowed one). */
  function syncModel(s) {
    const allow = (sel, allowed) => {
      if (!allowed || !allowed.length) return;
      for (const o of sel.options) o.disabled = !allowed.includes(o.value);
      if (!allowed.includes(sel.value)) sel.value = allowed[0];
    };
    allow(f.model, s.models);
    allow(f.optimizer, s.optimizers);
    allow(f.dataset, datasetsFor(f.model.value));
    f.transformerRow.hidden = f.model.value !== "transformer";
    // A split model works on the whole batch together: the label says which batch it is.
    const label = $("batch-label");
    label.dataset.i18n = s.batch_per_worker === false ? "form.batchWhole" : "form.batch";
    label.textContent = t(label.dataset.i18n);
    // A strategy that trains nothing (MapReduce) has no use for the training settings;
    // its step may be something else (a job), which the steps label then says.
    const trains = s.trains !== false;
    for (const el of [$("f-lr"), $("f-batch"), f.optimizer, f.model, f.dataset]) el.closest(".field").hidden = !trains;
    if (!trains) f.transformerRow.hidden = true;
    const steps = $("steps-label");
    if (s.step_label) {
      steps.dataset.i18n = "";
      steps.textContent = textIn(s.step_label, getLang());
    } else if (!steps.dataset.i18n) {
      steps.dataset.i18n = "form.steps";
      steps.textContent = t("form.steps");
    }
  }

  /** The selected strategy's options section, with these values. */
  function showStrategy(values) {
    const s = spec();
    options.build(s, values);
    f.strategySummary.textContent = textIn(s.summary, getLang());
    schedule.render(); // its actions are the strategy's
  }

  function strategyChanged() {
    const prev = options.spec;
    if (prev) optionMemory[prev.name] = options.read();
    const name = f.strategy.value;
    showStrategy(optionMemory[name] || (baseConfig.strategy === name ? baseConfig.options : optionDefaults(name)));
  }

  function renderStragglerSummary() {
    const bits = [];
    const ms = Number(f.emulated.value);
    if (ms > 0) bits.push(t("form.emulatedShort", { ms }));
    if (f.straggler.value !== "none") bits.push(t("straggler.short." + f.straggler.value, { k: f.sfactor.value, p: f.sprob.value }));
    f.stragglerSummary.textContent = bits.join(" · ");
  }

  /** Each recovery policy is offered only where the engine accepts it: the others are
   *  disabled (their title says why), a chosen one that became invalid falls back to
   *  "fail the run", and a note lists why the disabled ones are unavailable. */
  function syncRecovery() {
    const s = spec();
    if (!s) return;
    const blocks = recoveryBlocks({
      spec: s,
      options: options.read(),
      workers: f.workers.value,
      checkpointEvery: f.checkpointEvery.value.trim(),
      choices: [...f.recovery.options].map((o) => o.value),
    });
    const why = [];
    const unsupported = []; // said once: "X does not support: a, b"
    for (const opt of f.recovery.options) {
      const reason = blocks[opt.value];
      opt.disabled = !!reason;
      opt.title = reason || "";
      if (whyNot(s, "recovery", opt.value, {})?.unsupported) unsupported.push(t("recovery.short." + opt.value));
      else if (reason) why.push(reason);
    }
    if (unsupported.length) why.unshift(t("form.notWithList", { strategy: textIn(s.title, getLang()), list: unsupported.join(t("list.comma")) }));
    if (blocks[f.recovery.value]) f.recovery.value = commonField("recovery")?.default ?? "none";
    f.recoveryNote.hidden = !why.length;
    f.recoveryNote.textContent = why.length ? t("elastic.why", { list: why.join(t("list.semicolon")) }) : "";
    f.maxRestarts.disabled = f.recovery.value !== "restart";
    f.checkpointEvery.placeholder = t("form.never");
  }

  function renderFaultSummary() {
    syncRecovery();
    const parts = [];
    if (f.nanPolicy.value === "spread") parts.push(t("nan.spread"));
    const k = f.checkpointEvery.value.trim();
    if (k) parts.push(t("recovery.summaryK", { k }));
    if (f.recovery.value && f.recovery.value !== "none") parts.push(t("recovery.short." + f.recovery.value));
    if (schedule.length) parts.push(t("elastic.sched.summary", { n: schedule.length }));
    f.faultSummary.textContent = parts.join(" · ");
  }

  /** The closed network section says what is set inside it. */
  function renderSummary() {
    f.sectionSummary.textContent = f.network.value ? networkName({ name: f.network.value }) : "";
  }

  // A hand-written all-reduce is worth watching message by message: choosing one ticks
  // Detail (the student may untick it) and says why.
  let detailSuggested = false;
  function renderDetailHint() {
    const algo = options.read().allreduce;
    const handWritten = !!algo && algo !== "builtin";
    let key = "";
    if (handWritten && f.detail.checked && detailSuggested) key = "form.detailHint";
    else if (handWritten && !f.detail.checked) key = "form.detailOffHint";
    f.detailHint.dataset.i18n = key;
    f.detailHint.textContent = key ? t(key) : "";
    f.detailHint.hidden = !key;
  }
  function allreduceChanged() {
    const algo = options.read().allreduce;
    const handWritten = !!algo && algo !== "builtin";
    if (handWritten && !f.detail.checked) {
      f.detail.checked = true;
      detailSuggested = true;
    }
    if (!handWritten) detailSuggested = false;
  }

  // ---- the config, both ways

  function fillForm(cfg) {
    if (!ready) return;
    errors.clearAll();
    const c = mergeConfig(formDefaults(cfg.strategy || firstStrategy()), cfg);
    if (!strategySpec(c.strategy)) c.strategy = firstStrategy();
    baseConfig = c;
    f.strategy.value = c.strategy;
    for (const el of fields) fillField(el, c[el.dataset.field]);
    if (spec().workers.max > 1) lastWorkers = c.workers;
    f.fullSpeed.checked = c.pace == null;
    f.pace.value = String(c.pace ?? formDefaults().pace);
    links.set(c.links);
    schedule.set(c.faults);
    for (const k of Object.keys(optionMemory)) delete optionMemory[k]; // a new start
    showStrategy(c.options);
    const dflt = formDefaults(c.strategy);
    const differs = (k) => JSON.stringify(c[k]) !== JSON.stringify(dflt[k]);
    if (["faults", "nan_policy", "checkpoint_every", "recovery"].some(differs)) f.faultSection.open = true;
    if (["emulated_compute_ms", "straggler"].some(differs)) f.stragglerSection.open = true;
    if (c.network || c.node_size != null || (c.launcher || "local") !== "local") f.section.open = true;
    sync();
    writeUrl(); // a copied link carries the shown run's settings too
  }

  function readConfig() {
    const s = spec();
    const base = mergeConfig(baseConfig, { strategy: s.name });
    const cfg = { ...base };
    for (const el of fields) cfg[el.dataset.field] = readField(el);
    if (s.workers.min === s.workers.max) cfg.workers = s.workers.min;
    cfg.pace = f.fullSpeed.checked ? null : numOrRaw(f.pace.value);
    cfg.network = f.network.value || null;
    const custom = cfg.network === "custom";
    cfg.latency_us = custom ? numOrRaw(f.latency.value) : null;
    cfg.bandwidth_gbps = custom ? numOrRaw(f.bandwidth.value) : null;
    cfg.links = cfg.network ? links.get() : [];
    // Stragglers: the knobs the chosen profile does not use keep the base's values; one
    // process has no section for them, so none of them applies.
    const keep = (k) => (cfg[k] = base[k]);
    if (!isDistributed(s)) {
      const dflt = formDefaults(s.name);
      for (const k of STRAGGLER_FIELDS) cfg[k] = dflt[k];
    } else {
      if (cfg.straggler === "none") keep("straggler_factor");
      if (cfg.straggler !== "one") keep("straggler_rank");
      if (cfg.straggler !== "random") keep("straggler_prob");
      if (cfg.emulated_compute_ms == null) cfg.emulated_compute_ms = 0;
    }
    if (cfg.recovery !== "restart") keep("max_restarts");
    cfg.faults = Object.keys(s.faults || {}).length ? schedule.get() : [];
    cfg.options = sendableOptions(s, options.read());
    return cfg;
  }

  // ---- scenarios

  function renderScenarioOptions() {
    const lang = getLang();
    const current = f.scenario.value;
    const opts = [`<option value="">${t("form.scenarioCustom")}</option>`];
    for (const s of scenarios) {
      const o = document.createElement("option");
      o.value = s.name;
      o.textContent = (s.title && (s.title[lang] || s.title.en)) || s.name;
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

  /** Fill the form from a scenario; `overrides` (a lesson's preset) change some of its
   *  knobs (their options add to the scenario's). */
  function chooseScenario(name, overrides = {}) {
    const s = scenarios.find((x) => x.name === name);
    f.scenario.value = s ? name : "";
    if (s) fillForm(mergeConfig(s.config, overrides));
    renderScenarioDesc();
    writeUrl();
  }

  // ---- errors and buttons

  /** The form's note above the run buttons; a refused run (`response` a 422) puts its
   *  errors next to their fields, and the note names them. */
  function showError(msg, response) {
    if (response && response.status === 422) return errors.fromApi(response.data, lastSent || readConfig(), msg);
    errors.clearAll();
    f.error.textContent = msg || "";
    f.error.hidden = !msg;
  }

  function setRunStatus(status, hasRun) {
    const live = hasRun && isLive(status);
    // (called on every render: each write only where it changes something, views/dom.js)
    setProp(f.pause, "disabled", !live || status === "starting");
    setData(f.pause, "action", status === "paused" ? "resume" : "pause");
    setText(f.pause, status === "paused" ? t("btn.resume") : t("btn.pause"));
    setAttr(f.pause, "data-i18n", status === "paused" ? "btn.resume" : "btn.pause");
    setProp(f.step, "disabled", !(live && status === "paused"));
    setProp(f.stop, "disabled", !live);
  }

  // ---- run list (runlist.js draws it)

  let compareId = null;
  function renderRuns(runs, activeId, compare = compareId) {
    compareId = compare;
    renderRunList(f.runList, runs, activeId, compareId, cb);
  }

  // ---- wiring

  f.scenario.addEventListener("change", () => chooseScenario(f.scenario.value));
  f.strategy.addEventListener("change", () => {
    strategyChanged();
    changed();
  });
  for (const el of [...fields, f.baseline]) {
    if (el !== f.pace) el.addEventListener("change", changed);
  }
  f.checkpointEvery.addEventListener("input", () => renderFaultSummary());
  f.addSched.addEventListener("click", () => {
    const last = schedule.last();
    const steps = Number(f.steps.value) || 20;
    // the next fault a little after the previous one, on a worker of this run; server
    // processes come first where a strategy has them (parameter server: ranks 0..S-1)
    const servers = Number(options.read().servers) || 0;
    const after = last && Number.isFinite(Number(last.after_step)) ? Number(last.after_step) + 5 : Math.max(1, Math.floor(steps / 4));
    const first = faultChoices(spec(), options.read()).find((a) => !a.why);
    const rank = servers + (Number(f.workers.value) > 1 ? 1 : 0);
    schedule.add(shapeFault({ after_step: Math.min(after, Math.max(1, steps - 1)), rank }, first ? first.name : "kill"));
  });
  f.addLink.addEventListener("click", () => {
    const last = links.last();
    const n = Number(f.workers.value) || 2;
    const src = last ? (Number(last.src) + 1) % n : 0;
    const alpha = Number(f.latency.value);
    const beta = Number(f.bandwidth.value);
    links.add({
      src,
      dst: (src + 1) % n,
      latency_us: f.network.value === "custom" && Number.isFinite(alpha) && f.latency.value !== "" ? alpha : 20,
      bandwidth_gbps: f.network.value === "custom" && beta > 0 ? beta / 10 : 1,
    });
  });
  const paceChanged = () => {
    changed();
    const pace = f.fullSpeed.checked ? null : Number(f.pace.value);
    if (pace === null || (Number.isFinite(pace) && pace > 0)) cb.onPaceChange?.(pace);
  };
  f.pace.addEventListener("change", paceChanged);
  f.fullSpeed.addEventListener("change", paceChanged);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!ready) return;
    // every value on show against the schema: a refused one is said at its field
    const names = [...fields.map((el) => el.dataset.field), ...(options.spec ? options.spec.options.map((o) => o.name) : [])];
    if (!errors.check(names)) return;
    const config = readConfig();
    lastSent = config;
    cb.onStart?.(config, { baseline: !!baselineConfigOf(config) && f.baseline.checked });
  });
  f.pause.addEventListener("click", () => cb.onControl?.(f.pause.dataset.action || "pause"));
  f.step.addEventListener("click", () => cb.onControl?.("step"));
  f.stop.addEventListener("click", () => cb.onControl?.("stop"));
  f.refresh.addEventListener("click", () => cb.onRefreshRuns?.());
  f.start.disabled = true; // until the specs say what a run can be
  fitPanelToWindow(form.closest("aside"), [document.querySelector(".app-header"), $("lesson-band"), $("room-banner")]);

  return {
    readConfig,
    fillForm,
    /** The specs have arrived (specs.js): build the form and fill it from the URL. */
    setSpecs() {
      ready = true;
      applySchema();
      renderStrategies();
      f.baseline.checked = getParam("baseline");
      fillForm(formParams());
      f.start.disabled = false;
    },
    setScenarios(list) {
      scenarios = (Array.isArray(list) ? list : []).filter(Boolean);
      renderScenarioOptions();
      const pending = getParam("scenario");
      const s = pending && scenarios.find((x) => x.name === pending);
      if (s && ready) {
        f.scenario.value = pending;
        // the URL's settings stand; the scenario supplies what the form does not show
        baseConfig = mergeConfig(mergeConfig(formDefaults(s.config.strategy), s.config), readConfig());
        renderScenarioDesc();
      }
    },
    chooseScenario,
    showError,
    setRunStatus,
    renderRuns,
    relocalize() {
      renderScenarioOptions();
      if (!ready) return;
      renderStrategies();
      for (const el of fields) if (el.tagName === "SELECT") localizeChoices(el);
      options.relocalize();
      links.render();
      schedule.render();
      sync();
      renderSummary();
      errors.relocalize();
    },
  };
}
