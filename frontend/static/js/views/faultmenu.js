// views/faultmenu.js — the fault menu: click a worker node of a live run to inject a fault into its real process.
//
// Click a worker node of a live run to inject a fault into its real
// process: Kill (SIGKILL), Freeze (SIGSTOP), Slow down ×k (the worker sleeps), Corrupt
// gradient (its next gradient is NaN). Works for the data-parallel ring and for the
// parameter server: workers take every fault, a server can be killed or frozen (with
// recovery "restart" it is rebuilt from its checkpoint and update log). Keyboard: Tab to a node, Enter or Space
// opens the menu, arrows move between its items, Escape closes it.
//
// Elastic runs: a worker that has left the group (recovery "shrink") offers "Rejoin".
// Strategies with link faults (data parallelism) also offer them from the clicked worker to
// another one: delay (+ms per message, emulated) or drop (the link loses its messages).
//
// Which faults a run takes is its strategy's spec (GET /api/strategies): an action the
// spec does not list is not offered, one it allows only with some options is shown
// disabled with the spec's reason.

import { getLang, t } from "../core/i18n.js";
import { faultEffect, strategySpec, textIn, whyNot } from "../core/specs.js";
import { LINK_FAULT_ACTIONS } from "../core/faults.js";
import { isGone, optionsOf, ranksOf, serverRanks } from "../core/selectors.js";

/** A server process crashes or hangs, nothing in between. */
const SERVER_ACTIONS = ["kill", "freeze"];

const DEFAULT_FACTOR = 5;
const DEFAULT_MS = 50;

/**
 * @param {object} o
 * @param {SVGSVGElement} o.svg       the topology drawing (both layouts draw into it)
 * @param {HTMLElement} o.menu        the popup element (positioned inside the svg's parent)
 * @param {() => boolean} o.canInject is the loaded run live?
 * @param {(rank: number) => {pid: number|null}} o.workerInfo
 * @param {() => object} [o.getState] the live reducer state (membership, config)
 * @param {(rank: number, action: string, extra: object) => Promise<{ok: boolean, message?: string}>} o.onInject
 */
export function createFaultMenu({ svg, menu, canInject, workerInfo, onInject, getState = () => null }) {
  const host = menu.parentElement;
  let openRank = null;
  let openNode = null;
  let busy = false;
  let factor = DEFAULT_FACTOR;
  let delayMs = DEFAULT_MS;
  let linkDst = null; // the destination last chosen for a link fault
  let live = false;

  const workerNode = (target) => {
    const g = target && target.closest ? target.closest("g.node[data-rank]") : null;
    if (!g || !svg.contains(g)) return null;
    return g;
  };

  function button(action, label, hint, unavailable = false) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `fault-item fault-${action}`;
    b.dataset.action = action;
    b.setAttribute("data-testid", `fault-${action}`);
    b.setAttribute("role", "menuitem");
    const main = document.createElement("span");
    main.className = "fault-item-label";
    main.textContent = label;
    b.appendChild(main);
    if (hint) {
      const h = document.createElement("span");
      h.className = "fault-item-hint";
      h.textContent = hint;
      b.appendChild(h);
    }
    if (unavailable) {
      b.disabled = true;
      b.dataset.unavailable = "1";
    }
    b.addEventListener("click", () => inject(action));
    return b;
  }

  /** The run's fault actions: {name: why-not text or null}, in its spec's order. */
  function offered(state) {
    const config = (state && state.config) || {};
    const spec = strategySpec(config.strategy);
    const out = new Map();
    if (!spec) return out;
    for (const name of Object.keys(spec.faults || {})) {
      const why = whyNot(spec, "fault", name, optionsOf(config));
      out.set(name, why ? textIn(why.because, getLang()) : null);
    }
    return out;
  }

  /** A fault button with its number (slow-down factor, delay): Enter in it injects. */
  function numberRow(action, label, hint, { min, max, value, cls, testid, aria }, unavailable = false) {
    const row = document.createElement("div");
    row.className = "fault-slow-row";
    const input = document.createElement("input");
    input.type = "number";
    input.min = String(min);
    input.max = String(max);
    input.step = "any";
    input.value = String(value);
    input.className = cls;
    input.setAttribute("data-testid", testid);
    input.setAttribute("aria-label", aria);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        inject(action);
      }
    });
    input.disabled = unavailable;
    row.append(button(action, label, hint, unavailable), input);
    return row;
  }

  function build(rank) {
    const pid = workerInfo(rank).pid;
    const pidText = pid != null ? pid : "?";
    const head = document.createElement("div");
    head.className = "fault-head";
    const title = document.createElement("span");
    title.className = "fault-title";
    title.id = "fault-menu-title";
    const what = document.createElement("span");
    what.className = "fault-what";
    what.textContent = t("fault.menuTitle");
    const who = document.createElement("span");
    who.className = "fault-who";
    who.textContent = `${t("topo.rank", { rank })}${pid != null ? " · " + t("topo.pid", { pid }) : ""}`;
    title.append(what, who);
    const close = document.createElement("button");
    close.type = "button";
    close.className = "fault-close";
    close.textContent = "×";
    close.title = t("fault.close");
    close.setAttribute("aria-label", t("fault.close"));
    close.addEventListener("click", () => hide(true));
    head.append(title, close);

    const state = getState();
    const actions = offered(state);
    const err = document.createElement("p");
    err.className = "fault-error";
    err.setAttribute("data-testid", "fault-error");
    err.setAttribute("role", "alert");
    err.hidden = true;
    if (state && isGone(state, rank)) {
      // Left the group: the only thing to do is to bring it back (elastic runs).
      const note = document.createElement("p");
      note.className = "fault-note";
      note.textContent = t("elastic.menu.leftNote", { rank });
      const items = [head, note];
      if (state.config && state.config.recovery === "shrink" && actions.has("rejoin")) {
        items.push(button("rejoin", t("elastic.menu.rejoin"), t("elastic.menu.rejoinHint", { rank })));
      }
      menu.replaceChildren(...items, err);
      menu.setAttribute("aria-labelledby", "fault-menu-title");
      return;
    }
    if (state && serverRanks(state).includes(rank)) {
      // A parameter server: a crash or a hang, nothing in between.
      const note = document.createElement("p");
      note.className = "fault-note";
      note.textContent = t("fault.serverNote");
      const items = SERVER_ACTIONS.filter((a) => actions.has(a)).map((a) => rankItem(a, pidText, actions.get(a)));
      menu.replaceChildren(head, note, ...items, err);
      menu.setAttribute("aria-labelledby", "fault-menu-title");
      return;
    }
    const items = [];
    for (const [a, why] of actions) {
      if (a !== "rejoin" && !LINK_FAULT_ACTIONS.includes(a)) items.push(rankItem(a, pidText, why));
    }
    if (!actions.size) {
      const note = document.createElement("p");
      note.className = "fault-note";
      note.setAttribute("data-testid", "fault-none");
      const spec = strategySpec(state && state.config && state.config.strategy);
      note.textContent = t("fault.noneHere", { strategy: spec ? textIn(spec.title, getLang()) : "?" });
      items.push(note);
    }
    menu.replaceChildren(head, ...items, ...linkSection(state, rank, actions), err);
    menu.setAttribute("aria-labelledby", "fault-menu-title");
  }

  /** A fault aimed at the clicked rank; `why` (a reason) shows it disabled. */
  function rankItem(action, pidText, why) {
    const off = !!why;
    if (action === "slow") {
      return numberRow("slow", t("fault.slow"), why || t("fault.slowHint"), {
        min: 1, max: 100, value: factor, cls: "fault-factor", testid: "fault-slow-factor", aria: t("fault.slowFactor"),
      }, off);
    }
    const hints = {
      kill: () => t("fault.killHint", { pid: pidText }),
      freeze: () => t("fault.freezeHint", { pid: pidText }),
      corrupt: () => t("fault.corruptHint"),
    };
    const effect = faultEffect(((getState() || {}).config || {}).strategy, action);
    if (effect) hints[action] = () => textIn(effect.text, getLang());
    const label = t("fault." + action);
    return button(action, label === "fault." + action ? action : label, why || (hints[action] ? hints[action]() : ""), off);
  }

  /** Link faults from `rank` to a chosen peer (where the strategy takes them, 2+ workers). */
  function linkSection(state, rank, actions) {
    if (!state || !LINK_FAULT_ACTIONS.some((a) => actions.has(a))) return [];
    const servers = new Set(serverRanks(state));
    const peers = ranksOf(state).filter((r) => r !== rank && !servers.has(r) && !isGone(state, r));
    if (!peers.length) return [];
    const box = document.createElement("div");
    box.className = "fault-link";
    box.setAttribute("data-testid", "fault-link");
    const head = document.createElement("label");
    head.className = "fault-link-head";
    const lead = document.createElement("span");
    lead.textContent = t("elastic.menu.linkTitle", { src: rank });
    const dst = document.createElement("select");
    dst.className = "fault-dst";
    dst.setAttribute("data-testid", "fault-link-dst");
    dst.setAttribute("aria-label", t("elastic.menu.linkDst"));
    for (const r of peers) {
      const o = document.createElement("option");
      o.value = String(r);
      o.textContent = t("topo.rank", { rank: r });
      dst.appendChild(o);
    }
    // default: the next worker on the ring (where this one's messages go)
    const next = peers.find((r) => r > rank) ?? peers[0];
    dst.value = String(linkDst != null && peers.includes(linkDst) ? linkDst : next);
    dst.addEventListener("change", () => (linkDst = Number(dst.value)));
    head.append(lead, dst);
    box.append(head);
    if (actions.has("delay")) {
      const why = actions.get("delay");
      box.append(numberRow("delay", t("elastic.menu.delay"), why || t("elastic.menu.delayHint"), {
        min: 0, max: 10000, value: delayMs, cls: "fault-ms", testid: "fault-delay-ms", aria: t("elastic.menu.ms"),
      }, !!why));
    }
    if (actions.has("drop")) {
      const why = actions.get("drop");
      box.append(button("drop", t("elastic.menu.drop"), why || t("elastic.menu.dropHint"), !!why));
    }
    return [box];
  }

  function place(g) {
    const hb = host.getBoundingClientRect();
    const nb = g.getBoundingClientRect();
    menu.style.left = "0px";
    menu.style.top = "0px";
    const mw = menu.offsetWidth;
    const mh = menu.offsetHeight;
    // beside the node (right if there is room, else left), its top level with the node's
    let x = nb.right - hb.left + 6;
    if (x + mw > hb.width) x = nb.left - hb.left - mw - 6;
    x = Math.max(0, Math.min(x, hb.width - mw));
    let y = nb.top - hb.top;
    y = Math.max(0, Math.min(y, Math.max(0, hb.height - mh)));
    menu.style.left = `${Math.round(x)}px`;
    menu.style.top = `${Math.round(y)}px`;
  }

  function show(g) {
    const rank = Number(g.dataset.rank);
    if (!canInject()) return;
    openRank = rank;
    openNode = g;
    busy = false;
    build(rank);
    menu.hidden = false;
    menu.dataset.rank = String(rank);
    svg.dataset.faultMenu = String(rank);
    place(g);
    menu.querySelector(".fault-item")?.focus();
  }

  function hide(returnFocus = false) {
    if (menu.hidden) return;
    menu.hidden = true;
    delete menu.dataset.rank;
    delete svg.dataset.faultMenu;
    const node = openNode;
    openRank = null;
    openNode = null;
    if (returnFocus && node && node.isConnected) node.focus();
  }

  function showError(msg) {
    const err = menu.querySelector(".fault-error");
    if (!err) return;
    err.textContent = msg || "";
    err.hidden = !msg;
  }

  async function inject(action) {
    if (busy || openRank == null) return;
    const rank = openRank;
    let extra = { rank };
    if (action === "delay" || action === "drop") {
      const dst = menu.querySelector(".fault-dst");
      extra = { src: rank, dst: dst ? Number(dst.value) : null };
      if (action === "delay") {
        const input = menu.querySelector(".fault-ms");
        const v = Number(input.value);
        extra.ms = input.value === "" || !Number.isFinite(v) ? input.value : v;
        if (Number.isFinite(v) && v >= 0) delayMs = v;
      }
    }
    if (action === "slow") {
      const input = menu.querySelector(".fault-factor");
      const k = Number(input.value);
      // Send what was typed; the server explains what is wrong (e.g. k < 1).
      extra.factor = input.value === "" || !Number.isFinite(k) ? input.value : k;
      if (Number.isFinite(k) && k >= 1) factor = k;
    }
    busy = true;
    for (const b of menu.querySelectorAll("button.fault-item")) b.disabled = true;
    showError("");
    let r;
    try {
      r = await onInject(rank, action, extra);
    } finally {
      busy = false;
      for (const b of menu.querySelectorAll("button.fault-item")) b.disabled = b.dataset.unavailable === "1";
    }
    if (openRank !== rank) return;
    if (r && r.ok) hide(true);
    else showError((r && r.message) || "?");
  }

  // ---- wiring
  svg.addEventListener("click", (ev) => {
    const g = workerNode(ev.target);
    if (!g || !live) return;
    ev.stopPropagation();
    if (openRank === Number(g.dataset.rank)) hide();
    else show(g);
  });
  svg.addEventListener("keydown", (ev) => {
    const g = workerNode(ev.target);
    if (!g || !live) return;
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      ev.stopPropagation(); // space must not pause the run
      show(g);
    }
  });
  menu.addEventListener("keydown", (ev) => {
    ev.stopPropagation(); // keys typed in the menu are not the page's shortcuts
    if (ev.key === "Escape") {
      ev.preventDefault();
      hide(true);
    } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      const items = [...menu.querySelectorAll("button.fault-item, input.fault-factor, select.fault-dst, input.fault-ms")];
      const i = items.indexOf(document.activeElement);
      if (i < 0) return;
      ev.preventDefault();
      items[(i + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !menu.hidden) hide(true);
  });
  document.addEventListener("pointerdown", (ev) => {
    if (menu.hidden) return;
    if (menu.contains(ev.target) || workerNode(ev.target)) return;
    hide();
  });

  /** After every render: worker nodes of a live run are buttons; a menu whose run is
   *  over, or whose node is gone, closes. */
  function sync(isLive) {
    live = !!isLive && canInject();
    for (const g of svg.querySelectorAll("g.node[data-rank]")) {
      const want = live ? "0" : null;
      if (want === null) {
        if (g.hasAttribute("tabindex")) {
          g.removeAttribute("tabindex");
          g.removeAttribute("role");
          g.removeAttribute("aria-haspopup");
          g.removeAttribute("aria-label");
          g.classList.remove("injectable");
        }
      } else if (g.getAttribute("tabindex") !== want || !g.classList.contains("injectable")) {
        g.setAttribute("tabindex", want);
        g.setAttribute("role", "button");
        g.setAttribute("aria-haspopup", "menu");
        g.setAttribute("aria-label", t("fault.nodeAria", { rank: g.dataset.rank }));
        g.classList.add("injectable");
      }
      // the tooltip says what a click does (the views rewrite it on every render)
      const title = g.querySelector(":scope > title");
      const hint = t("fault.nodeHint");
      if (live && title && !title.textContent.endsWith(hint)) title.textContent += `\n${hint}`;
    }
    if (!menu.hidden && (!live || !openNode || !openNode.isConnected)) {
      // the node was redrawn (same rank): follow it; else close
      const again = live && openRank != null ? svg.querySelector(`g.node[data-rank="${openRank}"]`) : null;
      if (again) {
        openNode = again;
      } else hide();
    }
  }

  return {
    sync,
    hide,
    relocalize() {
      if (!menu.hidden && openNode) {
        const g = openNode;
        hide();
        show(g);
      }
      for (const g of svg.querySelectorAll("g.node.injectable")) g.setAttribute("aria-label", t("fault.nodeAria", { rank: g.dataset.rank }));
    },
    get openRank() {
      return openRank;
    },
  };
}
