"""MapReduce on real processes (course chapter 3; Dean & Ghemawat, "MapReduce: Simplified
Data Processing on Large Clusters", CACM 2008).

Process rank 0 is the master (engine/strategies/mr_master.py): it keeps the state of
every task and hands tasks to idle workers. Ranks 1..W are the workers
(engine/strategies/mr_worker.py): they run the map and reduce functions
(engine/mapreduce_job.py) and send each other the map output's partitions — the shuffle,
as real point-to-point messages whose bytes are counted.

A "step" of this run is one whole job: the same job runs ``steps`` times, each time on a
freshly generated corpus. Nothing is trained: the step events carry no loss; what a job
produced is checked against the same job run in one process (the ``mr_result`` event).

What to try: the combiner (fewer shuffle bytes), a straggler (the run's straggler
setting: one worker k× slower) with and without backup tasks, killing a worker mid-job
(recovery "continue": its tasks, and the map output on its "disk", are done again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.mapreduce_job import CORPORA, JOBS
from engine.options import choice, flag, integer
from engine.strategies.base import WorkerContext
from engine.strategies.mr_master import MapReduceMaster
from engine.strategies.mr_worker import MapReduceWorker
from engine.strategies.spec import StrategySpec


@dataclass(frozen=True, kw_only=True)
class MapReduceOptions:
    job: str = choice(
        "word_count", JOBS, label={"en": "Job", "zh": "作业"},
        help={"en": "Word count: how often each word occurs. Inverted index: in which "
                    "documents each word occurs (what a search engine looks up).",
              "zh": "词频统计：每个词出现多少次。倒排索引：每个词出现在哪些文档里（搜索引擎"
                    "查的就是它）。"},
        labels={"word_count": {"en": "Word count", "zh": "词频统计"},
                "inverted_index": {"en": "Inverted index", "zh": "倒排索引"}})
    corpus: str = choice(
        "mixed", CORPORA, label={"en": "Corpus", "zh": "语料"},
        help={"en": "Generated documents from the bundled English and Chinese texts "
                    "(Chinese: each character is a word).",
              "zh": "由内置的英文和中文文本生成的文档（中文按单字计词）。"},
        labels={"en": {"en": "English", "zh": "英文"}, "zh": {"en": "Chinese", "zh": "中文"},
                "mixed": {"en": "English and Chinese", "zh": "中英文混合"}})
    documents: int = integer(
        400, 10, 20000, label={"en": "Documents", "zh": "文档数"},
        help={"en": "How many documents the corpus has (2–6 sentences each).",
              "zh": "语料中的文档数量（每篇 2–6 句）。"})
    map_tasks: int = integer(
        12, 1, 256, label={"en": "Map tasks (M)", "zh": "Map 任务数（M）"},
        help={"en": "The corpus is cut into M splits, one map task each.",
              "zh": "语料被切成 M 份，每份一个 map 任务。"})
    reduce_tasks: int = integer(
        4, 1, 64, label={"en": "Reduce tasks (R)", "zh": "Reduce 任务数（R）"},
        help={"en": "Keys are routed to R reducers by hash(key) mod R.",
              "zh": "键按 hash(key) mod R 分到 R 个 reduce 任务。"})
    combiner: bool = flag(
        False, label={"en": "Combiner", "zh": "Combiner（本地合并）"},
        help={"en": "Pre-reduce each map task's pairs before the shuffle: fewer bytes sent.",
              "zh": "在 shuffle 之前先在每个 map 任务本地合并：发送的字节更少。"})
    backup_tasks: bool = flag(
        False, label={"en": "Backup tasks", "zh": "备份任务"},
        help={"en": "Near the end of each phase, idle workers also run copies of the "
                    "tasks still in progress; the first copy to finish counts.",
              "zh": "每个阶段接近结束时，空闲的工作进程再运行仍在进行的任务的副本；"
                    "先完成的那份有效。"})
    task_ms: int = integer(
        60, 0, 5000,
        label={"en": "Work per task (ms, emulated)", "zh": "每个任务的工作量（毫秒，模拟）"},
        help={"en": "Each task also sleeps this long (× the slow-down on a straggler): "
                    "our corpus is small, a real one is not.",
              "zh": "每个任务额外休眠这么久（掉队者再乘以减速倍数）：我们的语料很小，真实的"
                    "不是。"})


def _roles(_opts: Any, workers: int) -> list[str]:
    return ["master"] + ["worker"] * workers


def _check(config: Any) -> None:
    if config.model != "mlp":
        raise ValueError("model: a MapReduce job trains no model; leave it at 'mlp'")


class MapReduce:
    def setup(self, ctx: WorkerContext) -> None:
        """Nothing to set up: no model, every process builds the corpus it needs."""

    def run(self, ctx: WorkerContext, runtime: Any) -> None:
        if ctx.topo.rank == 0:
            MapReduceMaster(ctx, runtime).run()
        else:
            MapReduceWorker(ctx, runtime).run()


SPEC = StrategySpec(
    name="mapreduce",
    title={"en": "MapReduce (master and workers)", "zh": "MapReduce（主节点与工作进程）"},
    summary={"en": "A master hands map and reduce tasks to workers; the map output is "
                   "shuffled to the reducers by hash(key) mod R as real messages. Try the "
                   "combiner, a straggler with backup tasks, and killing a worker.",
             "zh": "主节点把 map 和 reduce 任务分给工作进程；map 的输出按 hash(key) mod R "
                   "以真实消息 shuffle 给 reducer。试试 combiner、掉队者与备份任务，以及杀死"
                   "一个工作进程。"},
    implementation=MapReduce,
    options=MapReduceOptions,
    loop="own",
    workers=(1, 8),
    roles=_roles,
    faults={"kill": None, "slow": None},
    recoveries={"none": None, "continue": None},
    views=("mr_cluster", "mapreduce", "timeline"),
    events={
        "mr_job": {"job": "str", "corpus": "str", "documents": "int", "map_tasks": "int",
                   "reduce_tasks": "int", "combiner": "bool", "backup_tasks": "bool",
                   "splits": "list: documents per map task", "workers": "list: ranks"},
        "mr_phase": {"phase": "str: map | reduce | done"},
        "mr_assign": {"kind": "str: map | reduce", "task": "int", "worker": "int",
                      "attempt": "int", "backup": "bool: a backup copy",
                      "state": "str: assigned | done | late (the other copy was first) | "
                               "lost (its worker died: to be done again)"},
        "mr_task": {"kind": "str: map | reduce", "task": "int", "attempt": "int",
                    "backup": "bool", "t_start": "float", "t_end": "float",
                    "compute_ms": "float", "emulated_ms": "float",
                    "bytes": "list (map): bytes of each partition",
                    "pairs": "int (map): pairs the map function emitted",
                    "emitted": "int (map): pairs kept after the combiner",
                    "keys": "int (reduce)", "bytes_in": "int (reduce): shuffled in",
                    "fetch_ms": "float (reduce)"},
        "mr_result": {"keys": "int", "correct": "bool: equals the one-process job",
                      "mismatched": "int", "examples": "list", "top": "list: [key, n]",
                      "job_s": "float: the job's wall time"},
    },
    check=_check,
    references=("Dean & Ghemawat, MapReduce: Simplified Data Processing on Large Clusters, "
                "CACM 2008",),
)
