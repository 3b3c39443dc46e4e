// /ws/runs messages: JSON text for the backlog, raw-deflated JSON for live ticks.
import test from "node:test";
import assert from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import { decodeMessage } from "../../frontend/static/js/core/api.js";

test("a live tick is inflated and parsed; backlog text is parsed", async () => {
  const events = [{ seq: 7, type: "step", rank: 1 }, { seq: 8, type: "boundary" }];
  const tick = deflateRawSync(Buffer.from(JSON.stringify(events)));
  const arrayBuffer = tick.buffer.slice(tick.byteOffset, tick.byteOffset + tick.byteLength);
  assert.deepEqual(await decodeMessage(arrayBuffer), events);
  assert.deepEqual(await decodeMessage(JSON.stringify(events)), events);
  assert.equal(await decodeMessage("not json"), null);
});
