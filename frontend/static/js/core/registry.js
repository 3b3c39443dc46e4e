// core/registry.js — the strategies' frontends, by name: the reducer finds their slices here, the common views their hooks.
//
// strategies/index.js registers every strategy the page knows (main.js calls it first
// thing; node tests too). A frontend is a plain object (see frontend/README.md):
//   name      the strategy's name, as in its spec (GET /api/strategies)
//   slice     its part of the reducer: {events, after, initial, lockstep, serverRanks,
//             tailLatency} (core/reducer.js, core/selectors.js say what each does)
//   catalog   its words, {en, zh} (merged into core/i18n.js)
//   views     its views, by the names its spec's `views` list uses
//   default   true for the one that also draws strategies without a frontend
//   …hooks    words and lines the common views ask it for (runWords, narrate,
//             articleKind/articleKeys, measuredLines, optionNotes, baselineConfig,
//             topologyCentre: the words in the middle of the workers' ring,
//             stragglerLine: the narration of a straggler, where the others wait)
// Nothing here imports anything: core and views may ask it without a cycle.

const frontends = [];

/** Add a strategy's frontend (a second one of the same name is ignored). */
export function registerStrategy(frontend) {
  if (!frontend || !frontend.name || frontends.some((f) => f.name === frontend.name)) return;
  frontends.push(frontend);
}

/** Every registered frontend, in registration order. */
export function strategyFrontends() {
  return frontends;
}

/** The frontend of a strategy, or null (single and plugins have none: common views only). */
export function frontendOf(name) {
  return frontends.find((f) => f.name === name) || null;
}

/** The frontend that draws a strategy: its own, else the one registered as `default`
 *  (data parallelism's: single and plugin strategies are drawn as it draws its runs — a
 *  ring of workers, its narration, its names), else null. */
export function frontendFor(name) {
  return frontendOf(name) || frontends.find((f) => f.default) || null;
}

/** The frontends a run's state names: its strategy's, and its config's (they agree for
 *  every run; a hand-made state may name only one). */
export function frontendsOf(state) {
  const names = [state && state.strategy, state && state.config && state.config.strategy];
  return frontends.filter((f) => names.includes(f.name));
}

/** Every registered reducer slice. */
export function slices() {
  return frontends.filter((f) => f.slice).map((f) => f.slice);
}

/** The slices of a run's strategy (see frontendsOf). */
export function slicesOf(state) {
  return frontendsOf(state)
    .filter((f) => f.slice)
    .map((f) => f.slice);
}

/** The slice that handles an event type of its own, or null. */
export function sliceFor(type) {
  return slices().find((s) => s.events && Object.hasOwn(s.events, type)) || null;
}

/** {strategy: [event types its slice handles]} of every registered slice. */
export function sliceEventTypes() {
  const out = {};
  for (const f of frontends) out[f.name] = Object.keys((f.slice && f.slice.events) || {});
  return out;
}
