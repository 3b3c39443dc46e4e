// 表7's rows (views/placementtable.js) from GFS membership events, as the reducer
// (strategies/gfs/membership.js) keeps them: what a join and a leave moved, the balance
// after each, the scrub; a GFS run without a spare says so; a run that is not GFS too.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { placementRow, showsPlacement } from "../../frontend/static/js/views/placementtable.js";
import { membershipView } from "../../frontend/static/js/strategies/gfs/membership.js";

registerStrategies();

function run({ join = true, leave = true, strategy = "gfs" } = {}) {
  const out = [];
  let seq = 0;
  const push = (e) => out.push({ seq: ++seq, run_id: "p", t: seq / 100, rank: 0, step: 0, ...e });
  push({ type: "run_started", rank: null, step: null, strategy, world_size: 6, config: { strategy, workers: 5, steps: 4, options: { replicas: 2, placement: "consistent" } } });
  if (strategy !== "gfs") return out;
  push({ type: "gfs_members", reason: "start", members: [1, 2, 3, 4], outside: [5], policy: "consistent", vnodes: 32 });
  push({ type: "gfs_balance", reason: "written", policy: "consistent", counts: [[1, 39], [2, 27], [3, 37], [4, 25]], max: 39, mean: 32, ratio: 1.21875 });
  if (join) {
    push({ type: "gfs_members", step: 2, reason: "join", server: 5, members: [1, 2, 3, 4, 5], outside: [], policy: "consistent", vnodes: 32 });
    push({ type: "gfs_move", step: 2, chunk: 3, src: 1, dst: 5, bytes: 256, verified: true, reason: "join" });
    push({ type: "gfs_move", step: 2, chunk: 9, src: 2, dst: 5, bytes: 256, verified: true, reason: "join" });
    push({ type: "gfs_rebalance", step: 2, reason: "join", server: 5, policy: "consistent", moved: 2, planned: 2, chunks: 2, deleted: 2, bytes: 512, total: 128, fraction: 2 / 128 });
    push({ type: "gfs_balance", step: 2, reason: "join", policy: "consistent", counts: [[1, 29], [2, 24], [3, 28], [4, 21], [5, 26]], max: 29, mean: 25.6, ratio: 1.132812 });
    push({ type: "gfs_scrub", step: 2, reason: "join", verified: 128, bad: [], full: true, under: [] });
  }
  if (leave) {
    push({ type: "gfs_members", step: 3, reason: "leave", server: 1, members: [2, 3, 4, 5], outside: [1], policy: "consistent", vnodes: 32 });
    push({ type: "gfs_move", step: 3, chunk: 4, src: 1, dst: 3, bytes: 256, verified: true, reason: "leave" });
    push({ type: "gfs_rebalance", step: 3, reason: "leave", server: 1, policy: "consistent", moved: 1, planned: 1, chunks: 1, deleted: 1, bytes: 256, total: 128, fraction: 1 / 128 });
    push({ type: "gfs_balance", step: 3, reason: "leave", policy: "consistent", counts: [[2, 30], [3, 38], [4, 30], [5, 30]], max: 38, mean: 32, ratio: 1.1875 });
    push({ type: "gfs_scrub", step: 3, reason: "leave", verified: 127, bad: [[7, 2]], full: false, under: [7] });
  }
  return out;
}

test("a join and a leave: moved, balance after each, the last scrub", () => {
  const row = placementRow(reduceEvents(run()));
  assert.equal(row.gfs, true);
  assert.equal(row.policy, "consistent");
  assert.equal(row.vnodes, 32);
  assert.deepEqual(row.written, { ratio: 1.21875, max: 39, mean: 32, servers: 4 });
  assert.equal(row.join.moved, 2);
  assert.equal(row.join.total, 128);
  assert.equal(row.join.fraction, 2 / 128);
  assert.equal(row.join.server, 5);
  assert.equal(row.join.step, 2);
  assert.equal(row.join.verified, 2); // both gfs_move of the join checked their crc32
  assert.deepEqual(row.join.balance, { ratio: 1.132812, max: 29, mean: 25.6, servers: 5 });
  assert.deepEqual(row.join.scrub, { full: true, verified: 128, bad: 0 });
  assert.equal(row.leave.moved, 1);
  assert.equal(row.leave.server, 1);
  assert.deepEqual(row.leave.scrub, { full: false, verified: 127, bad: 1 });
});

test("the reducer remembers who is outside the placement: the spare, then the retired", () => {
  const evs = run();
  const before = membershipView(reduceEvents(evs.slice(0, 3)));
  assert.deepEqual(before.outside, [5]);
  assert.deepEqual(before.retired, []);
  const after = membershipView(reduceEvents(evs));
  assert.deepEqual(after.outside, [1]);
  assert.deepEqual(after.retired, [1]);
  assert.equal(after.moves.length, 3);
});

test("a GFS run without a spare or a leave says which option it lacked", () => {
  const row = placementRow(reduceEvents(run({ join: false, leave: false })));
  assert.deepEqual(row.join, { reason: "noJoin" });
  assert.deepEqual(row.leave, { reason: "noLeave" });
  assert.equal(row.written.ratio, 1.21875);
});

test("a run that is not GFS has no row, and 表7 shows only with a GFS run", () => {
  const dp = reduceEvents(run({ strategy: "data_parallel" }));
  assert.deepEqual(placementRow(dp), { gfs: false });
  assert.equal(showsPlacement([dp]), false);
  assert.equal(showsPlacement([dp, reduceEvents(run())]), true);
});
