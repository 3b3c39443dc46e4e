// views/header.js — the header's run status (pill, connection note), the run buttons locked on runs this page does not control, the run list's active entry kept current.

import { setData, setHidden, setProp, setText } from "./dom.js";
import * as api from "../core/api.js";
import { getLang, t } from "../core/i18n.js";

const $ = (id) => document.getElementById(id);

/** Runs this page did not start (the instructor's, a classmate's) are watched, not
 *  controlled: without the run's token the server refuses (403). */
function lockControls(runId) {
  const mine = !runId || api.hasControl(runId);
  setData(document.body, "control", mine ? "yes" : "no");
  if (!mine) for (const id of ["btn-pause", "btn-step", "btn-stop"]) setProp($(id), "disabled", true);
}

/** Draw the header for the page's `app` state (main.js), the run's `status` and newest
 *  step, with the left panel's `controls`. */
export function renderRunHeader({ app, status, liveStep, controls }) {
  const pill = document.querySelector('[data-testid="run-status"]');
  setData(pill, "status", status);
  // one word, in the page's language (data-status stays the raw status)
  setText(pill, status === "none" ? "—" : getLang() === "en" ? status : t("status." + status));
  setProp(pill, "title", status === "none" ? "" : status);
  const local = $("status-local");
  setText(local, "");
  setHidden(local, true);
  setHidden($("conn-note"), app.connState !== "reconnecting");
  controls.setRunStatus(status, !!app.runId);
  lockControls(app.runId);
  setData(document.body, "runStatus", status);
  // keep the active entry of the run list current without polling the server
  const mine = app.runs.find((r) => r.id === app.runId);
  if (mine && status !== "none") {
    const step = liveStep;
    if (mine.status !== status || Math.floor(step / 10) !== Math.floor((mine.step || 0) / 10)) {
      mine.status = status;
      mine.step = step;
      controls.renderRuns(app.runs, app.runId, app.compareId);
    }
  }
}
