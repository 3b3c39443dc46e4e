// main.js — the entry point: wires the core, the common views and the strategies' frontends together.
//
// Data flow: WebSocket batches → Player.ingest → reducer state → render(view state) → views.
// Views never parse raw messages; they only read reducer state through selectors. Where
// things live: frontend/README.md.

import { setData, setHidden, setProp, setText } from "./views/dom.js";
import * as api from "./core/api.js";
import { applyI18n, getLang, initLang, onLangChange, setLang, t } from "./core/i18n.js";
import { Player } from "./core/player.js";
import { isLive, runProgress, stepSummary, TERMINAL_STATUSES } from "./core/selectors.js";
import { loadSpecs } from "./core/specs.js";
import { getParam, setParams } from "./core/urlstate.js";
import { registerStrategies } from "./strategies/index.js";
import { syncArticle } from "./views/article.js";
import { baselineConfigOf, createOverlay, overlayLabel, rememberBaseline, storedBaselines } from "./views/baseline.js";
import { createBoundary } from "./views/boundary.js";
import { createSampleView } from "./views/sample.js";
import { createMemoryView } from "./views/memory.js";
import { createLossChart, wireLossCard } from "./views/charts.js";
import { createCompareView } from "./views/compare.js";
import { createControls } from "./views/controls.js";
import { createFaultLog, translateCause } from "./views/faultlog.js";
import { createFaultMenu } from "./views/faultmenu.js";
import { createHostsPanel } from "./views/hosts.js";
import { createLessons } from "./views/lessons.js";
import { narrationLine } from "./views/narration.js";
import { createFramePass } from "./views/frame.js";
import { flashNote } from "./views/note.js";
import { createPlayerBar } from "./views/playerbar.js";
import { createPresenter } from "./views/presenter.js";
import { createRoom } from "./views/room.js";
import { renderRunHeader } from "./views/header.js";
import { mergeRunStatus } from "./views/runlist.js";
import { mountStrategyViews } from "./views/strategyviews.js";
import { createTailPanel } from "./views/tailview.js";
import { createTimeline, wireTimelineModes } from "./views/timeline.js";
import { waitingWords } from "./views/queuewords.js";

registerStrategies(); // their reducer slices, words and hooks, before any event or word

const $ = (id) => document.getElementById(id);

const app = {
  runId: null,
  apiStatus: null, // status from GET /api/runs/{id}, for runs that never send run_finished
  conn: null,
  loadGen: 0,
  runs: [],
  connState: "closed",
  // The uncompressed run started beside a compressed one (same seed): its mean loss is
  // drawn under the compressed run's curves (views/baseline.js).
  baseline: { id: null, conn: null, state: null, gen: 0, label: null },
  // A run compared with the loaded one ("sync vs async on the same seed"): drawn in the
  // baseline's place, labelled with its own settings.
  compareId: null,
};

initLang();
applyI18n(document);

// ------------------------------------------------------------------ views

// The views draw in animation frames (views/frame.js), in a few parts that need not share
// one frame: each pass draws the newest state as of its start. The drawings come first
// (each lays out only itself); then everything that changes the page's text, together,
// so that a step costs the page one layout, the header last.
const renderPass = createFramePass("render", [
  (state) => timeline.render(state),
  (state) => {
    // The boundary is drawn over 2-D points; a text-trained model shows its writing instead.
    setHidden($("boundary-card"), !!state.dataset && state.dataset.kind === "text");
    boundary.render(state);
    sampleView.render(state);
    memoryView.render(state);
    tailPanel.render(state);
  },
  (state, info) => {
    strategyViews.render(state);
    syncArticle(state);
    faultLog.render(state);
    hostsPanel.render(state);
    faultMenu.sync(isLive(currentStatus()));
    chart.render(state);
    renderNarration(state, info);
    playerBar.render(info);
    renderHeader();
    lessons.sync();
    presenter.onRender(state, info);
  },
]);
const player = new Player({ render: () => renderPass(() => [player.viewState, player.info()]), animate });
const chart = createLossChart($("loss-chart"), $("chart-legend"));
const setChartX = wireLossCard(chart, () => player.viewState); // x axis, log scale
const timeline = createTimeline($("timeline"), $("timeline-axis"), ({ modelled }) => {
  const b = document.querySelector('#timeline-modes [data-mode="modelled"]');
  b.disabled = !modelled;
  b.dataset.i18nTitle = modelled ? "timeline.modelledTitle" : "timeline.modelledOff";
  b.title = t(b.dataset.i18nTitle);
  if (!modelled && b.classList.contains("active")) setTimelineMode("wall");
});
const setTimelineMode = wireTimelineModes(timeline); // wall time | idle removed | modelled network
// The strategies' views: the topology card's (the ring, the parameter server's) and their panels.
const strategyViews = mountStrategyViews({ $, stage: document.querySelector(".stage"), player, syncExtras, setChartX });

/** The extra panels below the page live only when the run needs them; the player bar
 *  links to them. */
function syncExtras() {
  const comp = !$("compression-panel").hidden;
  const ab = !$("alphabeta-card").hidden;
  const tail = !$("tail-card").hidden;
  const mem = !$("memory-card").hidden;
  $("extras").hidden = !comp && !ab && !tail && !mem;
  $("jump-memory").hidden = !mem;
  $("jump-compression").hidden = !comp;
  $("jump-alphabeta").hidden = !ab;
  $("jump-tail").hidden = !tail;
  $("jump-links").hidden = !comp && !ab && !tail && !mem;
}
const tailPanel = createTailPanel({ card: $("tail-card"), plotDiv: $("tail-latency"), statsEl: $("tail-stats") }, (on) => {
  syncExtras();
  if (on) requestAnimationFrame(() => tailPanel.resize());
});
const faultLog = createFaultLog($("fault-log"), (on) => {
  $("topology").closest(".card").classList.toggle("has-faults", on);
  $("timeline").closest(".card").classList.toggle("has-faults", on);
});
// A torchrun run's hosts: the command to paste on each (for the page that may control the
// run) and the workers grouped by host.
const hostsPanel = createHostsPanel($("hosts-panel"), {
  runId: () => app.runId,
  mayControl: (id) => api.hasControl(id),
  fetchCommand: (id) => api.getHostsCommand(id),
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
const memoryView = createMemoryView({ card: $("memory-card"), barsEl: $("memory-bars"), noteEl: $("memory-note") }, () => syncExtras());
const sampleView = createSampleView({ card: $("sample-card"), promptEl: $("sample-prompt"), textEl: $("sample-text"), noteEl: $("sample-note") });
const overlay = createOverlay({ b: app.baseline, chart, chartEl: $("loss-chart"), viewState: () => player.viewState });

const controls = createControls({
  onStart: startRun,
  onControl: (action) => sendControl(action),
  onPaceChange: (pace) => {
    if (app.runId && isLive(currentStatus()) && api.hasControl(app.runId)) sendControl("set_pace", { pace });
  },
  onPickRun: (id) => loadRun(id),
  onCompare: (id) => compareWith(id),
  onRefreshRuns: refreshRuns,
  canPin: api.isInstructor,
  async onPin(id, pinned) {
    const r = await api.pinRun(id, pinned);
    if (!r.ok) controls.showError(failMessage(r));
    refreshRuns();
  },
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
  // the instructor's comparison: the dashed loss line, and the lesson reveal's numbers
  showCompare: (id) => {
    compareWith(id);
    lessons.noteCompare(id);
  },
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
    // the lesson's panel stays above the compare view: bring the comparison into sight
    openCompare: (ids) => compareView.open(...ids).then((ok) => ok && $("compare-view").scrollIntoView({ block: "start" })),
    current: () => ({
      runId: app.runId,
      status: currentStatus(),
      state: player.liveState,
      config: player.liveState.config || app.runs.find((r) => r.id === app.runId)?.config || null,
    }),
    showError: (msg) => controls.showError(msg),
    room: () => room.state,
  },
});

const playerBar = createPlayerBar({ player, onScrub: () => strategyViews.each("onScrub"), hasRun: () => !!app.runId });

// ------------------------------------------------------------------ rendering

function currentStatus() {
  if (!app.runId) return "none";
  const s = player.liveState;
  // The server's word wins only where the stream will not bring the end itself: a run the
  // server marked interrupted, or a stream that closed without run_finished. A run list
  // fetched while the last events are still on the wire must not say "finished" before
  // the views have drawn those events.
  const streamEnded = app.apiStatus === "interrupted" || app.connState === "closed";
  if (!s.finished && streamEnded && TERMINAL_STATUSES.includes(app.apiStatus)) return app.apiStatus;
  if (app.apiStatus === "queued" && !s.lastSeq) return "queued"; // waits for a place
  return s.status;
}

/** A queued run (the server's or this student's limit): say where it stands in the queue,
 *  asking the server every QUEUE_POLL_MS until it starts (its events then take over). */
const QUEUE_POLL_MS = 1500;
async function watchQueue(id, gen, run) {
  const note = $("queue-note");
  while (gen === app.loadGen && run && run.status === "queued") {
    note.hidden = false;
    note.textContent = t("queue.note", { n: run.queue_position ?? "?", why: waitingWords(run) });
    renderHeader();
    await new Promise((done) => setTimeout(done, QUEUE_POLL_MS));
    if (gen !== app.loadGen) break;
    const r = await api.getRun(id);
    if (!r.ok) break;
    run = r.data;
    app.apiStatus = run.status;
  }
  if (gen === app.loadGen || !app.runId) note.hidden = true;
  renderHeader();
}

/** A new step while following live: the views that animate it. */
function animate(stepInfo) {
  strategyViews.each("animateStep", stepInfo);
}

function renderHeader() {
  renderRunHeader({ app, status: currentStatus(), liveStep: runProgress(player.liveState), controls });
}

function renderNarration(state, info) {
  const el = $("narration");
  const line = narrationLine(state, info, {
    runId: app.runId,
    live: player.liveState,
    status: currentStatus(),
    controlled: () => api.hasControl(app.runId),
    student: room.state.role === "student",
  });
  setText(el, line);
  setProp(el, "title", line); // the whole line when it is cut off
  const s = info.cursor ? stepSummary(state, info.cursor) : null;
  setData(el, "state", s && s.identical === false ? "differ" : "");
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
    app.runs = mergeRunStatus(app.runs, app.runId, player.liveState.status, runProgress(player.liveState)).runs;
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
  const base = baselineId === undefined ? storedBaselines()[id] || null : baselineId;
  room.noteRun(id, base);
  overlay.follow(base);
  app.apiStatus = runObj ? runObj.status : null;
  strategyViews.each("reset");
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
  if (runObj?.status === "queued") watchQueue(id, gen, runObj);
  else $("queue-note").hidden = true;
  app.conn = api.followRun(id, {
    after: 0,
    onEvents(events) {
      if (gen !== app.loadGen) return;
      player.ingest(events);
      strategyViews.each("onEvents", events);
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
  // a refusal that says why as a cause (507: the disk is full) is said in the page's words
  if (r.data && r.data.cause && typeof r.data.cause === "object") return translateCause(r.data.cause);
  return r.status === 0 ? t("error.network") : api.errorMessage(r.data, t("error.generic", { status: r.status }));
}

async function startRun(config, { baseline = false } = {}) {
  controls.showError("");
  const btn = $("btn-start");
  btn.disabled = true;
  try {
    let baseRun = null;
    const baseConfig = baseline ? baselineConfigOf(config) : null;
    if (baseConfig) {
      // First the uncompressed baseline (full speed, same seed), then the compressed run.
      const b = await api.createRun(baseConfig);
      if (!(b.ok && b.data && b.data.id)) {
        controls.showError(t("error.baseline", { msg: failMessage(b) }), b);
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
      controls.showError(baseRun ? t("error.afterBaseline", { msg }) : msg, r); // a 422: at its fields
      if (baseRun) refreshRuns();
    }
  } finally {
    btn.disabled = false;
  }
}

/** Overlay another run's mean loss (or, with null, the loaded run's own baseline if any). */
function compareWith(id) {
  app.compareId = id || null;
  const run = app.runs.find((r) => r.id === id);
  const shown = id || storedBaselines()[app.runId] || null;
  overlay.follow(shown, id ? overlayLabel(run ? run.config : null, id) : null);
  room.noteCompare(shown);
  controls.renderRuns(app.runs, app.runId, app.compareId);
  chart.render(player.viewState);
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

// ------------------------------------------------------------------ header tools

// presenter.js owns the keys (space, ← →, 1–9, L, P, H, F, ?), created below.

$("lang-toggle").addEventListener("click", () => setLang(getLang() === "en" ? "zh" : "en"));
onLangChange(() => {
  controls.relocalize();
  controls.renderRuns(app.runs, app.runId, app.compareId);
  playerBar.localize();
  boundary.invalidate();
  sampleView.invalidate();
  memoryView.invalidate();
  chart.render(player.viewState);
  strategyViews.relocalize();
  tailPanel.invalidate();
  faultLog.invalidate();
  faultMenu.relocalize();
  room.relocalize();
  compareView.relocalize();
  lessons.relocalize();
  presenter.relocalize();
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
  strategyViews.each("setLarge", on);
  tailPanel.setLarge(on);
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
  strategyViews.each("resize");
  tailPanel.resize();
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
