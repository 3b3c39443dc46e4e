// The run list says how long the server keeps each run (GET /api/runs: `retention`,
// backend/retention.py), in English and Chinese, from the numbers — never from the
// server's English sentence.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CATALOGS } from "../../frontend/static/js/core/i18n.js";
import { retentionNote, retentionPolicy } from "../../frontend/static/js/views/runlist.js";

const tr = (lang) => (key, params = {}) =>
  (CATALOGS[lang][key] ?? key).replace(/\{(\w+)\}/g, (m, n) => (n in params ? String(params[n]) : m));
const NOW = 1_800_000_000;
const limits = { days: 30, runs: 5, mb: 200 };
const kept = (fields) => ({ policy: "…", limits, kept: null, expires_at: null, runs_left: null, mb_left: null, ...fields });

test("a run under limits says when each limit lets it go, in both languages", () => {
  const r = kept({ expires_at: NOW + 12.5 * 86400, runs_left: 3, mb_left: 150 });
  assert.equal(retentionNote(r, NOW, tr("en")), "deleted in 12 days or after 3 more runs or after 150 MB more runs");
  assert.equal(retentionNote(r, NOW, tr("zh")), "12 天后或再运行 3 次后或再多 150 MB 的运行后删除");
  assert.equal(retentionNote(kept({ runs_left: 1 }), NOW, tr("en")), "deleted after the next run");
  assert.equal(retentionNote(kept({ expires_at: NOW + 3600 }), NOW, tr("en")), "deleted within a day");
});

test("pinned, shown in a room, the newest past its limits, or a keep-all server", () => {
  assert.equal(retentionNote(kept({ kept: "pinned" }), NOW, tr("en")), "kept: pinned by the instructor");
  assert.equal(retentionNote(kept({ kept: "pinned" }), NOW, tr("zh")), "保留：教师已固定");
  assert.equal(retentionNote(kept({ kept: "room" }), NOW, tr("en")), "kept while a classroom room shows it");
  const over = kept({ kept: "newest", expires_at: NOW - 10, runs_left: 5 });
  assert.equal(retentionNote(over, NOW, tr("en")), "kept while it is this student's newest run");
  assert.equal(retentionNote(kept({ kept: "all" }), NOW, tr("en")), "");
  assert.equal(retentionNote(null, NOW, tr("en")), "");
});

test("the policy's tooltip names each limit that is set", () => {
  assert.equal(
    retentionPolicy(kept({}), tr("en")),
    "The server keeps runs: 30 days after they end, each student's newest 5, 200 MB per student. Pinned runs and each student's newest run are always kept.",
  );
  assert.match(retentionPolicy(kept({ limits: { days: null, runs: 2, mb: null } }), tr("zh")), /每个学生最新的 2 次/);
  assert.equal(retentionPolicy(kept({ limits: { days: null, runs: null, mb: null } }), tr("en")), "The server keeps every run.");
});
