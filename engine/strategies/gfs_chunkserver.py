"""A GFS chunkserver (Ghemawat, Gobioff & Leung, SOSP 2003): stores chunks as files on
its own disk, with a checksum per block in memory, and does what the master says.

- ``write`` (from the client, here the master) and ``receive`` (from the previous server
  of the chain): store the chunk, then push it on to the next server of the chain — the
  paper's data flow (§3.2), "pushed linearly along a chain of chunkservers" so that each
  machine's full outbound bandwidth is used; the chain's last server tells the master.
- ``read``: verify the checksums of the chunk's blocks, then return its bytes — or, on a
  mismatch, say so and return nothing (§5.2: "the chunkserver returns an error to the
  requestor … and will not propagate corruptions to other machines").
- ``send`` a copy to another server (re-replication, §4.3, or a read by another
  chunkserver) — verified first as well.
- As a client (option ``reader`` "chunkservers", engine/strategies/gfs_reads.py):
  ``read_local`` a chunk from its own disk, or ``fetch`` it from the server the master
  names; decode it and compare it with its own copy of the data set.
- ``heartbeat``: the chunks it holds (§2.6.2: the chunkserver has the final word on what
  it holds); ``delete`` a bad replica; ``end_epoch``: report this step.

A ``corrupt`` fault aimed at this process flips a byte in one of its chunk files on disk
(the chunk it is primary of, if any, so that the next read of it comes here): it stands
for a bad disk. Nothing here notices until a read verifies the checksums.
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path
from typing import Any

import torch

from engine.strategies.base import WorkerContext, step_phases
from engine.strategies.gfs_chunks import BLOCK_BYTES, bad_blocks, block_sums, decode
from engine.strategies.mr_protocol import COMMAND, MASTER, REPORT, Inbox, recv_obj, send_obj

DATA = 24  # chunk bytes between chunkservers (the chain, re-replication)
POLL_S = 0.002


class Chunkserver:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        self.ctx, self.runtime, self.comms = ctx, runtime, ctx.comms
        self.opts = ctx.config.opts
        self.me = ctx.topo.rank
        self.commands = Inbox(self.comms, COMMAND, src=MASTER,
                              last=lambda _src, cmd: cmd["do"] == "stop")
        self.dir: Path | None = None
        self.sums: dict[int, list[int]] = {}  # chunk → crc32 of each block (in memory)
        self.primary: set[int] = set()
        self.epoch = 0
        self._fresh()

    def _fresh(self) -> None:
        self.t_start = self.runtime.now()
        self.spent = {"wait": 0.0, "disk": 0.0, "comm": 0.0}
        self.served = 0  # samples returned to readers this epoch

    def run(self) -> None:
        while (cmd := self._next()) is not None:
            getattr(self, "_" + cmd["do"])(cmd)

    def _next(self) -> dict[str, Any] | None:
        start = time.perf_counter()
        while (got := self.commands.poll()) is None:
            self._faults()
            time.sleep(POLL_S)
        self.spent["wait"] += (time.perf_counter() - start) * 1e3
        cmd = got[1]
        if cmd["do"] == "stop":
            send_obj(self.comms, {"bye": True}, MASTER, tag=REPORT, op="report")
            return None
        return cmd

    def _faults(self) -> None:
        """Apply control messages as they come (a chunkserver has no step boundary)."""
        control = self.ctx.control
        if control.received_seq > control.applied_seq:
            control.apply_through(control.received_seq)
        if control.corrupt_next:
            control.corrupt_next = False
            self._corrupt()

    def _corrupt(self) -> None:
        held = sorted(self.sums)
        if not held or self.dir is None:
            return
        mine = sorted(self.primary & set(held))
        chunk = (mine or held)[0]
        path = self._path(chunk)
        data = bytearray(path.read_bytes())
        offset = len(data) // 2
        data[offset] ^= 0xFF  # a bad disk: one byte flipped, the checksums untouched
        path.write_bytes(bytes(data))
        self.ctx.emit("gfs_corrupted", rank=self.me, step=self.epoch, chunk=chunk,
                      server=self.me, offset=offset, block=offset // BLOCK_BYTES)

    # ---- disk

    def _path(self, chunk: int) -> Path:
        assert self.dir is not None
        return self.dir / f"chunk_{chunk:05d}.bin"

    def _store(self, chunk: int, data: bytes) -> None:
        start = time.perf_counter()
        self._path(chunk).write_bytes(data)
        self.sums[chunk] = block_sums(data)
        self.spent["disk"] += (time.perf_counter() - start) * 1e3

    def _load(self, chunk: int) -> tuple[bytes | None, list[int]]:
        """The chunk's bytes if every block's checksum matches, else (None, bad blocks)."""
        start = time.perf_counter()
        try:
            data = self._path(chunk).read_bytes() if chunk in self.sums else None
        except OSError:
            data = None
        self.spent["disk"] += (time.perf_counter() - start) * 1e3
        if data is None:
            return None, []
        bad = bad_blocks(data, self.sums[chunk])
        return (None, bad) if bad else (data, [])

    def _report(self, **fields: Any) -> None:
        send_obj(self.comms, fields, MASTER, tag=REPORT, op="report")

    # ---- the commands

    def _open(self, cmd: dict[str, Any]) -> None:
        self.dir = Path(cmd["root"]) / f"chunkserver{self.me}"
        self.dir.mkdir(parents=True, exist_ok=True)

    def _write(self, cmd: dict[str, Any]) -> None:
        if cmd.get("primary"):
            self.primary.add(cmd["chunk"])
        self._pass_on(cmd, cmd["data"])

    def _receive(self, cmd: dict[str, Any]) -> None:
        start = time.perf_counter()
        try:
            data = recv_obj(self.comms, cmd["from"], tag=DATA, traffic=True)
        except RuntimeError:  # the sender died: the master hears of it from us too
            return self._report(rid=cmd["rid"], lost=[cmd["from"]])
        finally:
            self.spent["comm"] += (time.perf_counter() - start) * 1e3
        if data is None:  # the sender's copy failed its checksums: it told the master
            return None
        return self._pass_on(cmd, data)

    def _pass_on(self, cmd: dict[str, Any], data: bytes) -> None:
        """Store the chunk, then push it to the next server of the chain (its last tells
        the master)."""
        self._store(cmd["chunk"], data)
        chain = cmd.get("next", [])
        if not chain:
            return self._report(rid=cmd["rid"], stored=cmd["chunk"], bytes=len(data),
                                crc=zlib.crc32(data))
        start = time.perf_counter()
        try:
            send_obj(self.comms, data, chain[0], tag=DATA, op="forward", traffic=True,
                     step=self.epoch)
        except RuntimeError:
            return self._report(rid=cmd["rid"], lost=[chain[0]])
        finally:
            self.spent["comm"] += (time.perf_counter() - start) * 1e3
        return None

    def _send(self, cmd: dict[str, Any]) -> None:
        """Send a verified copy of a chunk to another server: a new replica, or a read."""
        reading = cmd.get("op") == "read"
        if reading:
            self._disk_time()
        data, bad = self._load(cmd["chunk"])
        start = time.perf_counter()
        try:  # None tells the receiver that no copy comes (it would wait otherwise)
            send_obj(self.comms, data, cmd["to"], tag=DATA, op=cmd.get("op", "copy"),
                     traffic=data is not None, step=self.epoch)
        except RuntimeError:
            return self._report(rid=cmd["rid"], lost=[cmd["to"]])
        finally:
            self.spent["comm"] += (time.perf_counter() - start) * 1e3
        if data is None:
            self._report(rid=cmd["rid"], corrupt=cmd["chunk"], blocks=bad)
        elif reading:
            self.served += cmd["samples"]
        return None

    def _disk_time(self) -> None:
        time.sleep(self.opts.read_ms / 1e3)  # emulated disk time: ours is a page cache
        self.spent["disk"] += self.opts.read_ms
        self._faults()  # a corrupt fault aimed here lands before the read, not after

    # ---- as a client (option reader "chunkservers"): this server's share of the epoch

    def _read_local(self, cmd: dict[str, Any]) -> None:
        """Read a chunk from this server's own disk: no message carries its bytes."""
        self._disk_time()
        data, bad = self._load(cmd["chunk"])
        if data is None:
            return self._report(rid=cmd["rid"], corrupt=cmd["chunk"], blocks=bad)
        self.served += cmd["samples"]
        return self._checked(cmd, data)

    def _fetch(self, cmd: dict[str, Any]) -> None:
        """Read a chunk from the replica the master named: it sends the bytes here."""
        start = time.perf_counter()
        try:
            data = recv_obj(self.comms, cmd["from"], tag=DATA, traffic=True)
        except RuntimeError:
            return self._report(rid=cmd["rid"], lost=[cmd["from"]])
        finally:
            self.spent["comm"] += (time.perf_counter() - start) * 1e3
        if data is None:  # its checksums failed: it told the master
            return None
        return self._checked(cmd, data)

    def _checked(self, cmd: dict[str, Any], data: bytes) -> None:
        """Tell the master the chunk's crc32 (it checks it end to end) and whether the
        samples equal this process's own copy of the data set."""
        first, count = cmd["first"], cmd["samples"]
        x, y = decode(data, self.ctx.data.x, self.ctx.data.y, count)
        equal = (torch.equal(x, self.ctx.data.x[first:first + count])
                 and torch.equal(y, self.ctx.data.y[first:first + count]))
        self._report(rid=cmd["rid"], crc=zlib.crc32(data), equal=equal, bytes=len(data))

    def _read(self, cmd: dict[str, Any]) -> None:
        self._disk_time()
        data, bad = self._load(cmd["chunk"])
        start = time.perf_counter()
        if data is None:
            self._report(rid=cmd["rid"], corrupt=cmd["chunk"], blocks=bad)
        else:
            send_obj(self.comms, {"rid": cmd["rid"], "chunk": cmd["chunk"], "data": data},
                     MASTER, tag=REPORT, op="read", traffic=True, step=self.epoch)
            self.served += cmd["samples"]
        self.spent["comm"] += (time.perf_counter() - start) * 1e3

    def _delete(self, cmd: dict[str, Any]) -> None:
        self.sums.pop(cmd["chunk"], None)
        self.primary.discard(cmd["chunk"])
        self._path(cmd["chunk"]).unlink(missing_ok=True)

    def _scrub(self, cmd: dict[str, Any]) -> None:
        """Re-read every chunk held (engine/strategies/gfs_membership.py): its crc32, or
        None where a block's checksum fails."""
        crcs = []
        for chunk in sorted(self.sums):
            data, _bad = self._load(chunk)
            crcs.append([chunk, None if data is None else zlib.crc32(data)])
        self._report(rid=cmd["rid"], crcs=crcs)

    def _heartbeat(self, cmd: dict[str, Any]) -> None:
        self.epoch = cmd["epoch"]
        self._report(rid=cmd["rid"], chunks=sorted(self.sums))

    def _end_epoch(self, cmd: dict[str, Any]) -> None:
        stats = self.comms.take_stats()
        spent = self.spent
        self.runtime.emit(
            "step", rank=self.me, step=cmd["epoch"], loss=None, grad_norm=None,
            compute_ms=0.0, emulated_ms=round(spent["disk"], 4),
            comm_ms=round(spent["comm"], 4), wait_ms=round(spent["wait"], 4),
            comm_modelled_ms=None, bytes_sent=stats.bytes_sent, bytes_recv=stats.bytes_recv,
            param_checksum=None, param_hash="", lr=None, samples=self.served,
            t_start=round(self.t_start, 6), events_dropped=self.runtime.dropped(),
            chunks=len(self.sums),
            phases=step_phases(("wait", spent["wait"]), ("emulated", spent["disk"]),
                               ("comm", spent["comm"])))
        self._fresh()
