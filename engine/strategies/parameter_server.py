"""Parameter server: servers hold the parameters, workers compute the gradients.

Ranks 0..S-1 are servers, each owning one contiguous shard of the flat parameter vector;
ranks S..S+W-1 are workers, each with its own shard of the data. One worker iteration:

1. pull: ask every server for its parameter shard (the server may make it wait);
2. compute the gradient of the loss on its own batch;
3. push: send each server its slice of the gradient, tagged with the version it read.

What a server does with pushed gradients is the consistency model:

- ``sync`` (BSP): wait until every worker's gradient for the current version is in,
  apply their mean, version + 1. Everyone waits for the slowest worker.
- ``backup`` (Chen et al. 2016): N + b workers; apply the mean of the *first* N gradients
  of a version and drop the b late ones. A straggler no longer sets the pace.
- ``async`` (ASP): apply every gradient the moment it arrives. Its staleness is the
  server's version when applied minus the version its worker read.
- ``ssp`` (stale synchronous parallel): async, but a worker more than s iterations ahead
  of the slowest worker is not served its next pull until the slowest catches up.

When a worker dies (recovery ``continue``), the servers are told by the surviving
workers (a LEFT message) and stop expecting it: async and SSP simply go on with the
others, backup mode goes on while enough workers remain to fill a round.

With checkpoints (``checkpoint_every`` K) each server saves its shard every K versions
and writes every update to a log before applying it (engine/updatelog.py). Under recovery
``restart``, a crash restarts every process; each server rebuilds its exact state from
its last checkpoint plus a replay of the log, and each worker resumes at the iteration
the servers have on record for it.

All messages are real point-to-point sends on the process group. A server receives from
*any* worker (whoever is first), which is what makes arrival order — and staleness — real.

References: Li et al., "Scaling distributed machine learning with the parameter server",
OSDI 2014; Chen et al., "Revisiting distributed synchronous SGD", 2016; Ho et al., "More
effective distributed ML via a stale synchronous parallel parameter server", NIPS 2013;
Dean & Barroso, "The tail at scale", CACM 2013.
"""


from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from engine.model import load_flat
from engine.options import choice, integer
from engine.strategies import ps_hooks
from engine.strategies.base import WorkerContext, emulate_work, local_gradients, step_phases
from engine.strategies.ps_protocol import (
    BLOCKED_BY_SSP,
    DONE,
    HEADER_TAG,
    LEFT,
    PATIENCE,
    PAYLOAD_TAG,
    PULL,
    PUSH,
    WAITED_FOR_VERSION,
    make_header,
    shard_bounds,
)
from engine.strategies.ps_server import Server
from engine.strategies.spec import Needs, StrategySpec

MAX_SERVERS = 4
MODES = ("sync", "backup", "async", "ssp")
# How a pull shows on the timeline: plain, held for a newer version, or blocked by SSP.
PULL_PHASE = {0: "pull", WAITED_FOR_VERSION: "wait", BLOCKED_BY_SSP: "blocked"}


@dataclass(frozen=True, kw_only=True)
class ParameterServerOptions:
    servers: int = integer(
        1, 1, MAX_SERVERS, label={"en": "Servers", "zh": "服务器数"},
        help={"en": "Server processes; the parameters are sharded across them.",
              "zh": "服务器进程数；参数按分片分布在它们之间。"})
    ps_mode: str = choice(
        "sync", MODES, label={"en": "Consistency", "zh": "一致性模型"},
        help={"en": "When a server applies gradients: sync (BSP), backup (sync with spare "
                    "workers), async (ASP) or ssp (bounded staleness).",
              "zh": "服务器何时应用梯度：同步（BSP）、备份（带备用进程的同步）、"
                    "异步（ASP）或 SSP（有界延迟）。"},
        labels={"sync": {"en": "sync (BSP)", "zh": "同步（BSP）"},
                "backup": {"en": "sync with backup workers", "zh": "同步 + 备份进程"},
                "async": {"en": "async (ASP)", "zh": "异步（ASP）"},
                "ssp": {"en": "stale synchronous (SSP)", "zh": "延迟同步（SSP）"}})
    backup_workers: int = integer(
        0, 0, 7, label={"en": "Backup workers b", "zh": "备份进程数 b"},
        help={"en": "Of the workers, this many are spares: each version applies the first "
                    "workers − b gradients and drops the rest.",
              "zh": "其中这么多进程为备用：每个版本只应用最先到达的 workers − b 个梯度，"
                    "其余丢弃。"},
        shown_when={"ps_mode": ("backup",)})
    staleness_bound: int = integer(
        2, 0, 100, label={"en": "Staleness bound s", "zh": "延迟上界 s"},
        help={"en": "A worker more than s iterations ahead of the slowest waits.",
              "zh": "领先最慢进程超过 s 次迭代的进程必须等待。"},
        shown_when={"ps_mode": ("ssp",)})


def _roles(opts: ParameterServerOptions, workers: int) -> list[str]:
    return ["server"] * opts.servers + ["worker"] * workers


def _check(config: Any) -> None:
    opts = config.opts
    if config.backend == "nccl":
        raise ValueError("backend: the parameter server runs on gloo (CPU): it receives "
                         "from any worker, which NCCL cannot do")
    if opts.backup_workers > config.workers - 1:
        raise ValueError(f"options.backup_workers must be between 0 and {config.workers - 1} "
                         f"(got {opts.backup_workers})")
    if opts.ps_mode == "backup" and opts.backup_workers == 0:
        raise ValueError("options.backup_workers: mode backup needs at least 1 spare worker")
    if opts.ps_mode != "backup" and opts.backup_workers:
        raise ValueError("options.backup_workers is only used with ps_mode 'backup'")


class ParameterServer:
    """Runs the server loop on ranks < servers, the worker loop on the others."""

    def setup(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    def run(self, ctx: WorkerContext, runtime: Any) -> None:
        if ctx.topo.rank < ctx.config.opts.servers:
            Server(ctx, runtime).serve()
        else:
            _Worker(ctx, runtime).work()


# ----------------------------------------------------------------------- worker
class _Worker:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        self.ctx, self.runtime = ctx, runtime
        self.config = ctx.config
        self.opts = ctx.config.opts
        self.index = ctx.topo.rank - self.opts.servers  # among the workers, from 0
        numel = sum(p.numel() for p in ctx.model.parameters())
        self.bounds = shard_bounds(numel, self.opts.servers)
        self.flat = torch.empty(numel)
        self.comms = ctx.comms  # every message is timed, counted and reported there
        if self.config.recovery == "continue":
            ctx.control.on_worker_left = self._announce_left

    def _announce_left(self, gone: int) -> None:
        """Tell every server that worker ``gone`` died (from the control thread: our own
        main thread may be waiting for a server that waits for the dead worker)."""
        try:
            for server in range(self.opts.servers):
                self._tell(server, LEFT, gone, 0)
        except RuntimeError:
            pass  # the run is ending anyway; the servers no longer listen

    def _tell(self, server: int, kind: int, a: int, b: int) -> None:
        """A protocol header (a few bytes of control, not counted as traffic)."""
        self.comms.send(make_header(kind, a, b), server, tag=HEADER_TAG, op="header",
                        traffic=False)

    def work(self) -> None:
        ctx, config, opts = self.ctx, self.config, self.opts
        servers = range(opts.servers)
        versions = [0] * opts.servers
        clock = 0
        headers = torch.zeros(opts.servers, 4, dtype=torch.int64)  # one reply per server
        while True:
            if not self.runtime.gate.wait_for_next_step():
                for server in servers:
                    self._tell(server, DONE, 0, clock)
                return
            t_start = self.runtime.now()
            # 1. pull: sync and backup must read a version newer than their last push.
            min_version = versions[0] + 1 if clock and opts.ps_mode in ("sync", "backup") \
                else 0
            started = time.perf_counter()
            # Every reply's receive is posted before we ask anyone. A gloo send waits for
            # its receiver, so otherwise server 0 could wait to reply to us while we wait
            # to ask server 1, which waits to reply to a worker that waits for server 0:
            # a cycle that froze two-server runs on a loaded machine.
            replies = [(self.comms.post_recv(headers[server], server, tag=HEADER_TAG,
                                             traffic=False),
                        self.comms.post_recv(self.flat[a:b], server, tag=PAYLOAD_TAG))
                       for server, (a, b) in zip(servers, self.bounds, strict=True)]
            for server in servers:
                self._tell(server, PULL, min_version, clock)
            stopped, held = [], 0
            for server, (header_reply, shard_reply) in zip(servers, replies, strict=True):
                header_reply.wait(PATIENCE)
                shard_reply.wait(PATIENCE)
                versions[server], server_stop, why, on_record = (
                    int(v) for v in headers[server])
                if server == 0 and clock == 0:
                    clock = on_record  # a restarted worker goes on where it was
                held = max(held, why)
                if server_stop:
                    stopped.append(server)
            pull_ms = (time.perf_counter() - started) * 1e3
            if stopped:
                # Tell the servers that did not stop us yet, so none of them waits for us.
                for server in servers:
                    if server not in stopped:
                        self._tell(server, DONE, 0, clock)
                return
            load_flat(list(ctx.model.parameters()), self.flat)
            # 2. compute, on this worker's own batch.
            x, y = ctx.batch(clock + 1)
            compute_start = time.perf_counter()
            loss = local_gradients(ctx.model, x, y)
            grad = torch.cat([p.grad.reshape(-1) for p in ctx.model.parameters()])
            compute_ms = (time.perf_counter() - compute_start) * 1e3
            if ctx.control.take_corruption():  # a "corrupt" fault aimed at this worker
                grad.fill_(float("nan"))
            emulated_ms, slowed = emulate_work(config, self.index, clock + 1, compute_ms,
                                               ctx.control.slow_factor, ctx.control.pace)
            # 3. push each server its slice, tagged with the version we read from it.
            started = time.perf_counter()
            for server, (a, b) in zip(servers, self.bounds, strict=True):
                self._tell(server, PUSH, versions[server], clock + 1)
                self.comms.send(grad[a:b].contiguous(), server, tag=PAYLOAD_TAG, op="push",
                                step=clock + 1)
            push_ms = (time.perf_counter() - started) * 1e3
            stats = self.comms.take_stats()  # this iteration's bytes, pull and push
            clock += 1
            self.runtime.emit(
                "step", rank=ctx.topo.rank, step=clock, loss=round(loss, 6),
                grad_norm=round(float(grad.norm()), 6), compute_ms=round(compute_ms, 4),
                emulated_ms=round(emulated_ms, 4), slowed=slowed,
                comm_ms=round(push_ms, 4),
                # Time the servers held our pull back: waiting for the others' gradients
                # (sync), or blocked for being too far ahead (ssp).
                wait_ms=round(pull_ms if held == WAITED_FOR_VERSION else 0.0, 4),
                blocked_ms=round(pull_ms if held == BLOCKED_BY_SSP else 0.0, 4),
                pull_ms=round(pull_ms, 4), comm_modelled_ms=None,
                bytes_sent=stats.bytes_sent, bytes_recv=stats.bytes_recv,
                # across nodes: its pushes, and the pulls from servers on other nodes
                # (a server reports no steps: its replies are counted here, once)
                **({"bytes_across_nodes": stats.bytes_across + stats.bytes_across_in}
                   if config.node_size else {}),
                param_checksum=float(self.flat.double().sum()),
                param_hash="", read_version=versions[0], read_versions=list(versions),
                lr=config.lr, samples=len(y), t_start=round(t_start, 6),
                events_dropped=self.runtime.dropped(),
                phases=step_phases((PULL_PHASE[held], pull_ms), ("compute", compute_ms),
                                   ("emulated", emulated_ms), ("push", push_ms)),
            )
            if self.index == 0 and opts.servers > 1:  # no server holds the whole model:
                self.runtime.maybe_emit_boundary(ctx, clock)  # the model worker 0 pulled


SPEC = StrategySpec(
    name="parameter_server",
    title={"en": "Parameter server", "zh": "参数服务器"},
    summary={"en": "Servers hold the parameters, workers pull them, compute gradients and "
                   "push them back; the consistency model decides who waits for whom.",
             "zh": "服务器保存参数，工作进程拉取参数、计算梯度并推回；"
                   "一致性模型决定谁等待谁。"},
    implementation=ParameterServer,
    loop="own",
    options=ParameterServerOptions,
    roles=_roles,
    faults={"kill": None, "freeze": None, "slow": None, "corrupt": None},
    recoveries={"none": None, "restart": None,
                "continue": Needs({"ps_mode": ("async", "ssp", "backup")},
                                  {"en": "sync needs every worker's gradient; continue is "
                                         "for async, ssp or backup mode",
                                   "zh": "同步模式需要每个工作进程的梯度；继续训练只适用于"
                                         "异步、SSP 或备份模式"})},
    views=("ps_topology", "timeline", "loss", "boundary", "tail_latency"),
    events={
        "ps_update": {
            "version": "int: the server's parameter version after this update",
            "applied": "list: one {worker, step, read_version, staleness[, clock_gap]} per "
            "gradient (step = the worker's iteration that computed it)"
            "; staleness = version at apply − version read",
            "param_checksum": "float: float64 sum of this server's shard after the update",
            "shard": "[start, end): the slice of the flat parameters this server owns",
        },
        "gradient_dropped": {
            "worker": "int: the worker rank whose gradient came too late (backup mode)",
            "read_version": "int", "version": "int: the server's version when it arrived",
        },
        "server_restored": {
            "version": "int: the server's version after the rebuild (= before the crash)",
            "checkpoint_version": "int: the checkpoint it started from (0: none yet, the "
            "initial parameters)",
            "replayed": "int: updates replayed from the log after that checkpoint",
            "torn_tail": "bool: a half-written last log record was ignored (never applied)",
            "refused": "list: newer checkpoints refused (truncated or tampered), with why",
            "param_checksum": "float: float64 sum of the rebuilt shard",
        },
    },
    check=_check,
    # what the supervisor asks of a run (engine/strategies/ps_hooks.py)
    progress=ps_hooks.progress, version_of=ps_hooks.version_of, reached_end=ps_hooks.reached_end,
    restart_state=ps_hooks.restart_state, min_workers=ps_hooks.min_workers,
    references=("Li et al., Scaling distributed machine learning with the parameter server, "
                "OSDI 2014",
                "Chen et al., Revisiting distributed synchronous SGD, 2016",
                "Ho et al., More effective distributed ML via a stale synchronous parallel "
                "parameter server, NIPS 2013",
                "Dean & Barroso, The tail at scale, CACM 2013"),
)
