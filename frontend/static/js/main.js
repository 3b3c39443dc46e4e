// main.js — wires the modules together. Data flow:
//   WebSocket batches → Player.ingest → reducer state → render(view state) → views
// Views never parse raw messages; they only read reducer state through selectors.

import * as api from "./core/api.js";
import { createAlphaBeta } from "./strategies/data_parallel/alphabeta.js";
import { createBoundary } from "./views/boundary.js";
import { createLossChart } from "./views/charts.js";
import { createCompressionPanel } from "./strategies/data_parallel/compressionview.js";
import { baselineConfig, createControls } from "./views/controls.js";
import { applyI18n, fmtBytes, fmtMs, fmtNum, getLang, initLang, onLangChange, setLang, t } from "./core/i18n.js";
import { compressionText, networkName } from "./views/netlabels.js";
import { Player } from "./core/player.js";
import { createLinkBytes } from "./strategies/data_parallel/linkbytes.js";
import { stepMessages } from "./core/comm.js";
import { hasFaults } from "./core/faults.js";
import { applyEvent, initialState } from "./core/reducer.js";
import {
  completeStep,
  isLive,
  lossSeries,
  optionsOf,
  runNetwork,
  stepSummary,
  TERMINAL_STATUSES,
} from "./core/selectors.js";
import { compressionAt, compressionOf } from "./strategies/data_parallel/compression.js";
import { commRounds, runAlgo } from "./strategies/data_parallel/slice.js";
import { isPs, psConfig } from "./strategies/parameter_server/slice.js";
import { createTimeline } from "./views/timeline.js";
import { createTopology } from "./strategies/data_parallel/topology.js";
import { createPsTopology } from "./strategies/parameter_server/pstopology.js";
import { createPsPanel } from "./strategies/parameter_server/psview.js";
import { createFaultLog, faultNarration, fmtDetection, translateCause } from "./views/faultlog.js";
import { createFaultMenu } from "./views/faultmenu.js";
import { createTailPanel } from "./views/tailview.js";
import { createRoom } from "./views/room.js";
import { flashNote } from "./views/note.js";
import { syncArticle } from "./views/article.js";
import { createCompareView } from "./views/compare.js";
import { createLessons } from "./views/lessons.js";
import { stragglerOf } from "./views/narration.js";
import { createPresenter } from "./views/presenter.js";
import { mergeRunStatus } from "./views/runlist.js";
import { loadSpecs } from "./core/specs.js";
import { getParam, setParams } from "./core/urlstate.js";
import { registerStrategies } from "./strategies/index.js";

const $ = (id) => document.getElementById(id);

const app = {
  runId: null,
  apiStatus: null, // status from GET /api/runs/{id}, for runs that never send run_finished
  conn: null,
  loadGen: 0,
  runs: [],
  connState: "closed",
  // The uncompressed run started beside a compressed one (same seed): its mean loss is
  // drawn under the compressed run's curves.
  baseline: { id: null, conn: null, state: null, gen: 0, label: null },
  // A run compared with the loaded one ("sync vs async on the same seed"): drawn in the
  // baseline's place, labelled with its own settings.
  compareId: null,
};
const BASELINES_KEY = "distlab.baselines"; // localStorage: {compressedRunId: baselineRunId}

registerStrategies(); // their reducer slices and hooks, before any event or word
initLang();
applyI18n(document);

const topology = createTopology($("topology"), $("replicas-badge"), {
  phaseEl: $("topo-phase"),
  captionEl: $("topo-caption"),
  legendEl: $("topo-legend"),
});
const psTopo = createPsTopology($("topology"));
const psPanel = createPsPanel(
  { card: $("ps-panel"), plotDiv: $("staleness-histogram"), meanEl: $("ps-mean"), captionEl: $("ps-caption") },
  (on) => {
    document.querySelector(".stage").classList.toggle("has-ps", on);
    requestAnimationFrame(() => psPanel.resize());
  },
);
const linkBytes = createLinkBytes($("link-bytes"), $("bytes-formula"), $("bytes-table"), $("bytes-note"), (on) => {
  document.querySelector(".stage").classList.toggle("has-bytes", on);
});
const chart = createLossChart($("loss-chart"), $("chart-legend"));
const timeline = createTimeline($("timeline"), $("timeline-axis"), ({ modelled }) => {
  const b = document.querySelector('#timeline-modes [data-mode="modelled"]');
  b.disabled = !modelled;
  b.dataset.i18nTitle = modelled ? "timeline.modelledTitle" : "timeline.modelledOff";
  b.title = t(b.dataset.i18nTitle);
  if (!modelled && b.classList.contains("active")) setTimelineMode("wall");
});
const alphaBeta = createAlphaBeta($("alphabeta-card"), $("alpha-beta-chart"), $("ab-params"), $("ab-caption"), syncExtras);
const compPanel = createCompressionPanel(
  {
    card: $("compression-panel"),
    title: $("comp-title"),
    stats: $("comp-stats"),
    bytesDiv: $("bytes-chart"),
    errorDiv: $("error-chart"),
    residualDiv: $("residual-chart"),
    residualFig: $("residual-fig"),
    caption: $("comp-caption"),
  },
  syncExtras,
);

/** The extra panels below the page live only when the run needs them; the player bar
 *  links to them. */
function syncExtras() {
  const comp = !$("compression-panel").hidden;
  const ab = !$("alphabeta-card").hidden;
  const tail = !$("tail-card").hidden;
  $("extras").hidden = !comp && !ab && !tail;
  $("jump-compression").hidden = !comp;
  $("jump-alphabeta").hidden = !ab;
  $("jump-tail").hidden = !tail;
  $("jump-links").hidden = !comp && !ab && !tail;
}
const tailPanel = createTailPanel({ card: $("tail-card"), plotDiv: $("tail-latency"), statsEl: $("tail-stats") }, (on) => {
  syncExtras();
  if (on) requestAnimationFrame(() => tailPanel.resize());
});
const faultLog = createFaultLog($("fault-log"), (on) => {
  $("topology").closest(".card").classList.toggle("has-faults", on);
  $("timeline").closest(".card").classList.toggle("has-faults", on);
});
const faultMenu = createFaultMenu({
  svg: $("topology"),
  menu: $("fault-menu"),
  canInject: () => !!app.runId && isLive(currentStatus()) && currentStatus() !== "starting" && api.hasControl(app.runId),
  workerInfo: (rank) => {
    const w = player.liveState.workers[rank];
    return { pid: w && w.pid != null ? w.pid : null };
  },
  getState: () => player.liveState,
  onInject: async (rank, action, extra) => {
    if (!app.runId) return { ok: false, message: t("fault.notLive") };
    const r = await api.controlRun(app.runId, action, extra);
    if (r.ok) return { ok: true };
    // the server says why (e.g. "rank 2 is running: only a rank that has left the group can rejoin")
    return { ok: false, message: failMessage(r) || t("fault.notLive") };
  },
});
const boundary = createBoundary($("boundary"), $("boundary-note"), $("boundary-legend"));

const player = new Player({ render, animate });

const controls = createControls({
  onStart: startRun,
  onControl: (action) => sendControl(action),
  onPaceChange: (pace) => {
    if (app.runId && isLive(currentStatus()) && api.hasControl(app.runId)) sendControl("set_pace", { pace });
  },
  onPickRun: (id) => loadRun(id),
  onCompare: (id) => compareWith(id),
  onRefreshRuns: refreshRuns,
});

// Classroom rooms (room.js): an instructor's runs are followed live by the students in
// the room; a student may fork the run into a sandbox of their own.
const room = createRoom({
  toggle: $("room-toggle"),
  pop: $("room-pop"),
  banner: $("room-banner"),
  loadRun: (id, runObj) => loadRun(id, runObj),
  currentRun: () => app.runId,
  forkRun: (id) => api.forkRun(id),
  onChange: () => {
    refreshRuns();
    player.requestRender();
  },
  lessonPanel: $("lesson-panel"),
  openLesson: (id) => lessons.open(id),
});

// Two runs side by side (compare.js): ?compare=A,B, or "Side by side" above the run list
// (the loaded run and the one compared with it, else the newest other run).
const compareView = createCompareView({
  el: $("compare-view"),
  onOpen: (on) => {
    document.body.classList.toggle("comparing", on);
    if (!on) requestAnimationFrame(() => player.requestRender());
  },
});
$("btn-compare-view").addEventListener("click", () => {
  const a = app.runId || app.runs[0]?.id;
  const b = app.compareId || app.runs.find((r) => r.id !== a)?.id;
  if (!a || !b) return controls.showError(t("compare.needTwo"));
  compareView.open(a, b);
});

/** Runs this page did not start (the instructor's, a classmate's) are watched, not
 *  controlled: without the run's token the server refuses (403). */
function lockControls() {
  const mine = !app.runId || api.hasControl(app.runId);
  document.body.dataset.control = mine ? "yes" : "no";
  if (!mine) for (const id of ["btn-pause", "btn-step", "btn-stop"]) $(id).disabled = true;
}

// Lessons (lessons.js): a chapter of the course, its predict question and its preset run.
const lessons = createLessons({
  select: $("lesson-select"),
  panel: $("lesson-panel"),
  hooks: {
    fillPreset: (p) => controls.chooseScenario(p.scenario, p.overrides),
    start: async (config, opts) => {
      const before = app.runId;
      await startRun(config, opts);
      return app.runId !== before ? app.runId : null;
    },
    compareWith: (id) => compareWith(id),
    current: () => ({
      runId: app.runId,
      status: currentStatus(),
      state: player.liveState,
      config: player.liveState.config || app.runs.find((r) => r.id === app.runId)?.config || null,
    }),
    showError: (msg) => controls.showError(msg),
  },
});

// ------------------------------------------------------------------ rendering

function currentStatus() {
  if (!app.runId) return "none";
  const s = player.liveState;
  if (!s.finished && app.apiStatus && TERMINAL_STATUSES.includes(app.apiStatus)) return app.apiStatus;
  return s.status;
}

function render(state, info) {
  const ps = isPs(state);
  if (ps) {
    topology.hide();
    psTopo.render(state);
  } else {
    psTopo.hide();
    topology.render(state);
  }
  renderPsChrome(ps);
  syncArticle(state);
  faultLog.render(state);
  faultMenu.sync(isLive(currentStatus()));
  psPanel.render(state);
  linkBytes.render(state);
  chart.render(state);
  timeline.render(state);
  boundary.render(state);
  compPanel.render(state);
  alphaBeta.render(state);
  tailPanel.render(state);
  renderNarration(state, info);
  renderPlayerBar(info);
  renderHeader();
  lessons.sync();
  presenter.onRender(state, info);
}

let psChrome = null;
function renderPsChrome(ps) {
  if (ps === psChrome) return;
  psChrome = ps;
  const topoCard = $("topology").closest(".card");
  topoCard.classList.toggle("ps", ps);
  $("timeline").closest(".card").classList.toggle("ps", ps);
  $("chart-x").hidden = !ps;
  const cap = $("chart-caption");
  cap.dataset.i18n = ps ? "chart.captionPs" : "chart.caption";
  cap.textContent = t(cap.dataset.i18n);
  if (ps) {
    const c = $("topo-caption");
    c.dataset.i18n = "topo.captionPs";
    c.textContent = t("topo.captionPs");
  }
  if (!ps) setChartX("step");
}

function setChartX(x) {
  for (const o of document.querySelectorAll("#chart-x .toggle")) {
    o.classList.toggle("active", o.dataset.x === x);
    o.setAttribute("aria-pressed", String(o.dataset.x === x));
  }
  $("loss-chart").dataset.x = x;
  chart.setXMode(x);
}

function renderHeader() {
  const status = currentStatus();
  const pill = document.querySelector('[data-testid="run-status"]');
  pill.dataset.status = status;
  // one word, in the page's language (data-status stays the raw status)
  pill.textContent = status === "none" ? "—" : getLang() === "en" ? status : t("status." + status);
  pill.title = status === "none" ? "" : status;
  const local = $("status-local");
  local.textContent = "";
  local.hidden = true;
  $("conn-note").hidden = app.connState !== "reconnecting";
  controls.setRunStatus(status, !!app.runId);
  lockControls();
  document.body.dataset.runStatus = status;
  // keep the active entry of the run list current without polling the server
  const mine = app.runs.find((r) => r.id === app.runId);
  if (mine && status !== "none") {
    const step = player.liveState.lastStep;
    if (mine.status !== status || Math.floor(step / 10) !== Math.floor((mine.step || 0) / 10)) {
      mine.status = status;
      mine.step = step;
      controls.renderRuns(app.runs, app.runId, app.compareId);
    }
  }
}

function narrationFor(state, info) {
  if (!app.runId) return t("narr.idle");
  const live = player.liveState;
  const atEnd = info.mode === "live" || info.cursor >= live.lastStep;
  if (atEnd && live.finished) {
    const sm = live.summary || {};
    if (live.status === "failed") {
      const failed = [...live.faultLog].reverse().find((e) => e.kind === "failed");
      const d = failed ? fmtDetection(failed.detectionMs) : null;
      const error = translateCause(live.errorCause || live.error || "?");
      return d ? t("narr.failedDetected", { error, d }) : t("narr.failed", { error });
    }
    if (live.status === "stopped") return t("narr.stopped", { steps: sm.steps_completed ?? live.lastStep });
    return t("narr.finished", {
      steps: sm.steps_completed ?? live.lastStep,
      wall: fmtNum(sm.wall_s, 3),
      sps: fmtNum(sm.steps_per_s, 3),
      loss: fmtNum(sm.final_loss, 4),
    });
  }
  if (atEnd && currentStatus() === "interrupted") return t("narr.interrupted");
  const step = info.mode === "live" ? completeStep(state) || state.lastStep : info.cursor;
  if (!step) return t("narr.starting", { n: state.worldSize || state.config?.workers || "?" });
  const s = stepSummary(state, step);
  const algo = runAlgo(state);
  const comp = compressionOf(state.config);
  let line;
  if (isPs(state)) {
    line = psNarration(state, s);
  } else if (comp && s.ranks.length > 1) {
    line = compressionNarration(state, s, comp);
  } else if (state.strategy === "single" || s.ranks.length <= 1) {
    line = t("narr.single", { step, loss: fmtNum(s.meanLoss, 4), ms: fmtMs(s.computeMs) });
  } else if (algo && algo !== "builtin") {
    line = algoNarration(state, s, algo);
  } else {
    line = t("narr.dp", {
      step,
      n: s.ranks.length,
      bytes: fmtBytes(s.bytesSent),
      ms: msText(state, s),
      replicas: s.identical === null ? t("narr.pending") : s.identical ? t("narr.identical") : t("narr.differ"),
    });
  }
  // A straggler is the news of a synchronous step: who, how much slower, how long the rest waited.
  const slow = !isPs(state) && stragglerOf(state, step);
  if (slow) {
    const k = slow.factor == null ? "?" : fmtNum(slow.factor, 2);
    const key = slow.others === 1 ? "pres.narrStraggler1" : "pres.narrStraggler";
    line = t(key, { step, rank: slow.rank, k, n: slow.others, ms: fmtMs(slow.waitMs) });
  }
  if (info.mode === "live" && live.status === "paused") {
    // the Step/Resume prompt is for the page that controls the run
    if (app.runId && !api.hasControl(app.runId)) return t(room.state.role === "student" ? "narr.pausedByInstructor" : "narr.pausedByOwner", { step });
    return t("narr.paused", { step });
  }
  const cp = (state.checkpoints || []).find((c) => c.step === step);
  if (cp) line += t("narr.checkpoint", { step, bytes: fmtBytes(cp.bytes), ms: fmtNum(cp.durationMs, 3) });
  return faultNarration(state, step) || line;
}


/** One line about the newest thing the parameter server did, as of the shown state. */
function psNarration(state, s) {
  const cfg = psConfig(state);
  const ps = state.ps;
  const lossBad = state.nonFinite > 0;
  const mode = t("psmode.short." + cfg.mode);
  const u = ps && ps.lastUpdate;
  const d = ps && ps.lastDropped;
  let line;
  if (d && (!u || d.seq > u.seq)) {
    line = t("narr.psDropped", { mode, rank: d.worker, read: d.read_version, v: d.version });
  } else if (u && u.applied && u.applied.length) {
    if (cfg.mode === "sync" || cfg.mode === "backup") {
      // The slowest worker of this version: how long the others waited for it.
      const waited = s.records.filter((r) => r && r.wait_ms > 0);
      const waitMs = waited.reduce((m, r) => Math.max(m, r.wait_ms), 0);
      const slow = s.records.find((r) => r && r.slowed);
      line = t("narr.psSync", { mode, v: u.version, n: u.applied.length, of: cfg.workers ?? "?" });
      if (waitMs > 0) line += t("narr.psWaited", { ms: fmtMs(waitMs) });
      if (slow) line += t("narr.psStraggler", { rank: slow.rank, k: fmtNum(cfg.factor, 2) });
    } else {
      const a = u.applied[u.applied.length - 1];
      line = t("narr.psApplied", { v: u.version, rank: a.worker, read: a.read_version, s: a.staleness });
      if (cfg.mode === "ssp") {
        const blocked = s.records.filter((r) => r && r.blocked_ms > 0);
        if (blocked.length) line += t("narr.psBlocked", { ranks: blocked.map((r) => r.rank).join(", "), s: cfg.bound });
      }
    }
  } else {
    line = t("narr.psStep", { step: s.step, mode });
  }
  if (lossBad) line += t("narr.psDiverged");
  else if (s.meanLoss != null) line += t("narr.psLoss", { loss: fmtNum(s.meanLoss, 4) });
  return line;
}

/** "3.2 ms", or "3.2 ms (modelled 10 GbE: 0.05 ms)" when the run has a network model. */
function msText(state, s) {
  const net = runNetwork(state);
  const modelled = modelledMs(s);
  if (!net || modelled == null) return fmtMs(s.commMs);
  return fmtMs(s.commMs) + t("narr.modelledMs", { net: networkName(net), ms: fmtMs(modelled) });
}

/** The step's modelled communication time: its slowest rank's comm_modelled_ms. */
function modelledMs(s) {
  const xs = s.records.filter((r) => r && Number.isFinite(r.comm_modelled_ms)).map((r) => r.comm_modelled_ms);
  return xs.length ? Math.max(...xs) : null;
}

/** "step 12: QSGD (4-bit) — each rank sent 1.8 KB instead of 7.3 KB (4.0× less), error 1.9" */
function compressionNarration(state, s, comp) {
  const a = compressionAt(state, s.step);
  if (!a || a.sent == null) return t("narr.pendingStep", { step: s.step });
  const net = runNetwork(state);
  const modelled = modelledMs(s);
  let line = t(a.wireRatio ? "narr.compressed" : "narr.compressedNoRef", {
    step: s.step,
    method: compressionText(comp, { feedback: false }),
    sent: fmtBytes(a.sent),
    ref: fmtBytes(a.reference),
    x: fmtNum(a.wireRatio, 2),
    error: fmtNum(a.error, 2),
  });
  if (net && modelled != null) line += t("narr.modelledMs", { net: networkName(net), ms: fmtMs(modelled) });
  if (s.identical === false) line += `; ${t("narr.differ")}`;
  return line;
}

/** "step 12: ring all-reduce — 6 messages per rank, …" from the step's messages (detail),
 *  or from the per-rank counters of the step events without detail. */
function algoNarration(state, s, algo) {
  const replicas = s.identical === null ? t("narr.pending") : s.identical ? t("narr.identical") : t("narr.differ");
  const msgs = stepMessages(state, s.step);
  const ms = msText(state, s);
  if (msgs.length && s.complete) {
    const from = (r) => msgs.filter((m) => m.src === r);
    const bytesFrom = (r) => from(r).reduce((a, m) => a + m.bytes, 0);
    const bytesTo = (r) => msgs.filter((m) => m.dst === r).reduce((a, m) => a + m.bytes, 0);
    if (algo === "ring") {
      return t("narr.ring", { step: s.step, msgs: from(s.ranks[0]).length, bytes: fmtBytes(bytesFrom(s.ranks[0])), ms, replicas });
    }
    if (algo === "tree") {
      const rounds = commRounds(msgs, algo, s.ranks.length).length;
      return t("narr.tree", { step: s.step, msgs: msgs.length, rounds, root: fmtBytes(bytesFrom(0)), ms, replicas });
    }
    if (algo === "naive") {
      return t("narr.naive", { step: s.step, msgs: msgs.length, root: fmtBytes(Math.max(bytesFrom(0), bytesTo(0))), ms, replicas });
    }
  }
  return t("narr.algo", { step: s.step, algo: t("topo.algoShort." + algo), n: s.ranks.length, bytes: fmtBytes(s.bytesSent), ms, replicas });
}

function renderNarration(state, info) {
  const el = $("narration");
  el.textContent = narrationFor(state, info);
  el.title = el.textContent; // the whole line when it is cut off
  const s = info.cursor ? stepSummary(state, info.cursor) : null;
  el.dataset.state = s && s.identical === false ? "differ" : "";
}

function renderPlayerBar(info) {
  const scrub = $("scrubber");
  const last = info.lastStep;
  scrub.disabled = last < 1;
  scrub.max = String(Math.max(1, last));
  if (document.activeElement !== scrub || info.playing) scrub.value = String(Math.max(1, info.cursor || last || 1));
  $("scrub-label").textContent = last ? `${t("player.stepOf", { step: info.cursor || last, last })} · ${t(
    info.playing ? "player.modeReplay" : info.mode === "live" ? "player.modeLive" : "player.modeScrub",
  )}` : "";
  const replay = $("btn-replay");
  replay.disabled = last < 1;
  replay.dataset.i18n = info.playing ? "player.pauseReplay" : "player.replay";
  replay.textContent = t(replay.dataset.i18n);
  $("btn-live").disabled = info.mode === "live";
  $("btn-live").classList.toggle("on", info.mode === "live" && !player.liveState.finished && !!app.runId);
}

function animate({ step, state }) {
  if (state.strategy !== "data_parallel" || isPs(state)) return;
  const s = stepSummary(state, step);
  topology.animate({ step, state, commMs: s.commMs });
}

// ------------------------------------------------------------------ runs

async function refreshRuns() {
  const r = await api.listRuns();
  if (!r.ok || !Array.isArray(r.data)) return;
  app.runs = r.data;
  const mine = app.runs.find((x) => x.id === app.runId);
  if (mine) app.apiStatus = mine.status;
  // a list fetched as the run ended may still say "running": the run's events know better
  if (app.runId && player.liveState.finished) {
    app.runs = mergeRunStatus(app.runs, app.runId, player.liveState.status, player.liveState.lastStep).runs;
  }
  controls.renderRuns(app.runs, app.runId, app.compareId);
}

const setUrlRun = (id) => setParams({ run: id || null });

async function loadRun(id, runObj, baselineId) {
  const gen = ++app.loadGen;
  app.conn?.close();
  app.conn = null;
  app.runId = id;
  app.compareId = null;
  room.noteRun(id);
  followBaseline(baselineId === undefined ? storedBaselines()[id] || null : baselineId);
  app.apiStatus = runObj ? runObj.status : null;
  topology.reset();
  psTopo.reset();
  faultMenu.hide();
  boundary.invalidate();
  player.reset();
  setUrlRun(id);
  controls.renderRuns(app.runs, app.runId, app.compareId);
  if (!runObj) {
    const r = await api.getRun(id);
    if (gen !== app.loadGen) return;
    if (!r.ok) {
      // an unknown or malformed id (404 / 422) is "no such run", not the validator's words
      const missing = r.status === 404 || r.status === 422;
      controls.showError(missing ? t("error.noRun", { id }) : api.errorMessage(r.data, t("error.generic", { status: r.status })));
      app.runId = null;
      setUrlRun(null);
      player.requestRender();
      return;
    }
    app.apiStatus = r.data.status;
    runObj = r.data;
  }
  // The form shows the loaded run's settings, so a replay never sits beside another config.
  if (runObj?.config) controls.fillForm(runObj.config);
  app.conn = api.followRun(id, {
    after: 0,
    onEvents(events) {
      if (gen !== app.loadGen) return;
      player.ingest(events);
      // Parameter server: the newest batch of real pulls, pushes and drops (skipped, not
      // queued, when they come faster than they can be drawn).
      if (player.mode === "live" && isPs(player.liveState)) psTopo.animate(events);
      if (events.some((e) => e.type === "run_finished" || e.type === "run_started")) refreshRuns();
    },
    onState(s) {
      if (gen !== app.loadGen) return;
      app.connState = s;
      renderHeader();
    },
    async shouldReconnect() {
      const r = await api.getRun(id);
      if (gen !== app.loadGen) return false;
      if (r.status === 404) return false;
      if (r.ok) {
        app.apiStatus = r.data.status;
        // An interrupted run will never send more events.
        return r.data.status !== "interrupted";
      }
      return true;
    },
    onEnd() {
      if (gen !== app.loadGen) return;
      refreshRuns().then(() => player.requestRender());
    },
  });
  player.requestRender();
}

function failMessage(r) {
  return r.status === 0 ? t("error.network") : api.errorMessage(r.data, t("error.generic", { status: r.status }));
}

async function startRun(config, { baseline = false } = {}) {
  controls.showError("");
  const btn = $("btn-start");
  btn.disabled = true;
  try {
    let baseRun = null;
    if (baseline && optionsOf(config).compression) {
      // First the uncompressed baseline (full speed, same seed), then the compressed run.
      const b = await api.createRun(baselineConfig(config));
      if (!(b.ok && b.data && b.data.id)) {
        controls.showError(t("error.baseline", { msg: failMessage(b) }));
        return;
      }
      baseRun = b.data;
    }
    const r = await api.createRun(config);
    if (r.ok && r.data && r.data.id) {
      if (baseRun) rememberBaseline(r.data.id, baseRun.id);
      await loadRun(r.data.id, r.data, baseRun ? baseRun.id : null);
      refreshRuns();
    } else {
      const msg = failMessage(r);
      controls.showError(baseRun ? t("error.afterBaseline", { msg }) : msg);
      if (baseRun) refreshRuns();
    }
  } finally {
    btn.disabled = false;
  }
}

// ------------------------------------------------------------------ baseline overlay

function storedBaselines() {
  try {
    return JSON.parse(localStorage.getItem(BASELINES_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function rememberBaseline(runId, baselineId) {
  try {
    const all = storedBaselines();
    all[runId] = baselineId;
    // keep the newest few dozen
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - 50))) delete all[k];
    localStorage.setItem(BASELINES_KEY, JSON.stringify(all));
  } catch {
    /* private mode */
  }
}

const BASELINE_TYPES = new Set(["run_started", "step", "run_finished"]);

/** Overlay another run's mean loss (or remove the overlay, with null). */
function compareWith(id) {
  app.compareId = id || null;
  const run = app.runs.find((r) => r.id === id);
  followBaseline(id || storedBaselines()[app.runId] || null, id ? compareLabel(run ? run.config : null, id) : null);
  controls.renderRuns(app.runs, app.runId, app.compareId);
  chart.render(player.viewState);
}

function compareLabel(c, id) {
  if (!c) return t("chart.compareRun", { id: String(id).slice(0, 6) });
  let what;
  const comp = compressionOf(c);
  if (c.strategy === "parameter_server") what = t("psmode.short." + (optionsOf(c).ps_mode || "sync"));
  else if (c.strategy === "single") what = t("strategy.singleShort");
  else what = comp ? compressionText(comp, { feedback: false }) : t("strategy.dpShort");
  return t("chart.compareLabel", { what, seed: c.seed ?? "?" });
}

function followBaseline(id, label = null) {
  const b = app.baseline;
  b.conn?.close();
  b.conn = null;
  b.gen++;
  b.id = id || null;
  b.state = null;
  b.label = label;
  chart.setBaseline(null);
  setParams({ base: id || null });
  if (!id) return;
  const gen = b.gen;
  let state = initialState();
  b.conn = api.followRun(id, {
    after: 0,
    onEvents(events) {
      if (gen !== b.gen) return;
      // Only what the loss curve needs (no boundaries, no messages).
      for (const e of events) if (BASELINE_TYPES.has(e.type)) state = applyEvent(state, e);
      b.state = state;
      const mean = lossSeries(state).mean;
      chart.setBaseline(mean, b.label);
      $("loss-chart").dataset.baselineSteps = String(mean.x.length);
      chart.render(player.viewState);
    },
    async shouldReconnect() {
      const r = await api.getRun(id);
      if (gen !== b.gen) return false;
      return r.status !== 404 && !(r.ok && r.data.status === "interrupted");
    },
  });
}

async function sendControl(action, extra = {}) {
  if (!app.runId) return;
  if (!api.hasControl(app.runId)) {
    // someone else's run (the instructor's): say so here instead of a silent 403
    flashNote(t(room.state.role === "student" ? "control.onlyInstructor" : "control.notYours"));
    return;
  }
  const r = await api.controlRun(app.runId, action, extra);
  if (!r.ok) {
    controls.showError(r.status === 409 ? t("error.notLive") : api.errorMessage(r.data, t("error.generic", { status: r.status })));
  } else {
    controls.showError("");
  }
}

// ------------------------------------------------------------------ player bar

$("scrubber").addEventListener("input", (ev) => {
  topology.cancel();
  player.scrubTo(Number(ev.target.value));
});
$("btn-live").addEventListener("click", () => player.goLive());
$("btn-replay").addEventListener("click", () => player.togglePlay());
$("replay-speed").addEventListener("change", (ev) => player.setSpeed(Number(ev.target.value)));
function localizeSpeeds() {
  for (const o of $("replay-speed").options) o.textContent = t("player.speedUnit", { n: o.value });
}
localizeSpeeds();
player.setSpeed(Number($("replay-speed").value));

// timeline clock toggle: wall time | idle removed | modelled network time
function setTimelineMode(mode) {
  for (const o of document.querySelectorAll("#timeline-modes .toggle")) {
    o.classList.toggle("active", o.dataset.mode === mode);
    o.setAttribute("aria-pressed", String(o.dataset.mode === mode));
  }
  timeline.setMode(mode);
}
for (const b of document.querySelectorAll("#timeline-modes .toggle")) {
  b.addEventListener("click", () => {
    if (!b.disabled) setTimelineMode(b.dataset.mode);
  });
}
// α–β chart: against message size or against the number of workers
for (const b of document.querySelectorAll("#ab-modes .toggle")) {
  b.addEventListener("click", () => {
    for (const o of document.querySelectorAll("#ab-modes .toggle")) o.classList.toggle("active", o === b);
    alphaBeta.setXMode(b.dataset.x);
  });
}
for (const b of document.querySelectorAll("#chart-x .toggle")) {
  b.addEventListener("click", () => {
    setChartX(b.dataset.x);
    chart.render(player.viewState);
  });
}
$("chart-log").addEventListener("change", (ev) => {
  chart.setOptions({ logY: ev.target.checked });
  chart.render(player.viewState);
});

// ------------------------------------------------------------------ keyboard

// presenter.js owns the keys (space, ← →, 1–9, L, P, H, F, ?), created below.

// ------------------------------------------------------------------ header tools

$("lang-toggle").addEventListener("click", () => setLang(getLang() === "en" ? "zh" : "en"));
onLangChange(() => {
  controls.relocalize();
  controls.renderRuns(app.runs, app.runId, app.compareId);
  localizeSpeeds();
  boundary.invalidate();
  chart.render(player.viewState);
  topology.relocalize();
  alphaBeta.invalidate();
  compPanel.invalidate();
  tailPanel.invalidate();
  psPanel.invalidate();
  psTopo.relocalize();
  faultLog.invalidate();
  faultMenu.relocalize();
  room.relocalize();
  compareView.relocalize();
  lessons.relocalize();
  presenter.relocalize();
  psChrome = null;
  if (app.baseline.id && app.compareId) compareWith(app.compareId);
  const mb = document.querySelector('#timeline-modes [data-mode="modelled"]');
  if (mb.dataset.i18nTitle) mb.title = t(mb.dataset.i18nTitle);
  player.requestRender();
});

function setPresenter(on) {
  document.body.classList.toggle("presenter", on);
  $("presenter-toggle").setAttribute("aria-pressed", String(on));
  chart.setOptions({ large: on });
  timeline.setLarge(on);
  alphaBeta.setLarge(on);
  compPanel.setLarge(on);
  tailPanel.setLarge(on);
  psPanel.setLarge(on);
  compareView.setLarge(on);
  boundary.invalidate();
  try {
    localStorage.setItem("distlab.presenter", on ? "1" : "0");
  } catch {
    /* ignore */
  }
  setParams({ big: on });
  requestAnimationFrame(() => {
    chart.resize();
    player.requestRender();
  });
}
$("presenter-toggle").addEventListener("click", () => setPresenter(!document.body.classList.contains("presenter")));
const presenter = createPresenter({
  player,
  runId: () => app.runId,
  currentStatus,
  isLive,
  sendControl,
  setPresenter,
  isPresenter: () => document.body.classList.contains("presenter"),
});
{
  let big = getParam("big");
  try {
    if (big === null) big = localStorage.getItem("distlab.presenter") === "1";
  } catch {
    /* ignore */
  }
  if (big) setPresenter(true);
}

// re-layout canvases/SVGs when their boxes change size
const ro = new ResizeObserver(() => {
  boundary.invalidate();
  chart.resize();
  alphaBeta.resize();
  compPanel.resize();
  tailPanel.resize();
  psPanel.resize();
  player.requestRender();
});
for (const el of document.querySelectorAll(".viz")) ro.observe(el);

// ------------------------------------------------------------------ boot

async function boot() {
  // The form is learnt from the server: the strategies and the common settings.
  const [specs, sc] = await Promise.all([loadSpecs(api.request), api.getScenarios(), refreshRuns()]);
  if (specs.ok) controls.setSpecs();
  else controls.showError(t("error.specs", { msg: failMessage(specs) }));
  if (sc.ok) controls.setScenarios(sc.data);
  // handy for instructors' scripts and tests; set once the form is built, so a script
  // that waits for it never types into a form about to be filled from the URL
  window.distlab = { app, player, lessons, controls };
  const wanted = getParam("run");
  const roomDecides = room.boot(); // ?room=CODE: the room says which run to show
  compareView.fromUrl(); // ?compare=A,B
  if (roomDecides) {
    // the room's first message loads its run
  } else if (wanted) {
    loadRun(wanted, undefined, getParam("base") || undefined);
  } else {
    // A reload goes back to the live run this tab started. Nobody else's run is opened on
    // its own: on a shared server it belongs to another student (and would replace this
    // page's settings); the instructor's run is followed through a room.
    const mine = app.runs.find((r) => isLive(r.status) && api.ownsRun(r.id));
    if (mine) loadRun(mine.id, mine);
  }
  lessons.boot();
  player.requestRender();
  setInterval(() => {
    if (document.visibilityState === "visible") refreshRuns();
  }, 10000);
}

boot();
