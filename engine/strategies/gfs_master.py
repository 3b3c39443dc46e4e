"""The GFS master (Ghemawat, Gobioff & Leung, SOSP 2003), and the one client: it keeps
the namespace (the data set's chunks) and the chunk → replicas map; data never flows
through it, except that here it is also the client that writes the data set once and
reads it back every epoch (a real client would ask it for locations only, §2.4).

- Write (§3.2): the chunk's bytes go to its primary, which stores them and pushes them
  along the chain of the other replicas; the chain's last server acknowledges.
- Read (§2.4, §5.2): from the first live replica of the chunk (the primary); a dead
  server or a checksum mismatch makes the reader fail over to the next one, and the bad
  replica is dropped from the map (its server told to delete it). The reader also checks
  the whole chunk against the crc32 it wrote (end to end), then marks each sample read:
  at the end of an epoch every sample must have been read exactly once.
- Heartbeats (§2.6.2, §4.5): every epoch each live server says which chunks it holds; a
  server that does not answer, or that the supervisor says died (recovery "continue"),
  is dead, and its replicas are gone from the map.
- Re-replication (§4.3): a chunk below ``replicas`` copies is copied by a live holder to
  the live server holding the fewest chunks (§4.2: below-average disk use), until it has
  ``replicas`` again — or no server is left to take one (the map says under-replicated).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import torch

from engine.strategies.base import WorkerContext
from engine.strategies.gfs_chunks import chunks_of, decode, encode, placement
from engine.strategies.mr_protocol import COMMAND, REPORT, Inbox, send_obj

POLL_S = 0.002
REPLY_S = 5.0  # a server silent this long (plus its emulated read) is failed over
BYE_WAIT_S = 10.0


class GfsMaster:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        self.ctx, self.runtime, self.comms = ctx, runtime, ctx.comms
        self.config, self.opts = ctx.config, ctx.config.opts
        self.servers = list(range(1, ctx.topo.world_size))
        self.live = set(self.servers)
        self.dead: set[int] = set()
        self.died: set[int] = set()  # told by the supervisor, from the control thread
        self._lock = threading.Lock()
        ctx.control.on_worker_left = self._on_left
        self.byes: set[int] = set()
        self.expect_byes: set[int] | None = None
        self.reports = Inbox(self.comms, REPORT, last=self._last_report)
        self.rid = 0
        self.epoch = 0
        self.x, self.y = ctx.data.x, ctx.data.y
        self.chunks = chunks_of(len(self.x), self.opts.chunk_samples)
        self.crc: list[int] = []
        self.replicas: list[list[int]] = [[] for _ in self.chunks]
        self.copies: set[tuple[int, int]] = set()  # (chunk, server) made by re-replication
        self.reads: dict[str, int] = {}

    def _last_report(self, sender: int, report: Any) -> bool:
        if isinstance(report, dict) and report.get("bye"):
            self.byes.add(sender)
        return self.expect_byes is not None and self.expect_byes <= self.byes

    def _on_left(self, rank: int) -> None:
        with self._lock:
            self.died.add(rank)

    def run(self) -> None:
        run_dir = self.runtime.checkpoint_dir
        # The run's own directory when it has one (a server run), else a temporary one
        # that goes with the run; either way the master removes what it made.
        root = (Path(run_dir).parent / "gfs" if run_dir
                else Path(tempfile.mkdtemp(prefix="distlab-gfs-")))
        try:
            for s in self.servers:
                self._tell(s, {"do": "open", "root": str(root)})
            self._write_all(root)
            while self.epoch < self.config.steps and self.runtime.gate.wait_for_next_step():
                self.epoch += 1
                self._heartbeats()
                self._read_epoch()
                for s in sorted(self.live):
                    self._tell(s, {"do": "end_epoch", "epoch": self.epoch})
            self.expect_byes = set(self.live)
            for s in sorted(self.live):
                self._tell(s, {"do": "stop"})
            self.reports.thread.join(BYE_WAIT_S)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    # ---- messages

    def _tell(self, s: int, cmd: dict[str, Any], traffic: str | None = None) -> bool:
        if s not in self.live:
            return False
        try:
            send_obj(self.comms, cmd, s, tag=COMMAND, op=traffic or "command",
                     traffic=traffic is not None, step=self.epoch)
        except RuntimeError:
            self._dead(s, "unreachable")
            return False
        return True

    def _exchange(self, tells: list[tuple[int, dict[str, Any]]], watch: list[int],
                  wait_s: float = REPLY_S, traffic: str | None = None
                  ) -> dict[str, Any] | None:
        """Send the commands (one request id), wait for the one reply that carries it;
        None if a watched server died or nothing came in time."""
        self.rid += 1
        rid = self.rid
        for s, cmd in tells:
            if not self._tell(s, {**cmd, "rid": rid}, traffic if "data" in cmd else None):
                return None
        deadline = time.monotonic() + wait_s
        while True:
            got = self.reports.poll()
            if got is not None and got[1].get("rid") == rid:
                return got[1]  # (replies to requests given up on are dropped)
            self._notice_deaths()
            if any(s not in self.live for s in watch) or time.monotonic() > deadline:
                return None
            if got is None:
                time.sleep(POLL_S)

    # ---- the write, once

    def _write_all(self, root: Path) -> None:
        places = placement(len(self.chunks), self.servers, self.opts.replicas,
                           self.opts.placement, self.config.seed)
        written = 0
        for chunk, chain in zip(self.chunks, places, strict=True):
            data = encode(self.x, self.y, chunk)
            self.crc.append(zlib.crc32(data))
            tells = [(chain[0], {"do": "write", "chunk": chunk.id, "data": data,
                                 "next": chain[1:], "primary": True})]
            tells += [(s, {"do": "receive", "chunk": chunk.id, "from": chain[k],
                           "next": chain[k + 2:]}) for k, s in enumerate(chain[1:])]
            reply = self._exchange(tells, chain, traffic="write")
            if reply is None or "stored" not in reply:
                raise RuntimeError(f"GFS: writing chunk {chunk.id} to {chain} failed")
            self.replicas[chunk.id] = list(chain)
            written += len(data)
            self._emit("gfs_write", chunk=chunk.id, chain=chain, bytes=len(data),
                       first=chunk.first, samples=chunk.count)
        self._emit("gfs_setup", chunks=len(self.chunks), chunk_samples=self.opts.chunk_samples,
                   samples=len(self.x), replicas=self.opts.replicas,
                   placement=self.opts.placement, servers=self.servers,
                   bytes=written, directory=str(root))
        self._map("written")

    # ---- an epoch

    def _heartbeats(self) -> None:
        self._notice_deaths()
        for s in sorted(self.live):
            reply = self._exchange([(s, {"do": "heartbeat", "epoch": self.epoch})], [s])
            if reply is None:
                self._dead(s, "no heartbeat")
                continue
            held = set(reply["chunks"])  # the server has the final word (§2.6.2)
            for c, holders in enumerate(self.replicas):
                if s in holders and c not in held:
                    holders.remove(s)
        self._repair()

    def _read_epoch(self) -> None:
        t0 = self.runtime.now()
        self.reads = {"ok": 0, "failed_over": 0, "corrupt": 0, "unreachable": 0, "bytes": 0}
        times = torch.zeros(len(self.x), dtype=torch.int64)
        xs, ys = torch.empty_like(self.x), torch.empty_like(self.y)
        for chunk in self.chunks:
            self._notice_deaths()
            self._repair()
            data = self._read(chunk.id)
            if data is None:
                raise RuntimeError(f"GFS: chunk {chunk.id} is lost: no live server holds a "
                                   "good copy")
            x, y = decode(data, self.x, self.y, chunk.count)
            end = chunk.first + chunk.count
            xs[chunk.first:end], ys[chunk.first:end] = x, y
            times[chunk.first:end] += 1
        self._notice_deaths()
        self._repair()
        self._emit("gfs_epoch", samples=int(times.sum()), expected=len(self.x),
                   exactly_once=bool((times == 1).all()),
                   equal=torch.equal(xs, self.x) and torch.equal(ys, self.y),
                   **self.reads, live=sorted(self.live),
                   under_replicated=sum(len(r) < self.opts.replicas for r in self.replicas),
                   epoch_s=round(self.runtime.now() - t0, 6))

    def _read(self, c: int) -> bytes | None:
        tried: list[int] = []
        while candidates := [s for s in self.replicas[c] if s in self.live and s not in tried]:
            s = candidates[0]
            tried.append(s)
            chunk = self.chunks[c]
            reply = self._exchange([(s, {"do": "read", "chunk": c, "samples": chunk.count})],
                                   [s], REPLY_S + self.opts.read_ms / 1e3)
            if reply is None:
                self.reads["unreachable"] += 1
                self._emit("gfs_read", chunk=c, server=s, status="unreachable",
                           attempt=len(tried), bytes=0)
                continue
            data = reply.get("data")
            if data is None or zlib.crc32(data) != self.crc[c]:  # never used, never kept
                self.reads["corrupt"] += 1
                self._emit("gfs_read", chunk=c, server=s, status="corrupt",
                           attempt=len(tried), bytes=0, blocks=reply.get("blocks", []))
                self._drop_replica(c, s)
                continue
            self.reads["ok"] += 1
            self.reads["failed_over"] += len(tried) > 1
            self.reads["bytes"] += len(data)
            self._emit("gfs_read", chunk=c, server=s, status="ok", attempt=len(tried),
                       bytes=len(data), first=chunk.first, samples=chunk.count,
                       failed_over=len(tried) > 1)
            return data
        return None

    # ---- failures and repair

    def _drop_replica(self, c: int, s: int) -> None:
        if s in self.replicas[c]:
            self.replicas[c].remove(s)
            self.copies.discard((c, s))
            self._tell(s, {"do": "delete", "chunk": c})
            self._map("corrupt", server=s, chunk=c)

    def _notice_deaths(self) -> None:
        with self._lock:
            died, self.died = self.died, set()
        for s in sorted(died):
            self._dead(s, "worker_left")

    def _dead(self, s: int, why: str) -> None:
        if s not in self.live:
            return
        self.live.discard(s)
        self.dead.add(s)
        for holders in self.replicas:
            if s in holders:
                holders.remove(s)
        self._map("server_dead", server=s, why=why)

    def _repair(self) -> None:
        """Copy every chunk below ``replicas`` copies to new servers (§4.3)."""
        changed = False
        for c, holders in enumerate(self.replicas):
            tries = 2 * len(self.servers)
            while len(holders) < self.opts.replicas and tries > 0:
                tries -= 1
                targets = [s for s in self.live if s not in holders]
                sources = [s for s in holders if s in self.live]
                if not targets or not sources:
                    break
                load = {s: sum(s in h for h in self.replicas) for s in targets}
                to = min(targets, key=lambda s: (load[s], s))
                src = sources[0]
                reply = self._exchange(
                    [(to, {"do": "receive", "chunk": c, "from": src, "next": []}),
                     (src, {"do": "send", "chunk": c, "to": to})], [src, to])
                if reply is None:
                    continue
                if "corrupt" in reply:
                    self._emit("gfs_read", chunk=c, server=src, status="corrupt",
                               attempt=0, bytes=0, blocks=reply.get("blocks", []))
                    self._drop_replica(c, src)
                elif "lost" in reply:
                    for s in reply["lost"]:
                        self._dead(s, "unreachable")
                else:
                    holders.append(to)
                    self.copies.add((c, to))
                    changed = True
                    self._emit("gfs_rereplicate", chunk=c, src=src, dst=to,
                               bytes=reply["bytes"], copies=len(holders))
        if changed:
            self._map("rereplicated")

    def _map(self, reason: str, **fields: Any) -> None:
        r = self.opts.replicas
        self._emit("gfs_map", reason=reason, replicas=r, chunks=[list(h) for h in self.replicas],
                   live=sorted(self.live), dead=sorted(self.dead),
                   copies=sorted([c, s] for c, s in self.copies),
                   under=[c for c, h in enumerate(self.replicas) if len(h) < r], **fields)

    def _emit(self, type_: str, **fields: Any) -> None:
        self.ctx.emit(type_, rank=0, step=self.epoch, **fields)
