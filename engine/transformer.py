"""A tiny character-level, decoder-only transformer (GPT-style), small enough to train on
two CPU cores and big enough to be worth splitting across processes.

The model is a list of *pieces*: the embedding, ``layers`` transformer blocks, and the
head. Pipeline parallelism (``engine/strategies/pipeline.py``) gives each stage a
contiguous run of pieces; tensor parallelism splits inside a block. Every piece maps
activations of shape (batch, time, d_model) to the same shape, except the embedding
(token ids in) and the head (logits out).

Each block is pre-norm: ``x + attention(norm(x))``, then ``x + mlp(norm(x))``.
Attention is written out (no fused kernel) so a student can read every product.

References: Vaswani et al., "Attention Is All You Need", 2017; Radford et al.,
"Language Models are Unsupervised Multitask Learners" (GPT-2), 2019.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Embedding(nn.Module):
    """Token ids (batch, time) → vectors (batch, time, d_model): what each character is,
    plus where it stands."""

    def __init__(self, vocab: int, context: int, d_model: int) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Embedding(context, d_model)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        where = torch.arange(idx.shape[1], device=idx.device)
        return self.tokens(idx) + self.positions(where)


class SelfAttention(nn.Module):
    """Causal multi-head self-attention: each position looks at itself and the past.

    ``heads`` heads of ``head_dim`` each; query, key and value are separate projections
    so that a tensor-parallel split can hand out whole heads (their columns)."""

    def __init__(self, d_model: int, heads: int, head_dim: int | None = None) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = head_dim or d_model // heads
        inner = self.heads * self.head_dim
        self.query = nn.Linear(d_model, inner)
        self.key = nn.Linear(d_model, inner)
        self.value = nn.Linear(d_model, inner)
        self.out = nn.Linear(inner, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.mix(x))

    def mix(self, x: torch.Tensor) -> torch.Tensor:
        """Every head's attention-weighted values, side by side (b, t, heads·head_dim):
        everything before the output projection (tensor parallelism splits here)."""
        b, t, _ = x.shape

        def split_heads(z: torch.Tensor) -> torch.Tensor:  # (b, t, h·d) → (b, h, t, d)
            return z.view(b, t, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split_heads(self.query(x)), split_heads(self.key(x)), split_heads(self.value(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (b, h, t, t)
        future = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), diagonal=1)
        weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        return (weights @ v).transpose(1, 2).reshape(b, t, self.heads * self.head_dim)


class FeedForward(nn.Module):
    """Position-wise MLP: widen 4×, GELU, narrow back."""

    def __init__(self, d_model: int, hidden: int | None = None) -> None:
        super().__init__()
        self.up = nn.Linear(d_model, hidden or 4 * d_model)
        self.down = nn.Linear(hidden or 4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attention = SelfAttention(d_model, heads)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = FeedForward(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Head(nn.Module):
    """Final norm and the projection to one logit per character of the vocabulary."""

    def __init__(self, d_model: int, vocab: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.logits = nn.Linear(d_model, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.norm(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, context: int, d_model: int, layers: int, heads: int
                 ) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
        self.context = context
        self.embed = Embedding(vocab, context, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads) for _ in range(layers))
        self.head = Head(d_model, vocab)

    def pieces(self) -> list[nn.Module]:
        """The model as a chain of modules, in order: what a pipeline splits."""
        return [self.embed, *self.blocks, self.head]

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = idx
        for piece in self.pieces():
            x = piece(x)
        return x  # (batch, time, vocab) logits


@torch.no_grad()
def generate(model: nn.Module, prompt: torch.Tensor, length: int, context: int
             ) -> torch.Tensor:
    """Greedy continuation of ``prompt`` (1-D token ids) by ``length`` tokens: what the
    page shows as the model's writing (deterministic, so a replay shows the same)."""
    idx = prompt.view(1, -1)
    for _ in range(length):
        logits = model(idx[:, -context:])
        idx = torch.cat([idx, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return idx[0, prompt.numel():]
