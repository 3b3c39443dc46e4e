// strategies/parameter_server/index.js — the parameter server's frontend, as registered with core/registry.js: its slice, words, views and hooks.

import catalog from "./catalog.js";
import { PS, slice } from "./slice.js";

export default {
  name: PS,
  slice,
  catalog,
};
