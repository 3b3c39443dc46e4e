"""The one command to paste on each host of a torchrun run.

Every host runs the same line: ``torchrun`` meets the other hosts' agents in the run's
own TCPStore (the c10d rendezvous; ``is_host=false`` because DistLab's supervisor serves
that store, never an agent), then starts ``--nproc-per-node`` copies of engine/join.py,
which authenticate with the run's join token and are told the rest by the supervisor.
References: PyTorch, "torchrun (Elastic Launch)", c10d rendezvous backend.

The address printed is the one the other hosts reach this server at:
``DISTLAB_PUBLIC_HOST`` when set (a name or address), else this machine's address on the
interface of its default route, else the loopback (a lab on one machine).
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass


def public_host() -> str:
    """The address other hosts reach this server at (see the module's docstring)."""
    named = os.environ.get("DISTLAB_PUBLIC_HOST", "").strip()
    if named:
        return named
    try:  # a UDP "connect" sends nothing; it only picks the outgoing interface
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never routed
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


@dataclass(frozen=True, slots=True)
class HostCommand:
    """Where a torchrun run's hosts go, and the line that takes them there."""

    run_id: str
    nnodes: int
    nproc_per_node: int
    host: str  # the server's address as the other hosts see it
    rendezvous_port: int  # the run's TCPStore
    join_port: int  # the supervisor's join listener (engine/remote_workers.py)
    token: str

    @property
    def rendezvous(self) -> str:
        return f"{self.host}:{self.rendezvous_port}"

    def argv(self) -> list[str]:
        return ["torchrun", "--nnodes", str(self.nnodes),
                "--nproc-per-node", str(self.nproc_per_node),
                "--rdzv-backend", "c10d", "--rdzv-endpoint", self.rendezvous,
                "--rdzv-id", self.run_id, "--rdzv-conf", "is_host=false",
                # DistLab decides what a failure does (recovery), not the agent
                "--max-restarts", "0",
                "-m", "engine.join", "--server", f"{self.host}:{self.join_port}",
                "--token", self.token]

    def line(self) -> str:
        return shlex.join(self.argv())
