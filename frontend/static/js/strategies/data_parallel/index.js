// strategies/data_parallel/index.js — data parallelism's frontend, as registered with core/registry.js: its slice, words, views and hooks.

import catalog from "./catalog.js";
import { baselineConfig, optionNotes } from "./form.js";
import { narrate } from "./narration.js";
import { DP, slice } from "./slice.js";
import { views } from "./views.js";
import { articleKeys, articleKind, runWords } from "./words.js";

export default {
  name: DP,
  default: true, // also draws single and plugin strategies: a ring, its narration, its names
  slice,
  catalog,
  views,
  narrate,
  runWords,
  articleKind,
  articleKeys,
  optionNotes,
  baselineConfig,
};
