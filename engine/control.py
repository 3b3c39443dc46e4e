"""Pause, resume, single step, pace and stop — coordinated so that no rank is left alone.

A rank that pauses while a peer has already entered the step's all-reduce would leave
that peer waiting until the process-group timeout kills the run. So ranks never act on a
control message alone. The supervisor numbers its control messages (1, 2, 3, …) and sends
every message to every rank. At the start of a step the ranks agree, with a tiny
all-reduce(MAX), on *how many* messages to act on (before every step at a human pace or
while paused; at full speed every ``AGREE_EVERY_AT_FULL_SPEED`` steps); each rank then
applies exactly that prefix of the message sequence (waiting the few milliseconds for
any it has not received yet). Identical messages applied in identical order give an
identical state on every rank, so every rank makes the same decision: run the step, wait,
or stop.

While paused, each rank waits in its own process — outside any collective — for the next
message, so a pause can last as long as the user likes.

Elastic runs (recovery ``shrink``) also get *regroup* messages: leave this process group
and form a new one with the members listed. Adding a worker back is an ordinary numbered
message, so every rank leaves at the same step boundary. After a failure it cannot be:
the old group is broken, so the supervisor sends it out of band (``"type": "regroup"``)
and a rank acts on it as soon as it sees it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import torch

from engine.comms import Comms


class Regroup(Exception):
    """Leave the current process group and join the one described by ``message``."""

    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__(f"regroup into generation {message['generation']}")
        self.message = message


class ControlState:
    """This rank's control messages: received by a reader thread, applied by the trainer."""

    def __init__(self, pace: float | None, rank: int = 0) -> None:
        self.rank = rank
        self._cond = threading.Condition()
        self._inbox: dict[int, dict[str, Any]] = {}  # seq -> message, not yet applied
        self.received_seq = 0
        self.applied_seq = 0
        self.pace = pace
        self.paused = False
        self.stop = False
        self.step_tokens = 0
        # Faults aimed at this rank (applied at the same step boundary on every rank, but
        # only the target acts on them).
        self.slow_factor = 1.0
        self.corrupt_next = False
        self.link_delay_ms: dict[int, float] = {}  # dst -> extra delay on our link to it
        # dst: our link to it dropped a message. Like a TCP connection that lost a segment
        # and never recovers, nothing after it arrives either, so the receiver stalls
        # cleanly instead of pairing later messages with the wrong receives.
        self.down_links: set[int] = set()
        self.urgent_regroup: dict[str, Any] | None = None  # after a failure (out of band)
        self.pending_regroup: dict[str, Any] | None = None  # a rejoin, at a step boundary
        # Parameter server, recovery "continue": called (on the reader thread, at once) when
        # the supervisor says a worker died, so the servers hear of it even while this
        # worker is itself held back waiting for them (SSP would otherwise deadlock).
        self.on_worker_left: Callable[[int], None] | None = None

    # ------------------------------------------------------- reader thread
    def receive(self, message: dict[str, Any]) -> None:
        if message.get("action") == "worker_left" and self.on_worker_left is not None:
            self.on_worker_left(message["rank"])  # sends messages: not under the lock
        with self._cond:
            if message.get("type") == "regroup":
                self.urgent_regroup = message
                self._cond.notify_all()
                return
            self._inbox[message["seq"]] = message
            self.received_seq = max(self.received_seq, message["seq"])
            self._cond.notify_all()

    # ------------------------------------------------------- trainer thread
    def apply_through(self, seq: int) -> None:
        """Apply messages up to ``seq`` in order, waiting for any still in flight."""
        with self._cond:
            while self.applied_seq < seq:
                nxt = self.applied_seq + 1
                self._cond.wait_for(lambda n=nxt: n in self._inbox)
                self._apply(self._inbox.pop(nxt))
                self.applied_seq = nxt

    def _apply(self, message: dict[str, Any]) -> None:
        action = message["action"]
        if action == "pause":
            self.paused = True
        elif action == "resume":
            self.paused = False
            self.step_tokens = 0
        elif action == "step":
            self.paused = True  # a single step always leaves the run paused
            self.step_tokens += 1
        elif action == "stop":
            self.stop = True
        elif action == "set_pace":
            self.pace = message.get("pace")
        elif action == "slow" and message.get("rank") == self.rank:
            self.slow_factor = float(message["factor"])
        elif action == "corrupt" and message.get("rank") == self.rank:
            self.corrupt_next = True
        elif action == "delay" and message.get("src") == self.rank:
            self.link_delay_ms[message["dst"]] = float(message["ms"])
        elif action == "drop" and message.get("src") == self.rank:
            self.down_links.add(message["dst"])
        elif action == "regroup":
            self.pending_regroup = message

    def adopt(self, *, paused: bool, step_tokens: int) -> None:
        """Take the group's pause state (a worker joining a paused run)."""
        with self._cond:
            self.paused, self.step_tokens = paused, step_tokens

    def check_regroup(self) -> None:
        """Raise Regroup if this rank has been told to change process groups."""
        with self._cond:
            message, self.pending_regroup = self.pending_regroup, None
            if message is None:
                message, self.urgent_regroup = self.urgent_regroup, None
        if message is not None:
            raise Regroup(message)

    def take_newer_regroup(self, generation: int) -> dict[str, Any] | None:
        """An out-of-band regroup newer than ``generation`` (the one being joined), if any:
        a member on its way into a group already given up should go to the new one."""
        with self._cond:
            message = self.urgent_regroup
            if message is None or message["generation"] <= generation:
                return None
            self.urgent_regroup = None
            return message

    def wait_for_regroup(self, timeout: float) -> dict[str, Any] | None:
        """After a broken collective: wait for the supervisor's out-of-band regroup."""
        with self._cond:
            self._cond.wait_for(lambda: self.urgent_regroup is not None, timeout=timeout)
            message, self.urgent_regroup = self.urgent_regroup, None
        return message

    def take_corruption(self) -> bool:
        """True once after a ``corrupt`` fault: this rank's next gradient becomes NaN."""
        corrupt, self.corrupt_next = self.corrupt_next, False
        return corrupt

    def can_go(self) -> bool:
        return not self.paused or self.step_tokens > 0

    def sleep_until(self, deadline: float) -> None:
        """Pace: sleep until ``deadline`` (monotonic), waking early on any new message."""
        with self._cond:
            seen = self.received_seq
            self._cond.wait_for(lambda: self.received_seq > seen or bool(self.urgent_regroup),
                                timeout=max(0.0, deadline - time.monotonic()))

    def wait_for_new_message(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.received_seq > self.applied_seq
                                or bool(self.urgent_regroup))


AGREE_EVERY_AT_FULL_SPEED = 20  # at ~3 ms a step: a pause takes effect within ~60 ms


class StepGate:
    """Decides whether and when this rank runs its next step.

    With ``comms`` (synchronous strategies) every rank makes the same decision: the ranks
    first agree on how many control messages to act on. Without it (asynchronous
    strategies such as the parameter server) each rank obeys its controls alone — no peer
    waits for it inside a collective, a paused worker simply stops pulling.
    """

    def __init__(self, control: ControlState, comms: Comms | None = None,
                 device: str = "cpu") -> None:
        self.control = control
        self.comms = comms
        self.device = device
        self._last_start: float | None = None
        self._unagreed = 0  # steps run since the ranks last agreed

    def _must_agree(self) -> bool:
        """Whether the ranks agree on their controls before this step.

        At a human pace, and whenever paused, before every step: it costs nothing next
        to the pace, and the timeline shows the wait for peers there. At full speed only
        every ``AGREE_EVERY_AT_FULL_SPEED`` steps: one collective less per step (it cost
        as much as the gradient all-reduce of a small model), and a pause or stop takes
        effect a few milliseconds later. Every rank decides alike: pace and pause are
        themselves agreed state, and the count restarts with every process group.
        """
        if self.comms is None:
            return False
        control = self.control
        return (bool(control.pace) or control.paused or not control.can_go()
                or self._unagreed >= AGREE_EVERY_AT_FULL_SPEED - 1)

    def wait_for_next_step(self) -> bool:
        """Block until this rank may run the next step; False means stop.

        Raises Regroup when the ranks are to form a new process group first.
        """
        control = self.control
        while True:
            if control.pace and self._last_start is not None:
                control.sleep_until(self._last_start + 1.0 / control.pace)
            control.check_regroup()
            if self._must_agree():
                agreed = torch.tensor([control.received_seq], dtype=torch.int64,
                                      device=self.device)
                self.comms.agree_max(agreed)  # type: ignore[union-attr]
                control.apply_through(int(agreed.item()))
                self._unagreed = 0
            elif self.comms is None:
                control.apply_through(control.received_seq)  # no peer to agree with
            else:
                self._unagreed += 1  # go on with the state agreed last time
            control.check_regroup()  # a rejoin agreed on: every rank leaves at this step
            if control.stop:
                return False
            if control.can_go():
                if control.paused:
                    control.step_tokens -= 1
                self._last_start = time.monotonic()
                return True
            control.wait_for_new_message()  # paused: wait here, not inside a collective
            self._last_start = None  # after a pause, the next step starts at once
