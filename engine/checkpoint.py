"""Checkpoints that survive a crash in the middle of writing one, and refuse tampering.

A checkpoint is the flat parameter vector after step k (plain SGD has no other state, and
the data order is a function of (seed, rank, step), so that is all a restart needs) and,
for a strategy whose optimizer keeps state (ZeRO's Adam: m, v and t), that state too —
each process its own shard of it, in a folder of its own (``part_folder``).

- Written atomically: to a temporary file, flushed and fsynced, then renamed into place;
  then the small ``latest.json`` manifest (file name, step, SHA-256) is replaced the same
  way. A kill at any moment leaves either the old or the new checkpoint, never half of one.
- Loaded safely: the SHA-256 must match the manifest, and ``torch.load(weights_only=True)``
  never unpickles arbitrary objects. A truncated or tampered file is refused with a clear
  error, and the previous good checkpoint (the last few are kept) is used instead.

References: the torchrun / TorchElastic model of recovery (restart every worker from the
last checkpoint); Dean et al., "Large scale distributed deep networks", NIPS 2012.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

KEEP = 3  # checkpoints kept on disk, newest first, so a bad one has good predecessors
MANIFEST = "latest.json"


class CheckpointError(Exception):
    """A checkpoint file that is missing, truncated, tampered with or of the wrong kind."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    step: int
    params: torch.Tensor
    path: Path
    optimizer: dict[str, Any] | None = None
    """The optimizer's state, when the strategy saves it (``StrategySpec.optimizer_state``):
    tensors and counts by name, as the strategy gave them."""


def save(directory: Path, step: int, params: torch.Tensor,
         optimizer: dict[str, Any] | None = None) -> tuple[Path, int]:
    """Write the checkpoint of ``step`` atomically; returns its path and size in bytes.
    ``optimizer``: the optimizer's state to keep beside the parameters (tensors, lists
    of tensors and ints by name; ``torch.load(weights_only=True)`` reads nothing else)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"step-{step:06d}.pt"
    _atomic_write(path, _serialize(params.detach().cpu().clone(), step, optimizer))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    history = [e for e in _read_manifest(directory) if e["file"] != path.name]
    entries = [{"file": path.name, "step": step, "sha256": digest}, *history][:KEEP]
    _atomic_write(directory / MANIFEST, json.dumps(entries, indent=1).encode())
    for old in history[KEEP - 1:]:
        (directory / old["file"]).unlink(missing_ok=True)
    return path, path.stat().st_size


def load_latest(directory: Path, max_step: int | None = None
                ) -> tuple[Checkpoint | None, list[str]]:
    """The newest checkpoint that verifies (of step ≤ ``max_step``, if given), and why any
    newer ones were refused."""
    refused = []
    for entry in _read_manifest(directory):
        if max_step is not None and entry["step"] > max_step:
            continue
        try:
            return load(directory / entry["file"], entry["sha256"], entry["step"]), refused
        except CheckpointError as exc:
            refused.append(str(exc))
    return None, refused


def part_folder(rank: int) -> str:
    """Where process ``rank`` of a split model (a pipeline stage, a tensor-parallel slice)
    keeps the checkpoints of its own part."""
    return f"rank-{rank}"


def load_latest_parts(directory: Path, ranks: int
                      ) -> tuple[int, dict[str, dict[str, str]], list[str]]:
    """The newest step whose checkpoint every one of ``ranks`` parts saved and that
    verifies for all of them: ``(step, {rank: {file, sha256}}, refused)``; step 0 and no
    files when there is none. A step only some processes saved (one died meanwhile) or
    whose file of one part does not verify is refused, with why."""
    manifests = [{e["step"]: e for e in _read_manifest(directory / part_folder(r))}
                 for r in range(ranks)]
    steps = sorted(set.intersection(*(set(m) for m in manifests)), reverse=True)
    newest = max((max(m, default=0) for m in manifests), default=0)
    refused = ([f"step {newest}: not saved by every process"]
               if newest and newest not in steps else [])
    for step in steps:
        files = {}
        try:
            for r, manifest in enumerate(manifests):
                name = f"{part_folder(r)}/{manifest[step]['file']}"
                load(directory / name, manifest[step]["sha256"], step)
                files[str(r)] = {"file": name, "sha256": manifest[step]["sha256"]}
        except CheckpointError as exc:
            refused.append(str(exc))
            continue
        return step, files, refused
    return 0, {}, refused


def load(path: Path, sha256: str, step: int) -> Checkpoint:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise CheckpointError(f"{path.name}: checksum mismatch (truncated or tampered with)")
    try:
        data = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # weights_only refuses anything but tensors and plain data
        raise CheckpointError(f"{path.name}: not a DistLab checkpoint ({exc})") from exc
    if (not isinstance(data, dict) or data.get("step") != step
            or not isinstance(data.get("params"), torch.Tensor)):
        raise CheckpointError(f"{path.name}: unexpected contents")
    optimizer = data.get("optimizer")
    if optimizer is not None and not (isinstance(optimizer, dict)
                                      and all(isinstance(k, str) for k in optimizer)):
        raise CheckpointError(f"{path.name}: unexpected optimizer state")
    return Checkpoint(step=step, params=data["params"], path=path, optimizer=optimizer)


def _serialize(params: torch.Tensor, step: int, optimizer: dict[str, Any] | None) -> bytes:
    import io

    buffer = io.BytesIO()
    data: dict[str, Any] = {"step": step, "params": params}
    if optimizer is not None:
        data["optimizer"] = optimizer
    torch.save(data, buffer)
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new one
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def _read_manifest(directory: Path) -> list[dict]:
    try:
        entries = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict)
            and {"file", "step", "sha256"} <= set(e)
            and "/" not in str(e["file"])] if isinstance(entries, list) else []
