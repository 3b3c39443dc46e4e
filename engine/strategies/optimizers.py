"""The optimizers the strategies apply themselves, element by element on lists of
tensors, with their state in the open (its bytes for the memory card, ``state_dict`` for
checkpoints): Adam and SGD with momentum. Plain SGD keeps no state (``base.sgd_update``).
"""

from __future__ import annotations

from typing import Any

import torch


class Adam:
    """Adam (Kingma & Ba 2015) on a list of tensors, element by element:

        m ← β1·m + (1 − β1)·g        v ← β2·v + (1 − β2)·g²
        p ← p − lr · m̂ / (√v̂ + ε)    with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)

    Two numbers of state per parameter (m and v): twice the model's size, the memory
    ZeRO shards. Every operation is per element, so Adam on a shard of the parameters
    computes exactly what Adam on all of them computes for those elements."""

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple[float, float] = (
            0.9, 0.999), eps: float = 1e-8) -> None:
        self.lr, (self.b1, self.b2), self.eps, self.t = lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m.mul_(self.b1).add_(g, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
            m_hat = m / (1 - self.b1 ** self.t)
            v_hat = v / (1 - self.b2 ** self.t)
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))

    def state_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (*self.m, *self.v))

    def state_dict(self) -> dict[str, Any]:
        """m, v and t under ``torch.optim.Adam``'s names (t drives the bias correction,
        so it is state too). Copies on the CPU: what a checkpoint keeps must not change
        with training, and must load on any device."""
        return {"exp_avg": [m.detach().to("cpu", copy=True) for m in self.m],
                "exp_avg_sq": [v.detach().to("cpu", copy=True) for v in self.v],
                "step": self.t}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The inverse of ``state_dict``, checked against these parameters first."""
        step = state.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError(f"Adam state: step must be a count ≥ 0, not {step!r}")
        for name, mine in (("exp_avg", self.m), ("exp_avg_sq", self.v)):
            saved = state.get(name)
            if (not isinstance(saved, list) or len(saved) != len(mine)
                    or not all(isinstance(s, torch.Tensor) and s.shape == t.shape
                               for s, t in zip(saved, mine, strict=False))):
                got = ([tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
                        for s in saved] if isinstance(saved, list) else type(saved).__name__)
                raise ValueError(f"Adam state: {name} is {got}, these parameters need "
                                 f"{[tuple(t.shape) for t in mine]}")
        for saved, mine in ((state["exp_avg"], self.m), (state["exp_avg_sq"], self.v)):
            for s, t in zip(saved, mine, strict=True):
                t.copy_(s)
        self.t = step


class Momentum:
    """SGD with momentum (Polyak 1964; torch.optim.SGD(momentum=μ), no dampening):

        b ← μ·b + g   (b = g at the first step)        p ← p − lr·b

    One number of state per parameter (the velocity b). Replicas that apply it to the
    same averaged gradient keep the same b, and stay identical."""

    def __init__(self, params: list[torch.Tensor], lr: float, momentum: float = 0.9) -> None:
        self.lr, self.mu = lr, momentum
        # Zero to start: μ·0 + g = g, torch's first step (it creates the buffer then).
        self.b = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        for p, g, b in zip(params, grads, self.b, strict=True):
            b.mul_(self.mu).add_(g)
            p.sub_(b, alpha=self.lr)

    def state_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.b)

    def state_dict(self) -> dict[str, Any]:
        return {"momentum_buffer": [b.detach().to("cpu", copy=True) for b in self.b]}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("momentum_buffer")
        if (not isinstance(saved, list) or len(saved) != len(self.b)
                or not all(isinstance(s, torch.Tensor) and s.shape == b.shape
                           for s, b in zip(saved, self.b, strict=True))):
            raise ValueError("momentum state: momentum_buffer does not fit these parameters")
        for s, b in zip(saved, self.b, strict=True):
            b.copy_(s)


def make_optimizer(name: str, params: list[torch.Tensor], lr: float) -> Adam | Momentum | None:
    """The run's optimizer for a strategy whose replicas apply the same update: None for
    plain SGD (no state: ``sgd_update``), Adam, or SGD with momentum 0.9."""
    if name == "adam":
        return Adam(params, lr)
    if name == "momentum":
        return Momentum(params, lr)
    return None
