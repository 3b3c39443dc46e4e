// strategies/parameter_server/index.js — the parameter server's frontend, as registered with core/registry.js: its slice, words, views and hooks.

import catalog from "./catalog.js";
import { narrate } from "./narration.js";
import { PS, psBoundaryNote, psCursorUnit, psProgress, slice } from "./slice.js";
import { views } from "./views.js";
import { articleKeys, articleKind, measuredLines, runWords } from "./words.js";

export default {
  name: PS,
  slice,
  catalog,
  views,
  narrate,
  runWords,
  articleKind,
  articleKeys,
  measuredLines,
  progress: psProgress,
  cursorUnit: psCursorUnit,
  boundaryNote: psBoundaryNote,
};
