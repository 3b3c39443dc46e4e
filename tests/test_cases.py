"""Chapter 13's published set-ups (frontend/static/data/cases.json, backend/cases.py),
computed with engine/calculator.py and checked against the facts their papers publish:

- Megatron-LM (Narayanan et al., SC 2021), Table 1, the 145.6B row: 80 layers, hidden
  12288, 96 heads, t = 8, p = 8, 1536 GPUs, batch 2304; §5: sequence 2048, 80-GB A100s.
- OPT-175B (Zhang et al. 2022), §2.4: 992 80GB A100s, FSDP with Megatron-LM tensor
  parallelism (8); Table 1: 2M-token batches; §2.5: ≥ 35 manual restarts.
- Llama 3 405B (Llama Team 2024), Table 4: 16,384 H100s, TP 8, CP 1, PP 16, DP 128,
  sequence 8192, 16 sequences per DP group; Table 3: 126 layers, width 16,384, 128 heads.

Each: d · p · t is the paper's GPU count; its memory per GPU fits the paper's GPU; the
same model without the parallelism (and sharding) it was trained with does not.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from backend.cases import CASES_FILE, cases, load_cases
from backend.lessons import lessons
from engine.calculator import ACCELERATORS, GIB, per_gpu

PAPER = {  # id: (GPUs, accelerator, d, p, t) as published
    "megatron-146b": (1536, "A100 80GB", 24, 8, 8),
    "opt-175b": (992, "A100 80GB", 124, 1, 8),
    "llama3-405b": (16384, "H100 80GB", 128, 16, 8),
}


def test_every_case_validates_and_the_lesson_names_them_all() -> None:
    loaded = load_cases()
    assert list(loaded) == list(PAPER)
    assert lessons()["case-studies"].cases == list(PAPER)
    raw = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    for c in raw["cases"]:
        src = c["source"]
        assert src["authors"] and src["title"] and src["year"] and src["where"]["en"]
        for text in (c["title"], c["story"], c["assumed"], src["where"]):
            assert text["en"].strip() and text["zh"].strip(), c["id"]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text["zh"]), c["id"]


@pytest.mark.parametrize("case_id", list(PAPER))
def test_the_published_set_up_fits_and_matches_the_paper(case_id: str) -> None:
    case = cases()[case_id]
    gpus, accelerator, d, p, t = PAPER[case_id]
    s = case.setup.calculator()
    assert (s.data, s.pipeline, s.tensor) == (d, p, t)
    assert s.data * s.pipeline * s.tensor == gpus == case.gpus
    assert case.accelerator == accelerator
    r = per_gpu(s)
    cap = ACCELERATORS[accelerator]
    assert r["total"] / GIB < cap, (case_id, r["total"] / GIB)
    # Without its parallelism and sharding the same model is far too big for one GPU:
    # 16 bytes per parameter of model states alone (ZeRO §3) is terabytes.
    alone = per_gpu(dataclasses.replace(s, data=1, pipeline=1, tensor=1, zero=0))
    assert alone["total"] / GIB > 20 * cap
    # Tensor parallelism sends the most bytes per GPU per step: the reason all three keep
    # it inside a server of 8 GPUs (t = 8) and the lesson's question.
    assert r["bytes_tensor"] > r["bytes_data"] > 0
    assert r["bytes_tensor"] > r["bytes_pipeline"]


def test_each_cases_own_numbers() -> None:
    """What the calculator gives for each, as the lesson and the report quote it."""
    meg = per_gpu(cases()["megatron-146b"].setup.calculator())
    # 145.6e9 / 64 parameters per GPU × 16 bytes = 36.4 GB of model states
    assert sum(meg[k] for k in ("params", "grads", "optimizer")) == pytest.approx(36.4e9)
    # Megatron's 1F1B bubble (p − 1)/m (§2.2) is 7/96; the calculator's form, 7/103
    assert meg["bubble"] == pytest.approx(7 / 103)
    # micro-batches: the batch of 2304 over 24 replicas
    assert cases()["megatron-146b"].setup.micro_batches * 24 == 2304

    opt = cases()["opt-175b"]
    o = per_gpu(opt.setup.calculator())
    assert o["bubble"] == 0 and o["bytes_pipeline"] == 0  # no pipeline
    # FSDP (ZeRO-3): 175e9 / 8 parameters per slice, × 16 bytes, over 124 replicas
    assert sum(o[k] for k in ("params", "grads", "optimizer")) == pytest.approx(
        16 * 175e9 / 8 / 124)
    # 124 replicas × 8 micro-batches × 2048 tokens ≈ the paper's 2M-token batch
    tokens = 124 * opt.setup.micro_batches * opt.setup.micro_batch * opt.setup.seq
    assert tokens == pytest.approx(2e6, rel=0.02)

    llama = cases()["llama3-405b"]
    r = per_gpu(llama.setup.calculator())
    # Table 4: 16 sequences of 8192 tokens per DP group, 128 groups: 16M tokens a step
    assert llama.setup.micro_batches * llama.setup.micro_batch * 128 * 8192 == 16 * 2**20
    assert r["bubble"] == pytest.approx(15 / 31)  # 1F1B; Llama 3's interleaving is less
    # Without recomputation (the calculator has no FlashAttention) it would not fit.
    full = per_gpu(dataclasses.replace(llama.setup.calculator(), recompute=False))
    assert full["total"] / GIB > 80
