"""A data-parallel run as a standalone PyTorch DDP script (chapter 5: the frameworks).

``render(config)`` writes a ``train.py`` that needs nothing but PyTorch and reproduces the
run: ``torchrun --standalone --nproc-per-node N train.py``. The same data set, model, seed,
sampler, optimizer and steps, so it ends where the run ended (tests/test_ddp_script.py
compares the final loss and parameters with ``assert_close``).

What is the same, and how:

- the data, the model and the sampler are DistLab's own functions, copied into the script
  with ``inspect.getsource`` at export time (one source of truth: if engine/data.py
  changes, the next export changes with it);
- the gradient average is DDP's: ``DistributedDataParallel`` all-reduces the gradients in
  buckets, overlapped with backward (Li et al., VLDB 2020). DistLab sums then divides by
  N, DDP divides by N then sums: equal up to float rounding (bitwise for N = 2);
- the optimizers are ``torch.optim``'s, which compute what engine/strategies/optimizers.py
  computes (plain SGD, SGD with momentum 0.9, Adam with β 0.9/0.999, ε 1e-8);
- compression only where PyTorch has it, as a DDP communication hook: ``fp16`` →
  ``default_hooks.fp16_compress_hook``, ``powersgd`` → ``powerSGD_hook.powerSGD_hook``
  (PyTorch's PowerSGD: the same algorithm, but its own random start, a few plain
  all-reduce steps first and small matrices sent uncompressed — close, not equal).
  Other methods are refused with a message naming the option.

Left out on purpose, because they change time and not numbers: the pace, emulated compute
and stragglers (sleeps), the network model (a cost model), the hand-written all-reduce
algorithms (the same sum). Scheduled faults change the numbers and are refused.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from typing import Any

from engine import data, model, transformer
from engine.config import RunConfig

# Compression methods with a DDP communication hook in PyTorch, and that hook.
HOOKS = {"fp16": "default_hooks.fp16_compress_hook",
         "powersgd": "powerSGD_hook.powerSGD_hook"}
MEDIA_TYPE = "text/x-python"


class ScriptRefused(ValueError):
    """This run cannot be written as a DDP script; the message names the setting."""


def filename(run_id: str) -> str:
    return f"distlab-{run_id}-train.py"


def why_not(config: RunConfig) -> str | None:
    """Why this config has no DDP script, naming the setting; ``None`` if it has one."""
    if not config.spec.ddp_script:
        return (f"strategy: a '{config.strategy}' run has no DDP script; only data-parallel "
                "runs are what DistributedDataParallel does")
    opts = config.opts
    if opts.compression is not None and opts.compression not in HOOKS:
        return (f"options.compression: PyTorch DDP has no built-in hook for "
                f"'{opts.compression}' (it has fp16 and powersgd); export the run without "
                "compression, or with one of those")
    if opts.error_feedback:
        return ("options.error_feedback: PyTorch's fp16 hook keeps no error feedback; "
                "export the run without it")
    if config.faults:
        return ("faults: the run has scheduled faults, which change what it computes; a "
                "DDP script has no fault injection (export the run without them)")
    return None


def render(config: RunConfig, run_id: str | None = None) -> str:
    """The script's text; ``ScriptRefused`` (a ValueError) when there is none."""
    reason = why_not(config)
    if reason is not None:
        raise ScriptRefused(reason)
    text = config.dataset in data.CORPUS_FILES
    parts = [_header(config, run_id), _IMPORTS, _settings(config),
             "\n# ---- the data, exactly as DistLab makes it (copied from engine/data.py)\n",
             *(_source(f) for f in (data.epoch_order, data.batch_indices))]
    if text:
        parts += [f"\nTEXT = {data.read_corpus(config.dataset)!r}  # "
                  f"engine/corpus/{data.CORPUS_FILES[config.dataset]}\n", _TEXT_DATA,
                  "\n# ---- the model (copied from engine/transformer.py)\n",
                  _transformer_source(), _TEXT_MODEL]
    else:
        points = {"spirals": data._spirals, "moons": data._moons, "blobs": data._blobs}
        maker = points[config.dataset]
        parts += [_source(maker), _POINT_DATA.replace("@MAKER@", maker.__name__),
                  "\n# ---- the model (copied from engine/model.py)\n",
                  _source(model.build_model), _POINT_MODEL]
    parts += [_TRAIN.replace("@HOOK@", _hook(config)).replace("@OPTIMIZER@",
                                                              _OPTIMIZERS[config.optimizer])]
    return "".join(parts)


def _header(config: RunConfig, run_id: str | None) -> str:
    opts = config.opts
    notes = []
    if opts.allreduce != "builtin":
        notes.append(f"The run summed gradients with DistLab's hand-written "
                     f"'{opts.allreduce}' all-reduce; DDP uses the backend's own (the same sum).")
    if config.pace is not None or config.emulated_compute_ms or config.straggler != "none":
        notes.append("The run's pace, emulated compute and stragglers were sleeps: left "
                     "out (they change time, not numbers).")
    if opts.compression == "powersgd":
        notes.append("PowerSGD is PyTorch's implementation: the same algorithm, not the "
                     "same numbers (its own random start, plain all-reduce for the first "
                     "steps, small matrices sent uncompressed).")
    note = "".join("\n" + textwrap.fill(n, 88) for n in notes)
    source = f"DistLab run {run_id}" if run_id else "A DistLab run"
    return (f'"""{source} as a standalone PyTorch DDP script '
            f'(strategy {config.strategy}, {config.workers} workers).\n\n'
            f"Run it with:  torchrun --standalone --nproc-per-node {config.workers} train.py\n"
            "Options: --out FILE saves the final parameters and every step's losses "
            "(torch.save).\n"
            f"It needs only PyTorch; data, model and sampler are DistLab's own code.{note}\n"
            '"""\n')


def _settings(config: RunConfig) -> str:
    keys = ["workers", "steps", "batch_size", "lr", "optimizer", "seed", "dataset",
            "num_samples", "model", "backend"]
    keys += (["d_model", "layers", "heads", "context"] if config.model == "transformer"
             else ["hidden"])
    settings: dict[str, Any] = {k: getattr(config, k) for k in keys}
    settings["compression"] = config.opts.compression
    if config.opts.compression == "powersgd":
        settings["powersgd_rank"] = config.opts.powersgd_rank
    body = json.dumps(settings, indent=4).replace("null", "None").replace(
        "true", "True").replace("false", "False")
    return f"\n# The run's settings (its config, GET /api/runs/{{id}}).\nRUN = {body}\n"


def _source(fn: Any) -> str:
    # lru_cache wraps epoch_order: getsource unwraps it and keeps the decorator line.
    return "\n\n" + inspect.getsource(inspect.unwrap(fn))


def _transformer_source() -> str:
    """engine/transformer.py without its docstring and imports (the script has them)."""
    src = inspect.getsource(transformer)
    return "\n" + src[src.index("from torch import nn\n") + len("from torch import nn\n"):]


def _hook(config: RunConfig) -> str:
    method = config.opts.compression
    if method == "fp16":
        return ("    # fp16: every bucket is cast to half precision, all-reduced, cast back.\n"
                "    ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)\n")
    if method == "powersgd":
        return ("    # PowerSGD (Vogels et al. 2019): a rank-r approximation of each gradient\n"
                "    # matrix, with error feedback. PyTorch needs a few plain steps first.\n"
                "    state = powerSGD_hook.PowerSGDState(\n"
                "        process_group=None, matrix_approximation_rank=RUN['powersgd_rank'],\n"
                "        start_powerSGD_iter=2, min_compression_rate=0.0,\n"
                "        random_seed=RUN['seed'])\n"
                "    ddp.register_comm_hook(state, powerSGD_hook.powerSGD_hook)\n")
    return "    # No compression: DDP's default hook all-reduces every bucket (sum, then / N).\n"


_OPTIMIZERS = {
    "sgd": "torch.optim.SGD(ddp.parameters(), lr=RUN['lr'])",
    "momentum": "torch.optim.SGD(ddp.parameters(), lr=RUN['lr'], momentum=0.9)",
    "adam": "torch.optim.Adam(ddp.parameters(), lr=RUN['lr'], betas=(0.9, 0.999), eps=1e-8)",
}

_IMPORTS = '''
import argparse
import functools
import hashlib
import math
import os
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks, powerSGD_hook
from torch.nn.parallel import DistributedDataParallel as DDP
'''

_POINT_DATA = '''

def make_data():
    """2-D points and their labels (engine/data.py, make_dataset)."""
    gen = torch.Generator().manual_seed(RUN["seed"])
    x, y = @MAKER@(RUN["num_samples"], gen)
    return x.float(), y.long(), 2  # two classes

'''

_POINT_MODEL = '''

def make_model(_classes):
    return build_model("mlp", RUN["hidden"], RUN["seed"])
'''

_TEXT_DATA = '''

def make_data():
    """Windows of the text at seeded places: x a window, y the same shifted by one
    (engine/data.py, make_text_dataset)."""
    vocab = "".join(sorted(set(TEXT)))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in TEXT], dtype=torch.long)
    gen = torch.Generator().manual_seed(RUN["seed"])
    starts = torch.randint(0, len(ids) - RUN["context"], (RUN["num_samples"],), generator=gen)
    window = starts[:, None] + torch.arange(RUN["context"])
    return ids[window], ids[window + 1], len(vocab)  # one class per character

'''

_TEXT_MODEL = '''

def make_model(vocab):
    torch.manual_seed(RUN["seed"])
    return TinyGPT(vocab=vocab, context=RUN["context"], d_model=RUN["d_model"],
                   layers=RUN["layers"], heads=RUN["heads"])
'''

_TRAIN = '''

# ---- training: what DistLab's data_parallel strategy does, written with DDP
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="save the final parameters and every step's losses here")
    args = parser.parse_args()
    # DistLab's choice (engine/processes.py): nccl where there is a GPU per worker.
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    use_cuda = RUN["backend"] == "nccl" or (RUN["backend"] == "auto"
                                            and gpus >= int(os.environ["WORLD_SIZE"]))
    dist.init_process_group("nccl" if use_cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    assert world == RUN["workers"], f"run it with --nproc-per-node {RUN['workers']}"
    device = torch.device(f"cuda:{os.environ['LOCAL_RANK']}" if use_cuda else "cpu")
    torch.set_num_threads(1)  # one core per process, as DistLab's workers

    x_all, y_all, classes = make_data()  # every rank builds the same data from the seed
    model = make_model(classes)
    # DDP broadcasts rank 0's weights to every rank, then averages gradients in buckets,
    # overlapping the all-reduce with backward. gradient_as_bucket_view: p.grad is a view
    # into the bucket (no copies), as DistLab's flat gradient buffer.
    ddp = DDP(model.to(device), device_ids=[device.index] if use_cuda else None,
              gradient_as_bucket_view=True)
@HOOK@    optimizer = @OPTIMIZER@

    losses = torch.zeros(RUN["steps"], dtype=torch.float64)
    checksums = torch.zeros(RUN["steps"], dtype=torch.float64)
    first_done = None
    for step in range(1, RUN["steps"] + 1):
        # This rank's share of the step's global batch (DistributedSampler's dealing).
        idx = batch_indices(RUN["num_samples"], step, RUN["batch_size"], RUN["seed"],
                            rank, world)
        x, y = x_all[idx].to(device), y_all[idx].to(device)
        optimizer.zero_grad(set_to_none=False)
        out = ddp(x)
        loss = F.cross_entropy(out.flatten(0, -2), y.flatten())  # the mean over the batch
        loss.backward()  # DDP's hooks all-reduce the gradients while this runs
        optimizer.step()
        losses[step - 1] = loss.item()
        if args.out:
            checksums[step - 1] = sum(p.detach().double().sum() for p in model.parameters())
        if first_done is None:
            first_done = time.perf_counter()
    took = time.perf_counter() - first_done

    # The final loss as DistLab reports it: the mean of the ranks' last losses.
    last = torch.tensor([losses[-1].item()], dtype=torch.float64, device=device)
    dist.all_reduce(last)
    every_loss = [torch.zeros_like(losses).to(device) for _ in range(world)]
    dist.all_gather(every_loss, losses.to(device))
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu()
    if rank == 0:
        param_hash = hashlib.blake2b(flat.numpy().tobytes(), digest_size=8).hexdigest()
        # Steps after the first (which includes warm-up) per second of training.
        steps_per_s = (RUN["steps"] - 1) / took if took > 0 else float("nan")
        print(f"final loss {last.item() / world:.6f}  param hash {param_hash}  "
              f"{steps_per_s:.1f} steps/s")
        if args.out:
            torch.save({"params": flat, "losses": torch.stack([t.cpu() for t in every_loss], 1),
                        "checksums": checksums, "final_loss": last.item() / world,
                        "param_hash": param_hash, "steps_per_s": steps_per_s}, args.out)
    # Leave together: a rank tearing gloo down while another still writes aborted at
    # exit once in a loaded run ("terminate called without an active exception").
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
