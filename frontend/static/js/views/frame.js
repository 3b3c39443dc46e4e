// views/frame.js — the page's heavy draws (a Plotly chart, the views of a new step) run in animation frames, a few milliseconds' worth per frame, and a chart out of sight waits.
//
// Each view used to draw from a timer of its own: the page's render, the loss chart, the
// tail-latency card and the compression card's three charts each came in a task of its
// own, at moments unrelated to the screen's frames, often several in one frame. Here a
// draw is queued under a name (the newest one per name wins, in the order first queued)
// and run at the start of an animation frame; once a frame has spent BUDGET_MS the rest
// wait for the next one, and a heavy draw (a Plotly chart) gets a frame to itself, so no
// frame carries more than one of them.

const BUDGET_MS = 4;
// A tab in the background runs no animation frames: draw from a timer instead.
const FALLBACK_MS = 200;

const jobs = new Map(); // name -> draw
const heavyJobs = new Set(); // names of the draws that take a frame of their own
let scheduled = false;

function flush() {
  scheduled = false;
  const t0 = performance.now();
  let ran = 0;
  for (const [name, fn] of jobs) {
    const heavy = heavyJobs.has(name);
    // a heavy draw (a Plotly chart) starts a frame, and nothing follows it in that frame
    if (heavy && ran) break;
    jobs.delete(name);
    heavyJobs.delete(name);
    ran++;
    try {
      fn();
    } catch (err) {
      setTimeout(() => {
        throw err; // reported as the page's error, after the other draws ran
      });
    }
    if (heavy || performance.now() - t0 > BUDGET_MS) break;
  }
  if (jobs.size) schedule();
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    flush();
  };
  requestAnimationFrame(go);
  const timer = setTimeout(go, FALLBACK_MS);
}

/** Run `fn` in an animation frame soon (replacing a draw queued under the same name);
 *  `heavy`: in a frame of its own. */
export function inFrame(name, fn, { heavy = false } = {}) {
  jobs.set(name, fn);
  if (heavy) heavyJobs.add(name);
  else heavyJobs.delete(name);
  schedule();
}

/** Whether `el` is (partly) in the viewport, as an IntersectionObserver last reported;
 *  `onShow` is called each time it comes into view. */
export function watchInView(el, onShow) {
  let shown = true; // until the first report
  if (typeof IntersectionObserver !== "undefined") {
    new IntersectionObserver((entries) => {
      const now = entries[entries.length - 1].isIntersecting;
      const was = shown;
      shown = now;
      if (now && !was) onShow?.();
    }).observe(el);
  }
  return () => shown;
}

/**
 * A draw in several parts (`steps`, each called with the same arguments), run one after
 * another in animation frames: as many per frame as fit in the budget, so that the parts
 * of one heavy draw are spread over a few frames instead of one long one. A request while
 * a pass runs starts the next pass when it ends (never cutting the current one short: the
 * last parts always show what the first ones showed). `args()` gives the arguments, read
 * when the pass begins.
 */
export function createFramePass(name, steps) {
  let running = false;
  let wanted = null; // args() of the pass to run next

  function start(args) {
    running = true;
    let got = null;
    let i = 0;
    const next = () =>
      inFrame(name, () => {
        if (!got) got = args();
        try {
          steps[i++](...got);
        } finally {
          if (i < steps.length) next();
          else {
            running = false;
            if (wanted) {
              const a = wanted;
              wanted = null;
              start(a);
            }
          }
        }
      });
    next();
  }

  return function request(args) {
    if (running) wanted = args;
    else start(args);
  };
}
