"""The store side of a training run that reads its data through GFS (gfs_train.py): the
master answers the trainers' reads, the chunkservers serve the samples.

A trainer's batch (Ghemawat, Gobioff & Leung, SOSP 2003, §2.4 — "the client asks the
master for the chunk locations, then reads from a replica directly"):

1. the trainer asks the master for the batch's samples (``want``);
2. the master groups them by chunk and, for each chunk, picks a live replica — the
   chunkserver on the trainer's own host when it holds one (data locality), else the
   primary — and tells both ends: the chunkserver to send just those samples' bytes (a
   byte-range read of the chunk), the trainer where they come from. All the batch's
   chunks at once: the chunkservers serve them in parallel;
3. the chunkserver verifies the chunk's block checksums first (§5.2) and sends nothing
   from a bad replica: it tells the master, which drops the replica, reads the samples
   from the next one and re-replicates the chunk from a good copy;
4. the trainer decodes the bytes and tells the master it has them — or that they are
   lost, the chunkserver died (a ``kill``): the master drops it from the map, reads them
   from another replica next round and re-replicates the chunks it held (§4.3).

Each read is a ``gfs_batch`` event. When every trainer has finished an epoch, the master
checks from what it served that every sample was read exactly once (a padded repeat
twice, a dropped tail never): ``gfs_train_epoch``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import torch

from engine.strategies.base import WorkerContext
from engine.strategies.gfs_chunkserver import Chunkserver
from engine.strategies.gfs_master import POLL_S, REPLY_S, GfsMaster
from engine.strategies.gfs_membership import Membership
from engine.strategies.gfs_sampler import plan_epoch
from engine.strategies.mr_protocol import Inbox, send_obj

TELL = 31  # the master's answers to a trainer (where its samples come from)
SAMPLES = 32  # a range of a chunk, from a chunkserver to a trainer


def layout(opts: Any, workers: int) -> tuple[list[int], list[int]]:
    """(trainer ranks, chunkserver ranks): the master is rank 0, then the trainers, then
    one chunkserver per trainer — trainer i and chunkserver i share "host" i."""
    return list(range(1, workers + 1)), list(range(workers + 1, 2 * workers + 1))


def host_server(trainer: int, workers: int) -> int:
    """The chunkserver on a trainer's host (its local disk)."""
    return trainer + workers


def sample_bytes(like_x: torch.Tensor, like_y: torch.Tensor) -> tuple[int, int]:
    return like_x[0].numel() * like_x.element_size(), like_y[0].numel() * like_y.element_size()


class _Requests:
    """The master's reports inbox, the trainers' requests set aside: one arriving while
    the master waits for a reply waits its turn (the base master's wait drops it)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox, self.thread = inbox, inbox.thread
        self.backlog: deque[tuple[int, dict[str, Any]]] = deque()

    def poll(self) -> tuple[int, Any] | None:
        got = self.inbox.poll()
        if got is not None and isinstance(got[1], dict) and "ask" in got[1]:
            self.backlog.append(got)
            return None
        return got

    def next_request(self) -> tuple[int, dict[str, Any]] | None:
        if not self.backlog:
            self.poll()
        return self.backlog.popleft() if self.backlog else None


class TrainMaster(GfsMaster):
    """The GFS master of a training run: writes the data set once, then serves reads
    until every trainer is done."""

    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        super().__init__(ctx, runtime)
        self.workers = ctx.config.workers
        self.trainers, self.servers = layout(self.opts, self.workers)
        self.live, self.requests = set(self.servers), _Requests(self.reports)
        self.members = Membership(self)  # placed on this run's chunkservers, not ranks 1..
        self.reports = self.requests  # type: ignore[assignment]
        self.served: dict[int, dict[str, Any]] = {}  # epoch → what it read and trained

    def run(self) -> None:
        root = self._root()
        try:
            for s in self.servers:
                self._tell(s, {"do": "open", "root": str(root)})
            self._write_all(root)
            done: set[int] = set()
            while len(done) < len(self.trainers):
                got = self.requests.next_request()
                if got is None:
                    self._notice_deaths()
                    self._repair()  # a dead server's chunks back to r copies (§4.3)
                    time.sleep(POLL_S)
                    continue
                trainer, msg = got
                if msg["ask"] == "done":
                    done.add(trainer)
                elif msg["ask"] == "epoch_done":
                    self._epoch_done(trainer, msg)
                else:
                    self._serve(trainer, msg)
            self.expect_byes = set(self.live)
            for s in sorted(self.live):
                self._tell(s, {"do": "stop"})
            self.reports.thread.join(10.0)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _root(self) -> Path:
        run_dir = self.runtime.checkpoint_dir
        return (Path(run_dir).parent / "gfs" if run_dir
                else Path(tempfile.mkdtemp(prefix="distlab-gfs-train-")))

    # ---- an epoch's bookkeeping

    def _epoch(self, epoch: int, step: int) -> dict[str, Any]:
        self.epoch = step  # the store's events carry the training step they belong to
        if epoch not in self.served:
            plan = plan_epoch(len(self.x), self.workers, self.config.seed, epoch,
                              self.opts.tail)
            self.served[epoch] = {"reads": torch.zeros(len(self.x), dtype=torch.int64),
                                  "trained": torch.zeros(len(self.x), dtype=torch.int64),
                                  "done": set(), "t0": self.runtime.now(),
                                  "ok": 0, "corrupt": 0, "unreachable": 0, "local": 0,
                                  "remote": 0, "bytes": 0}
            self._heartbeats()  # once an epoch, as the base master does (§2.6.2)
            self._emit("gfs_sampler", epoch=epoch + 1, tail=self.opts.tail,
                       source=self.opts.source, samples=len(self.x),
                       assignment=plan.per_worker,
                       padded=[[i for i, p in zip(s, f, strict=True) if p]
                               for s, f in zip(plan.per_worker, plan.padded, strict=True)],
                       num_padded=plan.num_padded, dropped=plan.dropped,
                       num_dropped=len(plan.dropped),
                       per_worker=len(plan.per_worker[0]))
        return self.served[epoch]

    def _epoch_done(self, trainer: int, msg: dict[str, Any]) -> None:
        epoch = msg["epoch"]
        book = self._epoch(epoch, msg["step"])
        for s in msg["samples"]:
            book["trained"][s] += 1
        book["done"].add(trainer)
        if len(book["done"]) < len(self.trainers):
            return
        plan = plan_epoch(len(self.x), self.workers, self.config.seed, epoch, self.opts.tail)
        expected = torch.zeros(len(self.x), dtype=torch.int64)
        for samples in plan.per_worker:
            for s in samples:
                expected[s] += 1
        counts = book["reads"] if self.opts.source == "store" else book["trained"]
        reads = sum(book[k] for k in ("ok", "corrupt", "unreachable"))
        self._emit("gfs_train_epoch", epoch=epoch + 1, complete=bool(msg["complete"]),
                   source=self.opts.source, tail=self.opts.tail,
                   samples=int(book["trained"].sum()), expected=int(expected.sum()),
                   # each sample as often as the sampler dealt it: once, a padded one
                   # twice, a dropped one never
                   exactly_once=bool(torch.equal(counts, expected)
                                     and torch.equal(book["trained"], expected)),
                   read_once=int((counts == 1).sum()), read_twice=int((counts == 2).sum()),
                   not_read=int((counts == 0).sum()), padded=plan.num_padded,
                   dropped=len(plan.dropped), reads=reads, ok=book["ok"],
                   corrupt=book["corrupt"], unreachable=book["unreachable"],
                   local=book["local"], remote=book["remote"],
                   locality=round(book["local"] / book["ok"], 4) if book["ok"] else None,
                   bytes=book["bytes"], epoch_s=round(self.runtime.now() - book["t0"], 6))

    # ---- a trainer's batch

    def _serve(self, trainer: int, msg: dict[str, Any]) -> None:
        """Read the batch's samples for the trainer, every chunk's at once (each from its
        own replica: the chunkservers work in parallel, as a GFS client's reads of
        different chunks would); a chunk whose read failed is read again, from its next
        replica, in another round."""
        book = self._epoch(msg["epoch"], msg["step"])
        padded = {s for s, p in zip(msg["samples"], msg["padded"], strict=True) if p}
        left: dict[int, list[int]] = {}  # chunk → its samples still to read
        for s in msg["samples"]:
            left.setdefault(s // self.opts.chunk_samples, []).append(s)
        tried: dict[int, list[int]] = {c: [] for c in left}
        local = host_server(trainer, self.workers)
        while left:
            self._repair()
            reads = []  # (request id, chunk, server) of this round
            for c in left:
                candidates = [s for s in self.replicas[c] if s in self.live
                              and s not in tried[c]]
                if not candidates:
                    send_obj(self.comms, {"lost": c}, trainer, tag=TELL, op="command")
                    raise RuntimeError(f"GFS: chunk {c} is lost: no live server holds a "
                                       "good copy")
                src = local if local in candidates else candidates[0]  # its own host first
                tried[c].append(src)
                self.rid += 1
                reads.append((self.rid, c, src))
            # the trainer first (where each range comes from, in the order to receive
            # them), then each chunkserver its command
            send_obj(self.comms, {"reads": [{"rid": rid, "from": src, "samples": left[c]}
                                            for rid, c, src in reads]},
                     trainer, tag=TELL, op="command")
            for rid, c, src in reads:
                chunk = self.chunks[c]
                self._tell(src, {"do": "send_samples", "rid": rid, "to": trainer, "chunk": c,
                                 "count": chunk.count,
                                 "offsets": [s - chunk.first for s in left[c]]})
            wait_s = REPLY_S + len(reads) * self.opts.read_ms / 1e3
            replies = self._await_all({rid for rid, _, _ in reads}, wait_s)
            for rid, c, src in reads:
                if self._account(replies.get(rid), trainer, c, src, left[c], padded, msg,
                                 book, attempt=len(tried[c])):
                    del left[c]
        send_obj(self.comms, {"served": True}, trainer, tag=TELL, op="command")

    def _account(self, reply: dict[str, Any] | None, trainer: int, c: int, src: int,
                 samples: list[int], padded: set[int], msg: dict[str, Any],
                 book: dict[str, Any], attempt: int) -> bool:
        """Count one read and say it (``gfs_batch``); whether it brought the samples."""
        local = src == host_server(trainer, self.workers)
        event = {"worker": trainer - 1, "trainer": trainer, "epoch": msg["epoch"] + 1,
                 "batch": msg["step"], "chunk": c, "server": src, "local": local,
                 "samples": samples, "padded": sorted(padded.intersection(samples)),
                 "attempt": attempt}
        if reply is None or "lost" in reply:  # the server died (lost), or is silent
            if reply is not None:
                self._dead(src, "unreachable")
            book["unreachable"] += 1
            self._emit("gfs_batch", status="unreachable", bytes=0, **event)
            return False
        if "corrupt" in reply:  # checksums wrong: nothing served, never kept
            book["corrupt"] += 1
            self._emit("gfs_batch", status="corrupt", bytes=0, blocks=reply.get("blocks", []),
                       **event)
            self._drop_replica(c, src)
            return False
        book["ok"] += 1
        book["local" if local else "remote"] += 1
        book["bytes"] += reply["bytes"]
        for s in samples:
            book["reads"][s] += 1
        self._emit("gfs_batch", status="ok", bytes=reply["bytes"], failed_over=attempt > 1,
                   **event)
        return True

    def _await_all(self, rids: set[int], wait_s: float) -> dict[int, dict[str, Any]]:
        """The replies that carry these request ids, by id (those missing when the time
        ran out are absent). A death ends no wait: the trainer answers every read ("lost"
        where its receive failed) and must be done with a round before the next one."""
        replies: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + wait_s
        while len(replies) < len(rids):
            got = self.requests.poll()
            if got is not None and got[1].get("rid") in rids:
                replies[got[1]["rid"]] = got[1]
                continue
            self._notice_deaths()
            if time.monotonic() > deadline:
                break
            if got is None:
                time.sleep(POLL_S)
        return replies


class TrainChunkserver(Chunkserver):
    """A chunkserver that also serves byte ranges of a chunk to a trainer."""

    def _send_samples(self, cmd: dict[str, Any]) -> None:
        self._disk_time()
        data, bad = self._load(cmd["chunk"])
        payload = None
        if data is not None:
            # A chunk holds its samples' inputs, then their labels (gfs_chunks.encode):
            # the range read takes each wanted sample's rows of both, in the same layout.
            xs, ys = sample_bytes(self.ctx.data.x, self.ctx.data.y)
            y0 = cmd["count"] * xs
            payload = (b"".join(data[o * xs:(o + 1) * xs] for o in cmd["offsets"])
                       + b"".join(data[y0 + o * ys:y0 + (o + 1) * ys] for o in cmd["offsets"]))
        start = time.perf_counter()
        send_obj(self.comms, payload, cmd["to"], tag=SAMPLES, op="read",
                 traffic=payload is not None, step=self.epoch)
        self.spent["comm"] += (time.perf_counter() - start) * 1e3
        if payload is None:  # §5.2: an error to the requestor, and the master told
            self._report(rid=cmd["rid"], corrupt=cmd["chunk"], blocks=bad)
        else:
            self.served += len(cmd["offsets"])

