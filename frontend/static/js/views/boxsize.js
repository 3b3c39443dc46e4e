// views/boxsize.js — an element's size as the last layout left it, kept by a ResizeObserver, so a view that draws to its size reads it without forcing a layout in the middle of a render.
//
// getBoundingClientRect() after the views above it wrote to the page makes the browser
// lay the whole page out there and then (and again for the next view that asks): a
// render of every view cost two or three layouts instead of the one the frame does
// anyway. The observer reports the border box (what getBoundingClientRect measured);
// until its first report the element is measured once.

/** A function returning {width, height} of `el`. */
export function watchSize(el) {
  let size = null;
  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver((entries) => {
      const e = entries[entries.length - 1];
      const b = e.borderBoxSize && e.borderBoxSize[0];
      size = b ? { width: b.inlineSize, height: b.blockSize } : { width: e.contentRect.width, height: e.contentRect.height };
    }).observe(el);
  }
  return () => {
    if (size) return size;
    const r = el.getBoundingClientRect();
    return { width: r.width, height: r.height };
  };
}
