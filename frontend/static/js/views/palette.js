// views/palette.js — colour-blind-safe colours (Okabe & Ito, "Color Universal Design", 2008).

export const OKABE_ITO = {
  black: "#000000",
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  green: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  purple: "#CC79A7",
  grey: "#999999",
};

// The first four are the most distinct from each other and from white.
const RANKS = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#000000"];

export function rankColor(rank) {
  return RANKS[((rank % RANKS.length) + RANKS.length) % RANKS.length];
}

export const STATUS_FILL = {
  starting: "#EEEEEE",
  running: "#E3F2FC",
  paused: "#FFF6C2",
  finished: "#D7F2E7",
  stopped: "#E4E4E4",
  failed: "#F8D5C0",
  interrupted: "#E4E4E4",
  restarting: "#DADADA",
};

export const CLASS_COLORS = [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.green, OKABE_ITO.purple];

export function classColor(label) {
  return CLASS_COLORS[((label % CLASS_COLORS.length) + CLASS_COLORS.length) % CLASS_COLORS.length];
}

/** Heatmap colour for P(class 1): blue (0) → white (0.5) → vermillion (1), as [r, g, b]. */
export function probRGB(p) {
  const lo = [86, 160, 214]; // light blue
  const mid = [250, 250, 250];
  const hi = [232, 140, 80]; // light vermillion
  const x = Math.max(0, Math.min(1, Number.isFinite(p) ? p : 0.5));
  const [a, b, u] = x < 0.5 ? [lo, mid, x * 2] : [mid, hi, (x - 0.5) * 2];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * u));
}
