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

import { calcQuery, caseSetup, modelOf, parseCalcQuery } from "../../frontend/static/js/views/calculatorcore.js";

const cases = JSON.parse(readFileSync(new URL("../../frontend/static/data/cases.json", import.meta.url))).cases;

test("every published case goes into the calculator's URL and comes back the same", () => {
  assert.ok(cases.length >= 3);
  for (const c of cases) {
    const setup = caseSetup(c);
    for (const k of ["params", "layers", "hidden", "heads", "data", "pipeline", "tensor", "zero"]) assert.ok(setup[k] != null, `${c.id}: ${k}`);
    const q = calcQuery(setup, c.id);
    const back = parseCalcQuery(q);
    assert.equal(back.case, c.id);
    assert.equal(back.model, modelOf(setup));
    const shape = back.model ? { ...back.setup, ...Object.fromEntries(["params", "layers", "hidden", "heads"].map((k) => [k, setup[k]])) } : back.setup;
    const { model: _m, ...want } = setup;
    assert.deepEqual(shape, { ...want, ...shape }, c.id);
    for (const [k, v] of Object.entries(want)) assert.equal(shape[k], v, `${c.id}: ${k}`);
    // the paper's GPU count
    assert.equal(setup.data * setup.pipeline * setup.tensor, c.gpus, c.id);
  }
});

test("the URL's inputs: unreadable or out-of-range values are left out", () => {
  const q = parseCalcQuery("?model=nope&data=0&pipeline=2.5&tensor=8&zero=4&mixed=1&recompute=0&seq=abc&params=7.5e9");
  assert.equal(q.model, null);
  assert.deepEqual(q.setup, { tensor: 8, mixed: true, recompute: false, params: 7.5e9 });
  assert.equal(parseCalcQuery("?model=llama3-405b").model, "llama3-405b");
});
