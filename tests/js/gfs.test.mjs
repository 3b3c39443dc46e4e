// GFS's slice: the store's columns from the master's newest map (a dead server's column
// greyed with what it held, the re-replicated copies marked, a replica a fault corrupted
// marked bad until a read catches it), and the reads of the newest epoch, counted.
import test from "node:test";
import assert from "node:assert/strict";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { storeView } from "../../frontend/static/js/strategies/gfs/slice.js";

registerStrategies();

const WRITTEN = [[1, 2, 3], [2, 3, 4], [3, 4, 1], [4, 1, 2]];

function events() {
  const out = [];
  let seq = 0;
  const push = (e) => out.push({ seq: ++seq, run_id: "g", t: seq / 100, rank: 0, ...e });
  const map = (step, reason, chunks, extra = {}) => push({ type: "gfs_map", step, reason, replicas: 3, chunks, live: [1, 2, 3, 4].filter((s) => !(extra.dead || []).includes(s)), dead: [], copies: [], under: chunks.map((h, c) => (h.length < 3 ? c : -1)).filter((c) => c >= 0), ...extra });
  push({ type: "run_started", rank: null, step: null, strategy: "gfs", world_size: 5, config: { strategy: "gfs", workers: 4, steps: 2, options: { replicas: 3, chunk_samples: 8 } } });
  for (let r = 0; r < 5; r++) push({ type: "worker_started", rank: r, step: null, pid: 100 + r, role: r ? "worker" : "master" });
  WRITTEN.forEach((chain, c) => push({ type: "gfs_write", step: 0, chunk: c, chain, bytes: 128, first: 8 * c, samples: 8 }));
  push({ type: "gfs_setup", step: 0, chunks: 4, chunk_samples: 8, samples: 32, replicas: 3, placement: "round_robin", servers: [1, 2, 3, 4], bytes: 512, directory: "/tmp/x" });
  map(0, "written", WRITTEN);
  push({ type: "gfs_corrupted", rank: 1, step: 1, chunk: 0, server: 1, offset: 64, block: 0 });
  for (let c = 0; c < 4; c++) push({ type: "gfs_read", step: 1, chunk: c, server: WRITTEN[c][0], status: "ok", attempt: 1, bytes: 128, failed_over: false, first: 8 * c, samples: 8 });
  out.mark = seq; // after epoch 1's reads: the corruption is not caught yet
  push({ type: "gfs_read", step: 2, chunk: 0, server: 1, status: "corrupt", attempt: 1, bytes: 0, blocks: [0] });
  map(2, "corrupt", [[2, 3], ...WRITTEN.slice(1)], { server: 1, chunk: 0 });
  push({ type: "gfs_read", step: 2, chunk: 0, server: 2, status: "ok", attempt: 2, bytes: 128, failed_over: true, first: 0, samples: 8 });
  push({ type: "gfs_rereplicate", step: 2, chunk: 0, src: 2, dst: 4, bytes: 128, copies: 3 });
  map(2, "rereplicated", [[2, 3, 4], ...WRITTEN.slice(1)], { copies: [[0, 4]] });
  map(2, "server_dead", [[2, 4], [2, 4], [4, 1], [4, 1, 2]], { server: 3, dead: [3], copies: [[0, 4]] });
  push({ type: "gfs_read", step: 2, chunk: 1, server: 3, status: "unreachable", attempt: 1, bytes: 0 });
  push({ type: "gfs_read", step: 2, chunk: 1, server: 4, status: "ok", attempt: 2, bytes: 128, failed_over: true, first: 8, samples: 8 });
  return out;
}

test("the columns follow the master's newest map", () => {
  const evs = events();
  const before = reduceEvents(evs.filter((e) => e.seq <= evs.mark));
  const v0 = storeView(before);
  assert.deepEqual(v0.columns.map((c) => c.chunks.map((x) => x.chunk)), [[0, 2, 3], [0, 1, 3], [0, 1, 2], [1, 2, 3]]);
  assert.equal(v0.columns[0].chunks[0].primary, true);
  assert.equal(v0.columns[0].chunks[0].bad, true); // corrupted on disk, not caught yet
  assert.equal(v0.corrupted[0].caughtIn, null);
  assert.equal(v0.step, 1);
  assert.deepEqual(v0.reads, { total: 4, ok: 4, failedOver: 0, corrupt: 0, unreachable: 0, local: 0, remote: 4, byServers: false });

  const v = storeView(reduceEvents(evs));
  assert.equal(v.columns[2].dead, true);
  assert.deepEqual(v.columns[2].lost, [0, 1, 2]); // what server 3 held when it died
  assert.deepEqual(v.columns[2].chunks, []);
  assert.ok(!v.columns[0].chunks.some((x) => x.chunk === 0)); // the bad replica is gone
  const copy = v.columns[3].chunks.find((x) => x.chunk === 0);
  assert.equal(copy.copy, true);
  assert.equal(v.corrupted[0].caughtIn, 2);
  assert.deepEqual(v.reads, { total: 4, ok: 0, failedOver: 2, corrupt: 1, unreachable: 1, local: 0, remote: 2, byServers: false });
  assert.deepEqual(v.map.under, [0, 1, 2]);
  assert.equal(v.rerepBytes, 128);
});

test("with the chunkservers reading, the reads from their own disks are counted", () => {
  const evs = events().filter((e) => e.type !== "gfs_read" || e.step !== 2);
  let seq = evs[evs.length - 1].seq;
  for (let c = 0; c < 4; c++) {
    const reader = c === 0 ? 4 : c + 1; // server 4 holds no copy of chunk 0
    const local = WRITTEN[c].includes(reader);
    evs.push({ seq: ++seq, run_id: "g", t: 1 + seq / 100, type: "gfs_read", rank: 0, step: 2, chunk: c, server: local ? reader : WRITTEN[c][0], reader, local, status: "ok", attempt: 1, bytes: 128, failed_over: false, first: 8 * c, samples: 8 });
  }
  const v = storeView(reduceEvents(evs));
  assert.equal(v.step, 2);
  assert.deepEqual([v.reads.local, v.reads.remote, v.reads.byServers], [3, 1, true]);
});
