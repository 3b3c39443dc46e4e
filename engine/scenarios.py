"""Preset runs, each a named function whose comments say why it is set up that way.

Every scenario carries an English and a Chinese title and a line on what to look at, so
the page and ``distlab scenarios`` can offer them to students in either language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.config import RunConfig


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    config: RunConfig

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "config": self.config.to_dict()}


def data_parallel_4() -> Scenario:
    return Scenario(
        name="data-parallel-4",
        title={"en": "Data parallelism, 4 workers", "zh": "数据并行：4 个工作进程"},
        description={
            "en": "Each worker trains on its own shard; an all-reduce averages the gradients "
                  "so all four replicas take the same step. Watch the checksums stay equal.",
            "zh": "每个工作进程在自己的数据分片上训练；all-reduce 对梯度求平均，"
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
            "en": "One process, batch 128: the same global batch as 4 workers × 32. "
                  "Compare its loss curve with the 4-worker run: they match.",
            "zh": "单进程、批大小 128，与 4 个进程 × 32 的全局批相同。"
                  "与 4 进程运行的损失曲线对比：两者一致。",
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


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    s().name: s
    for s in (data_parallel_4, single_reference, data_parallel_full_speed,
              data_parallel_8_moons)
}


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; see `distlab scenarios` "
                         f"({', '.join(SCENARIOS)})")
    return SCENARIOS[name]()
