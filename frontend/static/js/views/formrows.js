// views/formrows.js — the run form's two little tables: per-link network overrides and faults scheduled before the run.
//
// The two little tables of the run form: per-link network overrides
// (src → dst, α, β) and faults scheduled before the run (after step, action, rank or
// link, factor or ms). Each keeps its rows and tells the form when they change.

import { t } from "../core/i18n.js";
import { LINK_FAULT_ACTIONS } from "../core/faults.js";
import { numOrRaw } from "../core/urlstate.js";

/** A scheduled fault with exactly the fields its action takes (as the API wants it);
 *  `prev` supplies the values that survive a change of action. */
export function shapeFault(prev, action) {
  const p = prev || {};
  const out = { after_step: p.after_step ?? 10, action };
  if (LINK_FAULT_ACTIONS.includes(action)) {
    out.src = p.src ?? 0;
    out.dst = p.dst ?? 1;
    if (action === "delay") out.ms = p.ms ?? 50;
  } else {
    out.rank = p.rank ?? 0;
    if (action === "slow") out.factor = p.factor ?? 5;
  }
  return out;
}

function numberInput(value, attrs, label, onChange) {
  const inp = document.createElement("input");
  inp.type = "number";
  inp.step = "any";
  for (const [k, v] of Object.entries(attrs)) inp.setAttribute(k, v);
  inp.value = value == null ? "" : String(value);
  inp.setAttribute("aria-label", label);
  inp.addEventListener("change", () => onChange(numOrRaw(inp.value)));
  return inp;
}

function removeButton(label, onClick, testid) {
  const del = document.createElement("button");
  del.type = "button";
  del.className = "link-del";
  del.textContent = "×";
  del.title = label;
  del.setAttribute("aria-label", label);
  if (testid) del.setAttribute("data-testid", testid);
  del.addEventListener("click", onClick);
  return del;
}

function arrow() {
  const a = document.createElement("span");
  a.className = "link-arrow";
  a.textContent = "→";
  return a;
}

/** Per-link overrides on top of the network model. */
export function createLinksEditor({ editor, rows, onChange }) {
  let links = [];

  function render() {
    rows.replaceChildren(
      ...links.map((l, i) => {
        const row = document.createElement("div");
        row.className = "link-row";
        row.setAttribute("data-testid", "link-row");
        const num = (key, attrs, label) => {
          const inp = numberInput(l[key], attrs, label, (v) => {
            links[i] = { ...links[i], [key]: v };
            onChange();
          });
          inp.dataset.key = key;
          return inp;
        };
        const del = removeButton(t("form.linkRemove"), () => {
          links.splice(i, 1);
          render();
          onChange();
        });
        row.append(
          num("src", { min: "0", step: "1" }, t("form.linkSrc")),
          arrow(),
          num("dst", { min: "0", step: "1" }, t("form.linkDst")),
          num("latency_us", { min: "0" }, t("form.latency")),
          num("bandwidth_gbps", { min: "0" }, t("form.bandwidth")),
          del,
        );
        return row;
      }),
    );
    editor.classList.toggle("has-rows", links.length > 0);
  }

  return {
    render,
    get: () => links.map((l) => ({ ...l })),
    set(list) {
      links = Array.isArray(list) ? list.map((l) => ({ ...l })) : [];
      render();
    },
    add(link) {
      links.push(link);
      render();
      onChange();
    },
    last: () => links[links.length - 1],
  };
}

/**
 * Faults planned before the run.
 * @param {object} o
 * @param {() => {name: string, why: string|null}[]} o.actions  the fault actions of the
 *   selected strategy, each with why it is unavailable (null: available)
 */
export function createScheduleEditor({ editor, rows, actions, onChange }) {
  let schedule = [];

  function actionSelect(fault, i) {
    const sel = document.createElement("select");
    sel.className = "sched-action";
    sel.setAttribute("data-testid", "sched-action");
    sel.setAttribute("aria-label", t("elastic.sched.action"));
    const list = actions();
    // A fault of a link or a strategy that no longer offers it stays shown, as it is.
    if (!list.some((a) => a.name === fault.action)) list.push({ name: fault.action, why: t("elastic.sched.unavailable") });
    for (const a of list) {
      const o = document.createElement("option");
      o.value = a.name;
      o.textContent = t("elastic.action." + a.name);
      o.disabled = !!a.why && a.name !== fault.action;
      if (a.why) o.title = a.why;
      sel.appendChild(o);
    }
    sel.value = fault.action;
    sel.addEventListener("change", () => {
      schedule[i] = shapeFault(schedule[i], sel.value);
      render();
      onChange();
    });
    return sel;
  }

  function render() {
    rows.replaceChildren(
      ...schedule.map((fault, i) => {
        const row = document.createElement("div");
        row.className = "sched-row";
        row.setAttribute("data-testid", "sched-row");
        row.dataset.action = fault.action;
        const num = (key, attrs, label) => {
          const inp = numberInput(fault[key], attrs, label, (v) => {
            schedule[i] = { ...schedule[i], [key]: v };
            onChange();
          });
          inp.dataset.key = key;
          inp.className = `sched-${key}`;
          inp.title = label;
          return inp;
        };
        const at = document.createElement("span");
        at.className = "sched-label";
        at.textContent = t("elastic.sched.after");
        const parts = [at, num("after_step", { min: "1", step: "1" }, t("elastic.sched.after")), actionSelect(fault, i)];
        if (LINK_FAULT_ACTIONS.includes(fault.action)) {
          parts.push(num("src", { min: "0", step: "1" }, t("elastic.sched.src")), arrow(), num("dst", { min: "0", step: "1" }, t("elastic.sched.dst")));
          if (fault.action === "delay") parts.push(num("ms", { min: "0" }, t("elastic.sched.ms")));
        } else {
          parts.push(num("rank", { min: "0", step: "1" }, t("elastic.sched.rank")));
          if (fault.action === "slow") parts.push(num("factor", { min: "1" }, t("elastic.sched.factor")));
        }
        parts.push(
          removeButton(
            t("elastic.sched.remove"),
            () => {
              schedule.splice(i, 1);
              render();
              onChange();
            },
            "sched-remove",
          ),
        );
        row.append(...parts);
        return row;
      }),
    );
    editor.classList.toggle("has-rows", schedule.length > 0);
  }

  return {
    render,
    get: () => schedule.map((x) => ({ ...x })),
    set(list) {
      schedule = Array.isArray(list) ? list.map((x) => ({ ...x })) : [];
      render();
    },
    add(fault) {
      schedule.push(fault);
      render();
      onChange();
    },
    last: () => schedule[schedule.length - 1],
    get length() {
      return schedule.length;
    },
  };
}
