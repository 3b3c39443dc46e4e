// Failure causes are codes with fields (engine/causes.py): the fault log, the node
// tooltips and the narration render them from the catalog ("cause.<code>", en and zh),
// never by parsing English. Runs stored before carry a plain string: shown as it came.
import assert from "node:assert/strict";
import { test } from "node:test";
import { reduceEvents } from "../../frontend/static/js/core/reducer.js";
import { faultLines, faultNarration, faultTitle, translateCause } from "../../frontend/static/js/views/faultlog.js";
import { CATALOGS } from "../../frontend/static/js/core/i18n.js";
import { registerStrategies } from "../../frontend/static/js/strategies/index.js";

registerStrategies(); // the strategies' slices, words and hooks, as main.js does

let seq = 0;
const ev = (type, fields) => ({ seq: ++seq, run_id: "r", t: seq * 0.1, rank: null, step: null, type, ...fields });
const tr = (lang) => (key, params = {}) =>
  (CATALOGS[lang][key] ?? key).replace(/\{(\w+)\}/g, (m, n) => (n in params ? String(params[n]) : m));

function failedRun(cause, runCause) {
  seq = 0;
  const evs = [ev("run_started", { config: { strategy: "data_parallel", workers: 3 }, world_size: 3, strategy: "data_parallel" })];
  for (let r = 0; r < 3; r++) evs.push(ev("worker_started", { rank: r, pid: 100 + r, role: "worker" }));
  for (let r = 0; r < 3; r++) evs.push(ev("step", { rank: r, step: 1, loss: 1, compute_ms: 1, comm_ms: 1, wait_ms: 0, t_start: 0, param_checksum: 1 }));
  evs.push(ev("fault", { rank: 1, action: "kill", pid: 101 }));
  evs.push(ev("worker_failed", { rank: 1, cause, detection_ms: 12, pid: 101 }));
  evs.push(ev("run_finished", { status: "failed", error: "(the engine's English sentence)", cause: runCause, summary: {} }));
  return reduceEvents(evs);
}

test("every cause code the engine has renders in both languages, fields filled in", () => {
  const causes = [
    { code: "signal", signal: "SIGKILL" },
    { code: "frozen", silent_s: 3.14159 },
    { code: "exit", exit_code: 1 },
    { code: "exception", type: "RuntimeError", message: "boom" },
    { code: "collective", type: "DistBackendError", message: "Connection reset" },
    { code: "link_drop", src: 2, dst: 0 },
    { code: "rank_failed", rank: 1, pid: 101, cause: { code: "signal", signal: "SIGKILL" } },
    { code: "stalled", limit_s: 60 },
    { code: "stop_timeout" },
    { code: "start_failed", type: "OSError", message: "no port" },
    { code: "internal", type: "KeyError", message: "'x'" },
    { code: "abandoned" },
    { code: "shutdown" },
  ];
  for (const lang of ["en", "zh"]) {
    for (const cause of causes) {
      const text = translateCause(cause, tr(lang));
      assert.ok(!text.includes("{") && !text.startsWith("cause."), `${lang} ${cause.code}: ${text}`);
      for (const [k, v] of Object.entries(cause)) {
        const shown = k !== "code" && typeof v !== "object" && k !== "silent_s" && !(cause.code === "internal" && k === "type");
        if (shown) assert.ok(text.includes(String(v)), `${lang} ${cause.code}: ${text}`);
      }
    }
  }
  assert.equal(translateCause({ code: "frozen", silent_s: 3.14159 }, tr("en")), "frozen: no heartbeat for 3.1 s");
  assert.equal(translateCause({ code: "rank_failed", rank: 1, pid: 101, cause: { code: "exit", exit_code: 1 } }, tr("zh")), "进程 1（pid 101）：意外退出，退出码为 1");
});

test("an unknown code shows its code and fields; a missing field shows ?; a string as it came", () => {
  assert.equal(translateCause({ code: "melted", degrees: 900 }, tr("zh")), "melted (degrees=900)");
  assert.equal(translateCause({ code: "collective" }, tr("en")), "its collective broke (?: ?)");
  assert.equal(translateCause("frozen: no heartbeat for 3.1 s", tr("zh")), "frozen: no heartbeat for 3.1 s");
  assert.equal(translateCause(undefined, tr("zh")), "?");
});

test("the fault log, the node's tooltip and the narration render a failure's code", () => {
  const signal = { code: "signal", signal: "SIGKILL" };
  const st = failedRun(signal, { code: "rank_failed", rank: 1, pid: 101, cause: signal });
  const lines = faultLines(st);
  const failed = lines.find((l) => l.kind === "failed");
  assert.match(failed.text, /killed by signal SIGKILL/);
  const end = lines.find((l) => l.kind === "end");
  assert.match(end.text, /rank 1 \(pid 101\): killed by signal SIGKILL/, "the end line renders run_finished.cause");
  assert.doesNotMatch(end.text, /the engine's English sentence/);
  assert.deepEqual(st.errorCause, { code: "rank_failed", rank: 1, pid: 101, cause: signal });
  assert.ok(faultTitle({ state: "failed", cause: signal }).some((l) => /SIGKILL/.test(l)));
  assert.equal(reduceEvents([]).errorCause, null);
  assert.match(faultNarration(st, 1), /rank 1 failed: killed by signal SIGKILL/);
});

test("a run stored before causes had codes: its strings are shown as they came", () => {
  const st = failedRun("killed by signal SIGKILL", undefined);
  const lines = faultLines(st);
  assert.match(lines.find((l) => l.kind === "failed").text, /killed by signal SIGKILL/);
  assert.match(lines.find((l) => l.kind === "end").text, /the engine's English sentence/);
});
