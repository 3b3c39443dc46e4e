"""Compressors: unbiased where promised, bounded error, exact bytes, and nothing lost with
error feedback."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from engine.compression import (
    ErrorFeedback,
    Qsgd,
    RandomK,
    Sign,
    TopK,
    make_compressor,
    pack_bits,
    unpack_bits,
    wire_bytes,
)
from engine.config import RunConfig
from engine.runner import run_headless
from tests.helpers import steps_by_rank


def _vector(n: int = 500, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("numel", [1, 7, 64, 1001])
def test_bit_packing_round_trips(bits: int, numel: int) -> None:
    values = torch.randint(0, 2**bits, (numel,), dtype=torch.uint8)
    packed = pack_bits(values, bits)
    assert packed.numel() == math.ceil(numel * bits / 8)
    assert torch.equal(unpack_bits(packed, bits, numel), values)


@pytest.mark.parametrize("levels", [1, 4, 7, 127])
def test_qsgd_is_unbiased_and_within_the_variance_bound(levels: int) -> None:
    v = _vector()
    q = Qsgd(levels)
    gen = torch.Generator().manual_seed(1)
    draws = 4000
    samples = torch.stack([q.decompress(q.compress(v, gen), v.numel()) for _ in range(draws)])
    # Alistarh et al., Lemma 3.1: E‖Q(v) − v‖² ≤ min(n/s², √n/s) · ‖v‖².
    n = v.numel()
    bound = min(n / levels**2, math.sqrt(n) / levels) * float(v.pow(2).sum())
    variance = float((samples - v).pow(2).sum(1).mean())
    assert variance <= bound
    # Unbiased: the mean of many draws converges to v, as fast as the variance allows
    # (E‖mean − v‖² = variance / draws; a biased quantizer would stall at its bias).
    assert float((samples.mean(0) - v).pow(2).sum()) <= 3 * variance / draws


def test_the_unbiasedness_check_catches_a_biased_compressor() -> None:
    v = _vector()
    top = TopK(0.1)
    out = top.decompress(top.compress(v, torch.Generator()), v.numel())
    # Deterministic and biased: its "mean" never approaches v.
    assert float((out - v).pow(2).sum()) > 0.5 * float(v.pow(2).sum())


def test_qsgd_4_bit_payload_is_8x_smaller() -> None:
    v = _vector(1000)
    payload = Qsgd(7).compress(v, torch.Generator().manual_seed(0))
    assert wire_bytes(payload) == 4 + 1000 // 2  # the norm, then 4 bits per value


def test_top_k_keeps_the_largest_values() -> None:
    v = _vector(1000)
    out = TopK(0.01).decompress(TopK(0.01).compress(v, torch.Generator()), v.numel())
    kept = out.nonzero().flatten()
    assert len(kept) == 10
    assert set(kept.tolist()) == set(v.abs().topk(10).indices.tolist())
    assert_close(out[kept], v[kept])


def test_random_k_keeps_a_random_subset_and_sign_one_bit() -> None:
    v = _vector(1000)
    gen = torch.Generator().manual_seed(3)
    out = RandomK(0.05).decompress(RandomK(0.05).compress(v, gen), v.numel())
    assert (out != 0).sum() == 50
    payload = Sign().compress(v, gen)
    assert wire_bytes(payload) == 4 + 1000 // 8
    decoded = Sign().decompress(payload, v.numel())
    assert torch.equal(decoded.sign(), torch.where(v >= 0, 1.0, -1.0))


@pytest.mark.parametrize("method", ["qsgd", "topk", "randk", "sign", "fp16"])
def test_error_feedback_loses_nothing(method: str) -> None:
    """What was sent plus what is remembered is exactly everything that was given."""
    compressor = make_compressor(method, levels=3, fraction=0.05)
    feedback = ErrorFeedback(compressor, 300)
    gen = torch.Generator().manual_seed(0)
    total_in, total_sent = torch.zeros(300), torch.zeros(300)
    for i in range(20):
        g = _vector(300, seed=i)
        payload, _ = feedback.compress(g, gen)
        total_in += g
        total_sent += compressor.decompress(payload, 300)
    assert_close(total_sent + feedback.residual, total_in, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize(("options", "message"), [
    ({"compression": "qsgd", "qsgd_levels": 0}, r"options\.qsgd_levels must be between 1"),
    ({"compression": "topk", "compress_fraction": 0.0},
     r"options\.compress_fraction must be greater"),
    ({"compression": "topk", "compress_fraction": 1.5}, r"options\.compress_fraction"),
    ({"compression": "zip"}, r"options\.compression must be one of"),
    ({"error_feedback": True}, r"options\.error_feedback needs a compression method"),
    ({"compression": "qsgd", "allreduce": "ring"}, r"options\.allreduce: .*all-gathered"),
])
def test_bad_compression_knobs_are_rejected(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunConfig(workers=2, options=options)


def test_compressed_run_keeps_replicas_identical_and_reports_metrics() -> None:
    log = run_headless(RunConfig(workers=3, steps=6, batch_size=8, detail=True,
                                 options={"compression": "qsgd", "error_feedback": True}),
                       timeout=60)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    by_rank = steps_by_rank(log)
    for step in range(6):
        assert len({by_rank[r][step]["param_hash"] for r in range(3)}) == 1
    e = by_rank[1][-1]
    assert e["compress_ratio"] > 7 and e["payload_bytes"] > 0 and e["residual_norm"] > 0
    # An all-gather: each rank forwards the 2 other payloads.
    assert e["bytes_sent"] == 2 * e["payload_bytes"]
    comm = [c for c in log if c["type"] == "comm" and c["step"] == 6 and c["rank"] == 1]
    assert [c["op"] for c in comm] == ["all_gather", "all_gather"]


def test_powersgd_is_linear_so_it_rides_on_an_all_reduce() -> None:
    log = run_headless(RunConfig(workers=2, steps=30, batch_size=16, lr=0.6, detail=True,
                                 options={"compression": "powersgd", "powersgd_rank": 2,
                                          "allreduce": "ring"}), timeout=60)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    by_rank = steps_by_rank(log)
    for step in range(30):
        assert by_rank[0][step]["param_hash"] == by_rank[1][step]["param_hash"]
    last = by_rank[0][-1]
    assert last["compress_ratio"] > 2 and 0 <= last["compress_error"] < 1
    ops = {c["op"] for c in log if c["type"] == "comm" and c["step"] == 30}
    assert ops == {"reduce_scatter", "all_gather"}  # ring all-reduces of P, Q and biases
    first = sum(e["loss"] for e in log if e["type"] == "step" and e["step"] <= 3)
    final = sum(e["loss"] for e in log if e["type"] == "step" and e["step"] > 27)
    assert final < first  # it trains


def test_qsgd_with_error_feedback_is_scaled_so_its_residual_stays_bounded() -> None:
    """Unscaled QSGD is no contraction (error > 1): its residual would explode."""
    log = run_headless(RunConfig(workers=2, steps=60, batch_size=32, lr=0.5,
                                 options={"compression": "qsgd", "qsgd_levels": 1,
                                          "error_feedback": True}),
                       timeout=60)
    assert log[-1]["status"] == "finished", log[-1]["error"]
    steps = [e for e in log if e["type"] == "step"]
    assert max(e["residual_norm"] for e in steps) < 50
    first = sum(e["loss"] for e in steps[:4]) / 4
    last = sum(e["loss"] for e in steps[-4:]) / 4
    assert last < first
