// views/panelfit.js — the left panel ends on screen: it measures where the panel starts on the page (the lesson band and a room banner push it down) and sets --panel-top, which caps the panel's height (app.css) so its bottom, where the run buttons stick, is in the window.

/** Keep `panel`'s --panel-top current; `above` are the elements whose size moves it. */
export function fitPanelToWindow(panel, above) {
  let queued = false;
  const measure = () => {
    queued = false;
    const top = panel.getBoundingClientRect().top + window.scrollY;
    panel.style.setProperty("--panel-top", `${Math.max(0, Math.round(top))}px`);
  };
  const later = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(measure);
  };
  const watch = new ResizeObserver(later);
  for (const el of above) if (el) watch.observe(el);
  window.addEventListener("resize", later);
  measure();
  return { measure };
}
