// views/dom.js — writes to the page that are skipped when they would change nothing.
//
// A view that redraws every step sets most of its texts and attributes to what they
// already were (a rank's name, its pid); each such write still made the browser restyle
// and lay the element out again. These compare first.

const markup = new WeakMap(); // element -> the markup last given to setHtml

/** el.textContent = text, unless it already is. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** el.setAttribute(name, value), unless it already has that value. */
export function setAttr(el, name, value) {
  const v = String(value);
  if (el.getAttribute(name) !== v) el.setAttribute(name, v);
}

/** el.dataset[key] = value, unless it already is. */
export function setData(el, key, value) {
  const v = String(value);
  if (el.dataset[key] !== v) el.dataset[key] = v;
}

/** el.hidden = hidden, unless it already is. */
export function setHidden(el, hidden) {
  if (el.hidden !== !!hidden) el.hidden = !!hidden;
}

/** el[prop] = value (a reflected property: disabled, max, title), unless it already is. */
export function setProp(el, prop, value) {
  if (el[prop] !== value) el[prop] = value;
}

/** el.innerHTML = html, unless this element was last given exactly this markup. */
export function setHtml(el, html) {
  if (markup.get(el) === html) return;
  markup.set(el, html);
  el.innerHTML = html;
}
