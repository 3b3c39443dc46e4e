"""The parameter server's wire protocol: what workers and servers say to each other.

Every message is a real point-to-point send on the process group: a 4-integer header
``[kind, a, b, sender]`` on ``HEADER_TAG``, then (for a push or a reply to a pull) a
tensor on ``PAYLOAD_TAG``. See ``parameter_server.py`` for the algorithm.
"""

from __future__ import annotations

from datetime import timedelta

import torch
import torch.distributed as dist

from engine.comms import Comms, PostedRecv

PULL, PUSH, DONE, LEFT = 1, 2, 3, 4  # what a worker's header says: [kind, a, b, sender]
WAITED_FOR_VERSION, BLOCKED_BY_SSP = 1, 2  # why a server held a pull back
HEADER_TAG, PAYLOAD_TAG = 10, 11
# Waiting is normal here: a paused worker stops pulling, a straggler keeps a sync server
# waiting. So receives do not use the process group's short timeout; a dead peer closes
# its connection (an immediate error) and its supervisor notices its exit.
PATIENCE = timedelta(days=1)
MAX_BROKEN_RECEIVES = 50


def make_header(kind: int, a: int, b: int) -> torch.Tensor:
    return torch.tensor([kind, a, b, dist.get_rank()])


def shard_bounds(numel: int, servers: int) -> list[tuple[int, int]]:
    """Contiguous, nearly equal slices of the flat parameter vector, one per server."""
    sizes = [len(c) for c in torch.arange(numel).tensor_split(servers)]
    starts = [sum(sizes[:i]) for i in range(servers)]
    return [(a, a + n) for a, n in zip(starts, sizes, strict=True)]


def post_replies(comms: Comms, bounds: list[tuple[int, int]], flat: torch.Tensor,
                 headers: torch.Tensor) -> list[tuple[PostedRecv, PostedRecv]]:
    """A worker posts the receives of every server's reply (header, shard of ``flat``)
    before it asks any server. A gloo send waits for its receiver, so otherwise server 0
    could wait to reply to us while we wait to ask server 1, which waits to reply to a
    worker that waits for server 0: a cycle that froze two-server runs under load."""
    return [(comms.post_recv(headers[server], server, tag=HEADER_TAG, traffic=False),
             comms.post_recv(flat[a:b], server, tag=PAYLOAD_TAG))
            for server, (a, b) in enumerate(bounds)]
