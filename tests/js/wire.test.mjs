// Live ticks come packed in columns (backend/tickpack.py); the page unpacks them to the
// very events the engine sent. The fixture is checked against the Python packer in
// tests/test_tickpack.py, so the two sides cannot drift apart.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { KEYS, unpackTick } from "../../frontend/static/js/core/wire.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/packed-tick.json", import.meta.url)));

test("a packed tick unpacks to every event, exactly, in seq order", () => {
  assert.deepEqual(unpackTick(fixture.packed), fixture.events);
});

test("the keys named by number are the server's, in its order", () => {
  assert.deepEqual(KEYS, fixture.keys);
});

test("times come back as the same numbers, not merely close ones", () => {
  const ts = unpackTick(fixture.packed).map((e) => e.t);
  assert.deepEqual(ts, fixture.events.map((e) => e.t));
  assert.ok(ts.includes(2.070504) && ts.includes(2.0720001));
});

test("a plain array is already the events; anything else is not a tick", () => {
  assert.deepEqual(unpackTick(fixture.events), fixture.events);
  assert.equal(unpackTick({ detail: "x" }), null);
  assert.equal(unpackTick(null), null);
});
