// views/card.js — the shared plumbing of a card shown only when it applies to the run, its Plotly chart redrawn at most every few hundred ms.
//
// The shared plumbing of a card that is shown only when it applies to the run and
// whose Plotly chart is redrawn at most once every `intervalMs`. Several views (α–β,
// compression, staleness, tail latency, bytes per link) need exactly this: hide/show the
// card and tell the page (`onVisible`) when that changes, and coalesce a burst of state
// updates into one draw of the newest payload, because redrawing Plotly on every event of
// a fast run would stall the page. Keeping it in one place leaves each view with only its
// own drawing code.
//
// Options: `visibleFromDom` compares with `card.hidden` instead of the last value set
// (so nothing is reported when the card already is as asked); `consume` hands each
// payload to `draw` once and then forgets it.

import { inFrame, watchInView } from "./frame.js";

// A card out of sight (scrolled away: the extra panels sit below the page's fold) is
// redrawn once its payloads stop changing for SETTLE_MS (the run paused or ended), else at
// most every OFFSCREEN_MS, and at once when it comes into view.
export const OFFSCREEN_MS = 10000;
export const SETTLE_MS = 1000;

let cards = 0;
const HEAVY = { heavy: true }; // a card's draw is a Plotly chart: a frame of its own

export function createThrottledCard({ card, onVisible, intervalMs = 0, draw, consume = false, visibleFromDom = false }) {
  let visible = null;
  let pending = null;
  let timer = null; // set from the moment a draw is planned until it ran
  let settle = null;
  let last = 0;
  const name = `card-${++cards}`;
  const inView = watchInView(card, () => drawSoon());

  function setVisible(v) {
    if (visibleFromDom ? card.hidden === !v : v === visible) return;
    visible = v;
    card.hidden = !v;
    onVisible?.(v);
  }

  function fire() {
    last = performance.now();
    const payload = pending;
    if (consume) pending = null;
    draw(payload);
  }

  /** Draw in the next animation frame that has room for it. */
  function queue() {
    inFrame(
      name,
      () => {
        timer = null;
        fire();
      },
      HEAVY,
    );
  }

  /** The planned draw now instead of when its timer says (in sight again, settled). */
  function drawSoon() {
    if (!timer || !pending) return;
    clearTimeout(timer);
    queue();
  }

  /** Remember the newest payload and draw it (in an animation frame) once the interval
   *  since the last draw is up. */
  function schedule(payload) {
    pending = payload;
    if (!inView()) {
      clearTimeout(settle);
      settle = setTimeout(drawSoon, SETTLE_MS);
    }
    if (timer) return;
    const every = inView() ? intervalMs : Math.max(intervalMs, OFFSCREEN_MS);
    timer = setTimeout(queue, Math.max(0, every - (performance.now() - last)));
  }

  /** Draw the remembered payload, if any, as soon as possible (e.g. after an option change). */
  function redrawSoon() {
    if (!pending) return;
    clearTimeout(timer);
    timer = setTimeout(queue, 0);
  }

  return { setVisible, schedule, redrawSoon };
}
