// The page's draws in animation frames (frontend/static/js/views/frame.js): the newest
// draw per name, a heavy draw in a frame of its own, and a render pass whose parts all
// show the same state. Frames are stepped by hand here. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

// One animation frame at a time, run by the test (the scheduler's timer fallback is the
// browser's background-tab path: kept far off).
const frames = [];
globalThis.requestAnimationFrame = (fn) => frames.push(fn);
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = (fn, ms) => (ms >= 100 ? 0 : realSetTimeout(fn, ms));
globalThis.clearTimeout = () => {};
let clock = 0;
globalThis.performance = { now: () => clock };

const { createFramePass, inFrame } = await import("../../frontend/static/js/views/frame.js");
const { minSegWidth } = await import("../../frontend/static/js/views/timeline.js");

/** Run the pending animation frame(s) once; returns how many ran. */
function frame() {
  const now = frames.splice(0);
  for (const fn of now) fn(clock);
  return now.length;
}

test("the newest draw queued under a name is the one that runs", () => {
  const ran = [];
  inFrame("chart", () => ran.push("old"));
  inFrame("chart", () => ran.push("new"));
  frame();
  assert.deepEqual(ran, ["new"]);
  assert.equal(frame(), 0, "nothing left to run");
});

test("light draws share a frame; a heavy one gets a frame to itself", () => {
  const ran = [];
  inFrame("a", () => ran.push("a"));
  inFrame("b", () => ran.push("b"));
  inFrame("plot", () => ran.push("plot"), { heavy: true });
  inFrame("c", () => ran.push("c"));
  frame();
  assert.deepEqual(ran, ["a", "b"], "the heavy draw waits for a frame of its own");
  frame();
  assert.deepEqual(ran, ["a", "b", "plot"], "and nothing follows it in that frame");
  frame();
  assert.deepEqual(ran, ["a", "b", "plot", "c"]);
});

test("a frame that has spent its budget leaves the rest for the next one", () => {
  const ran = [];
  inFrame("slow", () => {
    clock += 10; // longer than the budget
    ran.push("slow");
  });
  inFrame("next", () => ran.push("next"));
  frame();
  assert.deepEqual(ran, ["slow"]);
  frame();
  assert.deepEqual(ran, ["slow", "next"]);
});

test("a render pass draws every part with the state it began with, then the newest", () => {
  const drawn = [];
  let state = 1;
  const request = createFramePass("render", [
    (s) => {
      clock += 10; // each part fills a frame
      drawn.push(["timeline", s]);
    },
    (s) => {
      clock += 10;
      drawn.push(["header", s]);
    },
  ]);
  request(() => [state]);
  frame();
  state = 2;
  request(() => [state]); // while the pass runs: after it, never cutting it short
  state = 3;
  request(() => [state]);
  while (frame());
  assert.deepEqual(drawn, [
    ["timeline", 1],
    ["header", 1],
    ["timeline", 3],
    ["header", 3],
  ]);
});

test("the narrowest segment is 1.5 px or a little more, the same while the scale drifts", () => {
  for (const k of [0.3, 1, 7.5, 450, 2000]) {
    const px = minSegWidth(k) * k;
    assert.ok(px >= 1.5 && px < 1.5 * 1.19 + 1e-9, `${k}: ${px}`);
  }
  assert.equal(minSegWidth(400), minSegWidth(408), "a 2 % change of scale: the same width");
});
