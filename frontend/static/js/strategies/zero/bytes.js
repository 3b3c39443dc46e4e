// strategies/zero/bytes.js — what ZeRO's collectives send per worker per step, by stage: the formula line of the bytes card (data_parallel/linkbytes.js asks for it through the frontend's `traffic` hook).
//
// Every collective of engine/strategies/zero.py is a ring collective over the flat vector
// of all N bytes of parameters: an all-gather or a reduce-scatter sends (n−1)/n·N per
// worker, an all-reduce (a reduce-scatter, then an all-gather) 2(n−1)/n·N. Per step:
//
//   stage 1: all-reduce of the gradients + all-gather of the new parameters  = 3(n−1)/n·N
//   stage 2: reduce-scatter of the gradients + all-gather of the new parameters = 2(n−1)/n·N
//   stage 3: all-gather of the parameters before the forward pass
//            + reduce-scatter of the gradients                                = 2(n−1)/n·N
//
// Where the paper counts otherwise, the card says so in a second line:
// - stage 1: each worker only needs its own shard's summed gradient, so a reduce-scatter
//   would do (2(n−1)/n·N, "the same as data parallelism", §7.2.1); ours all-reduces,
//   because stage 1 keeps the whole gradient.
// - stage 3: the paper (and FSDP) frees the gathered parameters after the forward pass
//   and all-gathers them again for the backward: 3(n−1)/n·N, 1.5× data parallelism
//   (§7.2.2); ours keeps them through the backward (fewer bytes, more memory at the peak).
//
// References: Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
// Parameter Models", SC 2020, §7.2; Patarasuk & Yuan, JPDC 2009 (the ring).

import { isNum } from "../../core/log.js";

/** How many times (n−1)/n·N each worker sends per step, by stage: ours, and the paper's. */
export const RING_PASSES = { "1": 3, "2": 2, "3": 2 };
export const PAPER_PASSES = { "1": 2, "2": 2, "3": 3 };

/**
 * Pure: the bytes card's expectation for a ZeRO run of `stage` on n workers with N bytes
 * of parameters: {perRank: [{sent, recv}], headline, formula: {key, vars}, note, ring}.
 * `vars` hold byte counts (the card formats them); `note` is null where the paper agrees.
 */
export function zeroTraffic(stage, n, N) {
  const passes = RING_PASSES[stage];
  if (!passes || !(n > 1) || !isNum(N)) return { perRank: [], headline: null, formula: null, note: null, ring: true };
  const per = (passes * (n - 1) * N) / n;
  const paper = (PAPER_PASSES[stage] * (n - 1) * N) / n;
  return {
    perRank: Array.from({ length: n }, () => ({ sent: per, recv: per })),
    headline: per,
    formula: { key: `zero.bytes.${stage}`, vars: { per } },
    note: paper === per ? null : { key: `zero.bytes.paper${stage}`, vars: { paper } },
    ring: true, // shards of unequal size make the ranks' counts differ by a few bytes
  };
}
