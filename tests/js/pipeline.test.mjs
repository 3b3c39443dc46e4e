// The pipeline's slice: the schedule grid and the measured bubble, from the stages' step
// events (the same arithmetic as engine/strategies/pipeline_schedules.measured_bubble,
// checked on one shared fixture from both sides).
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState } from "../../frontend/static/js/core/reducer.js";
import { bubbleFormula, cellLabel, chunksOf, measuredBubble, recentBubble, scheduleGrid } from "../../frontend/static/js/strategies/pipeline/slice.js";

registerStrategies();
const fixture = JSON.parse(readFileSync(new URL("./fixtures/pipeline-steps.json", import.meta.url)));

test("the measured bubble is the idle share of the step's span, over all stages", () => {
  assert.ok(Math.abs(measuredBubble(fixture.cells) - fixture.bubble) < 1e-9);
  assert.equal(measuredBubble([]), null);
  assert.ok(Math.abs(bubbleFormula(4, 4) - 3 / 7) < 1e-12);
});

test("the grid shows the newest step every stage reported, and the bubble of the last steps", () => {
  let s = initialState();
  let seq = 0;
  const ev = (e) => {
    s = applyEvent(s, { seq: ++seq, run_id: "r", t: 1, ...e });
  };
  ev({ type: "run_started", strategy: "pipeline", world_size: 2, config: { strategy: "pipeline", workers: 2, layers: 2, options: { schedule: "1f1b", micro_batches: 2 } }, dataset: { kind: "text" } });
  ev({ type: "pipeline_stage", rank: 0, stage: 0, pieces: [0, 1], params: 10, in_flight_expected: 2 });
  const step = (k, rank, shift) => ({ type: "step", rank, step: k, loss: 1, schedule: fixture.cells[rank].map((c) => [c[0], c[1], c[2] + shift, c[3] + shift]), in_flight_peak: 2 - rank, activation_bytes_peak: 100 });
  ev(step(1, 0, 0));
  ev(step(1, 1, 0));
  ev(step(2, 0, 1)); // stage 1 has not reported step 2 yet: the grid stays on step 1
  let g = scheduleGrid(s);
  assert.equal(g.step, 1);
  assert.deepEqual(g.stages.map((x) => x.inFlight), [2, 1]);
  assert.deepEqual(g.stages[0].pieces, [0, 1]);
  ev(step(2, 1, 1));
  g = scheduleGrid(s);
  assert.equal(g.step, 2);
  assert.ok(Math.abs(g.bubble - fixture.bubble) < 1e-9);
  assert.ok(Math.abs(g.formula - 1 / 3) < 1e-12);
  const r = recentBubble(s);
  assert.equal(r.steps, 1); // step 1 is left out once a later step is there
  assert.ok(Math.abs(r.median - fixture.bubble) < 1e-9);
});

test("a run of another strategy has no grid", () => {
  const s = applyEvent(initialState(), { seq: 1, type: "run_started", strategy: "data_parallel", config: { strategy: "data_parallel", workers: 2 } });
  assert.equal(scheduleGrid(s), null);
});

test("interleaved 1F1B: v chunks shrink the formula's bubble, cells name their chunk", () => {
  assert.ok(Math.abs(bubbleFormula(2, 4, 2) - 1 / 9) < 1e-12);
  assert.ok(Math.abs(bubbleFormula(4, 4, 2) - 3 / 11) < 1e-12);
  assert.equal(bubbleFormula(4, 4), bubbleFormula(4, 4, 1));
  assert.equal(chunksOf({ schedule: "interleaved", virtual_stages: 3 }), 3);
  assert.equal(chunksOf({ schedule: "interleaved" }), 2); // the option's default
  assert.equal(chunksOf({ schedule: "1f1b", virtual_stages: 3 }), 1);
  assert.equal(cellLabel("F", 3, 1, 2), "F3·1");
  assert.equal(cellLabel("B", 0, 0, 2), "B0·0");
  assert.equal(cellLabel("F", 3, undefined, 1), "F3");

  let s = initialState();
  let seq = 0;
  const ev = (e) => {
    s = applyEvent(s, { seq: ++seq, run_id: "r", t: 1, ...e });
  };
  ev({ type: "run_started", strategy: "pipeline", world_size: 2, config: { strategy: "pipeline", workers: 2, layers: 4, options: { schedule: "interleaved", micro_batches: 4, virtual_stages: 2 } }, dataset: { kind: "text" } });
  ev({ type: "pipeline_stage", rank: 0, stage: 0, pieces: [0, 1, 3], chunks: [[0, 1], [3]], params: 10, in_flight_expected: 5 });
  ev({ type: "pipeline_stage", rank: 1, stage: 1, pieces: [2, 4, 5], chunks: [[2], [4, 5]], params: 10, in_flight_expected: 3 });
  for (const rank of [0, 1]) ev({ type: "step", rank, step: 1, loss: 1, schedule: [["F", 0, rank, rank + 1, 0], ["F", 0, rank + 2, rank + 3, 1]], in_flight_peak: 2, activation_bytes_peak: 10, chunks: 2 });
  const g = scheduleGrid(s);
  assert.equal(g.v, 2);
  assert.ok(Math.abs(g.formula - 1 / 9) < 1e-12);
  assert.deepEqual(g.stages[0].chunks, [[0, 1], [3]]);
  assert.deepEqual(g.stages[1].cells.map((c) => c[4]), [0, 1]);
  // the bubble is measured from the cells as ever (the chunk is a fifth field)
  assert.ok(Math.abs(g.bubble - (1 - 4 / (4 * 2))) < 1e-12);
});
