// strategies/data_parallel/index.js — data parallelism's frontend, as registered with core/registry.js: its slice, words, views and hooks.

import catalog from "./catalog.js";
import { DP, slice } from "./slice.js";

export default {
  name: DP,
  slice,
  catalog,
};
