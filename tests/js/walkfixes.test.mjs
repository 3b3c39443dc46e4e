// Walkthrough fixes: the loss chart's explicit axis ranges. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { dataRanges } from "../../frontend/static/js/charts.js";

test("loss chart ranges cover every finite point, padded on y", () => {
  const r = dataRanges([
    { x: [1, 2, 3], y: [0.7, 0.6, 0.5] },
    { x: [1, 2, 3, 80], y: [0.69, 0.61, NaN, 0.2] },
  ]);
  assert.deepEqual(r.x, [1, 80]);
  assert.ok(r.y[0] < 0.2 && r.y[0] > 0.1, `y low ${r.y[0]}`);
  assert.ok(r.y[1] > 0.7 && r.y[1] < 0.8, `y high ${r.y[1]}`);
});

test("loss chart ranges: nothing plottable is null; a single point gets a width", () => {
  assert.equal(dataRanges([]), null);
  assert.equal(dataRanges([{ x: [], y: [] }]), null);
  assert.equal(dataRanges([{ x: [1], y: [NaN] }]), null);
  const one = dataRanges([{ x: [5], y: [0.4] }]);
  assert.deepEqual(one.x, [4, 6]);
  assert.ok(one.y[0] < 0.4 && one.y[1] > 0.4);
});

test("loss chart ranges on a log axis are log10 and skip non-positive values", () => {
  const r = dataRanges([{ x: [1, 2, 3], y: [1, 0.01, 0] }], { logY: true });
  assert.deepEqual(r.x, [1, 2]);
  assert.ok(r.y[0] < -2 && r.y[1] > 0);
});

import { failureAndRecoveryLines } from "../../frontend/static/js/measured.js";
import { CATALOGS } from "../../frontend/static/js/i18n.js";

const zh = (key, params = {}) =>
  (CATALOGS.zh[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => (params[k] ?? `{${k}}`));

test("reveal: recoveries are named by their policy, causes translated, 进程 in Chinese", () => {
  const log = [
    { kind: "failed", rank: 2, cause: "killed by signal SIGKILL", detectionMs: 120 },
    { kind: "recovery", policy: "shrink" },
    { kind: "recovery", policy: "shrink" },
  ];
  const en = failureAndRecoveryLines(log);
  assert.ok(en.some((l) => /shrank/.test(l) && /2×/.test(l)), en.join(" | "));
  assert.ok(!en.some((l) => /checkpoint \d/.test(l) || /from a checkpoint/.test(l)), en.join(" | "));
  const z = failureAndRecoveryLines(log, zh);
  assert.ok(z[0].startsWith("进程 2"), z[0]);
  assert.ok(!/SIGKILL/.test(z[0]) || /信号/.test(z[0]), z[0]);
  assert.ok(!z.join("").includes("rank"), z.join(" | "));
  const restart = failureAndRecoveryLines([{ kind: "recovery", policy: "restart" }, { kind: "restored" }]);
  assert.ok(restart.some((l) => /checkpoint 1×/.test(l)), restart.join(" | "));
  assert.ok(restart.some((l) => /parameter server was rebuilt 1×/.test(l)), restart.join(" | "));
});

import { articleKeys } from "../../frontend/static/js/article.js";

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

import { optionLabel } from "../../frontend/static/js/compare.js";

test("compare table: a select's value is shown with the form's translated option label", () => {
  const opt = (value, key, text) => ({ value, dataset: key ? { i18n: key } : {}, textContent: text });
  const selects = {
    "f-strategy": { options: [opt("data_parallel", "strategy.data_parallel", "Data parallelism")] },
    "f-ps-mode": { options: [opt("sync", "psmode.sync", "sync (BSP)")] },
    "f-dataset": { options: [opt("moons", null, "Moons")] },
  };
  const doc = { getElementById: (id) => selects[id] || null };
  assert.equal(optionLabel("strategy", "data_parallel", doc), CATALOGS.en["strategy.data_parallel"]);
  assert.equal(optionLabel("ps_mode", "sync", doc), CATALOGS.en["psmode.sync"]);
  assert.equal(optionLabel("dataset", "moons", doc), "Moons");
  assert.equal(optionLabel("workers", 4, doc), null);
  assert.equal(optionLabel("ps_mode", "nope", doc), null);
});
