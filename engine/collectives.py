"""All-reduce, written out by hand over point-to-point messages.

Each function sums ``flat`` in place over all ranks, exactly like
``torch.distributed.all_reduce(flat)``, but every message goes through
``Comms.exchange``, so its bytes are counted exactly and the UI can animate every chunk
along its link. What each algorithm costs per rank, for a tensor of N bytes on n ranks:

=====  ==================================================  ===========================
naive  the root sends and receives (n-1)·N                 everything funnels via one
tree   the root sends ⌈log2 n⌉·N, the others about 2·N      2·⌈log2 n⌉ rounds
ring   every rank sends and receives 2(n-1)/n·N            2(n-1) rounds, bandwidth-optimal
=====  ==================================================  ===========================

References: Patarasuk & Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
workstations", JPDC 2009 (ring); Thakur, Rabenseifner & Gropp, "Optimization of
collective communication operations in MPICH", IJHPCA 2005 (binomial trees, α–β costs).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from engine.comms import Comms


def all_reduce_naive(comms: Comms, flat: torch.Tensor) -> None:
    """Everyone sends to rank 0, which adds everything up and sends the sum back."""
    rank, n = comms.topo.rank, comms.topo.world_size
    if rank == 0:
        incoming = torch.empty_like(flat)
        for src in range(1, n):
            comms.exchange(recv=incoming, src=src, op="reduce", round_no=src - 1)
            flat += incoming
        for dst in range(1, n):
            comms.exchange(send=flat, dst=dst, op="broadcast", round_no=n - 2 + dst)
    else:
        # rank 0's single port takes one message per round: rank r's in round r-1
        comms.exchange(send=flat, dst=0, op="reduce", round_no=rank - 1)
        comms.exchange(recv=flat, src=0, op="broadcast", round_no=n - 2 + rank)


def all_reduce_tree(comms: Comms, flat: torch.Tensor) -> None:
    """Binomial tree: reduce up to rank 0 in ⌈log2 n⌉ rounds, then broadcast back down.

    In round k (mask = 2^k) a rank whose bit k is set hands its partial sum to
    ``rank - mask`` and drops out; the others absorb ``rank + mask``'s sum.
    """
    rank, n = comms.topo.rank, comms.topo.world_size
    depth = (n - 1).bit_length()  # ⌈log2 n⌉ rounds each way; round k uses mask 2^k
    incoming = torch.empty_like(flat)
    mask = 1
    while mask < n:
        k = mask.bit_length() - 1
        if rank & mask:
            comms.exchange(send=flat, dst=rank - mask, op="reduce", round_no=k)
            break
        if rank + mask < n:
            comms.exchange(recv=incoming, src=rank + mask, op="reduce", round_no=k)
            flat += incoming
        mask <<= 1
    # Broadcast down the same tree: receive from the parent, then serve the children.
    if rank == 0:
        lowest_bit = 1 << (n - 1).bit_length()
    else:
        lowest_bit = rank & -rank
        comms.exchange(recv=flat, src=rank - lowest_bit, op="broadcast",
                       round_no=2 * depth - lowest_bit.bit_length())
    mask = lowest_bit >> 1
    while mask >= 1:  # the widest hop first: round depth + (depth-1-k) for mask 2^k
        if rank + mask < n:
            comms.exchange(send=flat, dst=rank + mask, op="broadcast",
                           round_no=2 * depth - mask.bit_length())
        mask >>= 1


def all_reduce_ring(comms: Comms, flat: torch.Tensor) -> None:
    """Ring: reduce-scatter then all-gather, one chunk per rank, n-1 steps each.

    The tensor is cut into n chunks (sizes differ by at most one element when N is not
    divisible by n). In reduce-scatter step s, every rank sends one chunk to its right
    neighbour and adds the chunk arriving from its left; after n-1 steps rank r holds the
    complete sum of chunk (r+1) mod n. All-gather then passes the finished chunks around
    the ring so that everyone ends up with every sum.
    """
    ring_all_reduce_over(comms, flat, list(range(comms.topo.world_size)))


def ring_all_reduce_over(comms: Comms, flat: torch.Tensor, ring: list[int],
                         first_round: int = 0) -> None:
    """The ring all-reduce among the ranks of ``ring`` only, in that order (the caller is
    one of them): every rank of the group, or a hierarchical all-reduce's node leaders."""
    pos, n = ring.index(comms.topo.rank), len(ring)
    right, left = ring[(pos + 1) % n], ring[(pos - 1) % n]
    chunks = list(flat.tensor_split(n))  # views into flat: updating them updates flat
    for s in range(n - 1):
        send_idx, recv_idx = (pos - s) % n, (pos - s - 1) % n
        incoming = torch.empty_like(chunks[recv_idx])
        comms.exchange(send=chunks[send_idx], dst=right, recv=incoming, src=left,
                       op="reduce_scatter", chunk=send_idx, round_no=first_round + s)
        chunks[recv_idx] += incoming
    for s in range(n - 1):
        send_idx, recv_idx = (pos - s + 1) % n, (pos - s) % n
        comms.exchange(send=chunks[send_idx], dst=right, recv=chunks[recv_idx], src=left,
                       op="all_gather", chunk=send_idx, round_no=first_round + n - 1 + s)


def all_reduce_hierarchical(comms: Comms, flat: torch.Tensor) -> None:
    """Two levels, for processes grouped into nodes (``RunConfig.node_size``), as
    Horovod's hierarchical all-reduce and NCCL across nodes do:

    1. inside each node, every process sends its tensor to the node's first process (its
       leader), which adds them up — fast links;
    2. the leaders run a ring all-reduce among themselves — the only traffic that crosses
       the slow links between nodes: 2(L−1)/L·N per leader for L nodes;
    3. each leader sends the sum back to the processes of its node.

    A flat ring over n processes in nodes of k sends 2(n−1)/n·N from *every* process,
    and each node's last process sends its share across the boundary; here a node's
    boundary carries only its leader's ring traffic.
    """
    topo = comms.topo
    nodes: dict[int, list[int]] = {}
    for r in range(topo.world_size):
        nodes.setdefault(topo.node_of(r), []).append(r)
    mine = nodes[topo.node_of(topo.rank)]
    leader, others = mine[0], mine[1:]
    leaders = [members[0] for _, members in sorted(nodes.items())]
    if topo.rank != leader:
        comms.exchange(send=flat, dst=leader, op="reduce", round_no=0)
        comms.exchange(recv=flat, src=leader, op="broadcast", round_no=2 * len(leaders))
        return
    incoming = torch.empty_like(flat)
    for r in others:  # 1. (one message each: the leader takes them as they come)
        comms.exchange(recv=incoming, src=r, op="reduce", round_no=0)
        flat += incoming
    if len(leaders) > 1:  # 2.
        ring_all_reduce_over(comms, flat, leaders, first_round=1)
    for r in others:  # 3.
        comms.exchange(send=flat, dst=r, op="broadcast", round_no=2 * len(leaders))


def reduce_scatter_ring(comms: Comms, flat: torch.Tensor, first_round: int = 0
                        ) -> torch.Tensor:
    """The first half of the ring all-reduce, arranged so that rank r ends with the sum
    of chunk r (its shard; the other chunks hold partial sums). Returns that chunk, a view
    into ``flat``. Every rank sends and receives (n-1)/n·N."""
    rank, n = comms.topo.rank, comms.topo.world_size
    chunks = list(flat.tensor_split(n))
    for s in range(n - 1):
        send_idx, recv_idx = (rank - s - 1) % n, (rank - s - 2) % n
        incoming = torch.empty_like(chunks[recv_idx])
        comms.exchange(send=chunks[send_idx], dst=comms.topo.ring_next, recv=incoming,
                       src=comms.topo.ring_prev, op="reduce_scatter", chunk=send_idx,
                       round_no=first_round + s)
        chunks[recv_idx] += incoming
    return chunks[rank]


def all_gather_shards_ring(comms: Comms, flat: torch.Tensor, first_round: int = 0) -> None:
    """The second half: rank r's chunk r of ``flat`` is complete; afterwards every rank
    holds every chunk. Every rank sends and receives (n-1)/n·N."""
    rank, n = comms.topo.rank, comms.topo.world_size
    chunks = list(flat.tensor_split(n))
    for s in range(n - 1):
        send_idx, recv_idx = (rank - s) % n, (rank - s - 1) % n
        comms.exchange(send=chunks[send_idx], dst=comms.topo.ring_next,
                       recv=chunks[recv_idx], src=comms.topo.ring_prev, op="all_gather",
                       chunk=send_idx, round_no=first_round + s)


def all_gather_ring(comms: Comms, payload: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """Every rank's payload, in rank order, passed around the ring in n-1 hops.

    The payload (a few tensors of any dtype, the same shapes on every rank) travels as
    one message of raw bytes per hop, so the bytes counted are exactly the payload's.
    """
    rank, n = comms.topo.rank, comms.topo.world_size
    blobs: list[torch.Tensor | None] = [None] * n
    blobs[rank] = _to_bytes(payload)
    for s in range(n - 1):
        send_idx, recv_idx = (rank - s) % n, (rank - s - 1) % n
        incoming = torch.empty_like(blobs[rank])
        comms.exchange(send=blobs[send_idx], dst=comms.topo.ring_next, recv=incoming,
                       src=comms.topo.ring_prev, op="all_gather", chunk=send_idx)
        blobs[recv_idx] = incoming
    return [_from_bytes(blob, like=payload) for blob in blobs]


def _to_bytes(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.contiguous().view(-1).view(torch.uint8) for t in tensors])


def _from_bytes(blob: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
    out, offset = [], 0
    for t in like:
        size = t.numel() * t.element_size()
        out.append(blob[offset : offset + size].clone().view(t.dtype).view(t.shape))
        offset += size
    return out


def all_reduce_builtin(comms: Comms, flat: torch.Tensor) -> None:
    """The process group's own all-reduce (gloo or NCCL): the fast path."""
    comms.all_reduce_sum(flat)


ALL_REDUCE: dict[str, Callable[[Comms, torch.Tensor], None]] = {
    "builtin": all_reduce_builtin,
    "ring": all_reduce_ring,
    "tree": all_reduce_tree,
    "naive": all_reduce_naive,
    "hierarchical": all_reduce_hierarchical,
}


ALGORITHMS = tuple(ALL_REDUCE)  # what a run may choose (builtin first)


def all_reduce(comms: Comms, flat: torch.Tensor, algorithm: str) -> None:
    if comms.topo.world_size == 1:
        return
    comms.algo = algorithm
    ALL_REDUCE[algorithm](comms, flat)
