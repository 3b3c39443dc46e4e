// netmodel.js against the golden table that engine/costmodel.py (the owner of the α–β
// formulas) writes to tests/golden/alphabeta.json: the browser's chart must draw the same
// all-reduce times the engine charges. Regenerate the table with
// `python -m engine.costmodel --golden > tests/golden/alphabeta.json`. Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  allreduceMs,
  curvesBySize,
  curvesByWorkers,
  MODEL_ALGOS,
  ringTreeCrossover,
} from "../../frontend/static/js/strategies/data_parallel/netmodel.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

const GOLDEN = JSON.parse(readFileSync(new URL("../golden/alphabeta.json", import.meta.url), "utf8"));
const REL = 1e-9;
const WORLD_SIZES = [...new Set(GOLDEN.cases.map((c) => c.n))];
const SIZES = [...new Set(GOLDEN.cases.map((c) => c.bytes))];

function close(actual, expected, what) {
  const ok = Math.abs(actual - expected) <= REL * Math.abs(expected);
  assert.ok(ok, `${what}: ${actual} ≠ ${expected} (relative tolerance ${REL})`);
}

const label = (c) => `${c.algorithm} n=${c.n} N=${c.bytes} α=${c.latency_us} β=${c.bandwidth_gbps}`;

/** The golden cases of one network, keyed "algo/n/bytes". */
function byNetwork() {
  const nets = new Map();
  for (const c of GOLDEN.cases) {
    const key = `${c.latency_us}/${c.bandwidth_gbps}`;
    if (!nets.has(key)) nets.set(key, { alpha: c.latency_us, beta: c.bandwidth_gbps, cases: new Map() });
    nets.get(key).cases.set(`${c.algorithm}/${c.n}/${c.bytes}`, c.ms);
  }
  return [...nets.values()];
}

test("the golden table has cases for every algorithm the chart draws", () => {
  assert.ok(GOLDEN.cases.length > 100);
  assert.deepEqual([...new Set(GOLDEN.cases.map((c) => c.algorithm))].sort(), [...MODEL_ALGOS].sort());
});

test("allreduceMs reproduces every golden case", () => {
  for (const c of GOLDEN.cases) {
    close(allreduceMs(c.algorithm, c.n, c.bytes, c.latency_us, c.bandwidth_gbps), c.ms, label(c));
  }
});

test("ringTreeCrossover reproduces the golden crossovers (null where the ring never loses)", () => {
  for (const c of GOLDEN.crossover) {
    const got = ringTreeCrossover(c.n, c.latency_us, c.bandwidth_gbps);
    const what = `crossover n=${c.n} α=${c.latency_us} β=${c.bandwidth_gbps}`;
    if (c.bytes === null) assert.equal(got, null, what);
    else close(got, c.bytes, what);
  }
});

test("the chart's curves by message size go through the golden decades", () => {
  for (const net of byNetwork()) {
    for (const n of WORLD_SIZES) {
      // 1 KB … 1 GB, one point per decade: the sizes of the golden table's decades
      const curves = curvesBySize(n, net.alpha, net.beta, 1e3, 1e9, 7);
      let checked = 0;
      curves.x.forEach((x, i) => {
        for (const algo of MODEL_ALGOS) {
          const ms = net.cases.get(`${algo}/${n}/${Math.round(x)}`);
          if (ms === undefined) continue;
          close(curves[algo][i], ms, `curvesBySize ${algo} n=${n} N=${x} α=${net.alpha} β=${net.beta}`);
          checked++;
        }
      });
      assert.equal(checked, 7 * MODEL_ALGOS.length, `every decade of n=${n} is in the table`);
    }
  }
});

test("the chart's curves by number of workers go through the golden world sizes", () => {
  for (const net of byNetwork()) {
    for (const N of SIZES) {
      const curves = curvesByWorkers(N, net.alpha, net.beta, Math.max(...WORLD_SIZES));
      let checked = 0;
      curves.x.forEach((n, i) => {
        for (const algo of MODEL_ALGOS) {
          const ms = net.cases.get(`${algo}/${n}/${N}`);
          if (ms === undefined) continue;
          close(curves[algo][i], ms, `curvesByWorkers ${algo} n=${n} N=${N} α=${net.alpha} β=${net.beta}`);
          checked++;
        }
      });
      assert.equal(checked, WORLD_SIZES.length * MODEL_ALGOS.length, `every golden n at N=${N}`);
    }
  }
});
