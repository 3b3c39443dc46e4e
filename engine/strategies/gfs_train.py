"""Data-parallel training that reads its data through a small GFS (course chapter 7:
sharding the training data; Ghemawat, Gobioff & Leung, "The Google File System", SOSP
2003; PyTorch's DistributedSampler).

Processes: rank 0 is the GFS master; ranks 1..W are the trainers (synchronous data
parallelism, a real all-reduce of their gradients among themselves); ranks W+1..2W are
the chunkservers. Trainer i and chunkserver W+i stand for one host: a read the host's
own chunkserver can serve is local (no network on a real cluster), any other is remote.

At the start the master writes the data set (engine/data.py's samples) into chunks of
``chunk_samples`` samples, ``replicas`` copies each, along each chunk's chain of
chunkservers (gfs_master.py). Each epoch the sampler (gfs_sampler.py) shuffles the
samples and deals them out among the trainers, padding or dropping the tail (option
``tail``); each step every trainer reads its batch through the store
(gfs_train_store.py: the master names a replica per chunk, preferring the local one; the
chunkserver verifies the chunk's checksums and sends the samples' bytes) and trains on it
(gfs_trainer.py). With ``source`` "memory" the trainers take the same samples from memory
instead: the run that a store run must match, parameter for parameter.

What to try: predict the locality with r = 1 and with r = W (every host holds every
chunk); change ``tail`` with a sample count that does not divide by the trainers; corrupt
a chunkserver's chunk mid-run — the checksum catches it, the samples come from another
replica, and training goes on exactly as from memory. Kill a chunkserver (r >= 2,
recovery "continue"): the master stops choosing it, a read in flight to it is read again
from another replica, the master re-replicates its chunks to restore r copies, and
training ends with the same parameters as from memory — only where the data came from
changed. Killing a trainer or the master is refused: a dead trainer would leave the
others waiting in their all-reduce, a dead master takes the store with it.

The chunkservers' role is ``worker`` like the trainers' (the role the supervisor counts
survivors by, so that recovery "continue" leaves a dead one behind); the page calls them
chunkservers, and the run's progress is the trainers' step (``progress="furthest"``: the
chunkservers count no steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch.distributed as dist

from engine.comms import Group
from engine.options import choice, integer
from engine.strategies.base import WorkerContext
from engine.strategies.gfs_sampler import samples_per_worker
from engine.strategies.gfs_train_store import TrainChunkserver, TrainMaster, layout
from engine.strategies.gfs_trainer import Trainer
from engine.strategies.spec import FaultEffect, Needs, StrategySpec


@dataclass(frozen=True, kw_only=True)
class GfsTrainOptions:
    chunk_samples: int = integer(
        64, 1, 100_000, label={"en": "Samples per chunk", "zh": "每块样本数"},
        help={"en": "The data set is cut into fixed-size chunks of this many samples.",
              "zh": "数据集被切成固定大小的块，每块这么多样本。"})
    replicas: int = integer(
        2, 1, 4, label={"en": "Replicas (r)", "zh": "副本数（r）"},
        help={"en": "Copies of every chunk, each on a different chunkserver; at most one "
                    "chunkserver per trainer, so at most the number of workers. More "
                    "copies: more reads find one on their own host.",
              "zh": "每个块的副本数，各在不同的块服务器上；每个训练进程一台块服务器，所以不超过"
                    "工作进程数。副本越多，越多读取能在本机找到副本。"})
    placement: str = choice(
        "round_robin", ("round_robin", "random"),
        label={"en": "Placement", "zh": "副本放置"},
        help={"en": "Where a chunk's replicas go: round robin (even) or random (seeded).",
              "zh": "块的副本放在哪里：轮转（均匀）或随机（有种子）。"},
        labels={"round_robin": {"en": "Round robin", "zh": "轮转"},
                "random": {"en": "Random (seeded)", "zh": "随机（有种子）"}})
    tail: str = choice(
        "pad", ("pad", "drop"), label={"en": "Uneven tail", "zh": "不能整除的尾部"},
        help={"en": "When the samples do not divide by the workers: pad (repeat a few "
                    "samples so every worker gets as many) or drop (leave the tail out "
                    "this epoch), as DistributedSampler's drop_last.",
              "zh": "样本数不能被工作进程数整除时：填充（重复几个样本，使每个工作进程一样多）"
                    "或丢弃（本轮不读尾部），即 DistributedSampler 的 drop_last。"},
        labels={"pad": {"en": "Pad with repeats", "zh": "用重复样本填充"},
                "drop": {"en": "Drop the tail", "zh": "丢弃尾部"}})
    source: str = choice(
        "store", ("store", "memory"), label={"en": "Data from", "zh": "数据来源"},
        help={"en": "Where the trainers take their batches: through the store (ask the "
                    "master, read a replica) or from memory (the same samples, no store: "
                    "the reference a store run must match).",
              "zh": "训练进程从哪里取批次：经过存储（问主节点，读一个副本），或从内存（同样的"
                    "样本，不经存储：存储读取的结果必须与它一致）。"},
        labels={"store": {"en": "The store (GFS)", "zh": "存储（GFS）"},
                "memory": {"en": "Memory (reference)", "zh": "内存（参照）"}})
    read_ms: int = integer(
        2, 0, 2000, label={"en": "Disk read per request (ms, emulated)",
                           "zh": "每次读取的磁盘时间（毫秒，模拟）"},
        help={"en": "A chunkserver also sleeps this long per read: our chunks sit in the "
                    "page cache, a real disk is slower.",
              "zh": "块服务器每次读取额外休眠这么久：我们的块在页缓存里，真实磁盘更慢。"})


def _roles(_opts: Any, workers: int) -> list[str]:
    return ["master"] + ["worker"] * (2 * workers)  # the trainers, then the chunkservers


def _role(config: Any, rank: int) -> str:
    return "master" if rank == 0 else "trainer" if rank <= config.workers else "chunkserver"


def _check(config: Any) -> None:
    opts = config.opts
    if opts.replicas > config.workers:
        raise ValueError(f"options.replicas: {opts.replicas} copies of each chunk need "
                         f"{opts.replicas} chunkservers, and this run has {config.workers} "
                         "(one per worker); lower replicas or add workers")
    if opts.chunk_samples > config.num_samples:
        raise ValueError(f"options.chunk_samples: {opts.chunk_samples} is more than the "
                         f"data set's {config.num_samples} samples")
    if samples_per_worker(config.num_samples, config.workers, opts.tail) < 1:
        raise ValueError(f"num_samples: {config.num_samples} samples cannot be split among "
                         f"{config.workers} workers")


def _fault_target(config: Any, action: str, rank: int) -> str | None:
    """A corrupt fault flips a byte of a chunk file: only a chunkserver has chunk files.
    A kill can be survived only by a chunkserver (its chunks have other replicas)."""
    w = config.workers
    if w < rank <= 2 * w:
        return None
    servers = f"ranks {w + 1}–{2 * w}"
    if action == "corrupt":
        return (f"corrupt flips a byte on a chunkserver's disk and rank {rank} is a "
                f"{_role(config, rank)}: aim it at a chunkserver ({servers})")
    if action == "kill":
        why = ("a dead trainer leaves the others waiting in their all-reduce"
               if rank else "a dead master takes the store with it")
        return (f"rank {rank} is a {_role(config, rank)} and cannot be killed here ({why}): "
                f"only a chunkserver can ({servers}), its reads fail over to other replicas")
    return None


def _min_workers(config: Any) -> int:
    """To go on without a dead process: every trainer (a trainer's kill is refused) and
    at least one chunkserver (a chunk without a live replica ends the run, named)."""
    return config.workers + 1


class GfsTrain:
    def setup(self, ctx: WorkerContext) -> None:
        """Nothing to set up: the master writes the data set once it runs."""

    def run(self, ctx: WorkerContext, runtime: Any) -> None:
        trainers, servers = layout(ctx.config.opts, ctx.config.workers)
        # Every process joins the trainers' group (new_group is collective over the run);
        # only the trainers use it, for their all-reduce.
        group = Group("data", tuple(trainers), dist.new_group(ranks=trainers))
        rank = ctx.topo.rank
        if rank == 0:
            TrainMaster(ctx, runtime).run()
        elif rank in servers:
            TrainChunkserver(ctx, runtime).run()
        else:
            Trainer(ctx, runtime, group).run()


_NO_KILL = {"en": "only a chunkserver can be killed, and only with at least 2 replicas: "
                  "with one copy its chunks die with it. A dead trainer would leave the "
                  "others waiting in their all-reduce, a dead master takes the store with it",
            "zh": "只能杀死块服务器，且副本数至少为 2：只有一份副本时，它的块会随它一起丢失。"
                  "训练进程死亡会让其他进程在全归约中一直等待，主节点死亡会带走整个存储"}

SPEC = StrategySpec(
    name="gfs_train",
    title={"en": "Training through GFS (sharded reads)", "zh": "经 GFS 读取数据的训练（分片读取）"},
    summary={"en": "Data-parallel workers read their batches through a GFS store: each "
                   "epoch a sampler shuffles the samples and deals them out, each worker "
                   "reads its share from a replica — on its own host when it can. See "
                   "locality, padding and dropping, a corrupt chunk caught, and a killed "
                   "chunkserver survived without losing a sample.",
             "zh": "数据并行的工作进程经 GFS 存储读取批次：每轮采样器打乱样本并分给各进程，"
                   "每个进程从副本读取自己那一份——能在本机读就在本机读。观察数据局部性、"
                   "填充与丢弃、被发现的损坏块，以及块服务器被杀后不丢一个样本地继续训练。"},
    implementation=GfsTrain,
    options=GfsTrainOptions,
    loop="own",
    workers=(1, 4),
    roles=_roles,
    faults={"corrupt": None, "kill": Needs({"replicas": (2, 3, 4)}, because=_NO_KILL)},
    fault_target=_fault_target,
    fault_effects={"corrupt": FaultEffect(
        text={"en": "a byte of one of its chunk files on disk flips: the next read's "
                    "checksum catches it and the samples come from another replica",
              "zh": "它磁盘上某个块文件的一个字节被翻转：下一次读取的校验和会发现它，样本改从"
                    "另一个副本读取"},
        glyph="crc")},
    recoveries={"none": None, "continue": None},  # continue: a chunkserver's death
    progress="furthest",
    min_workers=_min_workers,
    views=("topology", "gfs", "gfs_reads", "loss", "timeline"),
    events={
        "gfs_sampler": {"epoch": "int (from 1)", "tail": "str: pad | drop",
                        "source": "str: store | memory", "samples": "int",
                        "assignment": "list: each worker's samples, in reading order",
                        "padded": "list: each worker's padded repeats",
                        "num_padded": "int", "dropped": "list: samples nobody reads",
                        "num_dropped": "int", "per_worker": "int"},
        "gfs_batch": {"worker": "int (from 0)", "trainer": "int: its rank",
                      "epoch": "int (from 1)", "batch": "int: the training step",
                      "chunk": "int", "server": "int: the chunkserver read",
                      "local": "bool: the chunkserver on the worker's host",
                      "samples": "list", "padded": "list: the padded repeats among them",
                      "status": "str: ok | corrupt | unreachable (its server died or "
                                "was silent)", "attempt": "int",
                      "bytes": "int", "failed_over": "bool (ok)",
                      "blocks": "list (corrupt): bad blocks"},
        "gfs_train_epoch": {"epoch": "int (from 1)", "complete": "bool",
                            "source": "str", "tail": "str", "samples": "int: trained",
                            "expected": "int: dealt by the sampler",
                            "exactly_once": "bool: each sample as often as dealt",
                            "read_once": "int", "read_twice": "int", "not_read": "int",
                            "padded": "int", "dropped": "int", "reads": "int",
                            "ok": "int", "corrupt": "int", "unreachable": "int",
                            "local": "int", "remote": "int",
                            "locality": "float | null: local / ok reads",
                            "bytes": "int", "epoch_s": "float"},
    },
    check=_check,
    references=("Ghemawat, Gobioff & Leung, The Google File System, SOSP 2003",
                "PyTorch DistributedSampler (torch/utils/data/distributed.py)"),
)
