"""What a GFS chunk is here (Ghemawat, Gobioff & Leung, "The Google File System", SOSP
2003, §2.5 and §5.2): a fixed-size piece of the data set, its bytes, its checksums, and
where its replicas go.

- A chunk holds ``chunk_samples`` consecutive samples of the run's data set (the last one
  fewer): their inputs' raw bytes, then their labels' — no pickle, so a flipped byte is
  a wrong number, never code, and the checksum is what catches it.
- Checksums (§5.2): GFS keeps a 32-bit checksum per 64 KB block of a 64 MB chunk, in the
  chunkserver's memory, and verifies the blocks a read touches before returning any data.
  Our chunks are about a kilobyte, so our blocks are ``BLOCK_BYTES`` (the same ratio of
  blocks per chunk would leave one block per chunk and nothing to point at).
- Placement (§4.2): GFS spreads a chunk's replicas over racks. Our servers share one
  machine, so "round robin" spreads them evenly (chunk c on servers c, c+1, …, the first
  its primary), and "random" draws r distinct servers per chunk from the run's seed.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import torch

BLOCK_BYTES = 256


@dataclass(frozen=True, slots=True)
class Chunk:
    id: int
    first: int  # index of its first sample in the data set
    count: int  # samples in it


def chunks_of(num_samples: int, chunk_samples: int) -> list[Chunk]:
    return [Chunk(c, first, min(chunk_samples, num_samples - first))
            for c, first in enumerate(range(0, num_samples, chunk_samples))]


def encode(x: torch.Tensor, y: torch.Tensor, chunk: Chunk) -> bytes:
    """The chunk's bytes: its samples' inputs, then their labels, as stored on disk."""
    end = chunk.first + chunk.count
    return (x[chunk.first:end].contiguous().numpy().tobytes()
            + y[chunk.first:end].contiguous().numpy().tobytes())


def decode(data: bytes, like_x: torch.Tensor, like_y: torch.Tensor,
           count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of ``encode``: tensors shaped and typed like the data set's."""
    x_bytes = count * like_x[0].numel() * like_x.element_size()
    buf = bytearray(data)
    x = torch.frombuffer(buf[:x_bytes], dtype=like_x.dtype) if x_bytes else like_x[:0]
    y = torch.frombuffer(buf[x_bytes:], dtype=like_y.dtype)
    return x.reshape(count, *like_x.shape[1:]), y.reshape(count, *like_y.shape[1:])


def block_sums(data: bytes) -> list[int]:
    """A crc32 per ``BLOCK_BYTES`` block, as a chunkserver keeps them (§5.2)."""
    return [zlib.crc32(data[i:i + BLOCK_BYTES]) for i in range(0, max(len(data), 1),
                                                                 BLOCK_BYTES)]


def bad_blocks(data: bytes, sums: list[int]) -> list[int]:
    """The blocks whose checksum no longer matches (a file cut short: every block)."""
    now = block_sums(data)
    if len(now) != len(sums):
        return list(range(len(sums)))
    return [i for i, (a, b) in enumerate(zip(now, sums, strict=True)) if a != b]


def placement(chunks: int, servers: list[int], replicas: int, how: str,
              seed: int) -> list[list[int]]:
    """The servers of each chunk's replicas, its primary first."""
    if how == "round_robin":
        return [[servers[(c + k) % len(servers)] for k in range(replicas)]
                for c in range(chunks)]
    draw = random.Random(f"gfs/{seed}")
    return [draw.sample(servers, replicas) for _ in range(chunks)]
