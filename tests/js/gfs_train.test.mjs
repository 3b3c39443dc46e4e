// Training through GFS: the reads grid's state from the events — each worker's dealt
// samples in order, read locally or remotely as the batch events say, the padded repeat
// marked, a sample not read yet left unread; locality counted over the samples read.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { readsView } from "../../frontend/static/js/strategies/gfs_train/slice.js";
import { serverRanks } from "../../frontend/static/js/core/selectors.js";

registerStrategies();

function events() {
  const out = [];
  let seq = 0;
  const push = (e) => out.push({ seq: ++seq, run_id: "t", t: seq / 100, rank: 0, ...e });
  push({ type: "run_started", rank: null, step: null, strategy: "gfs_train", world_size: 5, config: { strategy: "gfs_train", workers: 2, steps: 4, options: { replicas: 1, tail: "pad" } } });
  // 5 samples, 2 workers: sample 3 padded onto worker 1
  push({ type: "gfs_sampler", step: 1, epoch: 1, tail: "pad", source: "store", samples: 5, assignment: [[3, 0, 4], [1, 2, 3]], padded: [[], [3]], num_padded: 1, dropped: [], num_dropped: 0, per_worker: 3 });
  push({ type: "gfs_batch", step: 1, worker: 0, trainer: 1, epoch: 1, batch: 1, chunk: 0, server: 3, local: true, samples: [3, 0], padded: [], status: "ok", attempt: 1, bytes: 24 });
  push({ type: "gfs_batch", step: 1, worker: 1, trainer: 2, epoch: 1, batch: 1, chunk: 0, server: 3, local: false, samples: [1, 2], padded: [], status: "corrupt", attempt: 1, bytes: 0 });
  push({ type: "gfs_batch", step: 1, worker: 1, trainer: 2, epoch: 1, batch: 1, chunk: 0, server: 4, local: true, samples: [1, 2], padded: [], status: "ok", attempt: 2, bytes: 24 });
  push({ type: "gfs_batch", step: 2, worker: 1, trainer: 2, epoch: 1, batch: 2, chunk: 1, server: 3, local: false, samples: [3], padded: [3], status: "ok", attempt: 1, bytes: 12 });
  return out;
}

test("the grid follows the sampler and the reads", () => {
  const v = readsView(reduceEvents(events()));
  assert.equal(v.epoch, 1);
  assert.equal(v.step, 2);
  assert.deepEqual(v.rows[0].cells.map((c) => [c.sample, c.read, c.local]), [[3, true, true], [0, true, true], [4, false, null]]);
  assert.deepEqual(v.rows[1].cells.map((c) => [c.sample, c.local, c.padded, c.server]), [[1, true, false, 4], [2, true, false, 4], [3, false, true, 3]]);
  assert.equal(v.corrupt, 1); // the failed read is counted, its samples came from server 4
  assert.equal(v.local, 4);
  assert.equal(v.remote, 1);
  assert.equal(v.locality, 0.8);
});

test("the master and the chunkservers report no steps", () => {
  assert.deepEqual(serverRanks(reduceEvents(events())), [0, 3, 4]);
});
