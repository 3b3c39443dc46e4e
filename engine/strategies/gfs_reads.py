"""Reading the data set back through GFS, once an epoch (Ghemawat, Gobioff & Leung, SOSP
2003, §2.4, §5.2), by one of two clients (option ``reader``):

- ``master``: the master reads every chunk itself, from the first live replica (the
  primary), and gets the bytes;
- ``chunkservers``: each chunkserver reads its share (chunk c by the c-th live server,
  round robin, as data-parallel workers read their shards), from its own disk when it
  holds a replica — data locality, what MapReduce's scheduler counts on (Dean & Ghemawat
  §3.4) — else from the first live replica, which sends it the bytes directly. The
  master (which knows the locations) tells both ends; the data never passes through it.
  The reader decodes the chunk and compares it with the data set it has itself.

Either way a read that finds its replica dead, or its checksums wrong, fails over to the
next replica, and a bad replica is dropped from the map (its server told to delete it);
the bytes that arrive are checked again against the crc32 written with the chunk (end to
end). A chunk whose reader dies is read again by another. Each chunk is counted once,
when it is read good: at the end of an epoch every sample must have been read exactly
once (``gfs_epoch``).
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import torch

from engine.strategies.gfs_chunks import decode

if TYPE_CHECKING:
    from engine.strategies.gfs_master import GfsMaster

MASTER = 0


def read_epoch(m: GfsMaster) -> None:
    t0 = m.runtime.now()
    m.reads = {"ok": 0, "failed_over": 0, "corrupt": 0, "unreachable": 0, "bytes": 0,
               "local": 0, "remote": 0}
    times = torch.zeros(len(m.x), dtype=torch.int64)
    xs, ys = torch.empty_like(m.x), torch.empty_like(m.y)
    equal = True
    for chunk in m.chunks:
        m._notice_deaths()
        m._repair()
        got = _read(m, chunk.id)
        if got is None:
            raise RuntimeError(f"GFS: chunk {chunk.id} is lost: no live server holds a "
                               "good copy")
        end = chunk.first + chunk.count
        if isinstance(got, bytes):  # the master read it: compare it here
            xs[chunk.first:end], ys[chunk.first:end] = decode(got, m.x, m.y, chunk.count)
        else:  # a chunkserver read it and compared it with its own data set
            xs[chunk.first:end], ys[chunk.first:end] = m.x[chunk.first:end], m.y[chunk.first:end]
            equal = equal and got
        times[chunk.first:end] += 1
    m._notice_deaths()
    m._repair()
    m._emit("gfs_epoch", samples=int(times.sum()), expected=len(m.x),
            exactly_once=bool((times == 1).all()),
            equal=equal and torch.equal(xs, m.x) and torch.equal(ys, m.y),
            **m.reads, reader=m.opts.reader, live=sorted(m.live),
            under_replicated=sum(len(r) < m.opts.replicas for r in m.replicas),
            epoch_s=round(m.runtime.now() - t0, 6))


def _reader_of(m: GfsMaster, c: int) -> int:
    if m.opts.reader == "master":
        return MASTER
    live = sorted(m.live)
    return live[c % len(live)] if live else MASTER


def _read(m: GfsMaster, c: int) -> bytes | bool | None:
    """Chunk c, read good once: its bytes (the master read it), or whether the chunkserver
    that read it found it equal to the data set; None when no replica is left."""
    chunk = m.chunks[c]
    tried: list[int] = []
    for _ in range(4 * len(m.servers) + 4):
        candidates = [s for s in m.replicas[c] if s in m.live and s not in tried]
        if not candidates:
            return None
        reader = _reader_of(m, c)
        src = reader if reader in candidates else candidates[0]  # its own disk first
        fields = {"chunk": c, "samples": chunk.count, "first": chunk.first}
        wait = 5.0 + m.opts.read_ms / 1e3
        if reader == MASTER:
            reply = m._exchange([(src, {"do": "read", **fields})], [src], wait)
        elif src == reader:
            reply = m._exchange([(src, {"do": "read_local", **fields})], [src], wait)
        else:
            reply = m._exchange([(reader, {"do": "fetch", "from": src, **fields}),
                                 (src, {"do": "send", "to": reader, "op": "read", **fields})],
                                [reader, src], wait)
        if reader != MASTER and reader not in m.live:
            continue  # the reader died: another one reads the chunk, nothing was counted
        tried.append(src)
        event = {"chunk": c, "server": src, "reader": reader, "local": src == reader,
                 "attempt": len(tried)}
        if reply is not None and "lost" in reply:
            for s in reply["lost"]:
                m._dead(s, "unreachable")
            reply = None
        if reply is None:
            m.reads["unreachable"] += 1
            m._emit("gfs_read", status="unreachable", bytes=0, **event)
            continue
        data = reply.get("data")
        good = "crc" in reply if reader != MASTER else data is not None
        crc = reply["crc"] if "crc" in reply else zlib.crc32(data) if data is not None else None
        if not good or crc != m.crc[c]:  # never used, never kept
            m.reads["corrupt"] += 1
            m._emit("gfs_read", status="corrupt", bytes=0, blocks=reply.get("blocks", []),
                    **event)
            m._drop_replica(c, src)
            continue
        size = reply.get("bytes", len(data) if data is not None else 0)
        m.reads["ok"] += 1
        m.reads["failed_over"] += len(tried) > 1
        m.reads["bytes"] += size
        m.reads["local" if src == reader else "remote"] += 1
        m._emit("gfs_read", status="ok", bytes=size, first=chunk.first, samples=chunk.count,
                failed_over=len(tried) > 1, **event)
        return data if reader == MASTER else bool(reply.get("equal"))
    return None
