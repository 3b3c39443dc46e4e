"""The pipeline's options (its form on the page) and what it refuses (pipeline.py).

The knobs: the schedule (GPipe, 1F1B, interleaved 1F1B with v chunks per process), the
number of micro-batches m, and whose implementation runs (ours, or PyTorch's library).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.options import choice, integer
from engine.strategies.pipeline_schedules import SCHEDULES


@dataclass(frozen=True, kw_only=True)
class PipelineOptions:
    schedule: str = choice(
        "1f1b", (*SCHEDULES, "interleaved"),
        label={"en": "Schedule", "zh": "调度"},
        help={"en": "GPipe: all forwards, then all backwards. 1F1B: after a warm-up, one "
                    "forward and one backward in turn, so fewer activations are held. "
                    "Interleaved 1F1B: each process holds v chunks of the model and the "
                    "micro-batches go round the processes v times: a bubble v times "
                    "smaller, (p − 1)/(v·m + p − 1), for v times the messages (m must be "
                    "a multiple of p).",
              "zh": "GPipe：先做完所有前向，再做所有反向。1F1B：预热之后前向与反向交替，"
                    "需要保存的激活值更少。交错式 1F1B：每个进程持有模型的 v 个块，微批次"
                    "在各进程间绕行 v 圈：气泡缩小为 1/v，即 (p − 1)/(v·m + p − 1)，"
                    "代价是 v 倍的消息数（m 须是 p 的倍数）。"},
        labels={"gpipe": {"en": "GPipe", "zh": "GPipe"},
                "1f1b": {"en": "1F1B (PipeDream-Flush)", "zh": "1F1B（PipeDream-Flush）"},
                "interleaved": {"en": "Interleaved 1F1B (Megatron-LM)",
                                "zh": "交错式 1F1B（Megatron-LM）"}})
    virtual_stages: int = integer(
        2, 2, 8, label={"en": "Chunks per process v", "zh": "每个进程的块数 v"},
        help={"en": "Interleaved 1F1B: how many chunks (virtual stages) each process "
                    "holds. The blocks are cut into v·p chunks, chunk c on process c mod p.",
              "zh": "交错式 1F1B：每个进程持有几个模型块（虚拟阶段）。Transformer 的块切成 "
                    "v·p 份，第 c 份在进程 c mod p 上。"},
        shown_when={"schedule": ("interleaved",)})
    micro_batches: int = integer(
        4, 1, 32, label={"en": "Micro-batches m", "zh": "微批次数 m"},
        help={"en": "How many pieces each step's batch is cut into (divides the batch). "
                    "More micro-batches, a smaller bubble: (p − 1)/(m + p − 1).",
              "zh": "每一步的批次切成几份（须整除批大小）。微批次越多，气泡越小："
                    "(p − 1)/(m + p − 1)。"})
    implementation: str = choice(
        "ours", ("ours", "torch"),
        label={"en": "Implementation", "zh": "实现"},
        help={"en": "Ours: the stages written out on this page (pipeline.py). PyTorch: the "
                    "library people use, torch.distributed.pipelining (PipelineStage, "
                    "ScheduleGPipe / Schedule1F1B / ScheduleInterleaved1F1B): the same "
                    "model, the same numbers, the "
                    "sends done by the library (pipeline_torch.py).",
              "zh": "我们的：本页逐行写出的各阶段（pipeline.py）。PyTorch：实际常用的库 "
                    "torch.distributed.pipelining（PipelineStage、ScheduleGPipe / "
                    "Schedule1F1B / ScheduleInterleaved1F1B）：同样的模型、同样的结果，"
                    "收发由库完成"
                    "（pipeline_torch.py）。"},
        labels={"ours": {"en": "Ours (readable)", "zh": "我们的（可读版）"},
                "torch": {"en": "PyTorch (torch.distributed.pipelining)",
                          "zh": "PyTorch（torch.distributed.pipelining）"}})


def check_pipeline(config: Any) -> None:
    """What the API refuses, with the reason (a 422)."""
    m = config.opts.micro_batches
    if config.batch_size % m:
        raise ValueError(f"options.micro_batches ({m}) must divide batch_size "
                         f"({config.batch_size})")
    if config.layers < config.workers:
        raise ValueError(f"workers: a pipeline of {config.workers} stages needs at least "
                         f"as many transformer blocks (layers is {config.layers})")
    if config.opts.schedule == "interleaved":  # Narayanan et al. 2021, §2.2.2
        p, v = config.workers, config.opts.virtual_stages
        if m % p:
            raise ValueError(f"options.micro_batches: interleaved 1F1B sends the micro-"
                             f"batches round the {p} processes in groups of {p}, so m must "
                             f"be a multiple of p ({m} is not a multiple of {p})")
        if config.layers < v * p:
            raise ValueError(f"options.virtual_stages: {v} chunks on each of {p} processes "
                             f"cut the model into {v * p} chunks, which needs at least as "
                             f"many transformer blocks (layers is {config.layers})")
        if config.layers % (v * p):
            raise ValueError(f"options.virtual_stages: the {config.layers} transformer "
                             f"blocks must divide into v·p = {v} × {p} = {v * p} equal "
                             "chunks, so that every pass costs the same")
    if config.opts.implementation == "torch":  # what the library cannot do
        if config.opts.schedule == "1f1b" and m < config.workers:
            raise ValueError(f"options.micro_batches: torch's Schedule1F1B needs at least as "
                             f"many micro-batches as stages ({m} < {config.workers})")
        if config.network is not None:
            raise ValueError("network: the library sends its own messages, outside DistLab's "
                             "network model; implementation 'torch' runs without one")
