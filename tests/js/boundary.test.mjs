// Decision-boundary frames travel as bytes (d8: each cell as its difference from the cell
// on its left; base64); older runs recorded the bytes themselves (q8) or numbers.
import test from "node:test";
import assert from "node:assert/strict";
import { gridProbs } from "../../frontend/static/js/views/boundary.js";

const b64 = (...bytes) => btoa(String.fromCharCode(...bytes));
const as255 = (probs) => Array.from(probs, (p) => Math.round(p * 255));

test("a d8 frame decodes row by row, each cell from the one on its left, mod 256", () => {
  // rows [10, 12, 250, 5] and [200, 190, 0, 255]: each row's first cell as it is
  const grid = { nx: 4, ny: 2, extent: [0, 1, 0, 1], d8: b64(10, 2, 238, 11, 200, 246, 66, 255) };
  assert.deepEqual(as255(gridProbs(grid)), [10, 12, 250, 5, 200, 190, 0, 255]);
});

test("a q8 frame (runs recorded before) decodes to probabilities in 1/255 steps", () => {
  const probs = gridProbs({ nx: 2, ny: 2, extent: [0, 1, 0, 1], q8: b64(0, 51, 255, 128) });
  assert.deepEqual(as255(probs), [0, 51, 255, 128]);
  assert.ok(Math.abs(probs[1] - 0.2) < 1e-6);
});

test("frames recorded before hold their numbers as they are", () => {
  assert.deepEqual(gridProbs({ nx: 2, ny: 1, probs: [0.25, 0.75] }), [0.25, 0.75]);
  assert.equal(gridProbs({ nx: 2, ny: 1 }), null);
});
