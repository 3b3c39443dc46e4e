"""Pause, resume, single step, pace and stop — coordinated so that no rank is left alone.

A rank that pauses while a peer has already entered the step's all-reduce would leave
that peer waiting until the process-group timeout kills the run. So ranks never act on a
control message alone: at the start of every step they *agree* on it with a tiny
all-reduce(MAX) of two flags, ``[stop, blocked]``. If any rank wants to stop, all stop at
this step; if any rank is paused (and has no single-step token), all wait — each in its
own process, outside any collective, so a pause can last as long as the user likes.

Every rank receives the same control messages in the same order (the supervisor sends
them to all), so their local states converge and the agreement always terminates.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import torch

from engine.comms import Comms


class ControlState:
    """This rank's view of the user's controls, updated by the control-reader thread."""

    def __init__(self, pace: float | None) -> None:
        self._cond = threading.Condition()
        self.pace = pace
        self.paused = False
        self.stop = False
        self.step_tokens = 0

    def apply(self, message: dict[str, Any]) -> None:
        action = message["action"]
        with self._cond:
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
            self._cond.notify_all()

    def can_go(self) -> bool:
        return not self.paused or self.step_tokens > 0

    def sleep_until(self, deadline: float) -> None:
        """Pace: sleep until ``deadline`` (monotonic), waking early for stop or pause."""
        with self._cond:
            while not self.stop and self.can_go():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def wait_until_can_go(self) -> None:
        with self._cond:
            while not self.stop and not self.can_go():
                self._cond.wait()

    def flags(self) -> torch.Tensor:
        with self._cond:
            return torch.tensor([int(self.stop), int(not self.can_go())], dtype=torch.int32)

    def take_token_if_paused(self) -> None:
        with self._cond:
            if self.paused and self.step_tokens > 0:
                self.step_tokens -= 1


class StepGate:
    """Decides, identically on every rank, whether and when the next step runs."""

    def __init__(self, control: ControlState, comms: Comms, device: str) -> None:
        self.control = control
        self.comms = comms
        self.device = device
        self._last_start: float | None = None

    def wait_for_next_step(self) -> bool:
        """Block until all ranks may run the next step; False means all ranks stop."""
        control = self.control
        while True:
            pace = control.pace
            if pace and self._last_start is not None:
                control.sleep_until(self._last_start + 1.0 / pace)
            flags = control.flags().to(self.device)
            self.comms.agree_max(flags)
            stop, blocked = (bool(v) for v in flags.tolist())
            if stop:
                return False
            if not blocked:
                control.take_token_if_paused()
                self._last_start = time.monotonic()
                return True
            control.wait_until_can_go()
            self._last_start = None  # after a pause, the next step starts at once
