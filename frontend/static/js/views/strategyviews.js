// views/strategyviews.js — the strategies' views on the page: mounted once, the topology card's picked per run from its spec's `views` list.
//
// Every registered frontend's views are mounted (each finds its own card); every panel
// renders for every run and shows itself only when the run has what it draws. The
// topology card has one view at a time: the first of the run's spec's `views` that a
// frontend draws as a topology (the parameter server's `ps_topology`), else the default
// frontend's `topology` (the ring). Without the spec (not loaded), the views of the
// strategy's frontend are taken instead.

import { frontendFor, strategyFrontends } from "../core/registry.js";
import { strategySpec } from "../core/specs.js";

/** Mount every strategy's views; `ctx` is what a mount needs ({$, stage, player,
 *  syncExtras, setChartX}). */
export function mountStrategyViews(ctx) {
  const topologies = new Map(); // view name -> view
  const panels = [];
  let fallback = null;
  for (const fe of strategyFrontends()) {
    for (const [name, def] of Object.entries(fe.views || {})) {
      const view = def.mount(ctx);
      if (!def.topology) panels.push(view);
      else {
        topologies.set(name, view);
        if (fe.default && !fallback) fallback = name;
      }
    }
  }
  const all = [...topologies.values(), ...panels];
  let chromeOf = null; // the topology view the page's chrome was last set for

  /** The name of the topology view that draws this run. */
  function topologyFor(state) {
    const strategy = state.strategy || (state.config && state.config.strategy);
    const spec = strategy ? strategySpec(strategy) : null;
    const fe = frontendFor(strategy);
    const listed = spec ? spec.views || [] : Object.keys((fe && fe.views) || {});
    return listed.find((v) => topologies.has(v)) || fallback;
  }

  /** Draw the run: its topology (the others hidden, the page's chrome set for it), then
   *  every panel. */
  function render(state) {
    const name = topologyFor(state);
    for (const [n, v] of topologies) if (n !== name) v.hide?.();
    topologies.get(name)?.render(state);
    if (name !== chromeOf) {
      chromeOf = name;
      // the others' chrome off first, then this one's on: several views set the card's
      // title, and the one drawing the run must have the last word
      for (const [n, v] of topologies) if (n !== name) v.chrome?.(false);
      topologies.get(name)?.chrome?.(true);
    }
    for (const v of panels) v.render(state);
  }

  /** Call `method` on every view that has it. */
  function each(method, ...args) {
    for (const v of all) v[method]?.(...args);
  }

  return {
    render,
    each,
    /** The language changed: redo the chrome on the next render, and redraw the words. */
    relocalize() {
      chromeOf = null;
      each("relocalize");
    },
  };
}
