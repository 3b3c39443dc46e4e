"""Where a GFS chunk's replicas go (course chapter 7, 表7): the policies a master can use
to map chunk → servers, and what each costs when the set of servers changes.

Every policy returns, per chunk, ``replicas`` distinct servers, its primary first:

- ``round_robin``, ``random``: the store's first two (engine/strategies/gfs_chunks.py);
  ``round_robin`` is chunk c on servers c, c+1, … (an identity hash mod n).
- ``range``: the chunks cut into n contiguous ranges, range i on server i and the r - 1
  servers after it — how Bigtable tablets and HBase regions split a key space. Even, but
  a server joining or leaving shifts every boundary behind it.
- ``hash``: hash(chunk) mod n, then the next r - 1 servers. Spreads any key set about
  evenly, but when n changes almost every chunk's ``hash mod n`` changes too.
- ``consistent``: a hash ring (Karger et al., "Consistent Hashing and Random Trees",
  STOC 1997): each server owns ``vnodes`` points on the ring, a chunk goes to the owners
  of the first r distinct servers' points clockwise from its own hash (Dynamo's
  "preference list", DeCandia et al., SOSP 2007). A server joining takes over only the
  arcs in front of its points — about 1/(n+1) of the replicas; one leaving gives up only
  its own. More virtual nodes, a more even share.

The hash is blake2b of a label (stable across processes and runs, unlike Python's
``hash``), so a placement is a pure function of its inputs: the tests and the browser can
recompute what the master did.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from engine.strategies.gfs_chunks import placement as first_placements

POLICIES = ("round_robin", "random", "range", "hash", "consistent")


def stable_hash(label: str) -> int:
    """A 64-bit hash of a label, the same in every process."""
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "big")


def _next_servers(servers: Sequence[int], first: int, replicas: int) -> list[int]:
    return [servers[(first + k) % len(servers)] for k in range(replicas)]


def range_placement(chunks: int, servers: Sequence[int], replicas: int) -> list[list[int]]:
    n = len(servers)
    return [_next_servers(servers, c * n // chunks, replicas) for c in range(chunks)]


def hash_placement(chunks: int, servers: Sequence[int], replicas: int) -> list[list[int]]:
    n = len(servers)
    return [_next_servers(servers, stable_hash(f"chunk/{c}") % n, replicas)
            for c in range(chunks)]


@dataclass(frozen=True)
class Ring:
    """A consistent-hashing ring: sorted (point, server) pairs, ``vnodes`` per server."""

    points: tuple[int, ...]
    owners: tuple[int, ...]

    @classmethod
    def of(cls, servers: Sequence[int], vnodes: int) -> Ring:
        # a server's points depend on its name only: adding one leaves the others' in place
        pairs = sorted((stable_hash(f"server/{s}/vnode/{v}"), s)
                       for s in servers for v in range(vnodes))
        return cls(tuple(p for p, _ in pairs), tuple(s for _, s in pairs))

    def preference(self, key: int, replicas: int) -> list[int]:
        """The first ``replicas`` distinct servers clockwise from ``key``."""
        out: list[int] = []
        start = bisect.bisect_right(self.points, key)
        for k in range(len(self.points)):
            s = self.owners[(start + k) % len(self.points)]
            if s not in out:
                out.append(s)
                if len(out) == replicas:
                    break
        return out


def consistent_placement(chunks: int, servers: Sequence[int], replicas: int,
                         vnodes: int) -> list[list[int]]:
    ring = Ring.of(servers, vnodes)
    return [ring.preference(stable_hash(f"chunk/{c}"), replicas) for c in range(chunks)]


def place(policy: str, chunks: int, servers: Sequence[int], replicas: int, *,
          vnodes: int = 32, seed: int = 0) -> list[list[int]]:
    """The servers of each chunk's replicas, primary first (``servers`` in rank order)."""
    servers = sorted(servers)
    if replicas > len(servers):
        raise ValueError(f"replicas: {replicas} copies need {replicas} servers, "
                         f"there are {len(servers)}")
    if policy == "range":
        return range_placement(chunks, servers, replicas)
    if policy == "hash":
        return hash_placement(chunks, servers, replicas)
    if policy == "consistent":
        return consistent_placement(chunks, servers, replicas, vnodes)
    if policy in ("round_robin", "random"):
        return first_placements(chunks, servers, replicas, policy, seed)
    raise ValueError(f"placement: {policy!r} is not one of {', '.join(POLICIES)}")


# ---------------------------------------------------------------- what a change costs


def moves(old: Sequence[Sequence[int]], new: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """The (chunk, server) replicas the new placement has and the old has not: each one
    is a chunk's bytes copied to a server."""
    return [(c, s) for c, (was, now) in enumerate(zip(old, new, strict=True))
            for s in now if s not in was]


def chunks_touched(old: Sequence[Sequence[int]], new: Sequence[Sequence[int]]) -> int:
    """Chunks whose set of servers changed (the primary changing alone does not count:
    no bytes move for it)."""
    return sum(set(a) != set(b) for a, b in zip(old, new, strict=True))


def balance(place_: Sequence[Sequence[int]], servers: Sequence[int]) -> dict[str, object]:
    """Replicas held per server, and max / mean: 1.0 is perfectly even."""
    counts = {s: 0 for s in sorted(servers)}
    for holders in place_:
        for s in holders:
            counts[s] = counts.get(s, 0) + 1
    mean = sum(counts.values()) / max(len(counts), 1)
    top = max(counts.values(), default=0)
    return {"counts": [[s, n] for s, n in sorted(counts.items())], "max": top,
            "mean": round(mean, 6), "ratio": round(top / mean, 6) if mean else 0.0}
