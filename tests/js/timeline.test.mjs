// The timeline draws the phases the engine measured (step event `phases`), in order, or
// derives them from the step's timings when the engine left them out.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { recSegments, stepPhases } from "../../frontend/static/js/views/timeline.js";
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

test("steps without phases (runs recorded before steps carried them, and every usual step now) are drawn", () => {
  assert.deepEqual(recSegments({ wait_ms: 1, compute_ms: 2, comm_ms: 3 }),
    [["wait", 1], ["compute", 2], ["comm", 3]]);
});

// The same cases as the trace export (tests/test_phases.py): one rule in both languages.
const fixture = JSON.parse(readFileSync(new URL("./fixtures/step-phases.json", import.meta.url)));

test("a step's phases are read as the shared fixture says", () => {
  for (const { name, step, phases } of fixture.cases) {
    assert.deepEqual(stepPhases(step), phases, name);
  }
});

test("a step without phases is drawn as the same step with them spelled out", () => {
  const timings = { wait_ms: 0.5, compute_ms: 2, emulated_ms: 4, comm_ms: 0.71, comm_modelled_ms: 1.25 };
  const spelled = { ...timings, phases: [["wait", 0.5], ["compute", 2], ["emulated", 4], ["comm", 0.71]] };
  for (const modelled of [false, true]) {
    assert.deepEqual(recSegments(timings, modelled), recSegments(spelled, modelled));
  }
  assert.deepEqual(recSegments(timings, true).at(-1), ["comm", 1.25]);
});
