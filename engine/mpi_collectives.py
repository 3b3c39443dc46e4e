"""The nine MPI collectives, written out over point-to-point messages (the playground).

Every rank holds a vector of E elements, cut into n equal *blocks* (block j is elements
j·E/n … (j+1)·E/n − 1). What each collective leaves where, for n ranks:

==============  ============================================================  ==========
broadcast       the root's vector on every rank                               root→all
scatter         block j of the root's vector on rank j                        root→all
gather          rank j's block j, all of them on the root (the whole vector)  all→root
reduce          the sum of all vectors on the root                            all→root
all_gather      rank j's block j, all of them on every rank                   all→all
reduce_scatter  block j of the sum on rank j                                  all→all
all_reduce      the sum of all vectors on every rank                          all→all
all_to_all      block j of rank i's vector goes to rank j (at place i)        all→all
barrier         nothing moves but tokens: no rank leaves before all arrived   all→all
==============  ============================================================  ==========

Each function runs on one rank and returns what its buffer holds afterwards. Every
message goes through ``Comms.exchange`` with a ``round`` (the same numbering on every
rank), so its bytes are counted and the page can draw the algorithm round by round.
The all-reduces are those of engine/collectives.py (the data-parallel strategy's);
"rs_ag" calls its reduce-scatter and then its all-gather, to show that the two halves
are the whole ring all-reduce. Their α–β costs are in engine/costmodel.py.

References: R. Thakur, R. Rabenseifner & W. Gropp, "Optimization of collective
communication operations in MPICH", IJHPCA 2005 (binomial trees, linear scatter and
gather, the ring all-gather, pairwise all-to-all, the dissemination barrier, α–β costs);
P. Patarasuk & X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
workstations", JPDC 2009 (the ring); D. Hensgen, R. Finkel & U. Manber, "Two algorithms
for barrier synchronization", IJPP 1988 (dissemination).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from engine.collectives import ALL_REDUCE, all_gather_shards_ring, reduce_scatter_ring
from engine.comms import Comms

# Every collective with its algorithms; the first is the one "auto" picks.
ALGORITHMS: dict[str, tuple[str, ...]] = {
    "broadcast": ("binomial", "linear"),
    "scatter": ("linear",),
    "gather": ("linear",),
    "reduce": ("binomial", "linear"),
    "all_gather": ("ring",),
    "reduce_scatter": ("ring",),
    "all_reduce": ("ring", "rs_ag", "tree", "naive"),
    "all_to_all": ("pairwise",),
    "barrier": ("dissemination",),
}
COLLECTIVES = tuple(ALGORITHMS)
ROOTED = ("broadcast", "scatter", "gather", "reduce")
# Its input is the rank's own block (E/n elements), not a whole vector.
BLOCK_INPUT = ("gather", "all_gather")
# Its result is a block (E/n elements), not a whole vector.
BLOCK_OUTPUT = ("scatter", "reduce_scatter")
# Cut into n blocks: E must be a multiple of n.
NEEDS_BLOCKS = ("scatter", "gather", "all_gather", "reduce_scatter", "all_to_all")


def needs_blocks(collective: str, algorithm: str) -> bool:
    return collective in NEEDS_BLOCKS or (collective == "all_reduce"
                                          and algorithm in ("ring", "rs_ag"))


def _ranks(comms: Comms, root: int) -> tuple[int, int, int]:
    """(n, this rank, this rank *relative to the root*): the trees are drawn from rank 0
    and turned so that the root sits at 0."""
    n, rank = comms.topo.world_size, comms.topo.rank
    return n, rank, (rank - root) % n


# ---------------------------------------------------------------- rooted, one to all

def broadcast_binomial(comms: Comms, buf: torch.Tensor, root: int) -> torch.Tensor:
    """Binomial tree: the number of ranks that hold the vector doubles every round.
    In round k, each relative rank v < 2^k that has it sends it to v + 2^k:
    ⌈log2 n⌉ rounds instead of n−1, but every message carries the whole vector."""
    n, _, v = _ranks(comms, root)
    out = buf.clone()
    for k in range((n - 1).bit_length()):
        mask = 1 << k
        if v < mask and v + mask < n:
            comms.exchange(send=out, dst=(v + mask + root) % n, op="broadcast", round_no=k)
        elif mask <= v < 2 * mask:
            comms.exchange(recv=out, src=(v - mask + root) % n, op="broadcast", round_no=k)
    return out


def broadcast_linear(comms: Comms, buf: torch.Tensor, root: int) -> torch.Tensor:
    """The root sends the vector to every other rank, one after the other (its single
    port is the bottleneck: n−1 rounds of N bytes)."""
    n, _, v = _ranks(comms, root)
    out = buf.clone()
    if v == 0:
        for k in range(1, n):
            comms.exchange(send=out, dst=(root + k) % n, op="broadcast", round_no=k - 1)
    else:
        comms.exchange(recv=out, src=root, op="broadcast", round_no=v - 1)
    return out


def scatter_linear(comms: Comms, buf: torch.Tensor, root: int) -> torch.Tensor:
    """The root sends block j to rank j (it keeps its own): n−1 messages of N/n."""
    n, rank, v = _ranks(comms, root)
    blocks = buf.tensor_split(n)
    if v == 0:
        for k in range(1, n):
            dst = (root + k) % n
            comms.exchange(send=blocks[dst], dst=dst, op="scatter", chunk=dst, round_no=k - 1)
        return blocks[rank].clone()
    out = torch.empty_like(blocks[rank])
    comms.exchange(recv=out, src=root, op="scatter", chunk=rank, round_no=v - 1)
    return out


# ---------------------------------------------------------------- rooted, all to one

def gather_linear(comms: Comms, block: torch.Tensor, root: int) -> torch.Tensor:
    """Every rank sends its block to the root, which puts block j at place j."""
    n, rank, v = _ranks(comms, root)
    if v != 0:
        comms.exchange(send=block, dst=root, op="gather", chunk=rank, round_no=v - 1)
        return block.clone()
    out = torch.empty(block.numel() * n, dtype=block.dtype)
    places = out.tensor_split(n)
    places[rank].copy_(block)
    for k in range(1, n):
        src = (root + k) % n
        comms.exchange(recv=places[src], src=src, op="gather", chunk=src, round_no=k - 1)
    return out


def reduce_binomial(comms: Comms, buf: torch.Tensor, root: int) -> torch.Tensor:
    """The broadcast's tree run backwards: in round k, a relative rank with bit k set
    hands its partial sum to v − 2^k and is done; the others add what v + 2^k sends.
    A non-root rank ends with the partial sum it handed on (MPI leaves it undefined)."""
    n, _, v = _ranks(comms, root)
    out, incoming = buf.clone(), torch.empty_like(buf)
    for k in range((n - 1).bit_length()):
        mask = 1 << k
        if v & mask:
            comms.exchange(send=out, dst=(v - mask + root) % n, op="reduce", round_no=k)
            break
        if v + mask < n:
            comms.exchange(recv=incoming, src=(v + mask + root) % n, op="reduce", round_no=k)
            out += incoming
    return out


def reduce_linear(comms: Comms, buf: torch.Tensor, root: int) -> torch.Tensor:
    """Every rank sends its vector to the root, which adds them up one by one."""
    n, _, v = _ranks(comms, root)
    out = buf.clone()
    if v != 0:
        comms.exchange(send=out, dst=root, op="reduce", round_no=v - 1)
        return out
    incoming = torch.empty_like(buf)
    for k in range(1, n):
        comms.exchange(recv=incoming, src=(root + k) % n, op="reduce", round_no=k - 1)
        out += incoming
    return out


# ---------------------------------------------------------------- all to all

def all_gather_blocks(comms: Comms, block: torch.Tensor, _root: int) -> torch.Tensor:
    """Rank j puts its block at place j; in n−1 rounds each rank passes the newest
    block it has to its right neighbour (engine/collectives.py)."""
    n, rank = comms.topo.world_size, comms.topo.rank
    out = torch.zeros(block.numel() * n, dtype=block.dtype)
    out.tensor_split(n)[rank].copy_(block)
    all_gather_shards_ring(comms, out)
    return out


def reduce_scatter_blocks(comms: Comms, buf: torch.Tensor, _root: int) -> torch.Tensor:
    """n−1 rounds round the ring, each rank adding the block that arrives from its left
    before passing it on: rank j ends with the complete sum of block j."""
    return reduce_scatter_ring(comms, buf.clone()).clone()


def all_reduce_by(algorithm: str) -> Callable[[Comms, torch.Tensor, int], torch.Tensor]:
    def run(comms: Comms, buf: torch.Tensor, _root: int) -> torch.Tensor:
        out = buf.clone()
        ALL_REDUCE[algorithm](comms, out)
        return out
    return run


def all_reduce_rs_ag(comms: Comms, buf: torch.Tensor, _root: int,
                     middle: list[torch.Tensor] | None = None) -> torch.Tensor:
    """All-reduce = reduce-scatter + all-gather: after the first n−1 rounds rank j holds
    the sum of block j (kept in ``middle`` for the page); the next n−1 rounds pass the
    finished blocks round the ring. The same messages as the ring all-reduce."""
    n = comms.topo.world_size
    out = buf.clone()
    mine = reduce_scatter_ring(comms, out)
    if middle is not None:
        middle.append(mine.clone())
    all_gather_shards_ring(comms, out, first_round=n - 1)
    return out


def all_to_all_pairwise(comms: Comms, buf: torch.Tensor, _root: int) -> torch.Tensor:
    """In round k (1 … n−1) rank i sends its block for rank i+k straight there and
    receives rank i−k's block for it: every pair talks exactly once, n−1 rounds."""
    n, rank = comms.topo.world_size, comms.topo.rank
    blocks, out = buf.tensor_split(n), torch.empty_like(buf)
    places = out.tensor_split(n)
    places[rank].copy_(blocks[rank])
    for k in range(1, n):
        dst, src = (rank + k) % n, (rank - k) % n
        comms.exchange(send=blocks[dst], dst=dst, recv=places[src], src=src,
                       op="all_to_all", chunk=dst, round_no=k - 1)
    return out


def barrier_dissemination(comms: Comms, buf: torch.Tensor, _root: int) -> torch.Tensor:
    """In round k each rank sends a one-byte token to rank + 2^k and waits for the one
    from rank − 2^k: after ⌈log2 n⌉ rounds every rank has heard, directly or through
    others, from every rank — so all have arrived. The data is not touched."""
    n, rank = comms.topo.world_size, comms.topo.rank
    token, heard = torch.ones(1, dtype=torch.uint8), torch.zeros(1, dtype=torch.uint8)
    for k in range((n - 1).bit_length()):
        comms.exchange(send=token, dst=(rank + (1 << k)) % n, recv=heard,
                       src=(rank - (1 << k)) % n, op="barrier", round_no=k)
    return buf.clone()


RUN: dict[tuple[str, str], Callable[[Comms, torch.Tensor, int], torch.Tensor]] = {
    ("broadcast", "binomial"): broadcast_binomial,
    ("broadcast", "linear"): broadcast_linear,
    ("scatter", "linear"): scatter_linear,
    ("gather", "linear"): gather_linear,
    ("reduce", "binomial"): reduce_binomial,
    ("reduce", "linear"): reduce_linear,
    ("all_gather", "ring"): all_gather_blocks,
    ("reduce_scatter", "ring"): reduce_scatter_blocks,
    ("all_reduce", "ring"): all_reduce_by("ring"),
    ("all_reduce", "tree"): all_reduce_by("tree"),
    ("all_reduce", "naive"): all_reduce_by("naive"),
    ("all_reduce", "rs_ag"): all_reduce_rs_ag,
    ("all_to_all", "pairwise"): all_to_all_pairwise,
    ("barrier", "dissemination"): barrier_dissemination,
}


# ---------------------------------------------------------------- the one-process answer

def inputs(step: int, n: int, elements: int) -> torch.Tensor:
    """Every rank's vector, as rows: rank r, element i, step s → 1000·(s−1) + 100·r + i,
    so a value says where it came from (3107: step 4, rank 1, element 7)."""
    r = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    i = torch.arange(elements, dtype=torch.float32).unsqueeze(0)
    return 1000.0 * (step - 1) + 100.0 * r + i


def local_input(vectors: torch.Tensor, collective: str, rank: int) -> torch.Tensor:
    """What rank ``rank`` starts with: its vector, or its own block of it."""
    mine = vectors[rank]
    if collective in BLOCK_INPUT:
        return mine.tensor_split(vectors.shape[0])[rank].clone()
    return mine.clone()


def expected(vectors: torch.Tensor, collective: str, rank: int, root: int
             ) -> torch.Tensor | None:
    """What rank ``rank`` must hold afterwards, computed in one process; None where MPI
    leaves it undefined (a non-root rank of reduce and gather keeps what it had)."""
    n = vectors.shape[0]
    blocks = [v.tensor_split(n) for v in vectors]  # blocks[i][j]: rank i's block j
    total = vectors.sum(dim=0)
    if collective == "broadcast":
        return vectors[root].clone()
    if collective == "scatter":
        return blocks[root][rank].clone()
    if collective in ("gather", "reduce") and rank != root:
        return None
    if collective in ("gather", "all_gather"):
        return torch.cat([blocks[i][i] for i in range(n)])
    if collective in ("reduce", "all_reduce"):
        return total
    if collective == "reduce_scatter":
        return total.tensor_split(n)[rank].clone()
    if collective == "all_to_all":
        return torch.cat([blocks[i][rank] for i in range(n)])
    return vectors[rank].clone()  # barrier: the data is not touched
