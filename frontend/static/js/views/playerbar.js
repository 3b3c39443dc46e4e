// views/playerbar.js — the player bar under the narration: the scrubber, Replay and its speed, Live.
// Their glyphs are inline SVG icons in index.html (no font has to have ⏸).

import { setData, setProp, setText } from "./dom.js";
import { t } from "../core/i18n.js";
import { cursorUnit } from "../core/selectors.js";

const $ = (id) => document.getElementById(id);

/** Wire the bar to the player. `onScrub()` runs before a scrub (the ring's packets stop);
 *  `hasRun()` says whether a run is loaded. */
export function createPlayerBar({ player, onScrub, hasRun }) {
  $("scrubber").addEventListener("input", (ev) => {
    onScrub();
    player.scrubTo(Number(ev.target.value));
  });
  $("btn-live").addEventListener("click", () => player.goLive());
  $("btn-replay").addEventListener("click", () => player.togglePlay());
  $("replay-speed").addEventListener("change", (ev) => player.setSpeed(Number(ev.target.value)));

  /** The speed choices in the page's language ("10 steps/s"). */
  function localize() {
    for (const o of $("replay-speed").options) o.textContent = t("player.speedUnit", { n: o.value });
  }

  function render(info) {
    const scrub = $("scrubber");
    const last = info.lastStep;
    setProp(scrub, "disabled", last < 1);
    setProp(scrub, "max", String(Math.max(1, last)));
    if (document.activeElement !== scrub || info.playing) setProp(scrub, "value", String(Math.max(1, info.cursor || last || 1)));
    setText($("scrub-label"), last ? `${t(cursorUnit(player.liveState) === "iteration" ? "player.iterOf" : "player.stepOf", { step: info.cursor || last, last })} · ${t(
      info.playing ? "player.modeReplay" : info.mode === "live" ? "player.modeLive" : "player.modeScrub",
    )}` : "");
    const replay = $("btn-replay");
    setProp(replay, "disabled", last < 1);
    // the icon is drawn (an SVG per state, CSS shows one), the word comes from the catalog
    setData(replay, "playing", info.playing ? "yes" : "no");
    const label = $("replay-label");
    setData(label, "i18n", info.playing ? "player.pauseReplay" : "player.replay");
    setText(label, t(label.dataset.i18n));
    setProp($("btn-live"), "disabled", info.mode === "live");
    $("btn-live").classList.toggle("on", info.mode === "live" && !player.liveState.finished && hasRun());
  }

  localize();
  player.setSpeed(Number($("replay-speed").value));
  return { render, localize };
}
