"""Gradient compression: send fewer bytes, pay in accuracy (or not, with error feedback).

Each compressor turns a flat float32 gradient into a few tensors — what actually goes on
the wire — and back. ``wire_bytes`` of those tensors is what the UI calls "bytes on the
wire"; nothing is estimated.

Compressed gradients cannot be summed in flight the way a ring all-reduce sums raw
ones, so compressed data parallelism all-gathers every rank's encoded gradient and each
rank decodes and averages all of them (the QSGD paper's "broadcast" scheme). An
all-gather moves (n-1)/n·n = n-1 payloads per rank where a ring all-reduce moves
2(n-1)/n raw gradients: compression saves less on the wire than on the payload — the
reason PowerSGD (Vogels et al. 2019) was designed to be all-reduce compatible.

Error feedback keeps what compression dropped and adds it to the next gradient, so that
nothing is lost for good: e ← e + g; c = Q(e); e ← e − D(c); send c.

References: Alistarh et al., "QSGD", NeurIPS 2017; Stich, Cordonnier & Jaggi, "Sparsified
SGD with memory", NeurIPS 2018 (top-k / random-k); Bernstein et al., "signSGD", ICML 2018;
Karimireddy et al., "Error feedback fixes SignSGD and other gradient compression schemes",
ICML 2019.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch

METHODS = ("fp16", "qsgd", "topk", "randk", "sign", "powersgd")

Payload = list[torch.Tensor]


def wire_bytes(payload: Payload) -> int:
    return sum(t.numel() * t.element_size() for t in payload)


class Compressor(Protocol):
    def compress(self, g: torch.Tensor, gen: torch.Generator) -> Payload: ...

    def decompress(self, payload: Payload, numel: int) -> torch.Tensor: ...


class Fp16:
    """Half precision: 2 bytes instead of 4 per value, tiny rounding error."""

    def compress(self, g: torch.Tensor, gen: torch.Generator) -> Payload:
        return [g.half()]

    def decompress(self, payload: Payload, numel: int) -> torch.Tensor:
        return payload[0].float()


@dataclass(frozen=True, slots=True)
class Qsgd:
    """QSGD with ``levels`` = s: each |g_i|/‖g‖ is rounded stochastically to one of
    0, 1/s, …, 1, so that E[Q(g)] = g (unbiased). Sent: ‖g‖ and a signed level per value,
    bit-packed (4 bits per value for s ≤ 7, 8 bits for s ≤ 127)."""

    levels: int

    def compress(self, g: torch.Tensor, gen: torch.Generator) -> Payload:
        norm = g.norm()
        if norm == 0:
            return [norm.reshape(1), pack_signed(torch.zeros_like(g, dtype=torch.int8),
                                                 self.levels)]
        scaled = g.abs() / norm * self.levels  # in [0, s]
        lower = scaled.floor()
        # Round up with probability equal to the fractional part: unbiased.
        level = lower + (torch.rand(g.shape, generator=gen) < (scaled - lower)).float()
        signed = (level * g.sign()).to(torch.int8)
        return [norm.reshape(1), pack_signed(signed, self.levels)]

    def decompress(self, payload: Payload, numel: int) -> torch.Tensor:
        norm, packed = payload
        return unpack_signed(packed, self.levels, numel).float() * (norm / self.levels)


@dataclass(frozen=True, slots=True)
class TopK:
    """Keep the ``fraction`` of values largest in magnitude; send them with indices."""

    fraction: float

    def compress(self, g: torch.Tensor, gen: torch.Generator) -> Payload:
        k = max(1, math.ceil(self.fraction * g.numel()))
        indices = g.abs().topk(k).indices
        return [g[indices], indices.to(torch.int32)]

    def decompress(self, payload: Payload, numel: int) -> torch.Tensor:
        values, indices = payload
        out = torch.zeros(numel)
        out[indices.long()] = values
        return out


@dataclass(frozen=True, slots=True)
class RandomK:
    """Keep a random ``fraction`` of the values (no preference for large ones)."""

    fraction: float

    def compress(self, g: torch.Tensor, gen: torch.Generator) -> Payload:
        k = max(1, math.ceil(self.fraction * g.numel()))
        indices = torch.randperm(g.numel(), generator=gen)[:k]
        return [g[indices], indices.to(torch.int32)]

    decompress = TopK.decompress


class Sign:
    """One bit per value plus one scale: sign(g) · mean|g| (scaled signSGD)."""

    def compress(self, g: torch.Tensor, gen: torch.Generator) -> Payload:
        bits = (g >= 0).to(torch.uint8)
        return [g.abs().mean().reshape(1), pack_bits(bits, 1)]

    def decompress(self, payload: Payload, numel: int) -> torch.Tensor:
        scale, packed = payload
        bits = unpack_bits(packed, 1, numel)
        return (bits.float() * 2 - 1) * scale


@dataclass(frozen=True, slots=True)
class Scaled:
    """``factor`` · inner(x): turns an unbiased compressor with variance ω‖x‖² into a
    contraction, as error feedback needs (Karimireddy et al. 2019, Remark 6: QSGD scaled
    by 1/(1+ω)). Without it the residual of QSGD with few levels grows without bound."""

    inner: Compressor
    factor: float

    def compress(self, g: torch.Tensor, gen: torch.Generator) -> Payload:
        return self.inner.compress(g, gen)

    def decompress(self, payload: Payload, numel: int) -> torch.Tensor:
        return self.inner.decompress(payload, numel) * self.factor


def qsgd_variance(levels: int, numel: int) -> float:
    """ω of Alistarh et al., Lemma 3.1: E‖Q(x) − x‖² ≤ ω‖x‖²."""
    return min(numel / levels**2, math.sqrt(numel) / levels)


def make_compressor(method: str, *, levels: int = 7, fraction: float = 0.01) -> Compressor:
    if method == "fp16":
        return Fp16()
    if method == "qsgd":
        return Qsgd(levels)
    if method == "topk":
        return TopK(fraction)
    if method == "randk":
        return RandomK(fraction)
    if method == "sign":
        return Sign()
    raise ValueError(f"unknown compression {method!r}; choose one of {', '.join(METHODS)}")


class ErrorFeedback:
    """Remembers what compression dropped and adds it back next time."""

    def __init__(self, compressor: Compressor, numel: int) -> None:
        self.compressor = compressor
        self.residual = torch.zeros(numel)

    def compress(self, g: torch.Tensor, gen: torch.Generator) -> tuple[Payload, torch.Tensor]:
        corrected = g + self.residual
        payload = self.compressor.compress(corrected, gen)
        self.residual = corrected - self.compressor.decompress(payload, g.numel())
        return payload, corrected


# --------------------------------------------------------------------- bit packing
def bits_for_levels(levels: int) -> int:
    """Bits per value for a signed level in [-s, s], rounded up to 1, 2, 4 or 8."""
    needed = math.ceil(math.log2(2 * levels + 1))
    return next(b for b in (1, 2, 4, 8) if b >= needed)


def pack_signed(signed: torch.Tensor, levels: int) -> torch.Tensor:
    return pack_bits((signed.to(torch.int16) + levels).to(torch.uint8),
                     bits_for_levels(levels))


def unpack_signed(packed: torch.Tensor, levels: int, numel: int) -> torch.Tensor:
    return unpack_bits(packed, bits_for_levels(levels), numel).to(torch.int16) - levels


def pack_bits(values: torch.Tensor, bits: int) -> torch.Tensor:
    """Pack unsigned ``bits``-bit values (bits in 1, 2, 4, 8) into bytes."""
    per_byte = 8 // bits
    padded = torch.zeros(math.ceil(values.numel() / per_byte) * per_byte, dtype=torch.uint8)
    padded[: values.numel()] = values
    groups = padded.view(-1, per_byte).to(torch.int32)
    shifts = torch.arange(per_byte, dtype=torch.int32) * bits
    return (groups << shifts).sum(dim=1).to(torch.uint8)


def unpack_bits(packed: torch.Tensor, bits: int, numel: int) -> torch.Tensor:
    per_byte = 8 // bits
    shifts = torch.arange(per_byte, dtype=torch.int32) * bits
    values = (packed.to(torch.int32)[:, None] >> shifts) & ((1 << bits) - 1)
    return values.reshape(-1)[:numel].to(torch.uint8)


# ------------------------------------------------------- compressed averaging
class CompressedAveraging:
    """Average gradients over ranks by all-gathering every rank's encoded gradient.

    Every rank decodes the same payloads in the same (rank) order, so every replica
    applies the same update, exactly as in uncompressed data parallelism.
    """

    def __init__(self, compressor: Compressor, *, numel: int, error_feedback: bool,
                 seed: int, rank: int) -> None:
        if error_feedback and isinstance(compressor, Qsgd):
            compressor = Scaled(compressor, 1 / (1 + qsgd_variance(compressor.levels, numel)))
        self.compressor = compressor
        self.feedback = ErrorFeedback(compressor, numel) if error_feedback else None
        self.seed, self.rank = seed, rank

    def average(self, comms: object, g: torch.Tensor, step: int
                ) -> tuple[torch.Tensor, dict[str, float]]:
        from engine.collectives import all_gather_ring  # collectives import comms

        # Stochastic rounding differs per rank and step, but is reproducible.
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + self.rank * 7_919 + step)
        if self.feedback is not None:
            payload, compressed_input = self.feedback.compress(g, gen)
        else:
            payload, compressed_input = self.compressor.compress(g, gen), g
        decoded_own = self.compressor.decompress(payload, g.numel())
        comms.algo = "ring"  # type: ignore[attr-defined]
        everyone = all_gather_ring(comms, payload)  # type: ignore[arg-type]
        mean = torch.stack([self.compressor.decompress(p, g.numel())
                            for p in everyone]).mean(dim=0)
        denom = float(compressed_input.pow(2).sum()) or 1.0
        metrics = {
            "payload_bytes": wire_bytes(payload),
            "compress_ratio": round(g.numel() * g.element_size() / wire_bytes(payload), 3),
            # ‖x − Q(x)‖² / ‖x‖² of what was compressed this step.
            "compress_error": round(float((compressed_input - decoded_own).pow(2).sum())
                                    / denom, 6),
            "residual_norm": (round(float(self.feedback.residual.norm()), 6)
                              if self.feedback is not None else None),
        }
        return mean, metrics


# ------------------------------------------------------------------- PowerSGD
class PowerSgdAveraging:
    """PowerSGD: a rank-r approximation P·Qᵀ of every weight gradient, by one step of
    power iteration per training step (Q warm-started from the last step).

    Unlike the compressors above it is *linear*: the P's and Q's of all ranks can be
    summed, so it rides on an ordinary all-reduce instead of an all-gather. Bias vectors
    are all-reduced uncompressed. Error feedback is part of the algorithm.

    References: Vogels, Karimireddy & Jaggi, "PowerSGD: Practical low-rank gradient
    compression for distributed optimization", NeurIPS 2019.
    """

    def __init__(self, shapes: list[torch.Size], *, rank: int, seed: int,
                 algorithm: str) -> None:
        self.shapes = shapes
        self.algorithm = algorithm
        gen = torch.Generator().manual_seed(seed)  # the same initial Q on every rank
        self.qs = {i: torch.randn(s[1], min(rank, *s), generator=gen)
                   for i, s in enumerate(shapes) if len(s) == 2}
        self.residual = [torch.zeros(s) for s in shapes]

    def average(self, comms: object, g: torch.Tensor, step: int
                ) -> tuple[torch.Tensor, dict[str, float]]:
        from engine.collectives import all_reduce

        n = comms.topo.world_size  # type: ignore[attr-defined]

        def mean_over_ranks(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
            flat = torch.cat([t.reshape(-1) for t in tensors])
            all_reduce(comms, flat, self.algorithm)  # type: ignore[arg-type]
            flat /= n
            return [p.view_as(t) for p, t in zip(flat.split([t.numel() for t in tensors]),
                                                   tensors, strict=True)]

        grads = [part.view(s) + e for part, s, e in
                 zip(g.split([s.numel() for s in self.shapes]), self.shapes, self.residual,
                     strict=True)]
        mats = sorted(self.qs)
        ps = mean_over_ranks([grads[i] @ self.qs[i] for i in mats])
        ps = [torch.linalg.qr(p).Q for p in ps]  # orthonormal columns
        qs = mean_over_ranks([grads[i].T @ p for i, p in zip(mats, ps, strict=True)])
        vectors = [i for i in range(len(grads)) if i not in self.qs]
        means = dict(zip(vectors, mean_over_ranks([grads[i] for i in vectors]),
                         strict=True))
        sent = sum(p.numel() + q.numel() for p, q in zip(ps, qs, strict=True))
        sent += sum(grads[i].numel() for i in vectors)
        error = total = 0.0
        for i, p, q in zip(mats, ps, qs, strict=True):
            self.qs[i] = q
            means[i] = p @ q.T
            # Error feedback keeps what this rank's own matrix loses in the shared rank-r
            # subspace: M − P̂P̂ᵀM (Vogels et al., Algorithm 2: local decompression).
            self.residual[i] = grads[i] - p @ (p.T @ grads[i])
            error += float(self.residual[i].pow(2).sum())
            total += float(grads[i].pow(2).sum())
        out = torch.cat([means[i].reshape(-1) for i in range(len(grads))])
        return out, {
            "payload_bytes": sent * 4,
            "compress_ratio": round(g.numel() / sent, 3),
            "compress_error": round(error / (total or 1.0), 6),
            "residual_norm": round(sum(float(r.pow(2).sum()) for r in self.residual) ** 0.5,
                                   6),
        }
