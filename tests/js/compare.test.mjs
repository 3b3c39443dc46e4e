// Pure helpers of the compare view and the classroom room (no DOM). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  binSegments,
  canonical,
  configDiff,
  configDiffMany,
  FIELD_LABELS,
  fieldLabel,
  optionLabel,
  runEnd,
  runSegments,
} from "../../frontend/static/js/views/comparedata.js";
import { CATALOGS } from "../../frontend/static/js/core/i18n.js";
import { setSpecs } from "../../frontend/static/js/core/specs.js";
import { parseCompare } from "../../frontend/static/js/core/urlstate.js";
import { SCHEMA, STRATEGIES } from "./fixtures/specs.mjs";

setSpecs(STRATEGIES, SCHEMA);
import { normalizeCode } from "../../frontend/static/js/views/roomclient.js";
import { applyEvent, initialState } from "../../frontend/static/js/core/reducer.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

test("?compare=A,B needs two different ids", () => {
  assert.deepEqual(parseCompare("abc,def"), ["abc", "def"]);
  assert.deepEqual(parseCompare(" abc , def "), ["abc", "def"]);
  assert.equal(parseCompare("abc"), null);
  assert.equal(parseCompare("abc,abc"), null);
  // up to four runs (表4 compares data, pipeline and tensor parallelism), all different
  assert.deepEqual(parseCompare("a,b,c"), ["a", "b", "c"]);
  assert.equal(parseCompare("a,b,c,d,e"), null);
  assert.equal(parseCompare("a,b,a"), null);
  assert.equal(parseCompare(null), null);
});

test("config diff: a row per field of either run, differing exactly where values differ", () => {
  const a = { strategy: "data_parallel", workers: 2, lr: 0.5, links: [{ src: 0, dst: 1 }], net: { b: 1, a: 2 } };
  const b = { strategy: "data_parallel", workers: 3, lr: 0.5, links: [{ dst: 1, src: 0 }], net: { a: 2, b: 1 }, pace: null };
  const rows = configDiff(a, b);
  assert.deepEqual(rows.map((r) => r.field), ["strategy", "workers", "lr", "links", "net", "pace"]);
  assert.deepEqual(rows.filter((r) => r.differs).map((r) => r.field), ["workers"]);
  // a field one run lacks counts as null: null vs missing is no difference, 4 vs missing is
  assert.equal(configDiff({ x: 4 }, {})[0].differs, true);
  assert.equal(canonical({ b: [1, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[1,{"c":2,"d":1}]}');
});

test("config diff of three runs: a column each, a field differs when any run differs", () => {
  const dp = { strategy: "data_parallel", workers: 4, batch_size: 8 };
  const pp = { strategy: "pipeline", workers: 4, batch_size: 32, options: { micro_batches: 4 } };
  const tp = { strategy: "tensor_parallel", workers: 4, batch_size: 32 };
  const rows = configDiffMany([dp, pp, tp]);
  assert.deepEqual(rows.map((r) => r.field), ["strategy", "workers", "batch_size", "options.micro_batches"]);
  assert.deepEqual(rows.filter((r) => r.differs).map((r) => r.field), ["strategy", "batch_size", "options.micro_batches"]);
  assert.deepEqual(rows[2].values, [8, 32, 32]);
});

test("config diff: each strategy option is a row of its own", () => {
  const a = { strategy: "parameter_server", options: { servers: 1, ps_mode: "sync" }, workers: 2 };
  const b = { strategy: "parameter_server", options: { servers: 1, ps_mode: "async" }, workers: 2 };
  const rows = configDiff(a, b);
  assert.deepEqual(rows.map((r) => r.field), ["strategy", "options.servers", "options.ps_mode", "workers"]);
  assert.deepEqual(rows.filter((r) => r.differs).map((r) => r.field), ["options.ps_mode"]);
  // another strategy: its options are rows too, the other run's count as missing
  const c = { strategy: "data_parallel", options: { allreduce: "ring" }, workers: 2 };
  assert.deepEqual(configDiff(a, c).filter((r) => r.differs).map((r) => r.field), ["strategy", "options.servers", "options.ps_mode", "options.allreduce"]);
});

test("whole-run segments on the wall clock, and the run's end", () => {
  let s = initialState();
  s = applyEvent(s, { seq: 1, type: "run_started", run_id: "r", t: 0, rank: null, step: null, config: { strategy: "data_parallel", workers: 1 }, world_size: 1 });
  s = applyEvent(s, { seq: 2, type: "step", run_id: "r", t: 1.02, rank: 0, step: 1, t_start: 1.0, wait_ms: 0, compute_ms: 10, comm_ms: 5, loss: 1 });
  s = applyEvent(s, { seq: 3, type: "step", run_id: "r", t: 2.02, rank: 0, step: 2, t_start: 2.0, wait_ms: 2, compute_ms: 10, comm_ms: 5, loss: 0.9 });
  const segs = runSegments(s);
  assert.deepEqual(segs.map((x) => [x.step, x.seg]), [[1, "compute"], [1, "comm"], [2, "wait"], [2, "compute"], [2, "comm"]]);
  assert.ok(Math.abs(segs[1].x0 - 1.01) < 1e-9 && Math.abs(segs[1].x1 - 1.015) < 1e-9);
  assert.equal(runEnd(s), 2.02);
});

test("binned segments keep each bin's share of time per kind", () => {
  const segs = [
    { rank: 0, seg: "compute", x0: 0, x1: 0.5 },
    { rank: 0, seg: "comm", x0: 0.5, x1: 1.5 },
  ];
  const bins = binSegments(segs, 0, 2, 2); // bins [0,1) and [1,2)
  const get = (seg, x0) => bins.find((b) => b.seg === seg && b.x0 === x0)?.frac ?? 0;
  assert.equal(get("compute", 0), 0.5);
  assert.equal(get("comm", 0), 0.5);
  assert.equal(get("comm", 1), 0.5);
  assert.equal(get("compute", 1), 0);
});

test("room codes as typed: case, spaces, a pasted join link", () => {
  assert.equal(normalizeCode(" k7qx 2m "), "K7QX2M");
  assert.equal(normalizeCode("http://host:8000/?room=k7qx2m"), "K7QX2M");
  assert.equal(normalizeCode("K7-QX-2M"), "K7QX2M");
  assert.equal(normalizeCode(""), "");
  assert.equal(normalizeCode("no!"), "");
});

test("compare table: every config field has a label in both languages, raw name as fallback", () => {
  for (const [field, key] of Object.entries(FIELD_LABELS)) {
    assert.ok(key in CATALOGS.en && key in CATALOGS.zh, `${field}: ${key}`);
  }
  assert.equal(fieldLabel("batch_size", (k) => CATALOGS.en[k]), "Batch size per worker");
  assert.equal(fieldLabel("batch_size", (k) => CATALOGS.zh[k]), "每个进程的批大小");
  assert.equal(fieldLabel("some_new_field", (k) => CATALOGS.en[k] ?? k), "some_new_field");
  // a strategy option is labelled by its spec, in the page's language
  assert.equal(fieldLabel("options.ps_mode", (k) => k, "en"), "Consistency");
  assert.equal(fieldLabel("options.ps_mode", (k) => k, "zh"), "一致性模型");
  assert.equal(fieldLabel("options.unknown", (k) => k, "en"), "options.unknown");
});

test("compare table: values in words: a strategy's title, an option's choice, a form select's label", () => {
  const opt = (value, key, text) => ({ value, dataset: key ? { i18n: key } : {}, textContent: text });
  const selects = {
    dataset: { options: [opt("moons", "dataset.moons", "?"), opt("blobs", null, "Blobs")] },
  };
  const doc = { querySelector: (q) => selects[/data-field="(\w+)"/.exec(q)[1]] || null };
  assert.equal(optionLabel("strategy", "data_parallel", doc, "en"), "Data parallelism");
  assert.equal(optionLabel("strategy", "data_parallel", doc, "zh"), "数据并行");
  assert.equal(optionLabel("options.ps_mode", "sync", doc, "zh"), "同步（BSP）");
  assert.equal(optionLabel("options.ps_mode", "nope", doc, "en"), null);
  assert.equal(optionLabel("dataset", "moons", doc), CATALOGS.en["dataset.moons"]);
  assert.equal(optionLabel("dataset", "blobs", doc), "Blobs");
  assert.equal(optionLabel("workers", 4, doc), null);
  assert.equal(optionLabel("options.servers", 2, doc), null);
});
