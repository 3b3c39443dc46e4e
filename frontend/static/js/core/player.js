// core/player.js — owns time: the loaded run's event log, and which moment the views show (live, a scrubbed step, a replay).
//
// Owns time. Holds the event log of the loaded run and decides which
// moment the views show: "live" (follow the newest event) or a scrubbed cursor step,
// optionally advancing by itself (replay). Stale replay loops are cancelled with a
// generation counter, as in TensorFlow Playground's Player.

import { applyEvent, eventsBetween, initialState, reduceEvents } from "./reducer.js";
import { completeStep } from "./selectors.js";

export class Player {
  /**
   * @param {object} hooks
   *   render(viewState, info)   — draw every view; info = {mode, cursor, lastStep, playing}
   *   animate(stepInfo)         — a new step arrived while following live
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.speed = 10; // replay steps per second
    this.reset();
  }

  reset() {
    this.generation = (this.generation || 0) + 1;
    this.events = [];
    this.liveState = initialState();
    this.viewState = this.liveState;
    this.mode = "live";
    this.cursor = 0;
    this.playing = false;
    this.lastAnimatedStep = 0;
    this._recoveries = 0;
    this._cache = null; // {step, state} of the last scrubbed position
    this.requestRender();
  }

  get lastStep() {
    return this.liveState.lastStep;
  }

  get lastSeq() {
    return this.liveState.lastSeq;
  }

  /** Append events (seq order, duplicates ignored) to the log. */
  ingest(batch) {
    let fresh = false;
    for (const e of batch) {
      if (!e || typeof e.seq !== "number" || e.seq <= this.liveState.lastSeq) continue;
      this.events.push(e);
      this.liveState = applyEvent(this.liveState, e);
      fresh = fresh || e.type === "step";
    }
    if (this.mode === "live") {
      this.viewState = this.liveState;
      this.cursor = this.liveState.lastStep;
      // Animate the newest step that every rank has finished (so all of its messages
      // are in). When events outrun the animations (full speed), intermediate steps are
      // skipped rather than queued.
      // After a restart from a checkpoint the re-executed steps are animated again.
      const recs = this.liveState.recoveries || [];
      if (recs.length !== (this._recoveries || 0)) {
        this._recoveries = recs.length;
        if (recs.length) this.lastAnimatedStep = Math.min(this.lastAnimatedStep, recs[recs.length - 1].fromStep);
      }
      const done = fresh ? completeStep(this.liveState) : 0;
      if (done > this.lastAnimatedStep) {
        this.lastAnimatedStep = done;
        this.hooks.animate?.({ step: done, state: this.liveState });
      }
    }
    this.requestRender();
  }

  info() {
    return {
      mode: this.mode,
      cursor: this.mode === "live" ? this.liveState.lastStep : this.cursor,
      lastStep: this.liveState.lastStep,
      playing: this.playing,
    };
  }

  /** Show the run as of `step` (1..lastStep). */
  scrubTo(step, { keepPlaying = false } = {}) {
    const last = this.liveState.lastStep;
    if (!last) return;
    step = Math.max(1, Math.min(last, Math.round(step)));
    if (!keepPlaying) this.pause();
    this.mode = "scrub";
    this.cursor = step;
    const c = this._cache;
    let state;
    if (c && c.numEvents === this.events.length && c.step <= step) {
      state = c.step === step ? c.state : reduceEvents(eventsBetween(this.events, c.step, step), null, c.state);
    } else {
      state = reduceEvents(this.events, step);
    }
    this._cache = { step, state, numEvents: this.events.length };
    this.viewState = state;
    this.requestRender();
  }

  goLive() {
    this.pause();
    this.mode = "live";
    this.viewState = this.liveState;
    this.cursor = this.liveState.lastStep;
    this.lastAnimatedStep = this.liveState.lastStep;
    this.requestRender();
  }

  stepForward(delta = 1) {
    const from = this.mode === "live" ? this.liveState.lastStep : this.cursor;
    const to = from + delta;
    if (to > this.liveState.lastStep) {
      if (!this.liveState.finished) this.goLive();
      return;
    }
    this.scrubTo(to);
    this.hooks.animate?.({ step: to, state: this.viewState, replay: true });
  }

  /** Replay: advance the cursor by itself at `speed` steps per second. */
  play() {
    if (!this.liveState.lastStep) return;
    if (this.mode === "live" || this.cursor >= this.liveState.lastStep) this.scrubTo(1);
    this.playing = true;
    const gen = ++this.generation;
    const tickMs = Math.max(1000 / this.speed, 40);
    const perTick = Math.max(1, Math.round((this.speed * tickMs) / 1000));
    const tick = () => {
      if (gen !== this.generation || !this.playing) return;
      const to = this.cursor + perTick;
      if (to >= this.liveState.lastStep) {
        this.playing = false;
        if (this.liveState.finished) this.scrubTo(this.liveState.lastStep);
        else this.goLive();
        return;
      }
      this.scrubTo(to, { keepPlaying: true });
      this.hooks.animate?.({ step: to, state: this.viewState, replay: true });
      setTimeout(tick, tickMs);
    };
    setTimeout(tick, tickMs);
    this.requestRender();
  }

  pause() {
    if (this.playing) {
      this.playing = false;
      this.generation++;
      this.requestRender();
    }
  }

  togglePlay() {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(stepsPerSecond) {
    this.speed = Math.max(0.5, Number(stepsPerSecond) || 10);
    if (this.playing) {
      this.pause();
      this.play();
    }
  }

  /** Coalesce renders to at most ~12 per second. */
  requestRender() {
    if (this._renderTimer) return;
    const since = performance.now() - (this._lastRender || 0);
    this._renderTimer = setTimeout(() => {
      this._renderTimer = null;
      this._lastRender = performance.now();
      this.hooks.render?.(this.viewState, this.info());
    }, Math.max(0, 80 - since));
  }
}
