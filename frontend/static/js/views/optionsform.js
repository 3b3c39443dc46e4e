// views/optionsform.js — the selected strategy's own options in the run form, built from its spec.
//
// The selected strategy's own options, built from its spec (GET
// /api/strategies): a choice is a select (its choice labels; "none" first when it may be
// unset), a number an input with the spec's range (step 1 for integers), a flag a
// checkbox. Labels and help come from the spec in the page's language; an option with
// `shown_when` is hidden while its condition does not hold, and `advanced` ones are tucked
// into "More options". Every control has data-testid="opt-<name>".

import { getLang, t } from "../core/i18n.js";
import { isShown, textIn } from "../core/specs.js";
import { numOrRaw } from "../core/urlstate.js";

/** A choice whose labels are this long gets the whole row (in English; Chinese is shorter). */
const WIDE_LABEL = 18;

/** Pure: how one option is drawn: {tag, type, wide, attrs} (attrs of the input). */
export function controlShape(opt) {
  if (opt.type === "choice") {
    const longest = Math.max(0, ...(opt.choices || []).map((c) => textIn(c.label, "en").length));
    return { tag: "select", wide: longest > WIDE_LABEL, attrs: {} };
  }
  if (opt.type === "bool") return { tag: "input", type: "checkbox", wide: true, attrs: {} };
  const attrs = { step: opt.type === "int" ? "1" : "any" };
  // An exclusive minimum has no HTML attribute: the server's 422 says what is wrong.
  if (opt.min != null && !opt.exclusive_min) attrs.min = String(opt.min);
  if (opt.max != null) attrs.max = String(opt.max);
  return { tag: "input", type: "number", wide: false, attrs };
}

/** Pure: the value a control's text stands for (a number, a flag, a choice or null). */
export function valueOf(opt, raw, checked) {
  if (opt.type === "bool") return !!checked;
  if (raw === "" || raw == null) return opt.nullable ? null : opt.type === "choice" ? opt.default : null;
  if (opt.type === "int" || opt.type === "float") return numOrRaw(raw);
  return raw;
}

function make(tag, attrs = {}) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/**
 * @param {object} o
 * @param {HTMLElement} o.section  the section (hidden when the strategy has no options)
 * @param {HTMLElement} o.title    where the section's title goes
 * @param {HTMLElement} o.grid     where the controls go
 * @param {(name: string) => void} o.onChange  an option changed (after the section re-synced)
 */
export function createOptionsForm({ section, title, grid, onChange }) {
  let spec = null;
  let controls = new Map(); // name → {opt, box, input, text}

  function words(c) {
    const lang = getLang();
    c.text.textContent = textIn(c.opt.label, lang);
    const help = textIn(c.opt.help, lang);
    c.box.title = help;
    c.input.setAttribute("aria-description", help);
    if (c.opt.type === "choice") {
      for (const o of c.input.options) {
        const choice = (c.opt.choices || []).find((x) => x.value === o.value);
        o.textContent = choice ? textIn(choice.label, lang) : t("form.none");
      }
    }
  }

  function control(opt) {
    const shape = controlShape(opt);
    const input = make(shape.tag, { "data-testid": `opt-${opt.name}`, "data-option": opt.name, ...shape.attrs });
    if (shape.type) input.type = shape.type;
    if (opt.type === "choice") {
      if (opt.nullable) input.append(make("option", { value: "" }));
      for (const c of opt.choices || []) {
        const o = make("option");
        o.value = c.value;
        input.append(o);
      }
    }
    if (opt.nullable && shape.type === "number") input.placeholder = t("form.none");
    const text = make("span");
    const box = make("label", { class: shape.type === "checkbox" ? "check field-wide" : `field${shape.wide ? " field-wide" : ""}` });
    box.dataset.option = opt.name;
    if (shape.type === "checkbox") box.append(input, text);
    else box.append(text, input);
    input.addEventListener("change", () => {
      sync();
      onChange?.(opt.name);
    });
    const c = { opt, box, input, text };
    words(c);
    return c;
  }

  /** Build the section for a spec (or hide it: no spec, or no options). */
  function build(next, values) {
    spec = next;
    controls = new Map();
    grid.replaceChildren();
    const opts = spec ? spec.options : [];
    section.hidden = !opts.length;
    if (!opts.length) return;
    let more = null;
    for (const opt of opts) {
      const c = control(opt);
      controls.set(opt.name, c);
      if (!opt.advanced) grid.append(c.box);
      else {
        if (!more) {
          more = make("details", { class: "more-options field-wide", "data-testid": "more-options" });
          more.append(make("summary"), make("div", { class: "section-grid" }));
          grid.append(more);
        }
        more.lastChild.append(c.box);
      }
    }
    fill(values);
    relocalize();
  }

  /** The values shown (every option of the spec, hidden ones too). */
  function read() {
    const out = {};
    for (const [name, c] of controls) out[name] = valueOf(c.opt, c.input.value, c.input.checked);
    return out;
  }

  function fill(values) {
    const v = values || {};
    for (const [name, c] of controls) {
      const value = name in v ? v[name] : c.opt.default;
      if (c.opt.type === "bool") c.input.checked = !!value;
      else c.input.value = value == null ? "" : String(value);
      if (c.opt.type === "choice" && c.input.selectedIndex < 0) c.input.value = c.opt.default ?? "";
    }
    sync();
  }

  /** Hide what the other options make meaningless (shown_when). */
  function sync() {
    const values = read();
    for (const c of controls.values()) c.box.hidden = !isShown(c.opt, values);
  }

  function relocalize() {
    if (!spec) return;
    title.textContent = t("form.optionsOf");
    for (const c of controls.values()) words(c);
    const more = grid.querySelector(".more-options > summary");
    if (more) more.textContent = t("form.moreOptions");
  }

  return {
    build,
    read,
    fill,
    relocalize,
    get spec() {
      return spec;
    },
    input: (name) => controls.get(name)?.input || null,
  };
}
