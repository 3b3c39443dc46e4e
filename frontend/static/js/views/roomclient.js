// views/roomclient.js — a classroom room's client side: requests with the instructor key, this tab's key and room, room codes and join links.

import { INSTRUCTOR_KEY_STORE } from "../core/api.js";
import { pageLink } from "../core/urlstate.js";

export const KEY_STORE = INSTRUCTOR_KEY_STORE; // api.js sends it with controls of runs not started here
export const ROOM_STORE = "distlab.instructorRoom";
const CODE_RE = /^[A-Za-z0-9]{3,16}$/;

/** fetch + JSON with extra headers; never throws: {ok, status, data}. */
export async function call(method, path, body, headers = {}) {
  const opts = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  try {
    const res = await fetch(path, opts);
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { detail: text };
    }
    return { ok: res.ok, status: res.status, data };
  } catch (err) {
    return { ok: false, status: 0, data: { detail: String((err && err.message) || err) } };
  }
}

/** The server's reason (a 4xx detail), else `fallback`. */
export function detail(r, fallback) {
  const d = r && r.data && r.data.detail;
  if (typeof d === "string" && d) return d;
  if (Array.isArray(d) && d.length) return d.map((x) => (x && x.msg) || String(x)).join("; ");
  return fallback;
}

/** This tab's sessionStorage, never throwing (private mode). */
export const store = {
  get(k) {
    try {
      return sessionStorage.getItem(k);
    } catch {
      return null;
    }
  },
  set(k, v) {
    try {
      if (v == null) sessionStorage.removeItem(k);
      else sessionStorage.setItem(k, v);
    } catch {
      /* private mode */
    }
  },
};

/** The instructor key this tab holds (after a successful POST /api/rooms), or null. */
export function instructorKey() {
  return store.get(KEY_STORE);
}

/** Pure: a room code as typed ("k7qx 2m", a join URL, "?room=K7QX2M") → "K7QX2M" or "". */
export function normalizeCode(raw) {
  let s = String(raw ?? "").trim();
  const m = s.match(/[?&]room=([^&#\s]+)/i);
  if (m) s = decodeURIComponent(m[1]);
  s = s.replace(/[\s-]+/g, "").toUpperCase();
  return CODE_RE.test(s) ? s : "";
}

/** Pure: the URL students open to join `code`, on the page's own origin. */
export function joinUrl(code, origin = location.origin) {
  return `${origin}/${pageLink({ room: code })}`;
}
