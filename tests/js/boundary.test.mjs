// Decision-boundary frames travel as bytes (q8, base64); older runs recorded numbers.
import test from "node:test";
import assert from "node:assert/strict";
import { gridProbs } from "../../frontend/static/js/views/boundary.js";

test("a q8 frame decodes to probabilities in 1/255 steps", () => {
  const bytes = String.fromCharCode(0, 51, 255, 128);
  const probs = gridProbs({ nx: 2, ny: 2, extent: [0, 1, 0, 1], q8: btoa(bytes) });
  assert.deepEqual(Array.from(probs, (p) => Math.round(p * 255)), [0, 51, 255, 128]);
  assert.ok(Math.abs(probs[1] - 0.2) < 1e-6);
});

test("frames recorded before hold their numbers as they are", () => {
  assert.deepEqual(gridProbs({ nx: 2, ny: 1, probs: [0.25, 0.75] }), [0.25, 0.75]);
  assert.equal(gridProbs({ nx: 2, ny: 1 }), null);
});
