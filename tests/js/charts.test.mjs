// The loss chart's explicit axis ranges (charts.js dataRanges): computed from the traces,
// not left to Plotly's autorange. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { dataRanges } from "../../frontend/static/js/views/charts.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

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
