"""The parameter server's update log: every applied update, written before it is applied.

A server checkpoints its shard every K versions; in between, each update it applies is
first appended to this log (write-ahead logging). After a crash the shard is rebuilt
exactly: load the last checkpoint, then replay the log's updates after it, in version
order. Each record holds the delta that was subtracted (``lr × mean gradient``, float32),
so the replay performs the very same subtraction and the rebuilt shard is bitwise the
shard the server had. Records also carry which worker's gradient went into the update and
at which iteration, so the workers' clocks come back too.

A record is ``[length:u32][crc32:u32][header JSON][delta bytes]``. A crash in the middle of
an append leaves a torn last record: its length or CRC does not match, and it is ignored
(it was never applied — the server applies an update only after it is logged). Appends are
flushed to the operating system, which is what survives a killed process; surviving a
power cut would need an fsync per update too, which real systems batch.

References: Li et al., "Scaling distributed machine learning with the parameter server",
OSDI 2014 (server state recovery); Mohan et al., "CheckFreq", FAST 2021.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

_FRAME = struct.Struct("<II")  # length of (header + delta), CRC32 of the same


@dataclass(frozen=True, slots=True)
class Update:
    version: int
    applied: list[dict[str, Any]]  # [{worker, step}, ...]
    delta: torch.Tensor  # what was subtracted from the shard


class UpdateLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "ab")  # noqa: SIM115  (kept open for the server's lifetime)

    def append(self, version: int, applied: list[dict[str, Any]], delta: torch.Tensor) -> None:
        header = json.dumps({"version": version, "applied": applied,
                             "numel": delta.numel()}).encode()
        body = struct.pack("<I", len(header)) + header + delta.numpy().tobytes()
        self._file.write(_FRAME.pack(len(body), zlib.crc32(body)) + body)
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    @staticmethod
    def rewrite(path: Path, updates: list[Update]) -> None:
        """Keep exactly ``updates`` (after a rebuild): drops a torn tail, and records beyond
        the version the server went back to, which new appends would otherwise follow."""
        tmp = path.with_name(path.name + ".tmp")
        log = UpdateLog(tmp)
        for update in updates:
            log.append(update.version, update.applied, update.delta)
        log.close()
        tmp.replace(path)


def read(path: Path) -> tuple[list[Update], bool]:
    """Every intact record, in order, and whether a torn tail was ignored."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], False
    updates, at = [], 0
    while at + _FRAME.size <= len(raw):
        length, crc = _FRAME.unpack_from(raw, at)
        body = raw[at + _FRAME.size: at + _FRAME.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            return updates, True
        (header_len,) = struct.unpack_from("<I", body)
        header = json.loads(body[4: 4 + header_len])
        delta = torch.frombuffer(bytearray(body[4 + header_len:]), dtype=torch.float32)
        updates.append(Update(header["version"], header["applied"], delta))
        at += _FRAME.size + length
    return updates, at != len(raw)


def last_version(path: Path) -> int:
    """The newest version an intact record of this log holds (0 if none)."""
    updates, _ = read(path)
    return updates[-1].version if updates else 0


def replay(params: torch.Tensor, from_version: int, updates: list[Update],
           until: int | None = None) -> tuple[torch.Tensor, int, int]:
    """Apply the logged updates after ``from_version`` (and up to ``until``) to ``params``
    (a checkpoint's shard).

    Returns the rebuilt shard, its version and how many updates were replayed. The versions
    must follow each other without a gap: a log that skips one cannot rebuild the state.
    """
    version, replayed = from_version, 0
    for update in updates:
        if update.version <= from_version:
            continue  # already in the checkpoint
        if until is not None and update.version > until:
            break
        if update.version != version + 1:
            raise ValueError(f"update log jumps from version {version} to {update.version}")
        params -= update.delta
        version, replayed = update.version, replayed + 1
    return params, version, replayed
