// The run list names a run by its strategy: a strategy without a frontend of its own is
// named by its spec's title (in the page's language) — never as "data parallel".
import { test } from "node:test";
import assert from "node:assert/strict";

import { setSpecs } from "../../frontend/static/js/core/specs.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";
import { strategyWords } from "../../frontend/static/js/views/runlist.js";

registerStrategies();

test("a strategy without a frontend is named by its spec's title", () => {
  setSpecs([{ name: "lbfgs", title: { en: "L-BFGS (full batch)", zh: "L-BFGS（全批量）" } }], null);
  try {
    assert.equal(strategyWords({ strategy: "lbfgs" }, "list"), "L-BFGS (full batch)");
    assert.notEqual(strategyWords({ strategy: "data_parallel" }, "list"), "L-BFGS (full batch)");
    assert.equal(strategyWords({ strategy: "unknown_plugin" }, "list"), strategyWords({ strategy: "data_parallel" }, "list"));
  } finally {
    setSpecs([], null);
  }
});
