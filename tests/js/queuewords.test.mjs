// Why a queued run waits, in the page's language: from the server's code and numbers,
// falling back to its English sentence for a code the page does not know.
import assert from "node:assert/strict";
import { test } from "node:test";
import page from "../../frontend/static/js/i18n/page.js";
import { waitingWords } from "../../frontend/static/js/views/queuewords.js";

const words = (lang) => (key, p = {}) => {
  const s = page[lang][key];
  return s === undefined ? key : s.replace(/\{(\w+)\}/g, (_, k) => String(p[k]));
};

test("a student's limit, in both languages", () => {
  const run = { waiting_for: "you have 2 runs live (…)", waiting_reason: { code: "student_runs", args: { mine: 2, max: 2 } } };
  assert.match(waitingWords(run, words("en")), /^you have 2 runs live \(at most 2 per student/);
  assert.match(waitingWords(run, words("zh")), /^你已有 2 个运行在进行（每位学生最多 2 个/);
});

test("a full Ray cluster names what the run needs", () => {
  const run = { waiting_reason: { code: "cluster_full", args: { n: 1, gpus: false, best: 0 } } };
  assert.equal(waitingWords(run, words("en")), "Ray cluster is full: the run needs 1 CPU on one node; the most CPUs free on any node: 0");
  assert.match(waitingWords({ waiting_reason: { code: "cluster_full", args: { n: 4, gpus: true, best: 2 } } }, words("zh")), /4 个 CPU 和 GPU/);
});

test("an unknown code or none: the server's English sentence", () => {
  assert.equal(waitingWords({ waiting_for: "some new limit", waiting_reason: { code: "new", args: {} } }, words("zh")), "some new limit");
  assert.equal(waitingWords({ waiting_for: null }, words("en")), "");
});
