"""How much memory, idle time and traffic a training set-up needs, for models far bigger
than the lab can run: the formulas the small runs measure (engine/memory.py, the
pipeline's cells, comms' byte counts), applied to GPT-3 or Llama sizes.

Per GPU, with data (d), pipeline (p) and tensor (t) parallel sizes:

- model states (Rajbhandari et al. 2020, "ZeRO", §3 and Fig. 1): mixed precision with
  Adam keeps 2 bytes of fp16 parameters, 2 of fp16 gradients and K = 12 of fp32 master
  parameters, momentum and variance per parameter. A GPU holds Ψ/(p·t) of the model;
  ZeRO stage 1 divides the K bytes by d, stage 2 also the gradients, stage 3 also the
  parameters. (fp32 training without master copies: 4 + 4 + 8.)
- activations of one transformer layer for one micro-batch (Korthikanti et al. 2022,
  "Reducing Activation Recomputation in Large Transformer Models", Eq. 2 and §4):
  s·b·h·(10 + 24/t + 5·a·s/(h·t)) bytes with tensor parallelism t (34 + 5as/h at t = 1),
  and 2·s·b·h (only each layer's input) with full recomputation. A pipeline stage holds
  layers/p of them, for up to p micro-batches in flight (1F1B).
- the pipeline bubble: (p − 1)/(m + p − 1) of each step (Huang et al. 2019).
- bytes each GPU sends per step: data parallelism's ring all-reduce of the fp16 gradient
  of its Ψ/(p·t) parameters, 2(d − 1)/d of it (ZeRO 1 and 2 send the same, stage 3 1.5×);
  tensor parallelism's 4 all-reduces per layer per micro-batch of s·b·h fp16 values,
  2(t − 1)/t each (Shoeybi et al. 2019).

The browser has the same formulas (frontend/static/js/views/calculatorcore.js);
tests/test_calculator.py checks both against the papers' own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 2**30

# Published sizes: layers, hidden size h, attention heads a, parameters (their papers).
MODELS: dict[str, dict[str, float]] = {
    "gpt3-175b": {"layers": 96, "hidden": 12288, "heads": 96, "params": 175e9},
    "llama3-8b": {"layers": 32, "hidden": 4096, "heads": 32, "params": 8.0e9},
    "llama3-70b": {"layers": 80, "hidden": 8192, "heads": 64, "params": 70.6e9},
    "llama3-405b": {"layers": 126, "hidden": 16384, "heads": 128, "params": 405e9},
}

# Memory of common accelerators, GiB.
ACCELERATORS = {"V100 32GB": 32, "A100 40GB": 40, "A100 80GB": 80, "H100 80GB": 80,
                "H200 141GB": 141}


@dataclass(frozen=True)
class Setup:
    params: float  # Ψ
    layers: int
    hidden: int
    heads: int
    seq: int = 2048
    micro_batch: int = 1
    micro_batches: int = 8  # m, per step
    data: int = 1  # d
    pipeline: int = 1  # p
    tensor: int = 1  # t
    zero: int = 0  # 0 (none) .. 3
    mixed: bool = True  # fp16/bf16 with fp32 master copies, else fp32 throughout
    recompute: bool = False  # full activation recomputation


def model_states(s: Setup) -> dict[str, float]:
    """Bytes of parameters, gradients and optimizer state per GPU."""
    shard = s.params / (s.pipeline * s.tensor)  # what this GPU's model parallelism leaves
    p_bytes, g_bytes, k_bytes = (2, 2, 12) if s.mixed else (4, 4, 8)
    return {"params": p_bytes * shard / (s.data if s.zero >= 3 else 1),
            "grads": g_bytes * shard / (s.data if s.zero >= 2 else 1),
            "optimizer": k_bytes * shard / (s.data if s.zero >= 1 else 1)}


def activations(s: Setup) -> float:
    """Bytes of activations per GPU at the peak of a 1F1B step."""
    sbh = s.seq * s.micro_batch * s.hidden
    if s.recompute:
        per_layer = 2 * sbh
    else:
        per_layer = sbh * (10 + 24 / s.tensor
                           + 5 * s.heads * s.seq / (s.hidden * s.tensor))
    in_flight = min(s.pipeline, s.micro_batches)  # stage 0 of 1F1B holds p micro-batches
    return per_layer * (s.layers / s.pipeline) * in_flight


def bubble(s: Setup) -> float:
    return (s.pipeline - 1) / (s.micro_batches + s.pipeline - 1)


def bytes_per_step(s: Setup) -> dict[str, float]:
    """Bytes one GPU sends per step, by kind of parallelism."""
    grad_bytes = (2 if s.mixed else 4) * s.params / (s.pipeline * s.tensor)
    dp = 2 * (s.data - 1) / s.data * grad_bytes * (1.5 if s.zero >= 3 else 1)
    tp_all_reduce = (2 if s.mixed else 4) * s.seq * s.micro_batch * s.hidden
    tp = (4 * (s.layers / s.pipeline) * s.micro_batches * 2 * (s.tensor - 1) / s.tensor
          * tp_all_reduce)
    pp = 0.0
    if s.pipeline > 1:  # activations forward and gradients back, per micro-batch
        pp = 2 * s.micro_batches * tp_all_reduce / s.tensor
    return {"data": dp, "tensor": tp, "pipeline": pp}


def per_gpu(s: Setup) -> dict[str, float]:
    states = model_states(s)
    act = activations(s)
    return {**states, "activations": act, "total": sum(states.values()) + act,
            "bubble": bubble(s), **{f"bytes_{k}": v for k, v in bytes_per_step(s).items()}}
