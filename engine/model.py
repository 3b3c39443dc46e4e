"""The small models the lab trains, and helpers every strategy shares."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import torch
from torch import nn

from engine.transformer import TinyGPT


def model_for(config: Any, num_classes: int) -> nn.Module:
    """The run's model (``config.model``), seeded: every rank builds the same weights.
    ``num_classes``: the data set's classes (2 for points, the vocabulary for text)."""
    if config.model == "transformer":
        torch.manual_seed(config.seed)
        return TinyGPT(vocab=num_classes, context=config.context, d_model=config.d_model,
                       layers=config.layers, heads=config.heads)
    return build_model(config.model, config.hidden, config.seed)


def build_model(name: str, hidden: int, seed: int) -> nn.Module:
    """The seeded MLP on 2-D points: every rank that calls this with the same seed gets
    the same weights."""
    if name != "mlp":
        raise ValueError(f"unknown model {name!r}")
    torch.manual_seed(seed)
    # Tanh rather than ReLU: smooth decision boundaries that are pleasant to watch.
    return nn.Sequential(
        nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2)
    )


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def flat_params(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@torch.no_grad()
def load_flat(tensors: list[torch.Tensor], flat: torch.Tensor) -> None:
    """Copy consecutive slices of ``flat`` into ``tensors`` (the inverse of a flatten)."""
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()


def param_checksum(model: nn.Module) -> float:
    """float64 sum of every parameter: equal across replicas that are in sync."""
    return float(sum(p.detach().double().sum() for p in model.parameters()))


def param_hash(model: nn.Module) -> str:
    """A short hash of the raw parameter bytes, for bitwise identity."""
    raw = flat_params(model).cpu().numpy().tobytes()
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def param_fingerprint(params: nn.Module | list[torch.Tensor]) -> tuple[float, str]:
    """``param_checksum`` and ``param_hash`` at once, from one copy of the parameters
    (the worker reports both after every step, from a list it keeps: walking a module's
    parameters each step costs more than the sums)."""
    tensors = params.parameters() if isinstance(params, nn.Module) else params
    flat = torch.cat([p.detach().reshape(-1) for p in tensors]).cpu()
    raw = flat.numpy().tobytes()
    return float(flat.double().sum()), hashlib.blake2b(raw, digest_size=8).hexdigest()


@torch.no_grad()
def boundary_grid(
    model: nn.Module, extent: tuple[float, float, float, float], n: int = 40
) -> dict[str, object]:
    """P(class 1) on an n×n grid over the data's extent, for the UI's decision boundary:
    row-major from the ymin row, quantized to bytes, each row coded as differences from
    the cell on its left (``d8``, base64; frontend views/boundary.js decodes it)."""
    xmin, xmax, ymin, ymax = extent
    device = next(model.parameters()).device
    xs = torch.linspace(xmin, xmax, n, device=device)
    ys = torch.linspace(ymin, ymax, n, device=device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # row-major from ymin
    points = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    probs = torch.softmax(model(points), dim=1)[:, 1]
    # One byte per cell (P × 255, rounded), base64: 2 KB a frame instead of 11 KB of JSON
    # numbers — the eye cannot tell 1/255 apart, and a lecture hall receives every frame.
    # P changes smoothly from cell to cell, so each cell is sent as its difference from the
    # one on its left (mod 256; a row's first cell as it is): mostly the same few small
    # bytes, which the wire's deflate halves (bench/wire.py) — exactly the same picture.
    q8 = (probs * 255).round().to(torch.int16).reshape(n, n)
    d8 = q8.clone()
    d8[:, 1:] = q8[:, 1:] - q8[:, :-1]
    return {
        "nx": n,
        "ny": n,
        "extent": [round(v, 4) for v in extent],
        "d8": base64.b64encode(d8.remainder(256).to(torch.uint8).cpu().numpy().tobytes())
        .decode("ascii"),
    }
