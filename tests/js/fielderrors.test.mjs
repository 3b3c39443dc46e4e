// The run form's field errors (views/fielderrors.js): what a field allows, why a value is
// refused, and a 422's errors in the form's terms, in both languages. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { CATALOGS } from "../../frontend/static/js/core/i18n.js";
import { apiErrors, checkValue, explainApiError, messageText } from "../../frontend/static/js/views/fielderrors.js";

const BATCH = { name: "batch_size", type: "int", min: 1, max: 512, nullable: false };
const LR = { name: "lr", type: "float", min: 0, max: 10, exclusive_min: true, nullable: false };
const trIn = (lang) => (key, params) =>
  (CATALOGS[lang][key] ?? key).replace(/\{(\w+)\}/g, (m, n) => (params && n in params ? String(params[n]) : m));

test("a value outside the schema's range says the range, in either language", () => {
  assert.equal(checkValue(BATCH, 32), null);
  const msg = checkValue(BATCH, 1000);
  assert.equal(messageText(msg, trIn("en")), "Must be between 1 and 512");
  assert.equal(messageText(msg, trIn("zh")), "须介于 1 与 512 之间");
  assert.equal(messageText(checkValue(BATCH, 2.5), trIn("zh")), "须为介于 1 与 512 之间的整数");
  assert.equal(messageText(checkValue(LR, 0), trIn("en")), "Must be greater than 0 and at most 10");
  assert.equal(checkValue(LR, 0.1), null);
  assert.equal(messageText(checkValue(BATCH, null), trIn("zh")), "必填");
  assert.equal(checkValue({ ...BATCH, nullable: true }, null), null);
});

test("a 422 lands on its field: pydantic's ranges, the engine's rules, options and rows", () => {
  const specOf = (n) => ({ batch_size: BATCH, lr: LR })[n] || null;
  const body = {
    detail: "…",
    errors: [
      { field: "batch_size", message: "Input should be less than or equal to 512", type: "less_than_equal" },
      { field: "straggler_rank", message: "straggler_rank must be between 0 and 3 (got 7)", type: "value_error" },
      { field: "options.backup_workers", message: "options.backup_workers must be between 0 and 1 (got 2)", type: "value_error" },
      { field: "num_samples", message: "num_samples (1024) must be at least workers × batch_size (2048) so …", type: "value_error" },
      { field: "network", message: "network 'custom' needs bandwidth_gbps", type: "value_error" },
      { field: "faults[0].rank", message: "faults[0].rank: rank 9 does not exist: this run has ranks 0–3", type: "value_error" },
      { field: "", message: "something", type: "value_error" },
    ],
  };
  const got = apiErrors(body).map((e) => explainApiError(e, specOf, { workers: 4, num_samples: 1024 }));
  const zh = trIn("zh");
  assert.deepEqual(got.map((x) => x && x.name), ["batch_size", "straggler_rank", "backup_workers", "batch_size", "bandwidth_gbps", "faults", null]);
  assert.equal(messageText(got[0].msg, zh), "须介于 1 与 512 之间");
  assert.equal(messageText(got[1].msg, zh), "须介于 0 与 3 之间");
  assert.equal(messageText(got[2].msg, zh), "须介于 0 与 1 之间");
  assert.match(messageText(got[3].msg, zh), /每个进程最多 256/);
  assert.equal(messageText(got[4].msg, trIn("en")), "Required");
  assert.equal(messageText(got[5].msg, trIn("en")), "Not accepted: rank 9 does not exist: this run has ranks 0–3");
  // FastAPI's own shape: loc paths
  const plain = apiErrors({ detail: [{ loc: ["body", "options", "servers"], msg: "Value error, too many", type: "value_error" }] });
  assert.deepEqual(plain, [{ field: "options.servers", message: "too many", type: "value_error" }]);
});
