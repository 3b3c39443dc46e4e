// views/note.js — a brief visible note near the top of the page, for an action the page refuses itself.
//
// A brief visible note near the top of the page (data-testid=control-note), for
// an action the page refuses itself, e.g. a key that would control a run this page does
// not control. It fades after a few seconds; a new note replaces the old one.

let el = null;
let timer = null;

export function flashNote(text, ms = 3500) {
  if (!el) {
    el = document.createElement("div");
    el.className = "flash-note";
    el.dataset.testid = "control-note";
    el.setAttribute("role", "status");
    el.setAttribute("aria-live", "polite");
    document.body.appendChild(el);
  }
  el.textContent = text;
  el.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => {
    el.hidden = true;
  }, ms);
}
