// The timeline draws the phases the engine measured (step event `phases`), in order.
import test from "node:test";
import assert from "node:assert/strict";
import { recSegments } from "../../frontend/static/js/views/timeline.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

test("a step's segments are its measured phases, in the engine's order", () => {
  const rec = { phases: [["wait", 1.5], ["compute", 2], ["emulated", 5], ["comm", 0.7]],
                compute_ms: 99, comm_ms: 99, wait_ms: 99, comm_modelled_ms: 3.25 };
  assert.deepEqual(recSegments(rec), [["wait", 1.5], ["compute", 2], ["emulated", 5], ["comm", 0.7]]);
  // On the modelled clock the communication is charged its modelled time.
  assert.deepEqual(recSegments(rec, true), [["wait", 1.5], ["compute", 2], ["emulated", 5], ["comm", 3.25]]);
});

test("a parameter-server step keeps its own phase names", () => {
  const rec = { phases: [["blocked", 40], ["compute", 1], ["push", 0.5]], pull_ms: 40, blocked_ms: 40 };
  assert.deepEqual(recSegments(rec), [["blocked", 40], ["compute", 1], ["push", 0.5]]);
});

test("runs recorded before steps carried phases are still drawn", () => {
  assert.deepEqual(recSegments({ wait_ms: 1, compute_ms: 2, comm_ms: 3 }),
    [["wait", 1], ["compute", 2], ["comm", 3]]);
});
