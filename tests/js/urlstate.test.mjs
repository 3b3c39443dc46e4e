// The URL table (urlstate.js), the spec lookups (specs.js) and the pure parts of the
// generated strategy form (optionsform.js, controls.js), on a hand-made catalog.
import { test } from "node:test";
import assert from "node:assert/strict";

import { SCHEMA, STRATEGIES } from "./fixtures/specs.mjs";
import {
  firstStrategy,
  formDefaults,
  isShown,
  mergeConfig,
  optionSpec,
  sendableOptions,
  setSpecs,
  strategySpec,
  textIn,
  whyNot,
} from "../../frontend/static/js/core/specs.js";
import {
  faultsFromUrl,
  faultsToUrl,
  formFromParams,
  formKeyNames,
  formToParams,
  linksFromUrl,
  linksToUrl,
  pageLink,
  parseCompare,
  readPage,
  writePage,
} from "../../frontend/static/js/core/urlstate.js";
import { controlShape, valueOf } from "../../frontend/static/js/views/optionsform.js";
import { faultChoices, optionNotes, recoveryBlocks } from "../../frontend/static/js/views/formrules.js";
import { CATALOGS } from "../../frontend/static/js/core/i18n.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

setSpecs(STRATEGIES, SCHEMA);
const en = (k, p) => String(CATALOGS.en[k] ?? k).replace(/\{(\w+)\}/g, (m, n) => (p && n in p ? String(p[n]) : m));

test("form defaults come from the schema and the spec; the page starts at a human pace", () => {
  assert.equal(firstStrategy(), "data_parallel");
  const d = formDefaults("parameter_server");
  assert.equal(d.strategy, "parameter_server");
  assert.deepEqual(d.options, { servers: 1, ps_mode: "sync", staleness_bound: 2 });
  assert.equal(d.workers, 4);
  assert.equal(d.pace, 10);
  assert.deepEqual([d.links, d.faults], [[], []]);
});

test("mergeConfig: options add up within a strategy and restart from defaults across", () => {
  const base = formDefaults("data_parallel");
  const same = mergeConfig(base, { options: { compression: "qsgd" }, steps: 9 });
  assert.equal(same.options.compression, "qsgd");
  assert.equal(same.options.allreduce, "builtin");
  assert.equal(same.steps, 9);
  const other = mergeConfig(same, { strategy: "parameter_server", options: { ps_mode: "async" } });
  assert.deepEqual(other.options, { servers: 1, ps_mode: "async", staleness_bound: 2 });
});

test("form settings round-trip through the URL; defaults stay out of it", () => {
  const cfg = mergeConfig(formDefaults("parameter_server"), {
    workers: 3,
    pace: null,
    lr: 0.25,
    detail: true,
    network: "10gbe",
    checkpoint_every: 5,
    recovery: "continue",
    options: { ps_mode: "ssp", staleness_bound: 4 },
    links: [{ src: 0, dst: 1, latency_us: 20, bandwidth_gbps: 1 }],
    faults: [{ after_step: 4, action: "kill", rank: 2 }],
  });
  const q = formToParams(new URLSearchParams("run=abc&lang=zh"), cfg);
  assert.equal(q.get("strategy"), "parameter_server");
  assert.equal(q.get("pace"), "full");
  assert.equal(q.get("ps_mode"), "ssp");
  assert.equal(q.has("servers"), false, "an option at its default stays out");
  assert.equal(q.has("steps"), false);
  assert.equal(q.get("run"), "abc", "page keys are left alone");
  const back = mergeConfig(formDefaults(), formFromParams(new URLSearchParams(q.toString())));
  assert.deepEqual(back, cfg);
  // a default config writes no form key at all
  assert.equal(formToParams(new URLSearchParams(), formDefaults()).toString(), "");
});

test("old links with flat option names still fill the form; other strategies' options drop", () => {
  const got = formFromParams(new URLSearchParams("strategy=parameter_server&ps_mode=async&workers=3&allreduce=ring"));
  assert.deepEqual(got, { strategy: "parameter_server", workers: 3, options: { ps_mode: "async" } });
  const dp = formFromParams(new URLSearchParams("compression=qsgd&error_feedback=true&qsgd_levels=3&pace=full"));
  assert.deepEqual(dp, { pace: null, options: { compression: "qsgd", error_feedback: true, qsgd_levels: 3 } });
  // switching strategy removes the previous strategy's keys
  const q = new URLSearchParams("compression=qsgd&allreduce=ring");
  formToParams(q, formDefaults("parameter_server"));
  assert.equal(q.toString(), "strategy=parameter_server");
  assert.ok(formKeyNames().includes("staleness_bound") && formKeyNames().includes("faults"));
});

test("typed text that is not a number reaches the server as typed", () => {
  assert.equal(formFromParams(new URLSearchParams("workers=four")).workers, "four");
});

test("page keys: parse with defaults, write without them, keep the others", () => {
  const q = new URLSearchParams("lesson=ring-allreduce&workers=4&foo=bar");
  writePage(q, { hide: true, x: "time", tl: "compact", at: 12, big: true, guess: 0, compare: ["a", "b"] });
  assert.equal(q.get("foo"), "bar");
  assert.equal(q.get("workers"), "4");
  const page = readPage(q);
  assert.deepEqual(
    { hide: page.hide, x: page.x, tl: page.tl, at: page.at, big: page.big, guess: page.guess, compare: page.compare, lesson: page.lesson },
    { hide: true, x: "time", tl: "compact", at: 12, big: true, guess: 0, compare: ["a", "b"], lesson: "ring-allreduce" },
  );
  writePage(q, { hide: false, x: "step", tl: "wall", at: null, big: false, guess: null, compare: null, lesson: null, lang: "en" });
  assert.equal(q.toString(), "workers=4&foo=bar");
  const bad = readPage(new URLSearchParams("at=-3&x=bogus&hide=0&tl=bogus&lang=fr&guess=x"));
  assert.deepEqual([bad.at, bad.x, bad.hide, bad.tl, bad.lang, bad.guess, bad.big], [null, "step", false, "wall", null, null, null]);
  assert.equal(readPage(new URLSearchParams("baseline=0")).baseline, false);
  assert.equal(readPage(new URLSearchParams("")).baseline, true);
  assert.throws(() => writePage(new URLSearchParams(), { nope: 1 }));
  // links to the page (a related lesson, a room's join link) carry only the keys given
  assert.equal(pageLink({ lesson: "ring-allreduce" }), "?lesson=ring-allreduce");
  assert.equal(pageLink({ room: "K7QX2M", lang: "en" }), "?room=K7QX2M");
});

test("?compare=A,B: two different ids or nothing", () => {
  assert.deepEqual(parseCompare("abc, def"), ["abc", "def"]);
  assert.equal(parseCompare("abc,abc"), null);
  assert.equal(parseCompare("abc"), null);
  assert.equal(parseCompare(""), null);
});

test("links and scheduled faults have a compact text in the URL", () => {
  const links = [{ src: 0, dst: 1, latency_us: 20, bandwidth_gbps: 1 }];
  assert.deepEqual(linksFromUrl(linksToUrl(links)), links);
  assert.deepEqual(linksFromUrl("garbage,1-2:3"), []);
  const faults = [
    { after_step: 10, action: "kill", rank: 2 },
    { after_step: 5, action: "slow", rank: 1, factor: 3 },
    { after_step: 8, action: "delay", src: 0, dst: 1, ms: 50 },
    { after_step: 9, action: "drop", src: 0, dst: 1 },
  ];
  assert.equal(faultsToUrl(faults), "10:kill:2,5:slow:1:3,8:delay:0-1:50,9:drop:0-1");
  assert.deepEqual(faultsFromUrl(faultsToUrl(faults)), faults);
  // an action no strategy takes is dropped
  assert.deepEqual(faultsFromUrl("x:bogus:1,3:kill:1"), [{ after_step: 3, action: "kill", rank: 1 }]);
});

test("spec lookups: words in the page's language, shown_when, what a run sends", () => {
  const ps = strategySpec("parameter_server");
  assert.equal(textIn(ps.title, "zh"), "参数服务器");
  assert.equal(textIn("plain", "zh"), "plain");
  assert.equal(textIn({ en: "only english" }, "zh"), "only english");
  const bound = optionSpec("parameter_server", "staleness_bound");
  assert.equal(isShown(bound, { ps_mode: "ssp" }), true);
  assert.equal(isShown(bound, { ps_mode: "sync" }), false);
  // a hidden option is sent at its default (the engine refuses some knobs outside their mode)
  assert.deepEqual(sendableOptions(ps, { servers: 2, ps_mode: "async", staleness_bound: 9 }), { servers: 2, ps_mode: "async", staleness_bound: 2 });
  const dp = strategySpec("data_parallel");
  assert.equal(sendableOptions(dp, { compression: null, error_feedback: true }).error_feedback, false);
});

test("whyNot reads the spec: unsupported, unmet options, or available", () => {
  const dp = strategySpec("data_parallel");
  assert.deepEqual(whyNot(dp, "fault", "corrupt", {}), { unsupported: true });
  assert.deepEqual(whyNot(dp, "fault", "drop", { allreduce: "builtin" }), { because: "drop needs a hand-written all-reduce" });
  assert.equal(whyNot(dp, "fault", "drop", { allreduce: "ring" }), null);
  assert.equal(whyNot(dp, "recovery", "shrink", {}), null);
});

test("the generated controls: a select, a number with the spec's range, a checkbox", () => {
  const levels = optionSpec("data_parallel", "qsgd_levels");
  assert.deepEqual(controlShape(levels), { tag: "input", type: "number", wide: false, attrs: { step: "1", min: "1", max: "127" } });
  // an exclusive minimum has no HTML attribute
  assert.deepEqual(controlShape(optionSpec("data_parallel", "compress_fraction")).attrs, { step: "any", max: "1" });
  assert.equal(controlShape(optionSpec("data_parallel", "error_feedback")).type, "checkbox");
  assert.equal(controlShape(optionSpec("data_parallel", "allreduce")).tag, "select");
  assert.equal(controlShape(optionSpec("data_parallel", "allreduce")).wide, true, "long choice labels take the row");
  assert.equal(controlShape(optionSpec("parameter_server", "ps_mode")).wide, false);
  const comp = optionSpec("data_parallel", "compression");
  assert.equal(valueOf(comp, "", false), null, "nullable: the none entry is null");
  assert.equal(valueOf(comp, "qsgd", false), "qsgd");
  assert.equal(valueOf(levels, "12", false), 12);
  assert.equal(valueOf(levels, "x", false), "x");
  assert.equal(valueOf(optionSpec("data_parallel", "error_feedback"), "on", true), true);
});

test("recovery policies come from the spec; restart needs K and shrink 2 workers everywhere", () => {
  const choices = ["none", "restart", "shrink", "continue"];
  const dp = recoveryBlocks({ spec: strategySpec("data_parallel"), options: {}, workers: 4, checkpointEvery: "", choices }, en, "en");
  assert.equal(dp.none, null);
  assert.equal(dp.restart, en("elastic.why.restartK"));
  assert.equal(dp.shrink, null);
  assert.equal(dp.continue, en("form.notWith", { what: en("recovery.short.continue"), strategy: "Data parallelism" }));
  const ps = recoveryBlocks({ spec: strategySpec("parameter_server"), options: { ps_mode: "sync" }, workers: 3, checkpointEvery: "5", choices }, en, "zh");
  assert.equal(ps.restart, null);
  assert.equal(ps.continue, "continue 需要 async 或 ssp", "the spec's reason, in the page's language");
  assert.ok(ps.shrink.includes("参数服务器"));
  const one = recoveryBlocks({ spec: strategySpec("data_parallel"), options: {}, workers: 1, checkpointEvery: "5", choices }, en, "en");
  assert.equal(one.shrink, en("elastic.why.shrink2"));
  const single = recoveryBlocks({ spec: strategySpec("single"), options: {}, workers: 1, checkpointEvery: "5", choices }, en, "en");
  assert.ok(single.restart.includes("Single process"));
});

test("fault choices: the spec's actions in its order, with the reason an option gives", () => {
  const dp = faultChoices(strategySpec("data_parallel"), { allreduce: "builtin" }, en, "en");
  assert.deepEqual(dp.map((a) => a.name), ["kill", "slow", "delay", "drop"]);
  assert.equal(dp.find((a) => a.name === "drop").why, "drop needs a hand-written all-reduce");
  assert.deepEqual(faultChoices(strategySpec("single"), {}, en, "en"), []);
});

test("notes under data parallelism's options: what QSGD sends, a compressed ring warns", () => {
  const q = optionNotes("data_parallel", { compression: "qsgd", qsgd_levels: 7, allreduce: "builtin" });
  assert.deepEqual(q.hint, ["form.qsgdHint", { levels: 7, bits: 4 }]);
  assert.equal(q.note, null);
  assert.equal(optionNotes("data_parallel", { compression: "topk", compress_fraction: 0.05, allreduce: "ring" }).note, "form.allreduceForced");
  assert.deepEqual(optionNotes("data_parallel", { compression: "topk", compress_fraction: 0.05 }).hint, ["form.fractionHint", { pct: 5 }]);
  assert.deepEqual(optionNotes("data_parallel", { compression: "powersgd", allreduce: "ring" }), { hint: ["form.powersgdHint", {}], note: null });
  assert.deepEqual(optionNotes("parameter_server", { ps_mode: "ssp" }), { hint: null, note: null });
});
