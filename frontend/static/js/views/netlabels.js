// views/netlabels.js — words for a run's modelled network (preset, α, β, per-link overrides), from the catalogs.

import { fmtNum, t } from "../core/i18n.js";

/** "10 GbE" / "one slow link" / "custom network" (the preset's name). */
export function networkName(network) {
  if (!network) return "";
  const key = "net.name." + network.name;
  const v = t(key);
  return v === key ? String(network.name) : v;
}

/** Gb/s with a sensible number of digits. */
export function fmtGbps(x) {
  return fmtNum(x, 3);
}

/** "10 GbE, α = 20 µs, β = 10 Gb/s; link 0→1: α = 20 µs, β = 1 Gb/s" */
export function networkText(network) {
  if (!network) return "";
  let s = t("net.params", {
    name: networkName(network),
    alpha: fmtNum(network.latency_us, 3),
    beta: fmtGbps(network.bandwidth_gbps),
  });
  const links = Array.isArray(network.links) ? network.links : [];
  const shown = links.slice(0, 2).map((l) =>
    t("net.link", { src: l.src, dst: l.dst, alpha: fmtNum(l.latency_us, 3), beta: fmtGbps(l.bandwidth_gbps) }),
  );
  if (links.length > 2) shown.push(t("net.moreLinks", { n: links.length - 2 }));
  if (shown.length) s += "; " + shown.join("; ");
  return s;
}
