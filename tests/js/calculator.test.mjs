// The calculator's formulas in the page equal the engine's (engine/calculator.py), on
// the golden set-ups Python wrote (tests/test_calculator.py checks Python against papers).
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { perGpu } from "../../frontend/static/js/views/calculatorcore.js";

const golden = JSON.parse(readFileSync(new URL("../golden/calculator.json", import.meta.url)));

test("per GPU: memory by kind, bubble and bytes, as engine/calculator.py", () => {
  for (const { setup, expected } of golden.cases) {
    const got = perGpu(setup);
    for (const [k, v] of Object.entries(expected)) {
      assert.ok(Math.abs(got[k] - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${k}: ${got[k]} vs ${v} (${JSON.stringify(setup)})`);
    }
  }
});
