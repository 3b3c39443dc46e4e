"""A small Google File System on real processes (course chapter 7; Ghemawat, Gobioff &
Leung, "The Google File System", SOSP 2003).

Process rank 0 is the master (engine/strategies/gfs_master.py): the chunk → replicas map,
heartbeats, re-replication — and here also the client. Ranks 1..W are chunkservers
(engine/strategies/gfs_chunkserver.py): each keeps its chunks as files under the run's
directory (``<run>/gfs/chunkserverN``; a temporary directory for a headless run), with a
crc32 per block. (Their role is ``worker``, the role the supervisor counts steps and
survivors by; the page calls them chunkservers.)

The data is the run's data set, cut into chunks of ``chunk_samples`` samples, written
once at the start through the store (primary, then pushed along the chain of replicas:
real messages, their bytes counted). A "step" of this run is one epoch: the master, as a
client — or each chunkserver its share, locally where it can (option ``reader``) — reads
every chunk back from a replica, and every sample must come back exactly once and equal
to the data set (the ``gfs_epoch`` event; engine/strategies/gfs_reads.py).

What to try: kill a chunkserver mid-epoch (recovery "continue"): reads fail over to
other replicas, and the master copies the chunks it held until each has ``replicas``
copies again. A ``corrupt`` fault on a chunkserver flips a byte in one of its chunk
files: the checksum catches it on the next read, the bad replica is never served, and a
good copy replaces it. Where replicas go is a policy (engine/strategies/gfs_placement.py:
range, hash mod n, consistent hashing), and a spare chunkserver can join and chunkserver 1
leave during the run (options ``join_at``, ``leave_at``): the master moves the chunks for
real (engine/strategies/gfs_membership.py; 表7). Not built yet: leases and record append,
the namespace's operation log, training that reads its batches through the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.options import choice, integer
from engine.strategies.base import WorkerContext
from engine.strategies.gfs_chunkserver import Chunkserver
from engine.strategies.gfs_master import GfsMaster
from engine.strategies.gfs_membership import EVENTS as MEMBERSHIP_EVENTS
from engine.strategies.gfs_placement import POLICIES
from engine.strategies.spec import FaultEffect, StrategySpec


@dataclass(frozen=True, kw_only=True)
class GfsOptions:
    chunk_samples: int = integer(
        64, 1, 100_000, label={"en": "Samples per chunk", "zh": "每块样本数"},
        help={"en": "The data set is cut into fixed-size chunks of this many samples "
                    "(GFS: 64 MB chunks; ours hold about a kilobyte).",
              "zh": "数据集被切成固定大小的块，每块这么多样本（GFS 的块是 64 MB；"
                    "我们的约 1 KB）。"})
    replicas: int = integer(
        3, 1, 8, label={"en": "Replicas (r)", "zh": "副本数（r）"},
        help={"en": "Copies of every chunk, each on a different chunkserver (GFS's "
                    "default is 3); at most the number of chunkservers.",
              "zh": "每个块的副本数，各在不同的块服务器上（GFS 默认 3）；不超过块服务器数。"})
    placement: str = choice(
        "round_robin", POLICIES,
        label={"en": "Placement", "zh": "副本放置"},
        help={"en": "Where a chunk's replicas go: round robin (chunk c on servers c, c+1, "
                    "…: even), random (seeded), range (contiguous ranges of chunks per "
                    "server), hash (hash(chunk) mod n) or consistent hashing (a ring with "
                    "virtual nodes: a joining server takes about 1/n). GFS spreads them "
                    "over racks.",
              "zh": "块的副本放在哪里：轮转（块 c 放在服务器 c、c+1……：均匀）、随机（有种子）、"
                    "范围（每个服务器一段连续的块）、哈希（hash(块) mod n）或一致性哈希（带虚拟"
                    "节点的环：新加入的服务器只接走约 1/n）。GFS 把它们分散到不同机架。"},
        labels={"round_robin": {"en": "Round robin", "zh": "轮转"},
                "random": {"en": "Random (seeded)", "zh": "随机（有种子）"},
                "range": {"en": "Range", "zh": "范围分片"},
                "hash": {"en": "Hash mod n", "zh": "哈希取模"},
                "consistent": {"en": "Consistent hashing", "zh": "一致性哈希"}})
    vnodes: int = integer(
        32, 1, 512, label={"en": "Virtual nodes per server", "zh": "每个服务器的虚拟节点数"},
        help={"en": "Consistent hashing only: points each server owns on the ring. More "
                    "points, a more even share (Karger et al. 1997).",
              "zh": "仅用于一致性哈希：每个服务器在环上拥有的点数。点越多，分摊越均匀"
                    "（Karger 等，1997）。"})
    join_at: int = integer(
        0, 0, 10_000, label={"en": "A spare joins at epoch", "zh": "备用服务器加入的轮次"},
        help={"en": "0: no spare. Otherwise the last chunkserver starts empty, outside the "
                    "placement, and joins at the start of this epoch: the master "
                    "recomputes the placement and moves chunks to it for real (if the run "
                    "gets that far).",
              "zh": "0：没有备用服务器。否则最后一个块服务器起初为空、不参与放置，在这个轮次开始时"
                    "加入：主节点重新计算放置，真的把块搬过去（如果运行能到这一轮）。"})
    leave_at: int = integer(
        0, 0, 10_000, label={"en": "Chunkserver 1 leaves at epoch",
                             "zh": "块服务器 1 退出的轮次"},
        help={"en": "0: never. Otherwise chunkserver 1 is decommissioned at the start of "
                    "this epoch: its chunks are copied to the servers the new placement "
                    "names, checked, and deleted from it.",
              "zh": "0：从不。否则在这个轮次开始时让块服务器 1 退役：它的块被复制到新放置指定的"
                    "服务器、校验后从它上面删除。"})
    reader: str = choice(
        "master", ("master", "chunkservers"), label={"en": "Reader", "zh": "读取方"},
        help={"en": "Who reads the data set each epoch: the master as the one client, or "
                    "every chunkserver its share, from its own disk where it holds a "
                    "replica (data locality), else from another server.",
              "zh": "每轮由谁读取数据集：主节点作为唯一客户端，或每个块服务器读自己那一份——"
                    "本地有副本就读本地磁盘（数据局部性），否则从其他服务器读取。"},
        labels={"master": {"en": "The master (one client)", "zh": "主节点（单一客户端）"},
                "chunkservers": {"en": "The chunkservers (data locality)",
                                 "zh": "块服务器（数据局部性）"}})
    read_ms: int = integer(
        20, 0, 2000, label={"en": "Disk read per chunk (ms, emulated)",
                            "zh": "每块磁盘读取（毫秒，模拟）"},
        help={"en": "A chunkserver also sleeps this long per read: our chunks sit in the "
                    "page cache, a real disk is slower.",
              "zh": "块服务器每次读取额外休眠这么久：我们的块在页缓存里，真实磁盘更慢。"})


def _roles(_opts: Any, workers: int) -> list[str]:
    return ["master"] + ["worker"] * workers


def _check(config: Any) -> None:
    opts = config.opts
    if config.model != "mlp":
        raise ValueError("model: a file system trains no model; leave it at 'mlp'")
    if opts.replicas > config.workers:
        raise ValueError(f"options.replicas: {opts.replicas} copies of each chunk need "
                         f"{opts.replicas} chunkservers, and this run has {config.workers} "
                         f"(workers); lower replicas or add workers")
    members = config.workers - (1 if opts.join_at else 0)
    if opts.join_at and opts.replicas > members:
        raise ValueError(f"options.join_at: with a spare, {members} of the {config.workers} "
                         f"chunkservers hold data at first, fewer than replicas "
                         f"({opts.replicas}); add workers or lower replicas")
    # members when chunkserver 1 leaves: the spare too if it joined before
    spare_out = opts.join_at and opts.join_at > opts.leave_at
    if opts.leave_at and opts.replicas > config.workers - spare_out - 1:
        raise ValueError(f"options.leave_at: after chunkserver 1 leaves, "
                         f"{config.workers - spare_out - 1} chunkservers are left, fewer than "
                         f"replicas ({opts.replicas}); add workers or lower replicas")
    if opts.chunk_samples > config.num_samples:
        raise ValueError(f"options.chunk_samples: {opts.chunk_samples} is more than the "
                         f"data set's {config.num_samples} samples")


class Gfs:
    def setup(self, ctx: WorkerContext) -> None:
        """Nothing to set up: the master writes the data set once it runs."""

    def run(self, ctx: WorkerContext, runtime: Any) -> None:
        if ctx.topo.rank == 0:
            GfsMaster(ctx, runtime).run()
        else:
            Chunkserver(ctx, runtime).run()


SPEC = StrategySpec(
    name="gfs",
    title={"en": "GFS (master and chunkservers)", "zh": "GFS（主节点与块服务器）"},
    summary={"en": "The data set is stored in replicated chunks on chunkserver processes "
                   "and read back every epoch. Kill a chunkserver: reads fail over and the "
                   "master re-replicates. Corrupt a chunk: the checksum catches it.",
             "zh": "数据集以多副本块存放在块服务器进程上，每轮读回一遍。杀死一个块服务器："
                   "读取切换到其他副本，主节点重新复制。损坏一个块：校验和发现它。"},
    implementation=Gfs,
    options=GfsOptions,
    loop="own",
    trains=False,
    step_label={"en": "Epochs (each reads the data set once)",
                "zh": "轮数（每轮把数据集读一遍）"},
    workers=(1, 8),
    roles=_roles,
    faults={"kill": None, "corrupt": None},
    fault_effects={"corrupt": FaultEffect(
        text={"en": "a byte of one of its chunk files on disk flips: the next read's "
                    "checksum catches it",
              "zh": "它磁盘上某个块文件的一个字节被翻转：下一次读取的校验和会发现它"},
        glyph="crc")},
    recoveries={"none": None, "continue": None},
    views=("topology", "gfs", "timeline"),
    events={
        "gfs_setup": {"chunks": "int", "chunk_samples": "int", "samples": "int",
                      "replicas": "int", "placement": "str", "servers": "list: ranks",
                      "bytes": "int: the data set's bytes", "directory": "str"},
        "gfs_write": {"chunk": "int", "chain": "list: ranks, primary first", "bytes": "int",
                      "first": "int: its first sample", "samples": "int"},
        "gfs_map": {"reason": "str: written | server_dead | corrupt | rereplicated",
                    "replicas": "int: the target r", "chunks": "list: servers per chunk",
                    "live": "list", "dead": "list",
                    "copies": "list: [chunk, server] made by re-replication",
                    "under": "list: chunks below r", "server": "int (optional)",
                    "chunk": "int (optional)", "why": "str (optional)"},
        "gfs_read": {"chunk": "int", "server": "int: the replica read",
                     "reader": "int: the client (0: the master)",
                     "local": "bool: the reader read its own disk",
                     "status": "str: ok | unreachable | corrupt", "attempt": "int",
                     "bytes": "int", "failed_over": "bool (ok)", "first": "int (ok)",
                     "samples": "int (ok)", "blocks": "list (corrupt): bad blocks"},
        "gfs_rereplicate": {"chunk": "int", "src": "int", "dst": "int", "bytes": "int",
                            "copies": "int: replicas now"},
        "gfs_corrupted": {"chunk": "int", "server": "int", "offset": "int",
                          "block": "int: the fault flipped a byte on disk here"},
        "gfs_epoch": {"samples": "int", "expected": "int",
                      "exactly_once": "bool: every sample read once", "equal": "bool",
                      "ok": "int", "failed_over": "int", "corrupt": "int",
                      "unreachable": "int", "bytes": "int", "live": "list",
                      "local": "int: reads from the reader's own disk", "remote": "int",
                      "reader": "str: master | chunkservers",
                      "under_replicated": "int", "epoch_s": "float"},
        **MEMBERSHIP_EVENTS,
    },
    check=_check,
    references=("Ghemawat, Gobioff & Leung, The Google File System, SOSP 2003",),
)
