// views/lessons.js — the lesson picker and the lesson panel (a chapter, a predict question, a preset run and what it measured).
//
// The lesson picker and the lesson panel. Lessons are data
// (frontend/lessons/<id>.json, served by GET /api/lessons): a chapter of the course
// outline, what to look at, a predict-then-observe question and a preset run.
//
// The student picks a prediction BEFORE starting; the answer and the explanation are
// revealed when the lesson's run has finished, next to what that run measured. All of it
// lives in the URL: ?lesson=<id>&guess=<i> (the run itself is ?run=, its comparison ?base=),
// so reloading or sharing the link restores the same lesson, guess and result.

import { strategySpec } from "../core/specs.js";
import { request } from "../core/api.js";
import { failureAndRecoveryLines } from "./measured.js";
import { fmtBytes, fmtNum, getLang, t } from "../core/i18n.js";
import { ACCELERATORS, calcQuery, caseSetup, perGpu } from "./calculatorcore.js";
import { frontendFor } from "../core/registry.js";
import { optionsOf, stepSummary, tailLatency, tailLatencyApplies, TERMINAL_STATUSES } from "../core/selectors.js";
import { baselineConfigOf } from "./baseline.js";
import { getParam, pageLink, setParams } from "../core/urlstate.js";

export const NUM_CHAPTERS = 15; // the course outline's chapters (lesson.chapter.N keys)

export const getLessons = () => request("GET", "/api/lessons");
export const getLesson = (id) => request("GET", `/api/lessons/${encodeURIComponent(id)}`);

/** The lesson text in the page's language (English when a text lacks it). */
export function loc(text, lang = getLang()) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return text[lang] ?? text.en ?? "";
}

/** Does a run's config carry every value of a preset's effective config, its strategy's
 *  options included? (A run started from the lesson does; one changed by hand does not.) */
export function runMatchesPreset(runConfig, presetConfig) {
  if (!runConfig || !presetConfig) return false;
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return Object.keys(presetConfig).every((k) =>
    k === "options" ? runMatchesPreset(optionsOf(runConfig), optionsOf(presetConfig)) : same(runConfig[k], presetConfig[k]),
  );
}

/** "Jeffrey Dean, Luiz André Barroso (2013). The Tail at Scale. CACM." (at most three names, then et al.) */
export function paperText(p) {
  const names = String(p.authors).split(/,\s*/);
  const authors = names.length > 3 && !/et al\.?$/.test(names[2]) ? `${names.slice(0, 3).join(", ")}, et al.` : p.authors;
  return `${authors} (${p.year}). ${p.title}. ${p.venue}.`;
}

/** Lessons grouped by chapter: [[chapter, [lesson...]], ...] in chapter order. */
export function byChapter(list) {
  const m = new Map();
  for (const l of list || []) {
    if (!m.has(l.chapter)) m.set(l.chapter, []);
    m.get(l.chapter).push(l);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

/**
 * @param {object} o
 * @param {HTMLSelectElement} o.select  the lesson picker
 * @param {HTMLElement} o.panel         the lesson panel
 * @param {object} o.hooks  fillPreset(preset), start(config, opts) → runId|null,
 *   compareWith(runId|null), openCompare([runId, …]) (the compare view), current() →
 *   {runId, status, state, config}, showError(msg),
 *   room() → the classroom room's state {role, following, runId, lesson} (room.js)
 */
export function createLessons({ select, panel, hooks }) {
  let list = [];
  let lesson = null; // the whole lesson (GET /api/lessons/{id})
  let guess = null; // the chosen prediction (index) or null
  let runCompare = true; // also run the lesson's comparison
  let phase = "idle"; // idle | comparing | starting
  let lessonRunId = null; // run started from this lesson (or restored from the URL)
  let compareRunId = null;
  let compareSummary = null; // run_finished summary of the comparison run
  // A student following the room: the comparison the instructor's page shows (room.js)
  const roomCompare = { id: null, summary: null, askedAt: 0 };
  let revealedFor = null;
  let restorePending = false;
  let loadGen = 0;
  let renderedFollower = false; // the run column was drawn for a student following the room
  // The lesson's last step (lesson.measure): its runs, one after another, then compared
  let measuring = null; // null, or {i, of} while its runs go
  let measuredIds = []; // the runs it started (opened again by the button below)

  /** A student following the room, whose instructor has this lesson open: the instructor
   *  starts the lesson's run, and the room's run is this lesson's run (see roomRun). */
  function following() {
    const rs = hooks.room?.();
    return !!(lesson && rs && rs.role === "student" && rs.following && rs.lesson === lesson.id);
  }

  /** The room's run, when this page follows the room and it is the lesson's preset: the
   *  instructor started it from the lesson, so every follower gets the reveal too, next to
   *  their own guess (they never start it, so lessonRunId is not theirs to set). */
  function roomRun(cur) {
    if (!following() || !lesson.preset) return null;
    const rs = hooks.room();
    if (!rs.runId || cur.runId !== rs.runId) return null;
    return runMatchesPreset(cur.config, lesson.preset.config) ? rs.runId : null;
  }

  function renderSelect() {
    const lang = getLang();
    const cur = lesson ? lesson.id : select.value;
    select.replaceChildren(el("option", { value: "", text: t("lesson.none") }));
    for (const [ch, items] of byChapter(list)) {
      const g = el("optgroup", { label: t("lesson.chapterLabel", { n: ch, name: t("lesson.chapter." + ch) }) });
      for (const l of items) {
        const kind = l.kind === "demo" ? t("lesson.kindDemo") : t("lesson.kindConcept");
        g.append(el("option", { value: l.id, text: `${loc(l.title, lang)} · ${kind}` }));
      }
      select.append(g);
    }
    select.value = list.some((l) => l.id === cur) ? cur : "";
  }

  async function boot() {
    const r = await getLessons();
    if (r.ok && Array.isArray(r.data)) list = r.data;
    renderSelect();
    const id = getParam("lesson");
    if (id) await open(id, { guess: getParam("guess"), restore: true });
  }

  async function open(id, { guess: g = null, restore = false } = {}) {
    const gen = ++loadGen;
    measuring = null;
    measuredIds = [];
    if (!id) {
      close();
      return;
    }
    // The room opens the instructor's lesson: a guess already made for it (in the URL, e.g.
    // after a reload) stays.
    if (g == null && id === getParam("lesson")) g = getParam("guess");
    const r = await getLesson(id);
    if (gen !== loadGen) return;
    if (!r.ok || !r.data) {
      hooks.showError?.(t("lesson.notFound", { id }));
      close();
      return;
    }
    lesson = r.data;
    guess = g != null && lesson.predict && g >= 0 && g < lesson.predict.choices.length ? g : null;
    phase = "idle";
    revealedFor = null;
    compareSummary = null;
    lessonRunId = null;
    compareRunId = null;
    // A link with ?lesson=&run= shows the lesson's result again once that run is loaded,
    // if it is the lesson's preset (and ?base= its comparison): see restoreRun().
    restorePending = restore && !!lesson.preset;
    select.value = lesson.id;
    setParams({ lesson: lesson.id, guess });
    render();
  }

  function restoreRun(cur) {
    if (!restorePending || !cur.runId || !cur.config) return;
    restorePending = false;
    if (!runMatchesPreset(cur.config, lesson.preset.config)) return;
    lessonRunId = cur.runId;
    const base = getParam("base");
    if (base && lesson.compare) {
      compareRunId = base;
      fetchCompareSummary(base);
    }
  }

  function close() {
    loadGen++;
    measuring = null;
    measuredIds = [];
    lesson = null;
    guess = null;
    restorePending = false;
    lessonRunId = null;
    compareRunId = null;
    select.value = "";
    panel.hidden = true;
    panel.replaceChildren();
    panel.removeAttribute("data-lesson");
    document.body.classList.remove("has-lesson");
    setParams({ lesson: null, guess: null });
  }

  /** room.js: the instructor shows run `id` (or none) beside the room's run. */
  function noteCompare(id) {
    if ((id || null) === roomCompare.id) return;
    roomCompare.id = id || null;
    roomCompare.summary = null;
    roomCompare.askedAt = 0;
    if (roomCompare.id) fetchRoomCompare();
  }

  async function fetchRoomCompare() {
    const id = roomCompare.id;
    roomCompare.askedAt = Date.now();
    const r = await request("GET", `/api/runs/${encodeURIComponent(id)}`);
    if (id !== roomCompare.id || !(r.ok && r.data && r.data.summary)) return;
    roomCompare.summary = r.data.summary;
    revealedFor = null;
    sync();
  }

  /** The comparison's summary the reveal reports: this page's own, or (a follower) the room's. */
  function shownCompare() {
    if (compareRunId && compareSummary) return compareSummary;
    return following() && roomCompare.id ? roomCompare.summary : null;
  }

  async function fetchCompareSummary(id) {
    const r = await request("GET", `/api/runs/${encodeURIComponent(id)}`);
    if (id !== compareRunId) return;
    if (r.ok && r.data) {
      compareSummary = r.data.summary || null;
      render();
    }
  }

  // ---------------------------------------------------------------- start

  function loadPreset() {
    if (!lesson || !lesson.preset) return null;
    hooks.fillPreset(lesson.preset);
    return lesson.preset.config;
  }

  /** Wait for a run to end (its summary) — the comparison runs first, alone, so that it
   *  does not compete with the lesson's run for the CPU. */
  async function waitFinished(id, gen, timeoutMs = 120000) {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const r = await request("GET", `/api/runs/${encodeURIComponent(id)}`);
      if (gen !== loadGen) return null;
      if (r.ok && r.data && TERMINAL_STATUSES.includes(r.data.status)) return r.data;
      if (!r.ok && r.status === 404) return null;
      await new Promise((res) => setTimeout(res, 400));
    }
    return null;
  }

  async function startLesson() {
    if (!lesson || !lesson.preset || phase !== "idle") return;
    const gen = loadGen;
    const config = loadPreset();
    revealedFor = null;
    restorePending = false;
    compareSummary = null;
    lessonRunId = null;
    compareRunId = null;
    let cmp = null;
    if (lesson.compare && runCompare) {
      phase = "comparing";
      render();
      // The comparison at full speed: only its result and its loss curve are used.
      const r = await request("POST", "/api/runs", { ...lesson.compare.config, pace: null, detail: false });
      if (gen !== loadGen) return;
      if (r.ok && r.data && r.data.id) {
        cmp = r.data.id;
        compareRunId = cmp;
        const done = await waitFinished(cmp, gen);
        if (gen !== loadGen) return;
        compareSummary = done ? done.summary || null : null;
      } else {
        hooks.showError?.(t("lesson.compareFailed", { msg: (r.data && r.data.detail && String(r.data.detail)) || r.status }));
      }
    }
    phase = "starting";
    render();
    const id = await hooks.start(config, { baseline: !lesson.compare && !!baselineConfigOf(config) });
    if (gen !== loadGen) return;
    phase = "idle";
    lessonRunId = id || null;
    if (id && cmp) hooks.compareWith(cmp);
    render();
  }

  // ---------------------------------------------------------------- render

  function chapterLine() {
    return t("lesson.chapterLabel", { n: lesson.chapter, name: t("lesson.chapter." + lesson.chapter) });
  }

  function render() {
    if (!lesson) return;
    revealedFor = null; // a new reveal element: sync() fills it again
    const lang = getLang();
    panel.hidden = false;
    panel.dataset.lesson = lesson.id;
    panel.dataset.kind = lesson.kind;
    document.body.classList.add("has-lesson");

    // With "hide controls" the panel is one title line; a click on it shows the rest.
    const head = el(
      "div",
      {
        class: "lesson-head",
        "data-testid": "lesson-head",
        onclick: (ev) => {
          if (!document.body.classList.contains("hide-controls") || ev.target.closest("button")) return;
          panel.classList.toggle("expanded");
        },
      },
      el("div", { class: "lesson-titles" }, el("span", { class: "lesson-chapter", text: chapterLine() }), el("h2", { class: "lesson-title", text: loc(lesson.title, lang) })),
      // in a room the panel is compact (the question, what to look at, the answer) so that
      // the run's views stay above the fold; this shows the rest (summary, papers)
      el("button", {
        type: "button",
        class: "link-btn lesson-more",
        "data-testid": "lesson-more",
        "aria-expanded": String(panel.classList.contains("expanded")),
        text: t(panel.classList.contains("expanded") ? "lesson.less" : "lesson.more"),
        onclick: (ev) => {
          const on = panel.classList.toggle("expanded");
          ev.currentTarget.textContent = t(on ? "lesson.less" : "lesson.more");
          ev.currentTarget.setAttribute("aria-expanded", String(on));
        },
      }),
      el("button", { type: "button", class: "link-btn lesson-close", "data-testid": "lesson-close", title: t("lesson.closeTitle"), text: t("lesson.close"), onclick: close }),
    );
    const summary = el("p", { class: "lesson-summary", "data-testid": "lesson-summary", text: loc(lesson.summary, lang) });

    const points = (lesson.look_at && (lesson.look_at[lang] || lesson.look_at.en)) || [];
    const look = el(
      "section",
      { class: "lesson-look", "data-testid": "lesson-look" },
      el("h3", { text: lesson.kind === "demo" ? t("lesson.lookAt") : t("lesson.keyPoints") }),
      el("ul", {}, ...points.map((p) => el("li", { text: p }))),
    );

    const cols = el("div", { class: "lesson-cols" }, look);
    if (lesson.preset) cols.append(renderRunColumn(lang));

    const papers = el(
      "section",
      { class: "lesson-papers", "data-testid": "lesson-papers" },
      el("h3", { text: t("lesson.papers") }),
      el("ul", {}, ...(lesson.papers || []).map((p) => el("li", { text: paperText(p) }))),
    );
    const foot = el("div", { class: "lesson-foot" }, papers);
    if (lesson.measure && !following()) foot.prepend(renderMeasure(lang));
    const rel = (lesson.related || []).map((id) => list.find((l) => l.id === id)).filter(Boolean);
    if (rel.length) {
      foot.append(
        el(
          "section",
          { class: "lesson-related", "data-testid": "lesson-related" },
          el("h3", { text: t("lesson.related") }),
          el(
            "ul",
            {},
            ...rel.map((l) =>
              el(
                "li",
                {},
                el("a", {
                  href: pageLink({ lesson: l.id }),
                  "data-related": l.id,
                  text: t("lesson.relatedItem", { title: loc(l.title, lang), kind: l.kind === "demo" ? t("lesson.kindDemo") : t("lesson.kindConcept") }),
                  onclick: (ev) => {
                    ev.preventDefault();
                    open(l.id);
                  },
                }),
              ),
            ),
          ),
        ),
      );
    }
    panel.replaceChildren(head, summary, cols, foot);
    if (lesson.cases && lesson.cases.length) panel.append(renderCases(lang));
    sync();
  }

  function renderRunColumn(lang) {
    const col = el("section", { class: "lesson-run" });
    const p = lesson.predict;
    if (p) {
      col.append(el("h3", { text: t("lesson.predict") }), el("p", { class: "lesson-question", text: loc(p.question, lang) }));
      const choices = el("div", { class: "lesson-predict", "data-testid": "lesson-predict", role: "radiogroup", "aria-label": t("lesson.predict") });
      p.choices.forEach((c, i) => {
        const on = guess === i;
        choices.append(
          el("button", {
            type: "button",
            class: "lesson-choice" + (on ? " chosen" : ""),
            role: "radio",
            "aria-checked": String(on),
            "data-choice": i,
            text: loc(c, lang),
            onclick: () => {
              guess = i;
              setParams({ guess: i });
              render();
            },
          }),
        );
      });
      col.append(choices);
    }
    const busy = phase !== "idle";
    const needGuess = !!p && guess == null;
    // a student following the room does not start the run: the instructor does
    renderedFollower = following();
    const btns = el(
      "div",
      { class: "lesson-buttons" },
      el("button", {
        type: "button",
        class: "btn primary",
        "data-testid": "lesson-start",
        disabled: busy || needGuess,
        title: needGuess ? t("lesson.pickFirst") : null,
        text: t("lesson.start"),
        onclick: startLesson,
      }),
      el("button", {
        type: "button",
        class: "btn",
        "data-testid": "lesson-load",
        disabled: busy,
        title: t("lesson.loadTitle"),
        text: t("lesson.load"),
        onclick: () => loadPreset(),
      }),
    );
    if (!renderedFollower) col.append(btns);
    if (lesson.compare && !renderedFollower) {
      const cb = el("input", { type: "checkbox", "data-testid": "lesson-compare", checked: runCompare, disabled: busy });
      cb.addEventListener("change", () => {
        runCompare = cb.checked;
      });
      col.append(el("label", { class: "check lesson-compare-row" }, cb, el("span", { text: t("lesson.alsoCompare", { what: compareText(lesson.compare.config) }) })));
    }
    const hint = renderedFollower
      ? t(needGuess ? "lesson.pickFollow" : "lesson.waitInstructor")
      : phase === "comparing"
        ? t("lesson.comparing")
        : phase === "starting"
          ? t("lesson.starting")
          : needGuess
            ? t("lesson.pickFirst")
            : "";
    col.append(el("p", { class: "lesson-hint", "data-testid": "lesson-hint", text: hint, hidden: !hint }));
    col.append(el("div", { class: "lesson-reveal", "data-testid": "lesson-reveal", hidden: true }));
    return col;
  }

  /** Published set-ups (frontend/static/data/cases.json, sent whole with the lesson): each
   *  with its source, what the calculator computes for it, and a link to the calculator
   *  filled in with it (a new tab: the lesson stays open). */
  function renderCases(lang) {
    const items = lesson.cases.map((c) => {
      const s = caseSetup(c);
      const r = perGpu(s);
      const n = s.data * s.pipeline * s.tensor;
      const href = `/calculator?${calcQuery(s, c.id)}${lang === "zh" ? "&lang=zh" : ""}`;
      return el(
        "li",
        { class: "lesson-case", "data-case": c.id },
        el("h4", { text: loc(c.title, lang) }),
        el("p", { class: "lesson-case-mix", text: t("lesson.caseMix", { t: s.tensor, p: s.pipeline, d: s.data, n: n.toLocaleString(lang === "zh" ? "zh-CN" : "en-US"), acc: c.accelerator }) }),
        el("p", { text: loc(c.story, lang) }),
        el("p", {
          class: "lesson-case-calc",
          text: t("lesson.caseCalc", {
            gb: (r.total / 2 ** 30).toFixed(1),
            acc: c.accelerator,
            cap: ACCELERATORS[c.accelerator],
            bubble: `${(100 * r.bubble).toFixed(1)} %`,
            tp: fmtBytes(r.bytes_tensor),
            dp: fmtBytes(r.bytes_data),
            pp: fmtBytes(r.bytes_pipeline),
          }),
        }),
        el("p", { class: "lesson-case-src", text: t("lesson.caseSource", { cite: paperText(c.source), where: loc(c.source.where, lang) }) }),
        el("a", { class: "lesson-case-link", href, target: "_blank", rel: "noopener", "data-testid": "lesson-case-link", "data-case": c.id, text: t("lesson.caseOpen") }),
      );
    });
    return el("section", { class: "lesson-cases", "data-testid": "lesson-cases" }, el("h3", { text: t("lesson.cases") }), el("ul", {}, ...items));
  }

  /** The lesson's last step: its runs side by side with what each measured (表4). */
  function renderMeasure(lang) {
    const m = lesson.measure;
    const busy = phase !== "idle" || !!measuring;
    const names = m.runs.map((r) => frontendFor(r.config.strategy)?.runWords?.(r.config, "list") || r.config.strategy);
    const hint = measuring ? t("lesson.measuring", { i: measuring.i, of: measuring.of, what: names[measuring.i - 1] }) : "";
    return el(
      "section",
      { class: "lesson-measure", "data-testid": "lesson-measure" },
      el("h3", { text: loc(m.title, lang) }),
      el("p", { text: loc(m.text, lang) }),
      el(
        "div",
        { class: "lesson-buttons" },
        el("button", { type: "button", class: "btn primary", "data-testid": "lesson-measure-run", disabled: busy, text: t("lesson.measureRun", { n: m.runs.length }), onclick: runMeasure }),
        measuredIds.length >= 2
          ? el("button", { type: "button", class: "btn", "data-testid": "lesson-measure-open", text: t("lesson.measureOpen"), onclick: () => hooks.openCompare?.(measuredIds) })
          : null,
      ),
      el("p", { class: "lesson-hint", "data-testid": "lesson-measure-hint", text: hint, hidden: !hint }),
    );
  }

  /** Run the last step's runs one after another (alone on the CPUs, so that their times
   *  compare), at full speed, then open them side by side. */
  async function runMeasure() {
    if (!lesson || !lesson.measure || measuring || phase !== "idle") return;
    const gen = loadGen;
    const runs = lesson.measure.runs;
    const ids = [];
    for (let i = 0; i < runs.length; i++) {
      measuring = { i: i + 1, of: runs.length };
      render();
      const r = await request("POST", "/api/runs", { ...runs[i].config, pace: null });
      if (gen !== loadGen) return;
      if (!(r.ok && r.data && r.data.id)) {
        measuring = null;
        hooks.showError?.(t("lesson.compareFailed", { msg: (r.data && r.data.detail && String(r.data.detail)) || r.status }));
        render();
        return;
      }
      ids.push(r.data.id);
      await waitFinished(r.data.id, gen, 600000);
      if (gen !== loadGen) return;
    }
    measuring = null;
    measuredIds = ids;
    render();
    hooks.openCompare?.(ids);
  }

  /** A short label for a comparison config: what differs from the preset. */
  function compareText(c) {
    const base = lesson.preset ? lesson.preset.config : {};
    const diff = Object.keys(c).filter((k) => JSON.stringify(c[k]) !== JSON.stringify(base[k]) && k !== "pace" && k !== "detail");
    if (!diff.length) return t("lesson.sameRun");
    const show = (v) => (v == null || (Array.isArray(v) && !v.length) ? "—" : typeof v === "object" ? JSON.stringify(v) : v);
    const isObj = (v) => v != null && typeof v === "object" && !Array.isArray(v);
    // options: only those that differ (data_split = iid), not the whole object
    const one = (k) =>
      k === "options" && isObj(c[k]) && isObj(base[k]) && Object.keys(c[k]).length
        ? Object.keys(c[k])
            .filter((o) => JSON.stringify(c[k][o]) !== JSON.stringify(base[k][o]))
            .map((o) => `${o} = ${show(c[k][o])}`)
            .join(", ") || `${k} = ${show(c[k])}`
        : `${k} = ${show(c[k])}`;
    return diff.map(one).join(", ");
  }

  function measuredLines(state, summary) {
    const out = [];
    const sm = summary || {};
    // a run that trains nothing (a file system, MapReduce) has no loss to end with
    const spec = state ? strategySpec(state.strategy || (state.config && state.config.strategy)) : null;
    out.push(
      t(spec && spec.trains === false ? "lesson.measuredRunNoLoss" : "lesson.measuredRun", {
        steps: sm.steps_completed ?? "–",
        wall: fmtNum(sm.wall_s, 3),
        sps: fmtNum(sm.steps_per_s, 3),
        loss: fmtNum(sm.final_loss, 3),
      }),
    );
    // a strategy may say what its run measured (the parameter server: staleness), else the replicas
    const fe = state ? frontendFor(state.strategy || (state.config && state.config.strategy)) : null;
    const own = fe && fe.measuredLines ? fe.measuredLines(state) : null;
    if (own) {
      out.push(...own);
    } else if (state && state.lastStep) {
      const s = stepSummary(state, state.lastStep);
      if (s && s.identical != null) out.push(s.identical ? t("lesson.measuredIdentical") : t("lesson.measuredDiffer"));
    }
    if (state && tailLatencyApplies(state)) {
      const tl = tailLatency(state);
      if (tl.steps >= 5) out.push(t("lesson.measuredTail", { p50: fmtNum(tl.p50, 3), p99: fmtNum(tl.p99, 3) }));
    }
    out.push(...failureAndRecoveryLines(state && state.faultLog));
    const c = lesson.compare ? shownCompare() : null;
    if (c) {
      // Steps per second compare only when both ran at full speed (the comparison always
      // does), and where the lesson compares speed at all (`timed`; chapter 9 compares a
      // count, the consensus distance): otherwise they are noise, and left out.
      const fullSpeed = lesson.preset.config.pace == null && lesson.compare.timed !== false;
      out.push(
        t(fullSpeed ? "lesson.measuredCompare" : "lesson.measuredCompareNoSpeed", {
          what: compareText(lesson.compare.config),
          steps: c.steps_completed ?? "–",
          sps: fmtNum(c.steps_per_s, 3),
          loss: fmtNum(c.final_loss, 3),
        }),
      );
      // a strategy may say what the comparison measured beside this run (decentralized: consensus)
      const fc = frontendFor(lesson.compare.config.strategy);
      const theirs = fc && fc.compareLines ? fc.compareLines(c, sm) : null;
      if (theirs) out.push(...theirs);
      if (fullSpeed && sm.steps_per_s > 0 && c.steps_per_s > 0) {
        out.push(t("lesson.measuredRatio", { x: fmtNum(c.steps_per_s / sm.steps_per_s, 2) }));
      }
    }
    return out;
  }

  /** The panel scrolls inside itself (the run's views stay in sight): scroll it, not the
   *  page, so the end of "Measured in this run" is in view. With large type the reveal
   *  is taller than the panel, and the list, its last part, was left below the fold. */
  function showMeasured(reveal) {
    const list = reveal.querySelector(".lesson-measured");
    if (!list || !list.getBoundingClientRect) return;
    const pr = panel.getBoundingClientRect();
    const lr = list.getBoundingClientRect();
    const dy = lr.bottom - pr.bottom + 8;
    if (dy > 0) panel.scrollTop += dy;
  }

  /** Called on every render of the page: reveal the answer once the lesson's run ended. */
  function sync() {
    if (!lesson || panel.hidden) return;
    const reveal = panel.querySelector("[data-testid=lesson-reveal]");
    if (!reveal) return;
    // joined, left or forked: the run column says who starts the run
    if (lesson.preset && following() !== renderedFollower) return render();
    const cur = hooks.current();
    restoreRun(cur);
    const runId = lessonRunId && cur.runId === lessonRunId ? lessonRunId : roomRun(cur);
    const mine = !!runId;
    const done = mine && TERMINAL_STATUSES.includes(cur.status);
    panel.dataset.runStatus = mine ? cur.status : "";
    if (!done || !lesson.predict) {
      if (!reveal.hidden) {
        reveal.hidden = true;
        reveal.replaceChildren();
        delete reveal.dataset.runId;
        delete reveal.dataset.guess;
        revealedFor = null;
        const hint = panel.querySelector("[data-testid=lesson-hint]");
        if (hint) hint.hidden = !hint.textContent;
      }
      return;
    }
    const summary = cur.state && cur.state.summary;
    // a follower's comparison may still be running when the instructor's run ends: ask again
    if (following() && lesson.compare && roomCompare.id && !roomCompare.summary && Date.now() - roomCompare.askedAt > 2000) fetchRoomCompare();
    const key = `${runId}|${getLang()}|${guess}|${cur.status}|${shownCompare() ? 1 : 0}|${summary ? 1 : 0}`;
    if (key === revealedFor) return;
    revealedFor = key;
    const lang = getLang();
    const p = lesson.predict;
    const right = guess === p.answer;
    const verdict =
      guess == null
        ? t("lesson.noGuess")
        : right
          ? t("lesson.right", { choice: loc(p.choices[guess], lang) })
          : t("lesson.wrong", { choice: loc(p.choices[guess], lang) });
    reveal.replaceChildren(
      el("p", { class: "lesson-verdict", "data-right": guess == null ? "" : String(right), text: verdict }),
      el("p", { class: "lesson-answer", text: t("lesson.answer", { choice: loc(p.choices[p.answer], lang) }) }),
      el("p", { class: "lesson-explain", text: loc(p.explain, lang) }),
      el("h4", { text: t("lesson.measured") }),
      el("ul", { class: "lesson-measured", "data-testid": "lesson-measured" }, ...measuredLines(cur.state, summary).map((x) => el("li", { text: x }))),
    );
    if (cur.status !== "finished") reveal.prepend(el("p", { class: "lesson-note", text: t("lesson.endedEarly", { status: t("status." + cur.status) }) }));
    // the follower's "the answer appears here when the run ends" has come true
    const hint = panel.querySelector("[data-testid=lesson-hint]");
    if (hint && renderedFollower) hint.hidden = true;
    reveal.dataset.runId = runId;
    reveal.dataset.guess = guess == null ? "" : String(guess);
    reveal.hidden = false;
    // the answer appears below the fold of the panel: showMeasured scrolls the panel alone
    // (its title line is sticky, so the lesson's name stays in sight above the reveal)
    showMeasured(reveal);
    panel.querySelectorAll("[data-choice]").forEach((b) => {
      b.classList.toggle("correct", Number(b.dataset.choice) === p.answer);
    });
  }

  select.addEventListener("change", () => open(select.value || null));

  return {
    boot,
    open,
    close,
    sync,
    noteCompare,
    relocalize() {
      renderSelect();
      revealedFor = null;
      render();
    },
    /** The lesson shown (or null), and the run it started: for tests and instructors' scripts. */
    get current() {
      return lesson ? { id: lesson.id, guess, runId: lessonRunId, compareRunId, phase } : null;
    },
  };
}
