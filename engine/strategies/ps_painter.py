"""The lone parameter server draws the decision boundary of the model it holds — off its
serving thread.

The server is the bottleneck a parameter-server lesson measures: a few milliseconds of
drawing on its thread per step would hold every worker's pull and push back and change
the staleness the run is about. So the server only hands over a copy of its parameters
(a memcpy of a few kB); a painter thread turns the newest one into a boundary frame.
The server offers the steps a frame is due at; should the painter fall behind, the
newest wins, and the last is always drawn.
"""

from __future__ import annotations

import threading
from typing import Any

import torch

from engine.model import load_flat
from engine.strategies.base import WorkerContext


class BoundaryPainter:
    def __init__(self, ctx: WorkerContext, runtime: Any) -> None:
        self.ctx, self.runtime = ctx, runtime
        self._newest: tuple[int, torch.Tensor] | None = None
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._paint, name="boundary-painter",
                                        daemon=True)
        self._thread.start()

    def offer(self, step: int, params: torch.Tensor) -> None:
        """The model as of the run's step ``step`` (copied: the server goes on with it)."""
        with self._wake:
            self._newest = (step, params.clone())
            self._wake.notify()

    def close(self) -> None:
        """Draw what is still waiting, then stop (the run's last frame is never lost)."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join(timeout=30)

    def _paint(self) -> None:
        while True:
            with self._wake:
                while self._newest is None and not self._closing:
                    self._wake.wait()
                job, self._newest = self._newest, None
                closing = self._closing
            if job is not None:
                step, params = job
                load_flat(list(self.ctx.model.parameters()), params)
                self.runtime.emit_boundary(self.ctx, step)
            if closing and job is None:
                return
