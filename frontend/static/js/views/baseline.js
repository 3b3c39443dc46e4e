// views/baseline.js — another run's mean loss drawn under the loaded run's curves: a compressed run's uncompressed baseline, or a run compared with it.

import * as api from "../core/api.js";
import { t } from "../core/i18n.js";
import { applyEvent, initialState } from "../core/reducer.js";
import { frontendFor } from "../core/registry.js";
import { lossSeries } from "../core/selectors.js";
import { setParams } from "../core/urlstate.js";
import { strategyWords } from "./runlist.js";

const BASELINES_KEY = "distlab.baselines"; // localStorage: {compressedRunId: baselineRunId}
const BASELINE_TYPES = new Set(["run_started", "step", "run_finished"]);

/** The config of a run's baseline (the same run, uncompressed), or null when it has none:
 *  its strategy's frontend says (data parallelism: a run with compression). */
export function baselineConfigOf(config) {
  const fe = config ? frontendFor(config.strategy) : null;
  return (fe && fe.baselineConfig && fe.baselineConfig(config)) || null;
}

/** {runId: baselineRunId} of the baselines this browser started. */
export function storedBaselines() {
  try {
    return JSON.parse(localStorage.getItem(BASELINES_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

export function rememberBaseline(runId, baselineId) {
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

/** The legend of a compared run: "compared: async, seed 0". */
export function overlayLabel(c, id) {
  if (!c) return t("chart.compareRun", { id: String(id).slice(0, 6) });
  return t("chart.compareLabel", { what: strategyWords(c, "overlay"), seed: c.seed ?? "?" });
}

/**
 * The overlay of the loss chart. `b` is the page's record of it ({id, conn, state, gen,
 * label}, kept in main.js's app), `chart` the loss chart, `chartEl` its element,
 * `viewState()` the state the chart shows. follow(id, label) follows a run (null: none).
 */
export function createOverlay({ b, chart, chartEl, viewState }) {
  function follow(id, label = null) {
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
        chartEl.dataset.baselineSteps = String(mean.x.length);
        chart.render(viewState());
      },
      async shouldReconnect() {
        const r = await api.getRun(id);
        if (gen !== b.gen) return false;
        return r.status !== 404 && !(r.ok && r.data.status === "interrupted");
      },
    });
  }
  return { follow };
}
