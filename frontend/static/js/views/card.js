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

export function createThrottledCard({ card, onVisible, intervalMs = 0, draw, consume = false, visibleFromDom = false }) {
  let visible = null;
  let pending = null;
  let timer = null;
  let last = 0;

  function setVisible(v) {
    if (visibleFromDom ? card.hidden === !v : v === visible) return;
    visible = v;
    card.hidden = !v;
    onVisible?.(v);
  }

  function fire() {
    timer = null;
    last = performance.now();
    const payload = pending;
    if (consume) pending = null;
    draw(payload);
  }

  /** Remember the newest payload and draw it once the interval since the last draw is up. */
  function schedule(payload) {
    pending = payload;
    if (timer) return;
    timer = setTimeout(fire, Math.max(0, intervalMs - (performance.now() - last)));
  }

  /** Draw the remembered payload, if any, as soon as possible (e.g. after an option change). */
  function redrawSoon() {
    if (pending) timer = timer || setTimeout(fire, 0);
  }

  return { setVisible, schedule, redrawSoon };
}
