// Chapter 5's lesson: the Horovod and TensorFlow versions of a run are written from its
// settings (views/lessonframeworks.js; no DOM). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { horovodText, tensorflowText, TABLE5 } from "../../frontend/static/js/views/lessonframeworks.js";

const RUN = { workers: 3, steps: 120, batch_size: 16, lr: 0.25, seed: 5, num_samples: 512, model: "mlp", hidden: 24, optimizer: "momentum", options: { compression: null } };

test("Horovod's version carries the run's workers, model, optimizer and steps", () => {
  const text = horovodText(RUN);
  assert.match(text, /horovodrun -np 3 python/);
  assert.match(text, /nn\.Linear\(2, 24\)/);
  assert.match(text, /lr=0\.25, momentum=0\.9/);
  assert.match(text, /range\(1, 120 \+ 1\)/);
  assert.match(text, /compression=hvd\.Compression\.none/);
  assert.match(horovodText({ ...RUN, options: { compression: "fp16" } }), /hvd\.Compression\.fp16/);
  assert.match(horovodText({ ...RUN, options: { compression: "qsgd" } }), /no built-in qsgd/);
});

test("TensorFlow's version names every worker in TF_CONFIG and scales the global batch", () => {
  const text = tensorflowText(RUN);
  assert.match(text, /"host0:12345", "host1:12345", "host2:12345"/);
  assert.match(text, /global_batch = 16 \* strategy\.num_replicas_in_sync/);
  assert.match(text, /SGD\(learning_rate=0\.25, momentum=0\.9\)/);
  assert.match(text, /steps_per_epoch=120/);
  assert.match(tensorflowText({ ...RUN, optimizer: "adam" }), /Adam\(learning_rate=0\.25\)/);
});

test("Table 5 says where and when it was measured, and every row has both sides", () => {
  assert.ok(TABLE5.machine.en && TABLE5.machine.zh && /^\d{4}-\d{2}-\d{2}$/.test(TABLE5.date));
  for (const row of TABLE5.rows) {
    assert.ok(row.engine.rate > 0 && row.ddp.rate > 0 && row.engine.loss > 0 && row.ddp.loss > 0);
  }
});
