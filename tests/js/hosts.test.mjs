// A torchrun run's hosts: the reducer follows hosts_waiting / hosts_joined / join_refused
// and the hosts panel's lines read from that state.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hostGroups, hostsProgress } from "../../frontend/static/js/core/hosts.js";
import { reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { hostLine, hostsStatusText, refusedLine } from "../../frontend/static/js/views/hosts.js";

const tr = (key, p = {}) => `${key}${JSON.stringify(p)}`;
const run = [
  { seq: 1, type: "run_started", t: 0, config: { workers: 4, strategy: "data_parallel" }, world_size: 4, backend: "auto" },
  { seq: 2, type: "hosts_waiting", t: 0.1, nnodes: 2, nproc_per_node: 2, rendezvous: "10.0.0.5:4000" },
  { seq: 3, type: "join_refused", t: 0.5, address: "10.0.0.9:5555", host: null, reason: "wrong join token" },
];
const joined = {
  seq: 4, type: "hosts_joined", t: 3, backend: "gloo",
  hosts: [{ node: 0, host: "a", address: "10.0.0.6", ranks: [0, 1] }, { node: 1, host: "b", address: "10.0.0.7", ranks: [2, 3] }],
};
const started = [0, 1, 2, 3].map((rank) => ({ seq: 5 + rank, type: "worker_started", t: 3.1, rank, pid: 100 + rank, host: rank < 2 ? "a" : "b", node: rank < 2 ? 0 : 1 }));

test("waiting: no host yet, the refused join is kept", () => {
  const s = reduceEvents(run);
  assert.deepEqual(hostsProgress(s), { joined: 0, expected: 2 });
  assert.deepEqual(hostGroups(s), []);
  assert.match(hostsStatusText(s, tr), /^hosts\.waiting/);
  assert.equal(refusedLine(s.hosts.refused[0], tr), 'hosts.refused{"who":"10.0.0.9:5555","reason":"wrong join token"}');
});

test("joined: workers grouped by host, the backend chosen then", () => {
  const s = reduceEvents([...run, joined, ...started]);
  assert.equal(s.backend, "gloo");
  assert.equal(s.workers[2].node, 1);
  const groups = hostGroups(s);
  assert.deepEqual(groups.map((g) => [g.host, g.workers.map((w) => w.rank)]), [["a", [0, 1]], ["b", [2, 3]]]);
  assert.ok(hostLine(groups[1], tr).startsWith('hosts.line{"host":"b","node":1,"address":"10.0.0.7"'));
});

test("a local run has no hosts panel", () => {
  const s = reduceEvents([run[0]]);
  assert.equal(hostsProgress(s), null);
  assert.equal(hostsStatusText(s, tr), "");
});

test("a run waiting for its hosts is starting (no pause, no faults), running once they joined", () => {
  assert.equal(reduceEvents(run).status, "starting");
  assert.equal(reduceEvents([...run, joined, ...started]).status, "running");
});
