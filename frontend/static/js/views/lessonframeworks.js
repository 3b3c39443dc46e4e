// views/lessonframeworks.js — chapter 5's lesson: the run as PyTorch DDP, Horovod and TensorFlow code, side by side, and 表5.
//
// The same data-parallel job three ways. The PyTorch DDP column is the real thing: the
// script the server exports for the lesson's run (GET /api/runs/{id}/script,
// engine/ddp_script.py), which reproduces the run under torchrun. The Horovod and
// TensorFlow MultiWorkerMirroredStrategy columns are written here from the run's settings,
// as text to compare (not run: neither is installed, and the page says so).
// 表5 compares what bench/ddp_script.py measured, engine against the script.
//
// References: Sergeev & Del Balso, "Horovod", arXiv:1802.05799 (2018); Abadi et al.,
// "TensorFlow", OSDI 2016; Li et al., "PyTorch Distributed", VLDB 2020.

import { fmtNum, getLang, t } from "../core/i18n.js";

/** What bench/ddp_script.py measured (its output, by hand): where, when, and the numbers. */
export const TABLE5 = {
  machine: {
    en: "a 2-core cloud VM, little else running (load ≈ 1.5; CPU, gloo)",
    zh: "一台 2 核云虚拟机，几乎没有其他任务（负载约 1.5；CPU、gloo）",
  },
  date: "2026-12-06",
  command: ".venv/bin/python bench/ddp_script.py --steps 300 --repeats 3",
  setup: { en: "2 workers · 300 steps · batch 32 · MLP on spirals · median of 3", zh: "2 个工作进程 · 300 步 · 批大小 32 · spirals 上的 MLP · 3 次取中位数" },
  rows: [
    { config: "none", engine: { rate: 572.9, loss: 0.029206 }, ddp: { rate: 839.3, loss: 0.029207 }, sameHash: true },
    { config: "fp16", engine: { rate: 465.7, loss: 0.029206 }, ddp: { rate: 604.0, loss: 0.029203 }, sameHash: false },
  ],
};

const OPT_TORCH = {
  sgd: (lr) => `torch.optim.SGD(model.parameters(), lr=${lr})`,
  momentum: (lr) => `torch.optim.SGD(model.parameters(), lr=${lr}, momentum=0.9)`,
  adam: (lr) => `torch.optim.Adam(model.parameters(), lr=${lr})`,
};
const OPT_KERAS = {
  sgd: (lr) => `tf.keras.optimizers.SGD(learning_rate=${lr})`,
  momentum: (lr) => `tf.keras.optimizers.SGD(learning_rate=${lr}, momentum=0.9)`,
  adam: (lr) => `tf.keras.optimizers.Adam(learning_rate=${lr})`,
};

function torchModel(c) {
  if (c.model === "transformer") {
    return `TinyGPT(vocab, context=${c.context}, d_model=${c.d_model}, layers=${c.layers}, heads=${c.heads})  # train.py's class`;
  }
  return `nn.Sequential(nn.Linear(2, ${c.hidden}), nn.Tanh(), nn.Linear(${c.hidden}, ${c.hidden}), nn.Tanh(),\n                      nn.Linear(${c.hidden}, 2))`;
}

/** The run as Horovod would write it (PyTorch frontend: the same model and data code). */
export function horovodText(c) {
  const comp = (c.options && c.options.compression) || null;
  const compression = comp === "fp16" ? "hvd.Compression.fp16" : "hvd.Compression.none";
  const note = comp && comp !== "fp16" ? `  # Horovod has no built-in ${comp}` : "";
  return `# Horovod (PyTorch): horovodrun -np ${c.workers} python train_hvd.py
import horovod.torch as hvd
import torch
import torch.nn.functional as F
from torch import nn

hvd.init()                     # one process per worker; MPI or gloo underneath
x_all, y_all = make_data()     # the same seeded data as train.py
torch.manual_seed(${c.seed})
model = ${torchModel(c)}
optimizer = ${(OPT_TORCH[c.optimizer] || OPT_TORCH.sgd)(c.lr)}
# Horovod wraps the optimizer: backward hooks start a ring all-reduce of each
# gradient (fused into buffers), step() waits for them and applies the average.
optimizer = hvd.DistributedOptimizer(optimizer, named_parameters=model.named_parameters(),
                                     compression=${compression})${note}
hvd.broadcast_parameters(model.state_dict(), root_rank=0)   # replicas start equal
hvd.broadcast_optimizer_state(optimizer, root_rank=0)

for step in range(1, ${c.steps} + 1):
    idx = batch_indices(${c.num_samples}, step, ${c.batch_size}, ${c.seed}, hvd.rank(), hvd.size())
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
    loss.backward()
    optimizer.step()
`;
}

/** The run as TensorFlow's MultiWorkerMirroredStrategy would write it (Keras). */
export function tensorflowText(c) {
  const comp = (c.options && c.options.compression) || null;
  const model =
    c.model === "transformer"
      ? `make_tiny_gpt(vocab, context=${c.context}, d_model=${c.d_model})  # a Keras port of TinyGPT`
      : `tf.keras.Sequential([
        tf.keras.layers.Dense(${c.hidden}, activation="tanh"),
        tf.keras.layers.Dense(${c.hidden}, activation="tanh"),
        tf.keras.layers.Dense(2)])`;
  const note = comp ? `\n# ${comp}: MultiWorkerMirroredStrategy has no gradient compression of its own` : "";
  return `# TensorFlow: one process per worker, each started with its own TF_CONFIG:
# TF_CONFIG='{"cluster": {"worker": [${Array.from({ length: c.workers }, (_, i) => `"host${i}:12345"`).join(", ")}]},
#             "task": {"type": "worker", "index": 0}}'  python train_tf.py
import tensorflow as tf

strategy = tf.distribute.MultiWorkerMirroredStrategy(
    communication_options=tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING))${note}
global_batch = ${c.batch_size} * strategy.num_replicas_in_sync

with strategy.scope():         # variables mirrored on every worker, kept in sync
    model = ${model}
    model.compile(optimizer=${(OPT_KERAS[c.optimizer] || OPT_KERAS.sgd)(c.lr)},
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))

x_all, y_all = make_data()     # the same points; Keras initialises and shuffles its own way
data = (tf.data.Dataset.from_tensor_slices((x_all, y_all))
        .shuffle(${c.num_samples}, seed=${c.seed}).repeat().batch(global_batch))
# The strategy splits every global batch among the workers and all-reduces the
# gradients before each update.
model.fit(data, epochs=1, steps_per_epoch=${c.steps})
`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children);
  return node;
}

function column(id, title, note, text) {
  return el(
    "div",
    { class: "fw-col", "data-testid": `fw-${id}` },
    el("h4", { text: title }),
    el("p", { class: "fw-note", text: note }),
    el("pre", { class: "fw-code", "data-testid": `fw-${id}-code`, text }),
  );
}

const inLang = (text) => text[getLang()] ?? text.en;

function table5() {
  const head = el("tr", {}, ...["fw.colConfig", "fw.colEngine", "fw.colDdp", "fw.colRatio", "fw.colSameHash"].map((k) => el("th", { text: t(k) })));
  const rows = TABLE5.rows.map((r) =>
    el(
      "tr",
      { "data-config": r.config },
      el("td", { text: r.config }),
      el("td", { text: t("fw.cell", { rate: fmtNum(r.engine.rate, 3), loss: fmtNum(r.engine.loss, 4) }) }),
      el("td", { text: t("fw.cell", { rate: fmtNum(r.ddp.rate, 3), loss: fmtNum(r.ddp.loss, 4) }) }),
      el("td", { text: `${fmtNum(r.ddp.rate / r.engine.rate, 2)}×` }),
      el("td", { text: r.sameHash ? t("fw.yes") : t("fw.no") }),
    ),
  );
  return el(
    "section",
    { class: "fw-table5", "data-testid": "fw-table5" },
    el("h4", { text: t("fw.table5") }),
    el("table", { class: "fw-table" }, el("thead", {}, head), el("tbody", {}, ...rows)),
    el("p", { class: "fw-note", text: t("fw.table5Caption", { machine: inLang(TABLE5.machine), date: TABLE5.date, setup: inLang(TABLE5.setup), command: TABLE5.command }) }),
  );
}

/** The lesson's extra section: render() once per lesson render, sync() on every page
 *  render (fetches the script once the lesson's run exists). */
export function createFrameworksView() {
  let shownFor = null;

  function render(lesson) {
    const c = (lesson.preset && lesson.preset.config) || {};
    shownFor = null;
    return el(
      "section",
      { class: "lesson-frameworks", "data-testid": "lesson-frameworks" },
      el("h3", { text: t("fw.title") }),
      el(
        "div",
        { class: "fw-cols" },
        column("ddp", t("fw.ddp"), t("fw.ddpWait"), t("fw.ddpPlaceholder", { n: c.workers })),
        column("horovod", t("fw.horovod"), t("fw.notRun"), horovodText(c)),
        column("tf", t("fw.tf"), t("fw.notRun"), tensorflowText(c)),
      ),
      table5(),
    );
  }

  async function sync(section, runId) {
    if (!section || !runId || shownFor === runId) return;
    shownFor = runId;
    const code = section.querySelector("[data-testid=fw-ddp-code]");
    const note = section.querySelector("[data-testid=fw-ddp] .fw-note");
    const url = `/api/runs/${encodeURIComponent(runId)}/script`;
    const res = await fetch(url).catch(() => null);
    if (shownFor !== runId) return;
    if (!res || !res.ok) {
      const body = res ? await res.json().catch(() => ({})) : {};
      note.textContent = t("pres.scriptRefused", { msg: body.detail || (res ? `HTTP ${res.status}` : "—") });
      return;
    }
    code.textContent = await res.text();
    note.replaceChildren(t("fw.ddpNote"), " ", el("a", { href: url, download: `distlab-${runId}-train.py`, "data-testid": "fw-download", text: t("fw.download") }));
    section.dataset.scriptFor = runId;
  }

  return { render, sync };
}
