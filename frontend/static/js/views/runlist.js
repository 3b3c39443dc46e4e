// views/runlist.js — the "Past runs" list: one line per run (its strategy, main option, workers
// and data set), kept in step with the run on screen. The list comes from GET /api/runs
// (polled every 10 s); the loaded run's own events say sooner when it ends. A list
// fetched just as the run finished can still say "running": the events win. Each run says
// how long the server keeps it (its `retention`, backend/retention.py) and whether an
// instructor pinned it; an instructor (who holds the key) can pin and unpin.

import { fmtNum, fmtTime, getLang, t } from "../core/i18n.js";
import { frontendFor, frontendOf } from "../core/registry.js";
import { TERMINAL_STATUSES } from "../core/selectors.js";
import { strategySpec, textIn } from "../core/specs.js";
import { networkName } from "./netlabels.js";

/**
 * Pure: `runs` with the entry of run `id` given the status (and step) the page knows from
 * that run's events. A terminal status from the events is never overwritten by a live one
 * from the server; a terminal status from the server stays. Returns {runs, changed}.
 */
export function mergeRunStatus(runs, id, status, step = null) {
  const i = id ? runs.findIndex((r) => r.id === id) : -1;
  if (i < 0 || !status || status === "none") return { runs, changed: false };
  const cur = runs[i];
  if (TERMINAL_STATUSES.includes(cur.status) && !TERMINAL_STATUSES.includes(status)) return { runs, changed: false };
  const nextStep = Number.isInteger(step) && step > (cur.step || 0) ? step : cur.step;
  if (cur.status === status && nextStep === cur.step) return { runs, changed: false };
  const out = [...runs];
  out[i] = { ...cur, status, step: nextStep };
  return { runs: out, changed: true };
}

/** A run's strategy in a few words, in one of the forms the common views use ("list":
 *  the run list, with its main option; "name": the compare view's header; "overlay": the
 *  loss chart's compared run): the strategy's frontend says it (core/registry.js). */
export function strategyWords(c, form) {
  if (c.strategy === "single") return t("strategy.singleShort");
  // A strategy without a frontend of its own (L-BFGS, a plugin) is drawn by
  // data parallelism's, but named by its spec's title.
  const spec = frontendOf(c.strategy) ? null : strategySpec(c.strategy);
  if (spec && spec.title) return textIn(spec.title, getLang());
  const fe = frontendFor(c.strategy);
  return (fe && fe.runWords ? fe.runWords(c, form) : null) ?? t("strategy.dpShort");
}

/** A run's short name: strategy, its main option (mode, compression or algorithm),
 *  stragglers, network. */
export function runLabel(c) {
  let strat = strategyWords(c, "list");
  if (c.strategy !== "single" && c.straggler && c.straggler !== "none") {
    strat += ` · ${t("straggler.short." + c.straggler, { k: c.straggler_factor, p: c.straggler_prob })}`;
  }
  if (c.network) strat += ` · ${networkName({ name: c.network })}`;
  return strat;
}

const DAY_S = 86400;

/** When the store would delete a run, in a few words ("deleted in 12 days or after 3 more
 *  runs"), from its `retention` (GET /api/runs); "" where nothing needs saying (the server
 *  keeps every run, or the run is live). Pure: `now` in seconds, `tr` the catalog lookup. */
export function retentionNote(retention, now = Date.now() / 1000, tr = t) {
  if (!retention || retention.kept === "all" || retention.kept === "live") return "";
  if (retention.kept === "pinned") return tr("runs.keep.pinned");
  if (retention.kept === "room") return tr("runs.keep.room");
  const when = [];
  let due = false; // a limit it is already over: only being the newest keeps it
  if (retention.expires_at != null) {
    const days = Math.floor((retention.expires_at - now) / DAY_S);
    due ||= retention.expires_at <= now;
    when.push(days >= 1 ? tr("runs.keep.days", { n: days }) : tr("runs.keep.today"));
  }
  if (retention.runs_left != null) {
    when.push(retention.runs_left <= 1 ? tr("runs.keep.run1") : tr("runs.keep.runs", { n: retention.runs_left }));
  }
  if (retention.mb_left != null) {
    due ||= retention.mb_left <= 0;
    when.push(tr("runs.keep.mb", { mb: fmtNum(Math.max(0, retention.mb_left), 2) }));
  }
  if (retention.kept === "newest" && due) return tr("runs.keep.newest");
  return when.length ? tr("runs.keep.goes", { when: when.join(tr("runs.keep.or")) }) : "";
}

/** The server's retention policy in a sentence (the note's tooltip), from its `limits`. */
export function retentionPolicy(retention, tr = t) {
  const l = (retention && retention.limits) || {};
  const parts = [];
  if (l.days != null) parts.push(tr("runs.keep.limitDays", { n: l.days }));
  if (l.runs != null) parts.push(tr("runs.keep.limitRuns", { n: l.runs }));
  if (l.mb != null) parts.push(tr("runs.keep.limitMb", { n: l.mb }));
  return parts.length ? tr("runs.keep.policy", { limits: parts.join(tr("runs.keep.sep")) }) : tr("runs.keep.policyAll");
}

/** Draw the list into `ul`: a button per run (onPickRun), and beside every run but the
 *  active one a "compare" toggle (onCompare); for an instructor (cb.canPin()) a pin toggle
 *  (onPin(id, pinned)). */
export function renderRunList(ul, runs, activeId, compareId, cb) {
  if (!Array.isArray(runs) || !runs.length) {
    ul.innerHTML = `<li class="empty">${t("runs.empty")}</li>`;
    return;
  }
  ul.replaceChildren(
    ...runs.map((run) => {
      const li = document.createElement("li");
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "run-item" + (run.id === activeId ? " active" : "");
      btn.dataset.runId = run.id;
      const c = run.config || {};
      btn.innerHTML = `<span class="run-status-dot" data-status="${run.status}"></span>
        <span class="run-main"></span><span class="run-sub"></span>`;
      const note = retentionNote(run.retention);
      if (run.pinned || note) {
        const keep = document.createElement("span");
        keep.className = "run-keep";
        keep.dataset.testid = "run-keep";
        keep.title = retentionPolicy(run.retention);
        if (run.pinned) {
          const mark = document.createElement("span");
          mark.className = "run-pin-mark";
          mark.textContent = t("runs.pinned");
          keep.append(mark);
        } else keep.textContent = note;
        btn.appendChild(keep);
      }
      // the data set, unless the strategy trains nothing (the collectives playground)
      const trains = (strategySpec(c.strategy) || {}).trains !== false;
      btn.querySelector(".run-main").textContent = `${runLabel(c)} · ${c.workers === 1 ? t("runs.worker1") : t("runs.workers", { n: c.workers ?? "?" })}${trains && c.dataset ? ` · ${t("dataset." + c.dataset)}` : ""}`;
      btn.querySelector(".run-sub").textContent =
        `${t("status." + run.status)} · ${t("runs.steps", { done: run.step ?? 0, total: c.steps ?? "?" })} · ${fmtTime(run.created_at)}`;
      btn.title = run.id;
      btn.addEventListener("click", () => cb.onPickRun?.(run.id));
      li.appendChild(btn);
      const actions = document.createElement("div");
      actions.className = "run-actions";
      if (activeId && run.id !== activeId) {
        const cmp = document.createElement("button");
        cmp.type = "button";
        const on = run.id === compareId;
        cmp.className = "run-compare" + (on ? " on" : "");
        cmp.setAttribute("data-testid", "compare-run");
        cmp.dataset.runId = run.id;
        cmp.setAttribute("aria-pressed", String(on));
        cmp.textContent = on ? t("runs.compareOn") : t("runs.compare");
        cmp.title = t("runs.compareTitle");
        cmp.addEventListener("click", () => cb.onCompare?.(on ? null : run.id));
        li.classList.add("has-compare");
        actions.appendChild(cmp);
      }
      if (cb.canPin?.()) {
        const pin = document.createElement("button");
        pin.type = "button";
        pin.className = "run-pin" + (run.pinned ? " on" : "");
        pin.setAttribute("data-testid", "pin-run");
        pin.dataset.runId = run.id;
        pin.setAttribute("aria-pressed", String(Boolean(run.pinned)));
        pin.textContent = run.pinned ? t("runs.unpin") : t("runs.pin");
        pin.title = t("runs.pinTitle");
        pin.addEventListener("click", () => cb.onPin?.(run.id, !run.pinned));
        li.classList.add("has-compare");
        actions.appendChild(pin);
      }
      if (actions.childElementCount) li.appendChild(actions);
      return li;
    }),
  );
}
