"""The GFS master (Ghemawat, Gobioff & Leung, SOSP 2003), and the one client: it keeps
the namespace (the data set's chunks) and the chunk → replicas map; data never flows
through it, except that here it is also the client that writes the data set once and
reads it back every epoch (a real client would ask it for locations only, §2.4).

- Write (§3.2): the chunk's bytes go to its primary, which stores them and pushes them
  along the chain of the other replicas; the chain's last server acknowledges.
- Read: every epoch, each chunk once, by the master or by the chunkservers
  (engine/strategies/gfs_reads.py).
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

from engine.strategies.base import WorkerContext
from engine.strategies.gfs_chunks import chunks_of, encode
from engine.strategies.gfs_membership import Membership
from engine.strategies.gfs_reads import read_epoch
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
        self.reads: dict[str, int] = {}  # this epoch's read attempts, by outcome
        # who the placement uses; a spare joins and a member leaves (gfs_membership.py)
        self.members = Membership(self)

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
                self.members.at_epoch()
                read_epoch(self)
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
        places = self.members.initial()
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
        self.members.written()

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
                targets = [s for s in self.live if s not in holders and self.members.takes(s)]
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
