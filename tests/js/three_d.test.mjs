// 3-D parallelism's slice: the mesh from its one event, the bytes per kind of group from
// the step events, and the pipeline of replica 0, slice 0 for the schedule grid.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { applyEvent, initialState } from "../../frontend/static/js/core/reducer.js";
import { scheduleGrid } from "../../frontend/static/js/strategies/pipeline/slice.js";
import { groupsOf, meshView } from "../../frontend/static/js/strategies/three_d/slice.js";

registerStrategies();

// The 2 × 2 × 2 mesh as engine/strategies/three_d.py lays it out: rank = (d·pp + p)·tp + t.
const coords = (r) => [r >> 2, (r >> 1) & 1, r & 1];
const rankOf = (d, p, t) => (d * 2 + p) * 2 + t;
const ranks = Array.from({ length: 8 }, (_, r) => {
  const [d, p, t] = coords(r);
  return { rank: r, coords: [d, p, t], groups: { data: [0, 1].map((i) => rankOf(i, p, t)), pipeline: [0, 1].map((i) => rankOf(d, i, t)), tensor: [0, 1].map((i) => rankOf(d, p, i)) } };
});

test("the mesh, its groups and the bytes per group of the newest step every rank reported", () => {
  let s = initialState();
  let seq = 0;
  const ev = (e) => {
    s = applyEvent(s, { seq: ++seq, run_id: "r", t: 1, ...e });
  };
  ev({ type: "run_started", strategy: "three_d", world_size: 8, config: { strategy: "three_d", workers: 8, layers: 2, options: { dp: 2, pp: 2, tp: 2, schedule: "gpipe", micro_batches: 2 } } });
  assert.equal(meshView(s), null); // nothing to draw before the mesh
  ev({ type: "mesh", rank: 0, dp: 2, pp: 2, tp: 2, order: ["tensor", "pipeline", "data"], ranks });
  let v = meshView(s);
  assert.deepEqual([v.dp, v.pp, v.tp, v.traffic], [2, 2, 2, null]);
  const g = groupsOf(v, 5);
  assert.deepEqual([[...g.tensor], [...g.pipeline], [...g.data]], [[4, 5], [5, 7], [1, 5]]);

  const cells = (p) => [["F", 0, p, p + 1], ["B", 0, 3 - p, 4 - p]];
  const step = (k, r) => ({ type: "step", rank: r, step: k, loss: 1, coords: coords(r), schedule: cells(coords(r)[1]), sent_by_group: { tensor: 100, pipeline: 10 * (r + 1), data: 1 } });
  for (let r = 0; r < 8; r++) ev(step(1, r));
  for (let r = 0; r < 7; r++) ev(step(2, r)); // rank 7 has not reported step 2: step 1 is shown
  v = meshView(s);
  assert.equal(v.traffic.step, 1);
  assert.deepEqual(v.traffic.total, { tensor: 800, pipeline: 360, data: 8 });
  assert.equal(v.traffic.byRank[3].sent.pipeline, 40);

  // The schedule grid draws one pipeline: rank 0's pipeline group, ranks 0 and 2.
  const grid = scheduleGrid(s);
  assert.equal(grid.p, 2);
  assert.deepEqual(grid.stages.map((x) => x.rank), [0, 2]);
  assert.equal(grid.step, 2); // ranks 0 and 2 both reported step 2
});
