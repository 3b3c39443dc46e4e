"""Preset runs, each a named function whose comments say why it is set up that way.

Every scenario carries an English and a Chinese title and a line on what to look at, so
the page and ``distlab scenarios`` can offer them to students in either language. The
systems half of the course (MapReduce, BSP, collectives, architectures) is in
engine/scenarios_systems.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.config import RunConfig
from engine.scenario import Scenario
from engine.scenarios_systems import (
    architecture_layered,
    bsp_pagerank_straggler,
    collectives_all_reduce,
    gfs_kill,
    gfs_membership,
    gfs_train,
    mapreduce_straggler,
)

__all__ = ["SCENARIOS", "Scenario", "get_scenario"]


def data_parallel_4() -> Scenario:
    return Scenario(
        name="data-parallel-4",
        title={"en": "Data parallelism, 4 workers", "zh": "数据并行：4 个工作进程"},
        description={
            "en": "Each worker trains on its own part of every batch; an all-reduce averages "
                  "the gradients so all four replicas take the same step. Watch the "
                  "checksums stay equal.",
            "zh": "每个工作进程在每批数据中属于自己的那一份上训练；all-reduce 对梯度求平均，"
                  "四个副本执行相同的更新。观察参数校验和始终一致。",
        },
        # 5 steps/s: slow enough to follow every all-reduce in a lecture hall.
        config=RunConfig(strategy="data_parallel", workers=4, steps=150, batch_size=32,
                         lr=0.6, pace=5.0, detail=True),
    )


def single_reference() -> Scenario:
    return Scenario(
        name="single-reference",
        title={"en": "Single process (the reference)", "zh": "单进程（参照基准）"},
        description={
            "en": "One process, batch 128: the same global batch as 4 workers × 32, and the "
                  "same samples (the sampler deals each global batch out among the "
                  "workers). Compare it with the 4-worker run: the curves coincide, because "
                  "synchronous data parallelism is SGD on the global batch.",
            "zh": "单进程、批大小 128：与 4 个进程 × 32 的全局批相同，样本也相同"
                  "（采样器把每个全局批分发给各工作进程）。与 4 进程运行对比：两条曲线重合，"
                  "因为同步数据并行就是在全局批上做 SGD。",
        },
        config=RunConfig(strategy="single", workers=1, steps=150, batch_size=128, lr=0.6,
                         pace=5.0),
    )


def data_parallel_full_speed() -> Scenario:
    return Scenario(
        name="data-parallel-full-speed",
        title={"en": "Data parallelism at full speed", "zh": "全速数据并行"},
        description={
            "en": "No pacing: how many steps per second do 2 workers manage, and how much "
                  "of each step is communication? Look at the timeline.",
            "zh": "不限速：2 个工作进程每秒能完成多少步？每一步中通信占多少？请看时间线。",
        },
        # Full speed with the per-message detail off keeps instrumentation cheap.
        config=RunConfig(strategy="data_parallel", workers=2, steps=1000, batch_size=32,
                         lr=0.6, pace=None),
    )


def data_parallel_8_moons() -> Scenario:
    return Scenario(
        name="data-parallel-8-moons",
        title={"en": "Eight workers, small batches", "zh": "八个工作进程、小批量"},
        description={
            "en": "8 workers × 8 samples: the global batch is still 64. More workers means "
                  "more communication per sample; the timeline shows where time goes.",
            "zh": "8 个进程 × 每个 8 个样本：全局批仍为 64。进程越多，"
                  "每个样本分摊的通信越多；时间线显示时间花在哪里。",
        },
        config=RunConfig(strategy="data_parallel", workers=8, steps=120, batch_size=8,
                         lr=0.6, dataset="moons", pace=4.0, detail=True),
    )


def _ps(name: str, title: dict[str, str], description: dict[str, str],
        options: dict[str, Any], **config: Any) -> Scenario:
    # 40 ms of emulated compute per step: a model big enough that the consistency model,
    # not message overhead, decides the timing. Moons trains in few steps.
    base = {"strategy": "parameter_server", "workers": 4, "steps": 60,
            "batch_size": 32, "lr": 0.5, "dataset": "moons", "pace": None,
            "emulated_compute_ms": 40.0}
    return Scenario(name=name, title=title, description=description,
                    config=RunConfig(**{**base, **config}, options=options))


def ps_sync() -> Scenario:
    return _ps(
        "ps-sync",
        {"en": "Parameter server, synchronous (BSP)", "zh": "参数服务器：同步训练（BSP）"},
        {"en": "Four equal workers pull the parameters, compute for 40 ms and push their "
               "gradients; the server waits for all four, averages them and publishes the "
               "next version. Look at the staleness histogram and the version number.",
         "zh": "四个同速的工作进程拉取参数、计算 40 ms、推送梯度；服务器等齐四个梯度，"
               "求平均后发布下一个版本。观察陈旧度直方图和版本号。"},
        {"ps_mode": "sync"})


def ps_sync_straggler() -> Scenario:
    return _ps(
        "ps-sync-straggler",
        {"en": "Parameter server, sync, one 5× straggler",
         "zh": "参数服务器：同步训练，一个 5 倍慢的落后者"},
        {"en": "Every version waits for all four gradients, so the slow worker sets the "
               "pace. Predict: how much slower is each step than without it?",
         "zh": "每个版本都要等齐四个梯度，最慢的工作进程决定节奏。"
               "先预测：每一步比没有落后者时慢多少？"},
        {"ps_mode": "sync"}, straggler="one", straggler_rank=0, straggler_factor=5.0)


def ps_backup_workers() -> Scenario:
    return _ps(
        "ps-backup-workers",
        {"en": "Sync with a backup worker (Chen et al.)", "zh": "带备份工作进程的同步训练"},
        {"en": "5 workers, the server applies the first 4 gradients of each version and "
               "drops the late one: the straggler no longer sets the pace.",
         "zh": "5 个工作进程，服务器只采用每个版本最先到达的 4 个梯度并丢弃迟到的那个："
               "落后者不再决定节奏。"},
        {"ps_mode": "backup", "backup_workers": 1}, workers=5, straggler="one",
        straggler_rank=0, straggler_factor=5.0)


def ps_async() -> Scenario:
    return _ps(
        "ps-async",
        {"en": "Asynchronous parameter server: staleness", "zh": "异步参数服务器：梯度陈旧度"},
        {"en": "The server applies each gradient on arrival. Look at the staleness of each "
               "update: with 4 equal workers it settles near 3.",
         "zh": "服务器收到梯度立即更新。观察每次更新的陈旧度：4 个同速工作进程时约为 3。"},
        # A gentler rate than sync's: stale gradients make lr 0.5 spiky already.
        {"ps_mode": "async"}, lr=0.3)


def ps_async_straggler() -> Scenario:
    return _ps(
        "ps-async-straggler",
        {"en": "Asynchronous parameter server with a 5× straggler",
         "zh": "异步参数服务器与一个 5 倍慢的落后者"},
        {"en": "The first worker is 5× slower. Nobody waits for it: the server applies each "
               "gradient on arrival, so the fast workers go at their own speed. The price is "
               "in the staleness histogram: the straggler's gradients arrive about 3 × 5 = 15 "
               "versions late, far to the right of the fast workers' bar near 2.",
         "zh": "第一个工作进程慢 5 倍。没有谁等它：服务器收到梯度立即更新，快的工作进程按自己的"
               "速度前进。代价在陈旧度直方图里：落后者的梯度晚到约 3 × 5 = 15 个版本，远在快速进程"
               "集中在 2 附近的柱子右边。"},
        {"ps_mode": "async"}, lr=0.3, straggler="one", straggler_rank=0,
        straggler_factor=5.0)


def ps_ssp() -> Scenario:
    return _ps(
        "ps-ssp",
        {"en": "Bounded staleness (SSP, s = 2) with a straggler",
         "zh": "有界陈旧（SSP，s = 2）与落后者"},
        {"en": "Fast workers may run at most 2 iterations ahead of the slowest; then they "
               "block (shown on the timeline) until it catches up.",
         "zh": "快的工作进程最多领先最慢者 2 次迭代，之后被阻塞（见时间线）直到它追上。"},
        {"ps_mode": "ssp", "staleness_bound": 2}, straggler="one", straggler_rank=0,
        straggler_factor=5.0)


def ps_async_diverges() -> Scenario:
    return _ps(
        "ps-async-diverges",
        {"en": "Why staleness matters: async diverges at lr 2.5",
         "zh": "陈旧度为何重要：学习率 2.5 时异步训练发散"},
        {"en": "6 workers, learning rate 2.5. Sync PS trains at this rate (try it: mode sync); "
               "async applies gradients computed on parameters 5 versions old, and the "
               "loss explodes.",
         "zh": "6 个工作进程，学习率 2.5。同步参数服务器在此学习率下能收敛"
               "（可切换为同步模式验证）；异步模式应用的是基于 5 个版本之前参数计算的梯度，"
               "损失爆炸。"},
        # 60 ms of emulated work: the six workers' iterations overlap (each gradient ~4.5
        # versions stale) however busy the machine; at lr 2 and 30 ms a loaded machine
        # sometimes interleaved them so that async converged after all.
        {"ps_mode": "async"}, workers=6, lr=2.5, emulated_compute_ms=60.0)


# ---------------------------------------------------------------- the tiny transformer

# Small enough for two shared cores: 4 blocks of width 64 reading 32 characters.
_TEXT = dict(model="transformer", dataset="text-en", context=32, d_model=64, layers=4,
             heads=4, batch_size=32, lr=0.5)


def transformer_writes() -> Scenario:
    return Scenario(
        name="transformer-writes",
        title={"en": "A tiny transformer learns to write", "zh": "小型 Transformer 学写字"},
        description={
            "en": "One process trains a character-level transformer on a short English text "
                  "that ships with DistLab. Watch 'What the model writes': noise, then "
                  "'the the the', then words of the text.",
            "zh": "单个进程在 DistLab 自带的一段英文短文上训练字符级 Transformer。观察“模型写出"
                  "的文字”：先是乱码，然后是 “the the the”，再后来是文中的词语。",
        },
        # 2 blocks, lr 1: words appear within ~400 steps on one core.
        config=RunConfig(strategy="single", workers=1, steps=600, pace=20.0,
                         **(_TEXT | {"layers": 2, "lr": 1.0, "batch_size": 16})),
    )


def pipeline_bubble() -> Scenario:
    return Scenario(
        name="pipeline-bubble",
        title={"en": "Pipeline: 4 stages, 4 micro-batches (1F1B)",
               "zh": "流水线：4 个阶段、4 个微批次（1F1B）"},
        description={
            "en": "The transformer's blocks are cut into 4 stages, one process each; every "
                  "step's batch flows through in 4 micro-batches. The schedule grid shows "
                  "each stage's forward and backward passes and the idle time between them: "
                  "compare the measured bubble with (p − 1)/(m + p − 1) = 3/7. Each stage's "
                  "compute is emulated (120 ms a step) so the stages are as big as on a "
                  "cluster.",
            "zh": "Transformer 的各个块被切成 4 个阶段，每个进程一个；每一步的批次分成 4 个微批次"
                  "流过流水线。调度网格显示每个阶段的前向、反向计算以及其间的空闲：把实测气泡与 "
                  "(p − 1)/(m + p − 1) = 3/7 对比。每个阶段的计算是模拟的（每步 120 毫秒），"
                  "让各阶段像在集群上一样大。",
        },
        # Measured on a busy 2-core machine: bubble 44.5 % (formula 42.9 %); with 16
        # micro-batches 24.7 % (formula 15.8 %: every micro-batch has a fixed cost).
        config=RunConfig(strategy="pipeline", workers=4, steps=30, pace=2.0,
                         emulated_compute_ms=120.0,
                         options={"schedule": "1f1b", "micro_batches": 4}, **_TEXT),
    )


def tensor_parallel_2() -> Scenario:
    return Scenario(
        name="tensor-parallel-2",
        title={"en": "Tensor parallelism: every block split in two",
               "zh": "张量并行：每个块一分为二"},
        description={
            "en": "Two processes each hold half the heads of every attention layer and half "
                  "the columns of every MLP. Four all-reduces per block per step join them: "
                  "the shards card lists them, with their bytes beside the formula.",
            "zh": "两个进程各持有每个注意力层一半的头、每个 MLP 一半的列。每个块每步 4 次全归约"
                  "把它们连接起来：分片卡片逐一列出，并把字节数与公式并排显示。",
        },
        config=RunConfig(strategy="tensor_parallel", workers=2, steps=200, pace=5.0,
                         detail=True, **_TEXT),
    )


def three_d_mix() -> Scenario:
    return Scenario(
        name="three-d-mix",
        title={"en": "3-D parallelism: 2 × 2 × 2 on 8 processes",
               "zh": "三维并行：8 个进程，2 × 2 × 2"},
        description={
            "en": "The mix of the published runs (Megatron-LM, OPT, Llama 3), scaled down: "
                  "2 data replicas of a 2-stage pipeline whose stages are each split across "
                  "2 processes. The mesh card shows the bytes each step sends over the "
                  "tensor, pipeline and data groups; the schedule grid, one pipeline.",
            "zh": "把公开训练案例（Megatron-LM、OPT、Llama 3）的并行组合缩小：2 个数据副本，"
                  "每个副本是 2 级流水线，每一级再切分到 2 个进程上。网格卡片显示每一步在张量组、"
                  "流水线组和数据组上各发送了多少字节；调度网格显示其中一条流水线。",
        },
        # 8 processes on a busy 2-core machine: about 1 s a step at full speed (30 steps,
        # start-up included, ~40 s). Per step, all processes: tensor ~8.4 MB, data ~1.7
        # MB, pipeline ~1.0 MB (the same order as the calculator's for the real runs).
        config=RunConfig(strategy="three_d", workers=8, steps=30, pace=None,
                         options={"dp": 2, "pp": 2, "tp": 2, "micro_batches": 4,
                                  "schedule": "1f1b"}, **_TEXT),
    )


def dpsgd_graphs() -> Scenario:
    return Scenario(
        name="dpsgd-graphs",
        title={"en": "Decentralized SGD on a ring, one class per worker",
               "zh": "环上的去中心化 SGD：每个工作进程只有一个类别"},
        description={
            "en": "Eight workers, each with a model of its own and the samples of one class "
                  "only (non-IID); each step a worker averages its model with its two ring "
                  "neighbours. Watch the consensus distance: how far the replicas are from "
                  "their mean. Compare it with IID data and with the complete graph.",
            "zh": "八个工作进程，各有自己的模型，且只持有一个类别的样本（非独立同分布）；"
                  "每一步，工作进程与环上的两个邻居对模型求平均。观察共识距离：各副本离它们的"
                  "平均值有多远。再与独立同分布数据和完全图对比。",
        },
        # moons, lr 0.2, batch 16 as bench/decentralized.py; full speed and 100 steps keep
        # the run short on two cores; what the lesson compares (consensus) is counted, not timed.
        config=RunConfig(strategy="decentralized", workers=8, steps=100, batch_size=16,
                         lr=0.2, dataset="moons", num_samples=4096, seed=7, pace=None,
                         options={"graph": "ring", "data_split": "one_class"}),
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    s().name: s
    for s in (data_parallel_4, single_reference, data_parallel_full_speed,
              data_parallel_8_moons, ps_sync, ps_sync_straggler, ps_backup_workers, ps_async,
              ps_async_straggler, ps_ssp, ps_async_diverges, transformer_writes,
              pipeline_bubble, tensor_parallel_2, three_d_mix, dpsgd_graphs,
              mapreduce_straggler, collectives_all_reduce, architecture_layered,
              bsp_pagerank_straggler, gfs_kill, gfs_train, gfs_membership)
}


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; see `distlab scenarios` "
                         f"({', '.join(SCENARIOS)})")
    return SCENARIOS[name]()
