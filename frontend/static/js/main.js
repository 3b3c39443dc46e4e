// main.js — wires the modules together. Data flow:
//   WebSocket batches → Player.ingest → reducer state → render(view state) → views
// Views never parse raw messages; they only read reducer state through selectors.

import * as api from "./api.js";
import { createBoundary } from "./boundary.js";
import { createLossChart } from "./charts.js";
import { createControls } from "./controls.js";
import { applyI18n, fmtBytes, fmtMs, fmtNum, getLang, initLang, onLangChange, setLang, t } from "./i18n.js";
import { Player } from "./player.js";
import { createLinkBytes } from "./linkbytes.js";
import { commRounds, completeStep, isLive, runAlgo, stepMessages, stepSummary, TERMINAL_STATUSES } from "./state.js";
import { createTimeline } from "./timeline.js";
import { createTopology } from "./topology.js";

const $ = (id) => document.getElementById(id);

const app = {
  runId: null,
  apiStatus: null, // status from GET /api/runs/{id}, for runs that never send run_finished
  conn: null,
  loadGen: 0,
  runs: [],
  connState: "closed",
};

initLang();
applyI18n(document);

const topology = createTopology($("topology"), $("replicas-badge"), {
  phaseEl: $("topo-phase"),
  captionEl: $("topo-caption"),
  legendEl: $("topo-legend"),
});
const linkBytes = createLinkBytes($("link-bytes"), $("bytes-formula"), $("bytes-table"), $("bytes-note"), (on) => {
  document.querySelector(".stage").classList.toggle("has-bytes", on);
});
const chart = createLossChart($("loss-chart"), $("chart-legend"));
const timeline = createTimeline($("timeline"), $("timeline-axis"));
const boundary = createBoundary($("boundary"), $("boundary-note"), $("boundary-legend"));

const player = new Player({ render, animate });

const controls = createControls({
  onStart: startRun,
  onControl: (action) => sendControl(action),
  onPaceChange: (pace) => {
    if (app.runId && isLive(currentStatus())) sendControl("set_pace", { pace });
  },
  onPickRun: (id) => loadRun(id),
  onRefreshRuns: refreshRuns,
});

// ------------------------------------------------------------------ rendering

function currentStatus() {
  if (!app.runId) return "none";
  const s = player.liveState;
  if (!s.finished && app.apiStatus && TERMINAL_STATUSES.includes(app.apiStatus)) return app.apiStatus;
  return s.status;
}

function render(state, info) {
  topology.render(state);
  linkBytes.render(state);
  chart.render(state);
  timeline.render(state);
  boundary.render(state);
  renderNarration(state, info);
  renderPlayerBar(info);
  renderHeader();
}

function renderHeader() {
  const status = currentStatus();
  const pill = document.querySelector('[data-testid="run-status"]');
  pill.dataset.status = status;
  pill.textContent = status === "none" ? "—" : status;
  const local = $("status-local");
  local.textContent = getLang() === "en" ? "" : t("status." + status);
  local.hidden = !local.textContent;
  $("conn-note").hidden = app.connState !== "reconnecting";
  controls.setRunStatus(status, !!app.runId);
  document.body.dataset.runStatus = status;
  // keep the active entry of the run list current without polling the server
  const mine = app.runs.find((r) => r.id === app.runId);
  if (mine && status !== "none") {
    const step = player.liveState.lastStep;
    if (mine.status !== status || Math.floor(step / 10) !== Math.floor((mine.step || 0) / 10)) {
      mine.status = status;
      mine.step = step;
      controls.renderRuns(app.runs, app.runId);
    }
  }
}

function narrationFor(state, info) {
  if (!app.runId) return t("narr.idle");
  const live = player.liveState;
  const atEnd = info.mode === "live" || info.cursor >= live.lastStep;
  if (atEnd && live.finished) {
    const sm = live.summary || {};
    if (live.status === "failed") return t("narr.failed", { error: live.error || "?" });
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
  let line;
  if (state.strategy === "single" || s.ranks.length <= 1) {
    line = t("narr.single", { step, loss: fmtNum(s.meanLoss, 4), ms: fmtMs(s.computeMs) });
  } else if (algo && algo !== "builtin") {
    line = algoNarration(state, s, algo);
  } else {
    line = t("narr.dp", {
      step,
      n: s.ranks.length,
      bytes: fmtBytes(s.bytesSent),
      ms: fmtMs(s.commMs),
      replicas: s.identical === null ? t("narr.pending") : s.identical ? t("narr.identical") : t("narr.differ"),
    });
  }
  if (info.mode === "live" && live.status === "paused") return t("narr.paused", { step });
  return line;
}

/** "step 12: ring all-reduce — 6 messages per rank, …" from the step's messages (detail),
 *  or from the per-rank counters of the step events without detail. */
function algoNarration(state, s, algo) {
  const replicas = s.identical === null ? t("narr.pending") : s.identical ? t("narr.identical") : t("narr.differ");
  const msgs = stepMessages(state, s.step);
  const ms = fmtMs(s.commMs);
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
  if (state.strategy !== "data_parallel") return;
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
  controls.renderRuns(app.runs, app.runId);
}

function setUrlRun(id) {
  const url = new URL(location.href);
  if (id) url.searchParams.set("run", id);
  else url.searchParams.delete("run");
  history.replaceState(null, "", url);
}

async function loadRun(id, runObj) {
  const gen = ++app.loadGen;
  app.conn?.close();
  app.conn = null;
  app.runId = id;
  app.apiStatus = runObj ? runObj.status : null;
  topology.reset();
  boundary.invalidate();
  player.reset();
  setUrlRun(id);
  controls.renderRuns(app.runs, app.runId);
  if (!runObj) {
    const r = await api.getRun(id);
    if (gen !== app.loadGen) return;
    if (!r.ok) {
      controls.showError(api.errorMessage(r.data, t("error.generic", { status: r.status })));
      app.runId = null;
      setUrlRun(null);
      player.requestRender();
      return;
    }
    app.apiStatus = r.data.status;
  }
  app.conn = api.followRun(id, {
    after: 0,
    onEvents(events) {
      if (gen !== app.loadGen) return;
      player.ingest(events);
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

async function startRun(config) {
  controls.showError("");
  const btn = $("btn-start");
  btn.disabled = true;
  try {
    const r = await api.createRun(config);
    if (r.ok && r.data && r.data.id) {
      await loadRun(r.data.id, r.data);
      refreshRuns();
    } else if (r.status === 0) {
      controls.showError(t("error.network"));
    } else {
      controls.showError(api.errorMessage(r.data, t("error.generic", { status: r.status })));
    }
  } finally {
    btn.disabled = false;
  }
}

async function sendControl(action, extra = {}) {
  if (!app.runId) return;
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

// timeline clock toggle
for (const b of document.querySelectorAll(".seg-toggle .toggle")) {
  b.addEventListener("click", () => {
    for (const o of document.querySelectorAll(".seg-toggle .toggle")) o.classList.toggle("active", o === b);
    timeline.setMode(b.dataset.mode);
  });
}
$("chart-log").addEventListener("change", (ev) => {
  chart.setOptions({ logY: ev.target.checked });
  chart.render(player.viewState);
});

// ------------------------------------------------------------------ keyboard

document.addEventListener("keydown", (ev) => {
  const tag = (ev.target && ev.target.tagName) || "";
  if (["INPUT", "SELECT", "TEXTAREA"].includes(tag) && ev.target.type !== "range") return;
  if (ev.target && ev.target.type === "range" && ev.key !== " ") return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const status = currentStatus();
  if (ev.key === " " || ev.code === "Space") {
    ev.preventDefault();
    if (app.runId && isLive(status) && player.mode === "live") sendControl(status === "paused" ? "resume" : "pause");
    else player.togglePlay();
  } else if (ev.key === "ArrowRight") {
    ev.preventDefault();
    if (app.runId && status === "paused" && player.mode === "live") sendControl("step");
    else player.stepForward(1);
  } else if (ev.key === "ArrowLeft") {
    ev.preventDefault();
    const cur = player.mode === "live" ? player.lastStep : player.cursor;
    if (cur > 1) player.scrubTo(cur - 1);
  }
});

// ------------------------------------------------------------------ header tools

$("lang-toggle").addEventListener("click", () => setLang(getLang() === "en" ? "zh" : "en"));
onLangChange(() => {
  controls.relocalize();
  controls.renderRuns(app.runs, app.runId);
  localizeSpeeds();
  boundary.invalidate();
  chart.render(player.viewState);
  topology.relocalize();
  player.requestRender();
});

function setPresenter(on) {
  document.body.classList.toggle("presenter", on);
  $("presenter-toggle").setAttribute("aria-pressed", String(on));
  chart.setOptions({ large: on });
  timeline.setLarge(on);
  boundary.invalidate();
  try {
    localStorage.setItem("distlab.presenter", on ? "1" : "0");
  } catch {
    /* ignore */
  }
  const url = new URL(location.href);
  if (on) url.searchParams.set("big", "1");
  else url.searchParams.delete("big");
  history.replaceState(null, "", url);
  requestAnimationFrame(() => {
    chart.resize();
    player.requestRender();
  });
}
$("presenter-toggle").addEventListener("click", () => setPresenter(!document.body.classList.contains("presenter")));
{
  const q = new URLSearchParams(location.search);
  let big = q.get("big") === "1";
  try {
    if (!q.has("big")) big = localStorage.getItem("distlab.presenter") === "1";
  } catch {
    /* ignore */
  }
  if (big) setPresenter(true);
}

// re-layout canvases/SVGs when their boxes change size
const ro = new ResizeObserver(() => {
  boundary.invalidate();
  chart.resize();
  player.requestRender();
});
for (const el of document.querySelectorAll(".viz")) ro.observe(el);

// ------------------------------------------------------------------ boot

async function boot() {
  const [sc] = await Promise.all([api.getScenarios(), refreshRuns()]);
  if (sc.ok) controls.setScenarios(sc.data);
  const wanted = new URLSearchParams(location.search).get("run");
  if (wanted) {
    loadRun(wanted);
  } else {
    // A student opening the page during a class joins the live run, if there is one.
    const live = app.runs.find((r) => isLive(r.status));
    if (live) loadRun(live.id, live);
  }
  player.requestRender();
  setInterval(() => {
    if (document.visibilityState === "visible") refreshRuns();
  }, 10000);
}

window.distlab = { app, player }; // handy for instructors' scripts and tests
boot();
