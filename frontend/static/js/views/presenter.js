// views/presenter.js — driving the page in front of a class: keys, key help, hidden controls, fullscreen, the link and exports.
//
// Driving the page in front of a class: keyboard control, a key help
// overlay, "hide controls" (only the views stay), fullscreen, the view state in the URL
// with a "Copy link" button, and the export menu (JSONL, CSV, Perfetto trace, PNG, and a
// data-parallel run as a PyTorch DDP script where its strategy's spec says ddp_script).
//
// It reads the player and the run through the hooks main.js passes in; it never touches
// events itself (the narration facts come from views/narration.js, on reducer state).

import { t } from "../core/i18n.js";
import { strategySpec } from "../core/specs.js";
import { getParam, setParams } from "../core/urlstate.js";

/** Keys 1–9: steps per second, for a live run's pace (set_pace) and for replay alike. */
export const KEY_SPEEDS = [1, 2, 3, 5, 8, 10, 15, 20, 30];

export function speedForKey(key) {
  const n = /^[1-9]$/.test(String(key)) ? Number(key) : 0;
  return n ? KEY_SPEEDS[n - 1] : null;
}

const $ = (id) => document.getElementById(id);

// Plotly charts a PNG can be made of: [div id, catalog key for the menu item].
const PNG_CHARTS = [
  ["loss-chart", "pres.pngLoss"],
  ["staleness-histogram", "pres.pngStaleness"],
  ["tail-latency", "pres.pngTail"],
  ["alpha-beta-chart", "pres.pngAlphaBeta"],
  ["bytes-chart", "pres.pngBytes"],
  ["error-chart", "pres.pngError"],
  ["residual-chart", "pres.pngResidual"],
];

/** Keys that act on the lab's run (besides space): never while it is hidden. */
export function isRunKey(key) {
  return key === "ArrowRight" || key === "ArrowLeft" || key === "l" || key === "L" || !!speedForKey(key);
}

// The key help: [keys shown, catalog key].
const KEY_HELP = [
  ["Space", "pres.keySpace"],
  ["→", "pres.keyRight"],
  ["←", "pres.keyLeft"],
  ["1 … 9", "pres.keySpeed"],
  ["L", "pres.keyLive"],
  ["P", "pres.keyPresenter"],
  ["H", "pres.keyHide"],
  ["F", "pres.keyFullscreen"],
  ["?", "pres.keyHelp"],
  ["Esc", "pres.keyEsc"],
];

/**
 * @param {object} h hooks from main.js:
 *   player, runId(), currentStatus(), isLive(status), sendControl(action, extra),
 *   setPresenter(on), isPresenter()
 */
export function createPresenter(h) {
  const { player } = h;
  // Applied once the run named in the URL has loaded far enough.
  const pending = {
    run: getParam("run"),
    at: getParam("at"),
    x: getParam("x") === "time" ? "time" : null,
    // the timeline's clock: applied as soon as its button is enabled ("modelled" only
    // once a run with a network model has loaded)
    tl: getParam("tl") !== "wall" ? getParam("tl") : null,
  };
  let shownRun = undefined;
  let shownStrategy = undefined;

  const writeUrl = (fields) => setParams(fields);

  // ---------------------------------------------------------------- hide controls
  function setHidden(on) {
    document.body.classList.toggle("hide-controls", on);
    $("hide-controls").setAttribute("aria-pressed", String(on));
    $("hide-controls").textContent = t(on ? "pres.showControls" : "pres.hideControls");
    writeUrl({ hide: on });
    window.dispatchEvent(new Event("resize")); // Plotly charts re-fit their wider boxes
  }
  const isHidden = () => document.body.classList.contains("hide-controls");
  $("hide-controls").addEventListener("click", () => setHidden(!isHidden()));

  // ---------------------------------------------------------------- key help
  function renderHelp() {
    const dl = $("key-help-list");
    dl.replaceChildren();
    for (const [keys, key] of KEY_HELP) {
      const dt = document.createElement("dt");
      for (const k of keys.split(" … ")) {
        if (dt.childNodes.length) dt.append(" … ");
        const kbd = document.createElement("kbd");
        kbd.textContent = k;
        dt.append(kbd);
      }
      const dd = document.createElement("dd");
      dd.textContent = t(key, { speeds: KEY_SPEEDS.join(", ") });
      dl.append(dt, dd);
    }
  }
  function setHelp(on) {
    if (on) renderHelp();
    $("key-help").hidden = !on;
    $("key-help-toggle").setAttribute("aria-pressed", String(on));
  }
  $("key-help-toggle").addEventListener("click", () => setHelp($("key-help").hidden));
  $("key-help-close").addEventListener("click", () => setHelp(false));
  $("key-help").addEventListener("click", (ev) => {
    if (ev.target === $("key-help")) setHelp(false);
  });

  // ---------------------------------------------------------------- fullscreen
  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
    else document.documentElement.requestFullscreen?.().catch(() => {});
  }
  document.addEventListener("fullscreenchange", () => {
    document.body.classList.toggle("fullscreen", !!document.fullscreenElement);
  });

  // ---------------------------------------------------------------- speed keys
  /** Live run: the run's pace (through the form, which sends set_pace); else replay speed. */
  function setSpeed(speed) {
    const status = h.currentStatus();
    if (h.runId() && h.isLive(status) && !player.playing) {
      $("f-fullspeed").checked = false;
      $("f-pace").value = String(speed);
      $("f-pace").dispatchEvent(new Event("change", { bubbles: true }));
      flash(t("pres.paceSet", { n: speed }));
      return;
    }
    const sel = $("replay-speed");
    if (![...sel.options].some((o) => Number(o.value) === speed)) {
      const o = document.createElement("option");
      o.value = String(speed);
      o.textContent = t("player.speedUnit", { n: speed });
      const after = [...sel.options].find((x) => Number(x.value) > speed);
      sel.insertBefore(o, after || null);
    }
    sel.value = String(speed);
    sel.dispatchEvent(new Event("change", { bubbles: true }));
    flash(t("pres.speedSet", { n: speed }));
  }

  let flashTimer = null;
  /** A short confirmation beside the narration (what a key just did). */
  function flash(text) {
    const el = $("key-flash");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      el.hidden = true;
    }, 1800);
  }

  // ---------------------------------------------------------------- keyboard
  function onKey(ev) {
    const target = ev.target || {};
    const tag = target.tagName || "";
    if (["INPUT", "SELECT", "TEXTAREA"].includes(tag) && target.type !== "range") return;
    if (target.type === "range" && ev.key !== " ") return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const key = ev.key;
    // The compare view hides the lab: its run is out of sight, so the run keys (play,
    // step, speed, live) do nothing there; P, H, F, ? and Esc still work.
    if (document.body.classList.contains("comparing") && (key === " " || ev.code === "Space" || isRunKey(key))) return;
    const status = h.currentStatus();
    const live = h.runId() && h.isLive(status);
    if (key === " " || ev.code === "Space") {
      ev.preventDefault();
      pending.at = null;
      if (live && player.mode === "live") h.sendControl(status === "paused" ? "resume" : "pause");
      else player.togglePlay();
    } else if (key === "ArrowRight") {
      ev.preventDefault();
      pending.at = null;
      if (live && status === "paused" && player.mode === "live") h.sendControl("step");
      else player.stepForward(1);
    } else if (key === "ArrowLeft") {
      // Back in time, also while the run goes on: the views hold the older step and the
      // events keep arriving underneath (L or "Live" catches up).
      ev.preventDefault();
      pending.at = null;
      const cur = player.mode === "live" ? player.lastStep : player.cursor;
      if (cur > 1) player.scrubTo(cur - 1);
    } else if (speedForKey(key)) {
      ev.preventDefault();
      setSpeed(speedForKey(key));
    } else if (key === "l" || key === "L") {
      pending.at = null;
      player.goLive();
    } else if (key === "p" || key === "P") {
      h.setPresenter(!h.isPresenter());
    } else if (key === "h" || key === "H") {
      setHidden(!isHidden());
    } else if (key === "f" || key === "F") {
      ev.preventDefault();
      toggleFullscreen();
    } else if (key === "?") {
      ev.preventDefault();
      setHelp($("key-help").hidden);
    } else if (key === "Escape") {
      setHelp(false);
      $("export-menu").open = false;
    }
  }
  document.addEventListener("keydown", onKey);
  // A student who drags the scrubber or presses Live takes over from the link's position.
  $("scrubber").addEventListener("input", () => (pending.at = null));
  $("btn-live").addEventListener("click", () => (pending.at = null));

  // ---------------------------------------------------------------- copy link
  async function copyLink() {
    const url = location.href;
    let ok = false;
    try {
      await navigator.clipboard.writeText(url);
      ok = true;
    } catch {
      // No clipboard API (plain http on another host): copy through a selected field.
      const ta = document.createElement("textarea");
      ta.value = url;
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.append(ta);
      ta.select();
      try {
        ok = document.execCommand("copy");
      } catch {
        ok = false;
      }
      ta.remove();
    }
    const b = $("copy-link");
    b.dataset.url = url;
    b.dataset.copied = ok ? "1" : "0";
    flash(ok ? t("pres.copied") : t("pres.copyFailed", { url }));
  }
  $("copy-link").addEventListener("click", copyLink);

  // ---------------------------------------------------------------- export
  function syncExports(id) {
    const menu = $("export-menu");
    menu.hidden = !id;
    if (!id) menu.open = false;
    for (const fmt of ["jsonl", "csv", "perfetto"]) {
      const a = $("export-" + fmt);
      a.href = id ? `/api/runs/${encodeURIComponent(id)}/export?format=${fmt}` : "#";
    }
  }

  // The DDP script: offered where the run's strategy's spec says ddp_script. Fetched rather
  // than linked, so a run whose settings have no DDP counterpart (QSGD compression) shows
  // the server's reason here instead of downloading an error.
  function syncScript(id, strategy) {
    const spec = strategySpec(strategy);
    $("export-script").hidden = !id || !(spec && spec.ddp_script);
    $("export-script-why").hidden = true;
  }

  async function downloadScript() {
    const id = h.runId();
    if (!id) return;
    const why = $("export-script-why");
    why.hidden = true;
    let res;
    try {
      res = await fetch(`/api/runs/${encodeURIComponent(id)}/script`);
    } catch (err) {
      res = { ok: false, status: 0, json: async () => ({ detail: String(err) }) };
    }
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      why.textContent = t("pres.scriptRefused", { msg: body.detail || `HTTP ${res.status}` });
      why.hidden = false;
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = `distlab-${id}-train.py`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  $("export-script").addEventListener("click", downloadScript);

  function renderPngItems() {
    const box = $("export-pngs");
    box.replaceChildren();
    for (const [divId, key] of PNG_CHARTS) {
      const gd = $(divId);
      if (!gd || !gd.data || !gd.offsetParent) continue; // not drawn, or not shown
      const b = document.createElement("button");
      b.type = "button";
      b.className = "export-item";
      b.dataset.testid = divId === "loss-chart" ? "export-png" : "export-png-" + divId;
      b.setAttribute("data-testid", b.dataset.testid);
      b.textContent = t(key);
      b.addEventListener("click", () => downloadPng(gd, divId));
      box.append(b);
    }
  }

  function downloadPng(gd, name) {
    const id = h.runId() || "run";
    // Plotly draws the PNG itself from its SVG (no network: plotly.min.js is served locally).
    window.Plotly.downloadImage(gd, {
      format: "png",
      filename: `distlab-${id}-${name}`,
      width: Math.max(gd.clientWidth, 400),
      height: Math.max(gd.clientHeight, 260),
      scale: 2,
    });
  }
  $("export-menu").addEventListener("toggle", () => {
    if ($("export-menu").open) renderPngItems();
  });

  // ---------------------------------------------------------------- per render
  function onRender(state, info) {
    const id = h.runId();
    if (id !== shownRun || state.strategy !== shownStrategy) {
      shownRun = id;
      shownStrategy = state.strategy;
      syncExports(id);
      syncScript(id, state.strategy);
    }
    if (pending.run && id && id !== pending.run) {
      pending.at = null;
      pending.x = null;
      pending.tl = null;
    }
    applyPendingClock();
    if (pending.at && id && id === pending.run && player.mode === "live") {
      const last = player.lastStep;
      if (last >= pending.at || (player.liveState.finished && last >= 1)) {
        const at = pending.at;
        pending.at = null;
        player.scrubTo(at); // renders again
        return;
      }
    }
    if (pending.x && id && id === pending.run && !$("chart-x").hidden) {
      const b = document.querySelector(`#chart-x [data-x="${pending.x}"]`);
      pending.x = null;
      b?.click();
    }
    const fields = {};
    if (!pending.at) fields.at = info.mode === "scrub" && !info.playing ? info.cursor : null;
    if (!pending.x) fields.x = $("loss-chart").dataset.x === "time" ? "time" : "step";
    if (!pending.tl) fields.tl = clockMode();
    writeUrl(fields);
  }

  // ---------------------------------------------------------------- timeline clock
  const clockMode = () => document.querySelector("#timeline-modes .toggle.active")?.dataset.mode || "wall";
  function applyPendingClock() {
    if (!pending.tl) return;
    const b = document.querySelector(`#timeline-modes [data-mode="${pending.tl}"]`);
    if (!b || b.disabled) return;
    pending.tl = null;
    b.click(); // main.js switches the timeline; the listener below writes the URL
  }
  // main.js registered its listeners first: the active button is set when this one runs.
  for (const b of document.querySelectorAll("#timeline-modes .toggle")) {
    b.addEventListener("click", () => {
      if (b.disabled) return;
      pending.tl = null;
      writeUrl({ tl: clockMode() });
    });
  }

  function relocalize() {
    $("hide-controls").textContent = t(isHidden() ? "pres.showControls" : "pres.hideControls");
    if (!$("key-help").hidden) renderHelp();
    if ($("export-menu").open) renderPngItems();
  }

  applyPendingClock();
  if (getParam("hide")) setHidden(true);
  else $("hide-controls").textContent = t("pres.hideControls");
  syncExports(null);
  return { onRender, relocalize, setHidden, isHidden };
}
