// strategies/data_parallel/netmodel.js — the α–β (Hockney) cost of the all-reduce algorithms, as the engine charges them (pure).
//
// The α–β (Hockney) cost of the all-reduce algorithms, as the engine
// charges them: a message of N bytes over a link takes α + N/β. Pure functions, no DOM.
//
//   ring   2(n−1)·α + 2(n−1)/n·N/β      (reduce-scatter + all-gather, bandwidth-optimal)
//   tree   2⌈log2 n⌉·(α + N/β)          (binomial reduce + broadcast, latency-friendly)
//   naive  2(n−1)·(α + N/β)             (everything through rank 0's single port)
//
// α in microseconds, β in gigabits per second, N in bytes, results in milliseconds.
//
// Python owns these formulas (engine/costmodel.py, with their derivation and references);
// this copy exists because the browser draws the curves itself. The golden table that
// Python writes, tests/golden/alphabeta.json, keeps the two equal: tests/test_costmodel.py
// checks Python against it, tests/js/alphabeta-golden.test.mjs this file. Change a formula
// there first, regenerate the table, then follow here.

export const MODEL_ALGOS = ["ring", "tree", "naive"];

export function ceilLog2(n) {
  return n <= 1 ? 0 : Math.ceil(Math.log2(n) - 1e-12);
}

/** Time of one message of `bytes` over a link (ms). */
export function linkMs(alphaUs, betaGbps, bytes) {
  return alphaUs / 1e3 + (bytes * 8) / (betaGbps * 1e9) * 1e3;
}

/** Modelled time (ms) of one all-reduce of N bytes over n ranks. */
export function allreduceMs(algo, n, N, alphaUs, betaGbps) {
  if (!(n > 1)) return 0;
  const a = alphaUs / 1e3;
  const perByte = 8 / (betaGbps * 1e9) * 1e3;
  if (algo === "ring") return 2 * (n - 1) * a + ((2 * (n - 1)) / n) * N * perByte;
  if (algo === "tree") return 2 * ceilLog2(n) * (a + N * perByte);
  if (algo === "naive") return 2 * (n - 1) * (a + N * perByte);
  return NaN;
}

/** Message size (bytes) above which the ring beats the tree on n ranks, or null when one
 *  of them wins at every size (n = 2: the ring never loses). */
export function ringTreeCrossover(n, alphaUs, betaGbps) {
  const L = ceilLog2(n);
  // ring = tree  ⇔  N/β·(L − (n−1)/n) = α·((n−1) − L)
  const num = (n - 1 - L) * (alphaUs / 1e6);
  const den = (L - (n - 1) / n) * (8 / (betaGbps * 1e9));
  if (!(num > 0) || !(den > 0)) return null;
  return num / den;
}

/** n log-spaced values from lo to hi (inclusive). */
export function logspace(lo, hi, n) {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return Array.from({ length: n }, (_, i) => Math.pow(10, a + ((b - a) * i) / (n - 1)));
}

/** The curves of the chart against message size: {x: sizes, ring: [...], tree, naive}. */
export function curvesBySize(n, alphaUs, betaGbps, lo = 1e3, hi = 1e9, points = 61) {
  const x = logspace(lo, hi, points);
  const out = { x };
  for (const algo of MODEL_ALGOS) out[algo] = x.map((N) => allreduceMs(algo, n, N, alphaUs, betaGbps));
  return out;
}

/** The curves against the number of workers n = 2 … maxN at a fixed message size N. */
export function curvesByWorkers(N, alphaUs, betaGbps, maxN = 64) {
  const x = [];
  for (let n = 2; n <= maxN; n++) x.push(n);
  const out = { x };
  for (const algo of MODEL_ALGOS) out[algo] = x.map((n) => allreduceMs(algo, n, N, alphaUs, betaGbps));
  return out;
}

/** Tick values for a log axis from lo to hi: 1-2-5 steps when few decades, else decades. */
export function logTicks(lo, hi) {
  if (!(lo > 0) || !(hi > lo)) return [];
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.ceil(Math.log10(hi));
  const mults = Math.log10(hi / lo) <= 2.2 ? [1, 2, 5] : [1];
  const out = [];
  for (let d = d0; d <= d1; d++) {
    for (const m of mults) {
      const v = Number((m * Math.pow(10, d)).toPrecision(6));
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}
