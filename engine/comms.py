"""Every byte a strategy moves goes through here.

The wrappers time each operation and count bytes, so every strategy gets accurate
``comm_ms``, ``bytes_sent``/``bytes_recv`` and (in detail mode) one ``comm`` event per
message for free. Keeping the wire apart from the algorithm follows picotron's split of
``pipeline_parallel.py`` from ``pp_communications.py``.

Hand-written collectives (``engine/collectives.py``) are built from one primitive,
``exchange`` (send to one peer and/or receive from another at the same time), whose bytes
are counted exactly and whose every message is a ``comm`` event.

Byte counts for the process group's *built-in* collectives are what the textbook
algorithm moves, because gloo does not report its traffic: an all-reduce is counted as a
ring all-reduce (each rank sends and receives 2(n-1)/n of the tensor), a broadcast as a
flat one (the root sends the tensor to each of the n-1 others). The UI says so.

References: Patarasuk & Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
workstations", JPDC 2009 (the ring all-reduce and its 2(n-1)/n cost).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from engine.network import NetworkModel, ring_all_reduce_ms
from engine.topology import Topology

Emit = Callable[[dict[str, Any]], None]
_CLOCK_TAG = 1  # point-to-point tag of the modelled-clock messages (payloads use tag 0)


@dataclass(slots=True)
class CommStats:
    """Communication of one rank during one step."""

    comm_ms: float = 0.0
    wait_ms: float = 0.0
    modelled_ms: float | None = None  # on the network model's clock, when there is one
    bytes_sent: int = 0
    bytes_recv: int = 0
    sent_by_group: dict[str, int] = field(default_factory=dict)
    """Bytes sent over each named subgroup (3-D parallelism: data, pipeline, tensor)."""
    bytes_across: int = 0
    """Bytes sent to processes on other nodes (``RunConfig.node_size``): what crosses the
    slow links between hosts."""
    bytes_across_in: int = 0
    """Bytes received (``recv``) from processes on other nodes."""


@dataclass(frozen=True, slots=True)
class Group:
    """A subgroup of the run's processes (``dist.new_group``) with the kind of traffic it
    carries: 3-D parallelism's ``data``, ``pipeline`` and ``tensor`` groups. ``ranks`` are
    process-group ranks of the whole run, in the group's order."""

    kind: str
    ranks: tuple[int, ...]
    pg: Any  # dist.ProcessGroup (None for a group of one: nothing to send)


class Comms:
    """Timed, byte-counting wrappers around torch.distributed for one rank."""

    def __init__(
        self, topo: Topology, *, emit_comm: Callable[..., None] | None = None,
        network: NetworkModel | None = None, link_faults: Any = None,
    ) -> None:
        self.topo = topo
        # Called once per message in detail mode, as emit_comm(op=..., src=..., ...).
        self._emit_comm = emit_comm
        self.network = network
        # Faults on this rank's outgoing links (engine.control.ControlState): an emulated
        # delay, or a dropped message that the receiver will wait for in vain.
        self.link_faults = link_faults
        self.algo = "builtin"  # the collective algorithm in use, named in ``comm`` events
        self.stats = self._fresh_stats()

    def _fresh_stats(self) -> CommStats:
        # Every rank starts a step's communication at modelled time 0.
        return CommStats(modelled_ms=0.0 if self.network else None)

    def take_stats(self) -> CommStats:
        """Return this step's numbers and start counting afresh."""
        stats, self.stats = self.stats, self._fresh_stats()
        return stats

    def all_reduce_sum(self, tensor: torch.Tensor, op: str = "all_reduce",
                       chunk: int | None = None, group: Group | None = None) -> None:
        """In-place sum over all ranks with the process group's own algorithm (``op`` and
        ``chunk`` name it in ``comm`` events: a tensor-parallel layer's all-reduce), or
        over the ranks of ``group`` only (its kind tags the ``comm`` events)."""
        ring = group.ranks if group is not None else tuple(range(self.topo.world_size))
        n = len(ring)
        if n == 1:
            return
        start = time.perf_counter()
        if self.link_faults is not None and self.link_faults.link_delay_ms:
            # Inside the built-in algorithm we cannot delay one link: this rank's slowest
            # outgoing link holds its part of the collective back.
            time.sleep(max(self.link_faults.link_delay_ms.values()) / 1e3)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM,
                        group=None if group is None else group.pg)
        elapsed_ms = (time.perf_counter() - start) * 1e3
        num_bytes = tensor.numel() * tensor.element_size()
        ring_bytes = 2 * (n - 1) * num_bytes // n
        self._account(elapsed_ms, sent=ring_bytes, recv=ring_bytes, group=group)
        modelled = None
        if self.network is not None and self.stats.modelled_ms is not None:
            # We cannot see inside the built-in algorithm: charge the ring formula over
            # the slowest link of the ring.
            slowest = max((self.network.link(ring[i], ring[(i + 1) % n]) for i in range(n)),
                          key=lambda link: link.transfer_ms(num_bytes))
            modelled = ring_all_reduce_ms(n, num_bytes, slowest)
            self.stats.modelled_ms += modelled
        right = ring[(ring.index(self.topo.rank) + 1) % n]
        self._message(op, right, ring_bytes, elapsed_ms, chunk=chunk,
                      modelled_ms=modelled, group=group)

    def broadcast(self, tensor: torch.Tensor, src: int) -> None:
        n = self.topo.world_size
        if n == 1:
            return
        start = time.perf_counter()
        dist.broadcast(tensor, src=src)
        elapsed_ms = (time.perf_counter() - start) * 1e3
        num_bytes = tensor.numel() * tensor.element_size()
        if self.topo.rank == src:
            self._account(elapsed_ms, sent=num_bytes * (n - 1), recv=0)
            for dst in range(n):
                if dst != src:
                    self._message("broadcast", dst, num_bytes, elapsed_ms)
        else:
            self._account(elapsed_ms, sent=0, recv=num_bytes)

    def exchange(
        self,
        *,
        send: torch.Tensor | None = None,
        dst: int | None = None,
        recv: torch.Tensor | None = None,
        src: int | None = None,
        op: str,
        chunk: int | None = None,
        round_no: int | None = None,
    ) -> None:
        """Send ``send`` to ``dst`` while receiving ``recv`` from ``src`` (either optional).

        Both are posted before either is waited on, so a ring of ranks that all send to
        their right and receive from their left cannot deadlock. ``round_no`` numbers the
        rounds of a hand-written collective (from 0, the same on every rank), so the page
        can draw its messages round by round.
        """
        start = time.perf_counter()
        requests = []
        modelled = self.network is not None
        # With a network model each message is preceded by its departure time on the
        # sender's modelled clock (8 bytes of instrumentation, not counted as traffic).
        if modelled:
            depart = torch.tensor([self.stats.modelled_ms or 0.0], dtype=torch.float64)
            arrival_clock = torch.zeros(1, dtype=torch.float64)
        dropped = False
        if send is not None and self.link_faults is not None:
            delay_ms = self.link_faults.link_delay_ms.get(dst)
            if delay_ms:
                time.sleep(delay_ms / 1e3)  # an emulated slow link (the UI says so)
            dropped = dst in self.link_faults.down_links
        if send is not None and not dropped:
            assert dst is not None and dst != self.topo.rank
            if modelled:
                requests.append(dist.isend(depart, dst, tag=_CLOCK_TAG))
            requests.append(dist.isend(send.contiguous(), dst))
        if recv is not None:
            assert src is not None and src != self.topo.rank and recv.is_contiguous()
            if modelled:
                requests.append(dist.irecv(arrival_clock, src, tag=_CLOCK_TAG))
            requests.append(dist.irecv(recv, src))
        for request in requests:
            request.wait()
        elapsed_ms = (time.perf_counter() - start) * 1e3
        sent = send.numel() * send.element_size() if send is not None else 0
        got = recv.numel() * recv.element_size() if recv is not None else 0
        self._account(elapsed_ms, sent=0 if dropped else sent, recv=got)
        if dropped:
            if self._emit_comm is not None:
                self._emit_comm(op=op, src=self.topo.me, dst=self.topo.id_of(dst),
                                bytes=sent, chunk=chunk, algo=self.algo, duration_ms=0.0,
                                dropped=True, **({} if round_no is None else {"round": round_no}))
            send = None  # nothing left this rank: the receiver waits for it in vain
        transfer_ms = None
        if self.network is not None and self.stats.modelled_ms is not None:
            now = self.stats.modelled_ms
            done = now
            if send is not None:
                transfer_ms = self.network.link(self.topo.rank, dst).transfer_ms(sent)
                done = now + transfer_ms
            if recv is not None:
                link = self.network.link(src, self.topo.rank)
                done = max(done, max(now, float(arrival_clock)) + link.transfer_ms(got))
            self.stats.modelled_ms = done
        if send is not None:  # one event per message, from its sender
            self._message(op, dst, sent, elapsed_ms, chunk=chunk, algo=self.algo,
                          modelled_ms=transfer_ms, round_no=round_no,
                          modelled_start_ms=float(depart) if modelled else None)

    def send(self, tensor: torch.Tensor, dst: int, *, tag: int, op: str,
             step: int | None = None, traffic: bool = True) -> None:
        """One point-to-point message to ``dst``, for protocols that are not collectives
        (a parameter server's pushes and pulls). Timed and counted like everything else;
        ``traffic=False`` for the few bytes of a protocol header (not counted, no event)."""
        start = time.perf_counter()
        dist.send(tensor, dst=dst, tag=tag)
        if not traffic:
            return
        elapsed_ms = (time.perf_counter() - start) * 1e3
        num_bytes = tensor.numel() * tensor.element_size()
        self._account(elapsed_ms, sent=num_bytes, recv=0)
        self._message(op, dst, num_bytes, elapsed_ms, step=step)

    def post_send(self, tensor: torch.Tensor, dst: int, *, tag: int, op: str,
                  chunk: int | None = None, group: Group | None = None,
                  step: int | None = None) -> dist.Work:
        """Start sending ``tensor`` to ``dst`` and return at once; the caller waits on the
        returned request before it changes ``tensor`` (a pipeline stage sends on while it
        computes, and two neighbours that send to each other cannot deadlock). Counted
        when posted; its time is the caller's wait on the request."""
        request = dist.isend(tensor.contiguous(), dst=dst, tag=tag)
        num_bytes = tensor.numel() * tensor.element_size()
        self._account(0.0, sent=num_bytes, recv=0, group=group)
        self._message(op, dst, num_bytes, 0.0, chunk=chunk, group=group, step=step)
        return request

    def announce(self, tensor: torch.Tensor, src: int) -> None:
        """Control plane: a few values from ``src`` to every rank (a pipeline's loss,
        known only to its last stage). Waiting for it is ``wait_ms``; its bytes are not
        training traffic."""
        if self.topo.world_size == 1:
            return
        start = time.perf_counter()
        dist.broadcast(tensor, src=src)
        self.stats.wait_ms += (time.perf_counter() - start) * 1e3

    def recv(self, tensor: torch.Tensor, src: int | None = None, *, tag: int,
             timeout: timedelta | None = None, traffic: bool = True) -> None:
        """Receive into ``tensor`` from ``src`` — or from whichever rank sends first when
        ``src`` is None — waiting up to ``timeout`` (the process group's by default).
        The sender reports the message (one ``comm`` event per message, from its sender);
        the receiver counts its bytes."""
        start = time.perf_counter()
        request = dist.irecv(tensor, src=src, tag=tag)
        if timeout is None:
            request.wait()
        else:
            request.wait(timeout)
        if traffic:
            self._count_recv(tensor, src, start)

    def post_recv(self, tensor: torch.Tensor, src: int, *, tag: int,
                  traffic: bool = True) -> PostedRecv:
        """Start receiving into ``tensor`` from ``src`` and return at once; ``wait`` on the
        result. A gloo send waits until its receiver has posted the receive, so a process
        that asks several peers for replies posts every receive first: none of them is
        then held up sending to it while it is still busy asking another."""
        return PostedRecv(self, dist.irecv(tensor, src=src, tag=tag), tensor, src, traffic,
                          time.perf_counter())

    def _count_recv(self, tensor: torch.Tensor, src: int | None, started: float) -> None:
        num_bytes = tensor.numel() * tensor.element_size()
        self._account((time.perf_counter() - started) * 1e3, sent=0, recv=num_bytes)
        topo = self.topo
        if src is not None and topo.node_size and topo.node_of(src) != topo.node_of(
                topo.rank):
            self.stats.bytes_across_in += num_bytes

    def with_neighbours(self, send: torch.Tensor, peers: list[int], *, op: str
                        ) -> list[torch.Tensor]:
        """Send ``send`` to every rank in ``peers`` and receive a tensor of the same shape
        from each of them (decentralized training's gossip over the edges of a graph).

        Every send and receive is posted before any is waited on: each rank talks to all
        its neighbours at once, so no order of the edges can deadlock. One ``comm`` event
        per message sent; the bytes are counted as for any message.

        On a network model the single-port rule of ``exchange`` holds: a rank's messages
        leave one after the other (in the order of ``peers``) and arrive one after the
        other, so gossiping with k neighbours costs about k·(α + N/β) — on a ring 2·(α +
        N/β) whatever the number of workers, where a ring all-reduce takes 2(n−1) α's."""
        start = time.perf_counter()
        got = [torch.empty_like(send) for _ in peers]
        send = send.contiguous()
        num_bytes = send.numel() * send.element_size()
        departs = self._departures(peers, num_bytes)
        arrivals = [torch.zeros(1, dtype=torch.float64) for _ in peers]
        requests = []
        if departs is not None:  # each message preceded by its departure on our clock
            requests += [dist.isend(torch.tensor([d], dtype=torch.float64), peer,
                                    tag=_CLOCK_TAG) for d, peer in zip(departs, peers, strict=True)]
            requests += [dist.irecv(a, peer, tag=_CLOCK_TAG)
                         for a, peer in zip(arrivals, peers, strict=True)]
        requests += [dist.isend(send, peer) for peer in peers]
        requests += [dist.irecv(buf, peer) for buf, peer in zip(got, peers, strict=True)]
        for request in requests:
            request.wait()
        elapsed_ms = (time.perf_counter() - start) * 1e3
        self._account(elapsed_ms, sent=num_bytes * len(peers), recv=num_bytes * len(peers))
        if departs is not None:
            self._gossip_clock(peers, num_bytes, departs, [float(a) for a in arrivals])
        for i, peer in enumerate(peers):
            transfer = (None if departs is None
                        else self.network.link(self.topo.rank, peer).transfer_ms(num_bytes))
            self._message(op, peer, num_bytes, elapsed_ms, algo=self.algo,
                          modelled_ms=transfer,
                          modelled_start_ms=None if departs is None else departs[i])
        return got

    def _departures(self, peers: list[int], num_bytes: int) -> list[float] | None:
        """When each of our messages leaves on the modelled clock: one after the other."""
        if self.network is None or self.stats.modelled_ms is None:
            return None
        out, clock = [], self.stats.modelled_ms
        for peer in peers:
            out.append(clock)
            clock += self.network.link(self.topo.rank, peer).transfer_ms(num_bytes)
        return out

    def _gossip_clock(self, peers: list[int], num_bytes: int, departs: list[float],
                      arrivals: list[float]) -> None:
        """Our clock after the exchange: the last message out has left, and the incoming
        ones were taken one at a time, in the order they left their senders."""
        assert self.network is not None and self.stats.modelled_ms is not None
        now = self.stats.modelled_ms
        out_done = departs[-1] + self.network.link(self.topo.rank, peers[-1]).transfer_ms(
            num_bytes) if peers else now
        in_clock = now
        for depart, peer in sorted(zip(arrivals, peers, strict=True)):
            in_clock = max(in_clock, depart) + self.network.link(
                peer, self.topo.rank).transfer_ms(num_bytes)
        self.stats.modelled_ms = max(out_done, in_clock)

    def measure_sum(self, tensor: torch.Tensor) -> None:
        """Measurement, not training: sum ``tensor`` over all ranks in place (the replicas'
        average, to say how far apart they are). Its time is ``wait_ms``; its bytes are not
        counted as traffic, and the strategy that uses it says so."""
        if self.topo.world_size == 1:
            return
        start = time.perf_counter()
        dist.all_reduce(tensor)
        self.stats.wait_ms += (time.perf_counter() - start) * 1e3

    def agree_max(self, flags: torch.Tensor) -> None:
        """Control plane: element-wise max of small flags over all ranks.

        Used so that every rank makes the same stop/pause decision at the same step. Its
        time is waiting for the slowest peer, so it is counted as ``wait_ms``, and its few
        bytes are not counted as training traffic.
        """
        if self.topo.world_size == 1:
            return
        start = time.perf_counter()
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        self.stats.wait_ms += (time.perf_counter() - start) * 1e3

    def library(self, op: str, *, sent: int = 0, recv: int = 0, peer: int | None = None,
                chunk: int | None = None, elapsed_ms: float = 0.0) -> None:
        """Traffic a library moved itself (torch.distributed.pipelining's sends, DTensor's
        all-reduces): it never went through the wrappers above, so the strategy reports
        it here — its bytes as read from the tensors the library handed to the process
        group, and the milliseconds the strategy could measure (0 where it could not).
        One ``comm`` event per message sent, as for our own; no modelled time (a network
        model cannot delay messages it does not carry: such runs refuse a network)."""
        self._account(elapsed_ms, sent=sent, recv=recv)
        if sent:
            self._message(op, peer, sent, elapsed_ms, chunk=chunk)

    def _account(self, elapsed_ms: float, *, sent: int, recv: int,
                 group: Group | None = None) -> None:
        self.stats.comm_ms += elapsed_ms
        self.stats.bytes_sent += sent
        self.stats.bytes_recv += recv
        if group is not None:
            by_group = self.stats.sent_by_group
            by_group[group.kind] = by_group.get(group.kind, 0) + sent

    def _message(self, op: str, dst: int | None, num_bytes: int, elapsed_ms: float, *,
                 chunk: int | None = None, algo: str = "builtin",
                 modelled_ms: float | None = None,
                 modelled_start_ms: float | None = None, step: int | None = None,
                 group: Group | None = None, round_no: int | None = None) -> None:
        topo = self.topo
        if dst is not None and topo.node_size and topo.node_of(dst) != topo.node_of(topo.rank):
            self.stats.bytes_across += num_bytes
        if self._emit_comm is None:
            return
        fields: dict[str, Any] = {} if step is None else {"step": step}
        if round_no is not None:
            fields["round"] = round_no
        if group is not None:
            fields["group"] = group.kind
        if modelled_ms is not None:
            fields |= {"modelled_ms": round(modelled_ms, 6),
                       "modelled_start_ms": round(modelled_start_ms or 0.0, 6)}
        # Events name workers, not process-group ranks (they differ after a shrink). The
        # measured time to 10 µs (2 decimals of ms): a person reading it, or a timeline
        # whose pixels are a µs wide at best, can use no more (and the scheduler's jitter
        # on a shared machine is larger), while the two further digits cost every live
        # viewer ~30 B per step of a 4-worker ring (bench/wire.py).
        self._emit_comm(op=op, src=self.topo.me,
                        dst=None if dst is None else self.topo.id_of(dst), bytes=num_bytes,
                        chunk=chunk, algo=algo, duration_ms=round(elapsed_ms, 2), **fields)


@dataclass(slots=True)
class PostedRecv:
    """A receive posted by ``Comms.post_recv``: its bytes count when it is waited for."""

    comms: Comms
    request: Any
    tensor: torch.Tensor
    src: int
    traffic: bool
    started: float

    def wait(self, timeout: timedelta | None = None) -> None:
        if timeout is None:
            self.request.wait()
        else:
            self.request.wait(timeout)
        if self.traffic:
            self.comms._count_recv(self.tensor, self.src, self.started)
