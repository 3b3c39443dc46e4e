// Pure helpers of the view modules (no DOM needed). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { articleKeys } from "../../frontend/static/js/views/article.js";
import { thin } from "../../frontend/static/js/views/charts.js";
import { CATALOGS, fmtBytes, fmtMs, fmtNum, fmtTime, t } from "../../frontend/static/js/core/i18n.js";
import { mergeRunStatus, runLabel } from "../../frontend/static/js/views/runlist.js";
import { layoutSegments } from "../../frontend/static/js/views/timeline.js";
import { animationMs } from "../../frontend/static/js/strategies/data_parallel/packets.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

const rec = (step, t_start, wait, compute, comm) => ({
  step,
  t: t_start + 0.1,
  t_start,
  wait_ms: wait,
  compute_ms: compute,
  comm_ms: comm,
});

test("timeline wall clock: wait, compute, comm back to back from t_start", () => {
  const win = { lanes: [{ rank: 0, recs: [rec(1, 1.0, 2, 3, 5)] }], t0: 1.0, t1: 1.1 };
  const { segs, lo, hi, unit } = layoutSegments(win, "wall");
  assert.equal(unit, "s");
  assert.deepEqual(
    segs.map((s) => [s.seg, +s.x0.toFixed(4), +s.x1.toFixed(4)]),
    [
      ["wait", 1.0, 1.002],
      ["compute", 1.002, 1.005],
      ["comm", 1.005, 1.01],
    ],
  );
  assert.equal(lo, 1.0);
  assert.ok(Math.abs(hi - 1.1) < 1e-12); // the rest of the step (idle) stays blank
});

test("timeline skips empty segments and compacts idle time", () => {
  const win = {
    lanes: [
      { rank: 0, recs: [rec(1, 0, 0, 3, 1), rec(2, 1, 0, 2, 1)] },
      { rank: 1, recs: [rec(1, 0, 1, 5, 1), rec(2, 1, 0, 2, 2)] },
    ],
    t0: 0,
    t1: 1.1,
  };
  const wall = layoutSegments(win, "wall");
  assert.equal(wall.segs.filter((s) => s.seg === "wait").length, 1);
  const compact = layoutSegments(win, "compact");
  assert.equal(compact.unit, "ms");
  // step 1's slot is as wide as its slowest rank (rank 1: 1 + 5 + 1 = 7 ms)
  const step2 = compact.segs.filter((s) => s.step === 2);
  assert.ok(Math.min(...step2.map((s) => s.x0)) >= 7);
  assert.ok(compact.hi < 20);
});

test("packet animation time: measured comm time × 40, clamped to 200–900 ms", () => {
  assert.equal(animationMs(1), 200);
  assert.equal(animationMs(10), 400);
  assert.equal(animationMs(100), 900);
  assert.equal(animationMs(undefined), 200);
});

test("chart thinning keeps the first and last points", () => {
  const x = Array.from({ length: 5000 }, (_, i) => i + 1);
  const out = thin(x, x, 1500);
  assert.ok(out.x.length <= 1501);
  assert.equal(out.x[0], 1);
  assert.equal(out.x.at(-1), 5000);
  const small = thin([1, 2], [3, 4]);
  assert.deepEqual(small, { x: [1, 2], y: [3, 4] });
});

test("translations fill placeholders and fall back to the key", () => {
  assert.equal(t("topo.step", { step: 7 }), "step 7");
  assert.equal(t("no.such.key"), "no.such.key");
  assert.deepEqual(Object.keys(CATALOGS.en).sort(), Object.keys(CATALOGS.zh).sort());
});

test("number formatting", () => {
  assert.equal(fmtBytes(512), "512 B");
  assert.equal(fmtBytes(4600), "4.6 KB");
  assert.equal(fmtBytes(2.5e6), "2.5 MB");
  assert.equal(fmtMs(1.25), "1.3 ms");
  assert.equal(fmtMs(0.5), "0.50 ms");
  assert.equal(fmtNum(0.53214, 4), "0.5321");
  assert.equal(fmtNum(null), "–");
  // Unix seconds (what the store keeps) and ISO strings both work
  assert.match(fmtTime(1795852875.6), /^\d\d:\d\d:\d\d$/);
  assert.match(fmtTime("2026-11-28T08:00:00Z"), /^\d\d:\d\d:\d\d$/);
});

test("run list: the run's terminal status wins over a stale 'running' from the server", () => {
  const runs = [{ id: "a", status: "running", step: 10 }, { id: "b", status: "finished", step: 5 }];
  const m = mergeRunStatus(runs, "a", "finished", 20);
  assert.equal(m.changed, true);
  assert.deepEqual(m.runs[0], { id: "a", status: "finished", step: 20 });
  assert.equal(runs[0].status, "running"); // not mutated
  assert.equal(mergeRunStatus(runs, "b", "running").changed, false); // server says it ended
  assert.equal(mergeRunStatus(runs, "zzz", "finished").changed, false);
  assert.equal(mergeRunStatus(runs, "a", "none").changed, false);
});

test("info panel and tail caption keys follow the strategy and mode, in both languages", () => {
  assert.equal(articleKeys("dp").body, "article.dp");
  for (const mode of ["sync", "backup", "async", "ssp"]) {
    const k = articleKeys(`ps-${mode}`);
    for (const key of Object.values(k)) {
      assert.ok(CATALOGS.en[key] && CATALOGS.zh[key], `${key} in both catalogs`);
    }
    assert.ok(!/all-reduce sums/.test(CATALOGS.en[k.body]), k.body);
  }
  assert.ok(!/waits for its slowest/.test(CATALOGS.en[articleKeys("ps-async").tail]));
});

test("a run's name in the list reads its strategy's options (config.options)", () => {
  assert.equal(runLabel({ strategy: "parameter_server", options: { ps_mode: "async" } }), "parameter server · async");
  assert.equal(runLabel({ strategy: "data_parallel", options: { allreduce: "ring" }, straggler: "one", straggler_factor: 5 }), "data parallel · ring · one 5× straggler");
  assert.equal(runLabel({ strategy: "data_parallel", options: { compression: "qsgd", qsgd_levels: 7 } }), "data parallel · QSGD (4-bit)");
  assert.equal(runLabel({ strategy: "single", options: {} }), "single");
});

test("a lesson's run is recognised by its preset, strategy options included", async () => {
  const { runMatchesPreset } = await import("../../frontend/static/js/views/lessons.js");
  const preset = { strategy: "data_parallel", options: { compression: "topk", error_feedback: true }, steps: 150 };
  // a stored run lists every option (in any order)
  const run = { strategy: "data_parallel", options: { error_feedback: true, allreduce: "builtin", compression: "topk" }, steps: 150, seed: 0 };
  assert.equal(runMatchesPreset(run, preset), true);
  assert.equal(runMatchesPreset({ ...run, options: { ...run.options, error_feedback: false } }, preset), false);
  assert.equal(runMatchesPreset({ ...run, steps: 100 }, preset), false);
  assert.equal(runMatchesPreset(null, preset), false);
});
