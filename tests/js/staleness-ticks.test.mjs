// The staleness histogram's x labels (strategies/parameter_server/psview.js): whole
// versions, spaced so that they never run into each other and never more than 12.
import test from "node:test";
import assert from "node:assert/strict";

import { stalenessTick } from "../../frontend/static/js/strategies/parameter_server/psview.js";

const count = (xmax, d) => Math.floor(xmax / d) + 1;

test("a short range keeps a label on every version", () => {
  assert.equal(stalenessTick(4, 250, 12), 1);
  assert.equal(stalenessTick(9, 400, 12), 1);
});

test("a wide range thins the labels to 1-2-5 steps, at most 12", () => {
  for (const xmax of [12, 27, 73, 142, 999, 12345]) {
    for (const [width, font] of [[200, 12], [300, 12], [900, 12], [250, 16], [1600, 16]]) {
      const d = stalenessTick(xmax, width, font);
      assert.ok([1, 2, 5].includes(d / 10 ** Math.floor(Math.log10(d) + 1e-9)), `${d}`);
      const n = count(xmax, d);
      assert.ok(n <= 12 && n >= 1, `${xmax} ${width}: ${n} labels`);
      // the labels' widths (about 0.62 em a digit) fit side by side, or there are just two
      const labelPx = String(xmax).length * font * 0.62;
      assert.ok(n <= 2 || n * labelPx <= width, `${xmax} ${width} ${font}: ${n} × ${labelPx}`);
    }
  }
  assert.equal(stalenessTick(27, 230, 12), 5);
  assert.equal(stalenessTick(73, 230, 12), 20);
  assert.equal(stalenessTick(73, 400, 12), 10);
});

test("a narrow plot still gets two labels", () => {
  const d = stalenessTick(80, 10, 16);
  assert.ok(count(80, d) <= 2);
});
