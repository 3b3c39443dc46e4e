// core/api.js — HTTP helpers and the run event stream (WebSocket with resume-by-seq).

import { unpackTick } from "./wire.js";

/** fetch + JSON. Never throws for HTTP errors: returns {ok, status, data}. */
export async function request(method, path, body, headers = {}) {
  const opts = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (err) {
    return { ok: false, status: 0, data: { detail: String(err && err.message ? err.message : err) } };
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  return { ok: res.ok, status: res.status, data };
}

export const getScenarios = () => request("GET", "/api/scenarios");
export const listRuns = () => request("GET", "/api/runs");
export const getRun = (id) => request("GET", `/api/runs/${encodeURIComponent(id)}`);
// Control tokens: the server gives a run's token only to whoever started it, and refuses
// controls without it (403). This tab keeps its tokens in sessionStorage, so a reload keeps
// control while a classmate's tab (or a student following a room) has none.
const TOKENS_KEY = "distlab.controlTokens";

function loadTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function rememberToken(res) {
  if (!res.ok || !res.data || !res.data.id || !res.data.control_token) return res;
  const tokens = loadTokens();
  tokens[res.data.id] = res.data.control_token;
  const ids = Object.keys(tokens);
  for (const old of ids.slice(0, Math.max(0, ids.length - 200))) delete tokens[old];
  try {
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  } catch {
    /* storage full or disabled: control works until the page is closed */
  }
  memoryTokens[res.data.id] = res.data.control_token;
  return res;
}

const memoryTokens = {};

// The instructor key, kept by room.js in this tab after the server accepted it (POST
// /api/rooms): the instructor may control any run, e.g. one picked from the list.
export const INSTRUCTOR_KEY_STORE = "distlab.instructorKey";

function instructorKey() {
  try {
    return sessionStorage.getItem(INSTRUCTOR_KEY_STORE);
  } catch {
    return null;
  }
}

/** Whether this tab holds the instructor key (it may pin runs, control any run). */
export const isInstructor = () => Boolean(instructorKey());

/** Pin (keep whatever the retention policy) or unpin a run: instructor key only. */
export const pinRun = (id, pinned) =>
  request(pinned ? "PUT" : "DELETE", `/api/runs/${encodeURIComponent(id)}/pin`, undefined, { "X-Instructor-Key": instructorKey() || "" });

/** Whether this page may control run `id` (it started it in this tab, or holds the
 *  instructor key). */
export function hasControl(id) {
  return Boolean(ownsRun(id) || instructorKey());
}

/** Whether this tab started run `id` (it holds the run's own control token). */
export function ownsRun(id) {
  return Boolean(memoryTokens[id] || loadTokens()[id]);
}

// An anonymous id this browser keeps (localStorage): the server limits the live runs of
// one student (the rest wait in its queue) so that everyone in a class gets a turn.
const STUDENT_KEY = "distlab.studentId";
let memoryStudent = null;

export function studentId() {
  try {
    const kept = localStorage.getItem(STUDENT_KEY);
    if (kept) return kept;
  } catch {
    /* storage disabled: an id for this page only */
  }
  if (!memoryStudent) {
    const bytes = new Uint8Array(9);
    crypto.getRandomValues(bytes);
    memoryStudent = `s-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    try {
      localStorage.setItem(STUDENT_KEY, memoryStudent);
    } catch {
      /* as above */
    }
  }
  return memoryStudent;
}

const asStudent = () => ({ "X-Student-Id": studentId() });
export const createRun = async (config) => rememberToken(await request("POST", "/api/runs", config, asStudent()));
export const forkRun = async (id) =>
  rememberToken(await request("POST", `/api/runs/${encodeURIComponent(id)}/fork`, undefined, asStudent()));
export const controlRun = (id, action, extra = {}) => {
  const token = memoryTokens[id] || loadTokens()[id];
  const key = token ? null : instructorKey();
  const headers = token ? { "X-Control-Token": token } : key ? { "X-Instructor-Key": key } : {};
  return request("POST", `/api/runs/${encodeURIComponent(id)}/control`, { action, ...extra }, headers);
};

/** A torchrun run's command for its hosts (it holds the join token: only for the page
 *  that started the run, or the instructor). */
export const getHostsCommand = (id) => {
  const token = memoryTokens[id] || loadTokens()[id];
  const key = token ? null : instructorKey();
  const headers = token ? { "X-Control-Token": token } : key ? { "X-Instructor-Key": key } : {};
  return request("GET", `/api/runs/${encodeURIComponent(id)}/hosts`, undefined, headers);
};

/** A readable message from an error body ({detail: str} or FastAPI's [{msg, loc}]). */
export function errorMessage(data, fallback = "") {
  if (!data) return fallback;
  const d = data.detail;
  if (typeof d === "string" && d) return d;
  if (Array.isArray(d) && d.length) {
    return d
      .map((x) => (x && x.msg ? `${(x.loc || []).filter((p) => p !== "body").join(".")}: ${x.msg}` : String(x)))
      .join("; ");
  }
  return fallback;
}

/** One message of /ws/runs/{id} as its array of events: JSON text (the backlog), or a
 *  live tick, packed in columns and deflated once on the server for every viewer
 *  (backend/hub.py, core/wire.js). */
export async function decodeMessage(data) {
  let text = data;
  if (typeof data !== "string") {
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    text = await new Response(stream).text();
  }
  try {
    return unpackTick(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * Follow a run's events over WebSocket. Each message is a JSON array of events (deflated
 * for live ticks: decodeMessage), handed on in the order the messages came.
 * On an unexpected close it reconnects with `?after=<last seq seen>` (backoff 0.5 s .. 5 s).
 * It stops after `run_finished` has been seen, after an application close code (4xxx),
 * when `shouldReconnect()` resolves false, or when `close()` is called. The client never sends anything.
 *
 * @returns {{close(): void}}
 */
export function followRun(runId, { after = 0, onEvents, onState, onEnd, shouldReconnect } = {}) {
  let lastSeq = after;
  let finished = false;
  let closed = false;
  let ws = null;
  let delay = 500;
  let timer = null;

  const url = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/ws/runs/${encodeURIComponent(runId)}?after=${lastSeq}`;
  };

  const connect = () => {
    if (closed) return;
    onState?.("connecting");
    ws = new WebSocket(url());
    ws.binaryType = "arraybuffer";
    // Messages are decoded in order: live ticks arrive deflated (inflated asynchronously),
    // so each waits for the one before it.
    let decoding = Promise.resolve();
    ws.onopen = () => {
      delay = 500;
      onState?.("open");
    };
    ws.onmessage = (msg) => {
      decoding = decoding.then(() => decodeMessage(msg.data)).then(take, () => {});
    };
    const take = (batch) => {
      if (closed || batch == null) return;
      if (!Array.isArray(batch)) batch = [batch];
      const fresh = batch.filter((e) => e && typeof e.seq === "number" && e.seq > lastSeq);
      if (!fresh.length) return;
      lastSeq = fresh[fresh.length - 1].seq;
      if (fresh.some((e) => e.type === "run_finished")) finished = true;
      onEvents?.(fresh);
    };
    ws.onclose = (ev) => {
      ws = null;
      // Let the messages still being inflated land before deciding what the close means.
      decoding.then(() => onClosed(ev));
    };
    const onClosed = (ev) => {
      if (closed) return;
      if (finished || (ev.code >= 4000 && ev.code < 5000)) {
        closed = true;
        onState?.("closed");
        onEnd?.({ finished, code: ev.code, reason: ev.reason });
        return;
      }
      const retry = () => {
        if (closed) return;
        onState?.("reconnecting");
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 5000);
      };
      if (!shouldReconnect) return retry();
      // e.g. a run marked "interrupted" will never send run_finished: ask first.
      Promise.resolve(shouldReconnect({ code: ev.code, lastSeq }))
        .catch(() => true)
        .then((again) => {
          if (closed) return;
          if (again) return retry();
          closed = true;
          onState?.("closed");
          onEnd?.({ finished, code: ev.code, reason: ev.reason });
        });
    };
    ws.onerror = () => {
      // onclose follows; reconnect happens there.
    };
  };

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
    },
    get lastSeq() {
      return lastSeq;
    },
  };
}
