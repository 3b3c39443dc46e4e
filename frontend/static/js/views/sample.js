// views/sample.js — what the transformer writes: the newest `sample` event (a fixed prompt and the model's greedy continuation), so students watch it go from noise to words.

import { setHidden } from "./dom.js";
import { t } from "../core/i18n.js";

export function createSampleView({ card, promptEl, textEl, noteEl }) {
  let drawnKey = null;

  function render(state) {
    const text = !!state.dataset && state.dataset.kind === "text";
    setHidden(card, !text);
    if (!text) return;
    const s = state.sample;
    const key = `${state.runId}|${s ? s.step : -1}|${document.documentElement.lang}`;
    if (key === drawnKey) return;
    drawnKey = key;
    textEl.dataset.step = s ? String(s.step) : "";
    promptEl.textContent = s ? s.prompt : "";
    textEl.textContent = s ? s.text : "";
    noteEl.textContent = s ? t("sample.asOf", { step: s.step }) : t("sample.waiting");
  }

  return {
    render,
    invalidate() {
      drawnKey = null;
    },
  };
}
