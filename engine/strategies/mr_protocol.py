"""MapReduce's messages over the process group: Python values (a task, a partition of
pairs, a reduce task's output) pickled into byte tensors.

Every message is a header — ``[length, sender]``, a few bytes of protocol, not traffic —
then the payload on the same tag. Messages between one sender and one receiver on one tag
arrive in the order they were sent, so a header is always followed by its own payload.

Tags: the master's commands to a worker (COMMAND), a worker's reports to the master
(REPORT), and the shuffle's partitions from a map worker to a reducer (DATA).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from engine.comms import Comms
from engine.mapreduce_job import from_tensor, to_tensor

COMMAND, REPORT, DATA = 21, 22, 23
MASTER = 0  # process rank 0 is the master; ranks 1..W the workers
MAX_FAILURES = 50  # receives from anyone failing in a row: not one death, a broken group


def _header(length: int, sender: int) -> torch.Tensor:
    return torch.tensor([length, sender], dtype=torch.int64)


def send_obj(comms: Comms, value: Any, dst: int, *, tag: int, op: str,
             traffic: bool = False, step: int | None = None) -> int:
    """Send ``value`` to ``dst`` (blocking); returns its payload's bytes. ``traffic``:
    count it and report it as a ``comm`` event (commands and reports are control)."""
    payload = to_tensor(value)
    comms.send(_header(payload.numel(), comms.topo.rank), dst, tag=tag, op="header",
               traffic=False)
    comms.send(payload, dst, tag=tag, op=op, traffic=traffic, step=step)
    return payload.numel()


@dataclass
class Posted:
    """Messages on their way (a partition pushed to a reducer): their tensors kept alive
    until the end, when they are waited for."""

    items: list[tuple[Any, torch.Tensor]] = field(default_factory=list)

    def post(self, comms: Comms, value: Any, dst: int, *, step: int) -> int:
        """Start sending ``value`` to ``dst`` as shuffle traffic; returns its bytes."""
        payload = to_tensor(value)
        header = _header(payload.numel(), comms.topo.rank)
        self.items.append((dist.isend(header, dst, tag=DATA), header))
        self.items.append((comms.post_send(payload, dst, tag=DATA, op="shuffle", step=step),
                           payload))
        return payload.numel()


def recv_obj(comms: Comms, src: int, *, tag: int, traffic: bool = False) -> Any:
    """Receive the next value ``src`` sent on ``tag`` (blocking)."""
    header = torch.zeros(2, dtype=torch.int64)
    comms.recv(header, src=src, tag=tag, traffic=False)
    payload = torch.empty(int(header[0]), dtype=torch.uint8)
    comms.recv(payload, src=src, tag=tag, traffic=traffic)
    return from_tensor(payload)


class Inbox:
    """Messages on ``tag`` (from ``src``, or from anyone when ``src`` is None), received by
    a thread of their own: ``poll()`` returns ``(sender, value)`` or None at once. The
    master polls its reports this way, and a busy worker its commands, so that each can do
    something else meanwhile (notice a death, serve the shuffle). (A receive cannot be
    polled: gloo completes it only in ``wait``, and a timed-out wait closes the
    connection.)

    The thread stops after a message ``last(sender, value)`` says is the last one."""

    def __init__(self, comms: Comms, tag: int, src: int | None = None,
                 last: Callable[[int, Any], bool] = lambda _s, _v: False) -> None:
        self.comms, self.tag, self.src, self.last = comms, tag, src, last
        self.queue: queue.Queue[tuple[int, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._receive, daemon=True,
                                       name=f"inbox-{tag}")
        self.thread.start()

    def _receive(self) -> None:
        failures = 0
        while True:
            header = torch.zeros(2, dtype=torch.int64)
            try:
                self.comms.recv(header, src=self.src, tag=self.tag, traffic=False)
                sender = int(header[1])
                payload = torch.empty(int(header[0]), dtype=torch.uint8)
                self.comms.recv(payload, src=sender, tag=self.tag, traffic=False)
            except RuntimeError as exc:
                # A receive from anyone fails when some sender died (its connection was
                # reset): the master hears of that death anyway. A receive from one
                # sender, or one that keeps failing, ends the inbox.
                failures += 1
                if self.src is not None or failures > MAX_FAILURES:
                    self.queue.put((-1, exc))
                    return
                time.sleep(0.01)
                continue
            failures = 0
            value = from_tensor(payload)
            self.queue.put((sender, value))
            if self.last(sender, value):
                return

    def poll(self) -> tuple[int, Any] | None:
        """The next message, or None; raises the error that ended the inbox."""
        try:
            sender, value = self.queue.get_nowait()
        except queue.Empty:
            return None
        if sender < 0:
            raise value
        return sender, value
