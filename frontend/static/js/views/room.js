// views/room.js — follow the instructor. An instructor opens a room (with the instructor key
// the server was started with) and every run they start or select is pushed to it; a
// student joins with the room's short code (`/?room=CODE` or the "Join" box), follows
// whatever run the room points at, and can fork that run into a private sandbox.
//
// Backend: POST /api/rooms (X-Instructor-Key) → {code, run_id, lesson, updated};
// GET /api/rooms/{code}; PUT /api/rooms/{code} {run_id?, lesson?} (key); WebSocket
// /ws/rooms/{code} sends {"type": "room", code, run_id, lesson, updated} on connect and
// on every change (unknown room: close code 4404); POST /api/runs/{id}/fork → a new run
// with the same config (and its own control token).
//
// The instructor key stays in sessionStorage (this tab only) after the server accepted
// it. The module owns the header popover and the banner under the header; main.js tells
// it which run the page shows (noteRun) and it asks main.js to load runs (loadRun).

import { t } from "../core/i18n.js";
import { getParam, hasParam, setParams } from "../core/urlstate.js";
import { call, detail, instructorKey, joinUrl, KEY_STORE, normalizeCode, ROOM_STORE, store } from "./roomclient.js";

/**
 * @param {object} o
 *   toggle, pop, banner   — the header button, its popover and the banner under the header
 *   loadRun(id, runObj?)  — show this run (main.js's loadRun)
 *   currentRun()          — the run the page shows now (id or null)
 *   forkRun(id)           — POST /api/runs/{id}/fork, keeping its control token: {ok, status, data}
 *   onChange(room)        — after any change of role or state (for main.js to re-render)
 *   lessonPanel           — the lesson panel (lessons.js marks it data-lesson="<id>")
 *   openLesson(id)        — open a lesson on this page (a student following the room)
 *   showCompare(id|null)  — show run `id` beside the followed one (the room's comparison:
 *                           the dashed loss line, the lesson reveal's numbers)
 */
export function createRoom({ toggle, pop, banner, loadRun, currentRun, forkRun, onChange, lessonPanel, openLesson, showCompare }) {
  // role: null | "instructor" | "student"
  const room = {
    role: null,
    code: null,
    runId: null, // the run the room points at
    compareId: null, // the run shown beside it (a lesson's comparison, a baseline)
    wantCompare: null, // instructor: the comparison this page shows now
    lesson: null,
    following: true, // student: showing the room's run (false: own sandbox / another run)
    sandboxId: null, // student: the run forked from the room's run
    pushed: null, // instructor: the last run id the server accepted for the room
    error: "",
    conn: "closed", // student: WebSocket state
    compact: false, // instructor: code shown small
  };
  let ws = null;
  let wsGen = 0;
  let retry = null;

  // ------------------------------------------------------------------ popover

  function renderPop() {
    pop.innerHTML = `
      <form class="room-form" data-form="join">
        <label><span>${esc(t("room.joinLabel"))}</span>
          <input class="room-input code-input" data-testid="room-join-input" maxlength="40" autocomplete="off"
                 spellcheck="false" placeholder="${esc(t("room.codePlaceholder"))}"></label>
        <button type="submit" class="btn primary" data-testid="room-join">${esc(t("room.join"))}</button>
      </form>
      <form class="room-form" data-form="open">
        <label><span>${esc(t("room.keyLabel"))}</span>
          <input class="room-input" type="password" data-testid="room-key-input" autocomplete="off"
                 placeholder="${esc(t("room.keyPlaceholder"))}" value="${esc(instructorKey() || "")}"></label>
        <button type="submit" class="btn" data-testid="room-open">${esc(t("room.open"))}</button>
      </form>
      <p class="room-hint">${esc(t("room.hint"))}</p>
      <p class="room-error" data-testid="room-error" role="alert"${room.error ? "" : " hidden"}>${esc(room.error)}</p>`;
    pop.querySelector('[data-form="join"]').addEventListener("submit", (ev) => {
      ev.preventDefault();
      const raw = pop.querySelector('[data-testid="room-join-input"]').value;
      const code = normalizeCode(raw);
      if (!code) return showError(t("room.badCode"));
      join(code);
    });
    pop.querySelector('[data-form="open"]').addEventListener("submit", (ev) => {
      ev.preventDefault();
      const key = pop.querySelector('[data-testid="room-key-input"]').value.trim();
      if (!key) return showError(t("room.needKey"));
      open(key);
    });
  }

  function showError(msg) {
    room.error = msg || "";
    if (room.error && (pop.hidden || !pop.childElementCount)) {
      renderPop();
      setPopOpen(true);
    }
    const el = pop.querySelector('[data-testid="room-error"]');
    if (el) {
      el.textContent = room.error;
      el.hidden = !room.error;
    }
    renderBanner();
  }

  function setPopOpen(on) {
    pop.hidden = !on;
    toggle.setAttribute("aria-expanded", String(on));
    if (on) pop.querySelector("input")?.focus();
  }

  toggle.addEventListener("click", () => {
    if (pop.hidden) {
      renderPop();
      setPopOpen(true);
    } else setPopOpen(false);
  });
  document.addEventListener("click", (ev) => {
    if (pop.hidden || pop.contains(ev.target) || toggle.contains(ev.target)) return;
    setPopOpen(false);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !pop.hidden) {
      setPopOpen(false);
      toggle.focus();
    }
  });

  // ------------------------------------------------------------------ banner

  function renderBanner() {
    banner.hidden = !room.role;
    document.body.classList.toggle("in-room", !!room.role);
    document.body.classList.toggle("room-following", room.role === "student" && room.following);
    banner.dataset.role = room.role || "";
    banner.dataset.following = String(room.role === "student" && room.following);
    banner.dataset.runId = room.runId || "";
    banner.dataset.conn = room.conn;
    if (!room.role) {
      banner.innerHTML = "";
      return;
    }
    const code = `<strong class="room-code" data-testid="room-code">${esc(room.code)}</strong>`;
    const err = room.error ? `<span class="room-banner-error" role="alert">${esc(room.error)}</span>` : "";
    if (room.role === "instructor") {
      banner.classList.toggle("compact", room.compact);
      const url = joinUrl(room.code);
      const showing = room.pushed ? t("room.showing", { run: room.pushed.slice(0, 8) }) : t("room.nothingYet");
      banner.innerHTML = `
        <div class="room-id"><span class="room-label">${esc(t("room.codeLabel"))}</span>${code}</div>
        <div class="room-info">
          <div class="room-join-at">${esc(t("room.joinAt"))} <a data-testid="room-url" href="${esc(url)}" target="_blank" rel="noopener">${esc(url)}</a></div>
          <div class="room-state" data-testid="room-state">${esc(showing)}${room.lesson ? ` · ${esc(t("room.lesson", { lesson: room.lesson }))}` : ""}</div>
          ${err}
        </div>
        <div class="room-actions">
          <button type="button" class="btn small" data-act="compact">${esc(t(room.compact ? "room.bigCode" : "room.smallCode"))}</button>
          <button type="button" class="btn small" data-testid="room-leave" data-act="close" title="${esc(t("room.closeTitle"))}">${esc(t("room.closeRoom"))}</button>
        </div>`;
    } else {
      banner.classList.remove("compact");
      let what;
      if (room.conn === "reconnecting") what = t("room.reconnecting");
      else if (!room.runId) what = t("room.waiting");
      else if (room.following) what = t("room.followingRun", { run: room.runId.slice(0, 8) });
      else if (room.sandboxId && currentRun() === room.sandboxId) what = t("room.inSandbox", { run: room.sandboxId.slice(0, 8) });
      else what = t("room.away");
      const actions = [];
      if (room.following && room.runId) {
        actions.push(`<button type="button" class="btn small primary" data-testid="room-fork" data-act="fork">${esc(t("room.fork"))}</button>`);
      } else if (room.runId) {
        actions.push(`<button type="button" class="btn small primary" data-testid="room-back" data-act="back">${esc(t("room.back"))}</button>`);
      }
      actions.push(`<button type="button" class="btn small" data-testid="room-leave" data-act="leave">${esc(t("room.leave"))}</button>`);
      banner.innerHTML = `
        <div class="room-id"><span class="room-label">${esc(t(room.following ? "room.followingLabel" : "room.roomLabel"))}</span>${code}</div>
        <div class="room-info">
          <div class="room-state" data-testid="room-state">${esc(what)}</div>
          ${room.following && room.runId ? `<div class="room-note">${esc(t("room.readOnly"))}</div>` : ""}
          ${err}
        </div>
        <div class="room-actions">${actions.join("")}</div>`;
    }
  }

  banner.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (!b || b.disabled) return;
    const act = b.dataset.act;
    if (act === "leave") leave();
    else if (act === "close") closeRoom(b);
    else if (act === "compact") {
      room.compact = !room.compact;
      renderBanner();
    } else if (act === "fork") fork(b);
    else if (act === "back" && room.runId) {
      room.following = true;
      room.error = "";
      loadRun(room.runId);
      showCompare?.(room.compareId);
      changed();
    }
  });

  function changed() {
    renderBanner();
    onChange?.(api());
  }

  // ------------------------------------------------------------------ instructor

  async function open(key) {
    showError("");
    const r = await call("POST", "/api/rooms", undefined, { "X-Instructor-Key": key });
    if (!r.ok || !r.data || !r.data.code) {
      return showError(r.status === 403 ? t("room.badKey", { msg: detail(r, "403") }) : t("room.openFailed", { msg: detail(r, String(r.status)) }));
    }
    store.set(KEY_STORE, key);
    store.set(ROOM_STORE, r.data.code);
    becomeInstructor(r.data);
    setPopOpen(false);
    pushCurrent();
  }

  function becomeInstructor(data) {
    closeSocket();
    setUrlRoom(null);
    room.role = "instructor";
    room.code = data.code;
    room.runId = data.run_id ?? null;
    room.compareId = data.compare_id ?? null;
    room.pushed = data.run_id ?? null;
    room.lesson = data.lesson ?? null;
    room.error = "";
    room.compact = false;
    changed();
  }

  // The instructor's updates go to the server one after another: a lesson's comparison is
  // known a moment after its run, and must not be cleared by the run's own update landing
  // second.
  let queue = Promise.resolve();
  const enqueue = (fn) => (queue = queue.then(fn, fn));

  /** Point the room at `runId` (with the comparison and the lesson open in this page). */
  function push(runId) {
    return enqueue(() => pushNow(runId));
  }

  async function pushNow(runId) {
    const key = instructorKey();
    if (room.role !== "instructor" || !key || !runId) return;
    const lesson = getParam("lesson");
    const body = { run_id: runId, compare_id: room.wantCompare || null };
    if (lesson) body.lesson = lesson;
    const path = `/api/rooms/${encodeURIComponent(room.code)}`;
    let r = await call("PUT", path, body, { "X-Instructor-Key": key });
    // A lesson the server does not know must not keep the class from following the run.
    if (!r.ok && lesson && (r.status === 404 || r.status === 422) && !/run/i.test(detail(r, ""))) {
      r = await call("PUT", path, { run_id: runId, compare_id: body.compare_id }, { "X-Instructor-Key": key });
    }
    if (r.ok && r.data) {
      room.pushed = r.data.run_id ?? runId;
      room.runId = room.pushed;
      room.compareId = r.data.compare_id ?? null;
      room.lesson = r.data.lesson ?? null;
      room.error = "";
    } else if (r.status === 404 && /room/i.test(detail(r, ""))) {
      room.error = t("room.gone");
    } else {
      room.error = t("room.pushFailed", { msg: detail(r, String(r.status)) });
    }
    changed();
  }

  /** End the room for everyone (DELETE /api/rooms/{code}); followers are told it ended. */
  async function closeRoom(btn) {
    btn.disabled = true;
    const r = await call("DELETE", `/api/rooms/${encodeURIComponent(room.code)}`, undefined, { "X-Instructor-Key": instructorKey() || "" });
    if (r.ok || r.status === 404) return leave();
    btn.disabled = false;
    room.error = t("room.closeFailed", { msg: detail(r, String(r.status)) });
    changed();
  }

  /** The instructor opened (or closed) a lesson: the room shows it to the students. */
  async function pushLesson(lesson) {
    const key = instructorKey();
    if (room.role !== "instructor" || !key || lesson === room.lesson) return;
    const r = await call("PUT", `/api/rooms/${encodeURIComponent(room.code)}`, { lesson }, { "X-Instructor-Key": key });
    if (r.ok && r.data) {
      room.lesson = r.data.lesson ?? null;
      room.error = "";
    } else room.error = t("room.pushFailed", { msg: detail(r, String(r.status)) });
    changed();
  }
  if (lessonPanel) {
    new MutationObserver(() => enqueue(() => pushLesson(lessonPanel.dataset.lesson || null))).observe(lessonPanel, {
      attributes: true,
      attributeFilter: ["data-lesson"],
    });
  }

  /** The comparison shown beside the pushed run changed on this page: tell the room. */
  async function pushCompareNow() {
    const key = instructorKey();
    if (room.role !== "instructor" || !key || !room.pushed || room.compareId === room.wantCompare) return;
    const r = await call("PUT", `/api/rooms/${encodeURIComponent(room.code)}`, { compare_id: room.wantCompare || null }, { "X-Instructor-Key": key });
    if (r.ok && r.data) {
      room.compareId = r.data.compare_id ?? null;
      room.error = "";
    } else room.error = t("room.pushFailed", { msg: detail(r, String(r.status)) });
    changed();
  }

  function pushCurrent() {
    const id = currentRun();
    if (id && id !== room.pushed) push(id);
  }

  // ------------------------------------------------------------------ student

  async function join(code) {
    showError("");
    const r = await call("GET", `/api/rooms/${encodeURIComponent(code)}`);
    if (!r.ok || !r.data) {
      if (room.role !== "student") setUrlRoom(null); // a reload must not try again
      return showError(r.status === 404 || r.status === 422 ? t("room.unknown", { code }) : t("room.joinFailed", { msg: detail(r, String(r.status)) }));
    }
    if (room.role === "instructor") {
      store.set(ROOM_STORE, null); // this tab now follows, it no longer leads
    }
    room.role = "student";
    room.code = r.data.code || code;
    room.following = true;
    room.sandboxId = null;
    room.error = "";
    setUrlRoom(room.code);
    setPopOpen(false);
    applyRoom(r.data);
    connect();
  }

  function applyRoom(msg) {
    const prev = room.runId;
    if (prev && !msg.run_id) checkEnded();
    const prevCompare = room.compareId;
    room.runId = msg.run_id ?? null;
    room.compareId = msg.compare_id ?? null;
    room.lesson = msg.lesson ?? null;
    if (room.role === "student" && room.following && room.runId) {
      const load = room.runId !== prev || currentRun() !== room.runId;
      if (load) loadRun(room.runId);
      // the instructor's comparison beside it (loading a run clears the page's)
      if (load || room.compareId !== prevCompare) showCompare?.(room.compareId);
    }
    if (room.role === "student" && room.lesson !== (banner.dataset.lesson || null)) {
      banner.dataset.lesson = room.lesson || "";
      // The instructor opened a lesson: show it here too (its question, what to look at),
      // unless this student is off in a sandbox or already has it open.
      const shown = lessonPanel ? lessonPanel.dataset.lesson || null : null;
      if (room.lesson && room.following && room.lesson !== shown) openLesson?.(room.lesson);
    }
    changed();
  }

  /** The room stopped pointing at a run: closed by the instructor (then it is gone)? */
  async function checkEnded() {
    const code = room.code;
    const r = await call("GET", `/api/rooms/${encodeURIComponent(code)}`);
    if (r.status === 404 && room.role === "student" && room.code === code) {
      leave();
      showError(t("room.closed", { code }));
    }
  }

  function connect() {
    closeSocket();
    const gen = ++wsGen;
    let delay = 500;
    const go = () => {
      if (gen !== wsGen) return;
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const sock = new WebSocket(`${proto}//${location.host}/ws/rooms/${encodeURIComponent(room.code)}`);
      ws = sock;
      sock.onopen = () => {
        if (gen !== wsGen) return;
        delay = 500;
        room.conn = "open";
        renderBanner();
      };
      sock.onmessage = (m) => {
        if (gen !== wsGen) return;
        let msg;
        try {
          msg = JSON.parse(m.data);
        } catch {
          return;
        }
        if (msg && msg.type === "room") applyRoom(msg);
      };
      sock.onclose = (ev) => {
        if (gen !== wsGen) return;
        ws = null;
        if (ev.code === 4404) {
          const code = room.code;
          leave();
          showError(t("room.closed", { code }));
          return;
        }
        room.conn = "reconnecting";
        renderBanner();
        retry = setTimeout(go, delay);
        delay = Math.min(delay * 2, 5000);
      };
    };
    go();
  }

  function closeSocket() {
    wsGen++;
    clearTimeout(retry);
    if (ws) {
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
    ws = null;
    room.conn = "closed";
  }

  async function fork(btn) {
    const src = currentRun() || room.runId;
    if (!src) return;
    btn.disabled = true;
    const r = await forkRun(src);
    if (r.ok && r.data && r.data.id) {
      room.following = false;
      room.sandboxId = r.data.id;
      room.error = "";
      await loadRun(r.data.id, r.data);
    } else {
      room.error = t("room.forkFailed", { msg: detail(r, String(r.status)) });
    }
    changed();
  }

  function leave() {
    closeSocket();
    if (room.role === "instructor") {
      store.set(ROOM_STORE, null);
    }
    setUrlRoom(null);
    Object.assign(room, { role: null, code: null, runId: null, lesson: null, following: true, sandboxId: null, pushed: null, error: "" });
    changed();
  }

  const setUrlRoom = (code) => setParams({ room: code || null });

  // ------------------------------------------------------------------ boot

  /** From the URL (?room=CODE: join) or this tab's session (an instructor's open room).
   *  Returns true when the room decides which run the page shows. */
  function boot() {
    if (hasParam("room")) {
      const code = normalizeCode(getParam("room") || "");
      if (!code) {
        setUrlRoom(null);
        showError(t("room.badCode"));
        return false;
      }
      join(code);
      return true;
    }
    const mine = store.get(ROOM_STORE);
    if (mine && instructorKey()) {
      call("GET", `/api/rooms/${encodeURIComponent(mine)}`).then((r) => {
        if (r.ok && r.data) {
          becomeInstructor(r.data);
          pushCurrent();
        } else if (r.status === 404) store.set(ROOM_STORE, null); // e.g. the server restarted
      });
    }
    return false;
  }

  /** main.js: the page now shows `runId` (started, picked from the list, or followed). */
  function noteRun(runId, compareId = null) {
    room.wantCompare = compareId || null;
    if (room.role === "instructor") {
      if (runId && runId !== room.pushed) push(runId);
      else if (runId) enqueue(pushCompareNow);
    } else if (room.role === "student") {
      const following = !!runId && runId === room.runId;
      if (following !== room.following) {
        room.following = following;
        changed();
      } else renderBanner();
    }
  }

  /** main.js: the page shows run `id` beside its run now (or none: null). */
  function noteCompare(id) {
    room.wantCompare = id || null;
    if (room.role === "instructor") enqueue(pushCompareNow);
  }

  function api() {
    return {
      role: room.role,
      code: room.code,
      runId: room.runId,
      compareId: room.compareId,
      lesson: room.lesson,
      following: room.role === "student" && room.following,
    };
  }

  function relocalize() {
    if (!pop.hidden) renderPop();
    renderBanner();
  }

  renderBanner();
  return {
    boot,
    noteRun,
    noteCompare,
    relocalize,
    leave,
    get state() {
      return api();
    },
  };
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
