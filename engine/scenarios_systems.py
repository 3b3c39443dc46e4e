"""Preset runs of the systems half of the course (chapters 1–3 and 7): MapReduce, the
architectures side by side, the MPI collectives, BSP — each a named function whose
comments say why it is set up that way (engine/scenarios.py lists them all)."""

from __future__ import annotations

from engine.config import RunConfig
from engine.scenario import Scenario


def mapreduce_straggler() -> Scenario:
    return Scenario(
        name="mapreduce-straggler",
        title={"en": "MapReduce word count with one slow worker",
               "zh": "有一个慢工作进程的 MapReduce 词频统计"},
        description={
            "en": "A master and 4 workers count the words of 2000 English and Chinese "
                  "documents: 16 map tasks, 4 reduce tasks. Worker 1 is a straggler, 5× "
                  "slower than the others. Watch who waits for whom; then switch on backup "
                  "tasks.",
            "zh": "一个主节点和 4 个工作进程统计 2000 篇中英文文档的词频：16 个 map 任务、"
                  "4 个 reduce 任务。工作进程 1 是落后者，比其他进程慢 5 倍。观察谁在等谁；"
                  "然后打开备份任务。",
        },
        # Full speed: what the lesson compares is the job's time. 250 ms of emulated work
        # a task keeps each job a few seconds long, long enough to watch.
        config=RunConfig(strategy="mapreduce", workers=4, steps=3, seed=1, pace=None,
                         straggler="one", straggler_rank=0, straggler_factor=5.0,
                         options={"job": "word_count", "corpus": "mixed", "documents": 2000,
                                  "map_tasks": 16, "reduce_tasks": 4, "task_ms": 250}),
    )


def architecture_layered() -> Scenario:
    return Scenario(
        name="architecture-layered",
        title={"en": "Two nodes of four: the layered (hierarchical) all-reduce",
               "zh": "两个节点、各四个进程：分层全归约"},
        description={
            "en": "Eight workers in two nodes of four: fast links inside a node, 10 GbE "
                  "between them (the modelled network). Each node sums its gradients first; "
                  "only the two node leaders talk across the slow link. Compare it with a "
                  "parameter server (centralized) and with gossip on a ring (peer-to-peer).",
            "zh": "八个工作进程分在两个节点中，每个节点四个：节点内链路很快，节点之间是 "
                  "10 GbE（网络模型）。每个节点先在内部对梯度求和；只有两个节点的首进程跨越"
                  "慢链路通信。再与参数服务器（集中式）和环上的 gossip（对等式）比较。",
        },
        config=RunConfig(strategy="data_parallel", workers=8, steps=40, batch_size=16,
                         lr=0.3, dataset="moons", seed=3, pace=4.0, detail=True,
                         node_size=4, network="two_level",
                         options={"allreduce": "hierarchical"}),
    )


def collectives_all_reduce() -> Scenario:
    return Scenario(
        name="collectives-all-reduce",
        title={"en": "All-reduce = reduce-scatter + all-gather, message by message",
               "zh": "全归约 = 归约散发 + 全收集，一条消息一条消息地看"},
        description={
            "en": "Four workers, eight numbers each. In the first three rounds every worker "
                  "passes a block to its right neighbour, adding as it goes: each ends with "
                  "the sum of one block (the middle). In the next three the finished blocks "
                  "go round the ring: everyone has the whole sum. Then try the tree and the "
                  "naive all-reduce, and compare rounds, bytes and α–β costs.",
            "zh": "四个工作进程，各有八个数。前三轮中每个进程把一块传给右邻居，边传边加："
                  "每个进程最后得到一块的总和（中间结果）。后三轮中完成的块沿环传递："
                  "每个进程都得到完整的和。再试试树形和朴素全归约，比较轮数、字节数和 α–β 代价。",
        },
        # one step a second, with every message: slow enough to follow each round
        config=RunConfig(strategy="collectives", workers=4, steps=30, pace=1.0, detail=True,
                         options={"collective": "all_reduce", "algorithm": "rs_ag"}),
    )


def bsp_pagerank_straggler() -> Scenario:
    return Scenario(
        name="bsp-pagerank-straggler",
        title={"en": "PageRank in supersteps (BSP), one straggler",
               "zh": "按超步计算 PageRank（BSP），一个落后者"},
        description={
            "en": "Four workers rank a 2000-vertex power-law graph superstep by superstep; "
                  "worker 2 is 5× slower, and all others wait for it at every barrier. Then "
                  "try the combiner, or the range partition.",
            "zh": "四个工作进程逐个超步为 2000 个顶点的幂律图计算 PageRank；工作进程 2 慢 5 倍，"
                  "其他进程在每个屏障处都等它。再试试合并器或范围划分。"},
        # two supersteps a second: slow enough to watch the barrier waits column by column
        config=RunConfig(strategy="bsp", workers=4, steps=30, pace=2.0, straggler="one",
                         emulated_compute_ms=40.0, straggler_rank=2, straggler_factor=5.0,
                         options={"algorithm": "pagerank", "vertices": 2000}),
    )


def gfs_kill() -> Scenario:
    return Scenario(
        name="gfs-kill",
        title={"en": "A small GFS: a chunkserver dies during an epoch",
               "zh": "小型 GFS：一个块服务器在读取途中死亡"},
        description={
            "en": "A master and 4 chunkservers hold the training data in chunks of 32 "
                  "samples, 3 copies of each; every epoch the chunkservers read it, each its "
                  "share, from their own disks where they can. In epoch 3 chunkserver 3 is "
                  "killed: watch the reads fail over and the master copy its chunks again.",
            "zh": "一个主节点和 4 个块服务器把训练数据按每块 32 个样本存放，每块 3 份副本；"
                  "每个轮次由块服务器各读自己的那一份，尽量读本地磁盘。第 3 个轮次中块服务器 3 "
                  "被杀死：观察读取如何转向其他副本，以及主节点如何重新复制它的块。",
        },
        # a kill after epoch 2 (recovery "continue": the store goes on without it); 2
        # epochs a second with a few ms of emulated disk per read: long enough to watch
        config=RunConfig(strategy="gfs", workers=4, steps=6, pace=2.0, num_samples=512,
                         recovery="continue",
                         faults=[{"after_step": 2, "action": "kill", "rank": 3}],
                         options={"replicas": 3, "chunk_samples": 32, "read_ms": 5,
                                  "reader": "chunkservers"}),
    )


def gfs_train() -> Scenario:
    return Scenario(
        name="gfs-train",
        title={"en": "Training through GFS: who reads which samples, from where",
               "zh": "经 GFS 读取数据的训练：谁从哪里读哪些样本"},
        description={
            "en": "3 data-parallel workers train on 500 samples stored in a small GFS: "
                  "chunks of 64 samples, 2 copies each, one chunkserver on each worker's "
                  "host. Every epoch the sampler shuffles the samples and deals them out "
                  "(500 do not divide by 3: one is padded). Watch the reads grid: how many "
                  "reads are local? After step 15 a chunk on chunkserver 5 is corrupted.",
            "zh": "3 个数据并行的工作进程在一个小型 GFS 中存放的 500 个样本上训练：每块 64 个"
                  "样本，每块 2 份副本，每个工作进程的主机上有一台块服务器。每个轮次采样器打乱"
                  "样本并分给各进程（500 不能被 3 整除：填充 1 个）。观察读取网格：有多少读取"
                  "是本地的？第 15 步之后块服务器 5 上的一个块被损坏。",
        },
        # r = 2 of 3 hosts: a shuffled sample's chunk is on its reader's host about 2 times
        # in 3 — the lesson asks for that prediction. 11 steps an epoch, 3 epochs at 6 steps
        # a second: long enough to watch the grid fill. r = 2 also lets the corrupted chunk
        # be read from its other copy.
        config=RunConfig(strategy="gfs_train", workers=3, steps=33, batch_size=16,
                         num_samples=500, seed=5, pace=6.0,
                         faults=[{"after_step": 15, "action": "corrupt", "rank": 5}],
                         options={"replicas": 2, "chunk_samples": 64, "tail": "pad",
                                  "source": "store", "read_ms": 2}),
    )


def gfs_membership() -> Scenario:
    return Scenario(
        name="gfs-membership",
        title={"en": "GFS placement: a chunkserver joins, another leaves",
               "zh": "GFS 数据放置：一个块服务器加入，另一个退出"},
        description={
            "en": "64 chunks, 2 copies each, on 4 chunkservers placed by consistent "
                  "hashing; a fifth, spare chunkserver joins at epoch 2 and chunkserver 1 "
                  "is decommissioned at epoch 3. Count the chunks the master moves, then "
                  "try range or hash placement (表7).",
            "zh": "64 个块、每块 2 份副本，按一致性哈希放在 4 个块服务器上；第 5 个备用块服务器"
                  "在第 2 个轮次加入，块服务器 1 在第 3 个轮次退役。数一数主节点搬动了多少块，"
                  "再试试范围放置或哈希放置（表7）。",
        },
        # 4 members + 1 spare, r = 2, 64 chunks: the set-up 表7 is measured on; a join
        # and a leave one epoch apart, one epoch a second so each move can be followed
        config=RunConfig(strategy="gfs", workers=5, steps=4, pace=1.0, num_samples=1024,
                         options={"replicas": 2, "chunk_samples": 16, "read_ms": 2,
                                  "placement": "consistent", "join_at": 2, "leave_at": 3}),
    )
